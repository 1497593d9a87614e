/*
 * schema_tables.h: the built-in schemas (private to schema*.c and tests).
 */
#ifndef SCIMD_SCHEMA_TABLES_H
#define SCIMD_SCHEMA_TABLES_H

#include "schema.h"

extern const struct schema schema_user;
extern const struct schema schema_enterprise;
extern const struct schema schema_group;
/* id, externalId, meta, schemas: resolvable on every resource type. */
extern const struct schema schema_common;

#endif
