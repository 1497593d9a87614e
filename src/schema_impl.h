/*
 * schema_impl.h: internal to the schema module (src/schema*.c): not for
 * other modules, which use schema.h.
 *
 * What the schema files share: the registry and the resource types
 * (when more than one file reads them) and the helpers more than one
 * file calls.  Each file's job is in the comment at its top.
 */
#ifndef SCIMD_SCHEMA_IMPL_H
#define SCIMD_SCHEMA_IMPL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fold.h"
#include "limits.h"
#include "schema.h"
#include "schema_tables.h"

static const char *const type_names[] = {
	[AT_STRING] = "string", [AT_BOOLEAN] = "boolean",
	[AT_DECIMAL] = "decimal", [AT_INTEGER] = "integer",
	[AT_DATETIME] = "dateTime", [AT_BINARY] = "binary",
	[AT_REFERENCE] = "reference", [AT_COMPLEX] = "complex",
};

/* Looks name up in the core schema of t, then the common attributes. */
static inline const struct schema_attr *
find_core_attr(enum rtype t, const char *name, const struct schema **in)
{
	const struct schema_attr *a;

	*in = schema_resource_type(t)->core;
	if ((a = schema_attr_find(*in, name)) != NULL)
		return a;
	*in = &schema_common;
	return schema_attr_find(&schema_common, name);
}

#endif
