/*
 * rtype.h: the resource types as one table.
 *
 * Each entry says, for every module that treats the types alike, what a
 * resource type is: its name, endpoint and description (discovery,
 * meta.resourceType, meta.location), its core schema and the extensions
 * it allows (schema.c), the database of its records and the letter of
 * its paging counts (store.c), its indexes -- which attribute each
 * holds, how its keys are made, whether a key has one id (unique) or
 * many (DUPSORT) -- for store.c, plan.c and verify.c, and the name of
 * its link attribute ("groups" of a User, "members" of a Group).
 *
 * The attributes the schemas declare unique ("uniqueness": "server" or
 * "global") beyond the fixed indexes -- in practice an extension's -- are
 * derived from the schemas by rtype_derive_unique() (schema_init() calls
 * it) and listed in the entry's `unique`; they share the type's unique
 * index (`unique_index`), whose keys name the attribute
 * (docs/storage.md).  The store keeps the list its unique index was
 * built for and uses that one (store_unique_sync(), store.h), so every
 * program makes the same keys whatever schemas it loaded.
 *
 * Adding a resource type: an enum value and an entry here, its schema in
 * schema_tables.c, its databases in store.c's db_table with a layout
 * step (docs/architecture.md lists the files).
 *
 * The table is process-wide, written only by schema_init() (extensions
 * and derived unique attributes); every pointer it hands out is borrowed
 * for the process's life.
 */
#ifndef SCIMD_RTYPE_H
#define SCIMD_RTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct schema;

/* The resource types; the order is the table's. */
enum rtype { RT_USER = 0, RT_GROUP = 1, RT__COUNT };

/* The indexes of every type (store.h, docs/storage.md). */
enum store_index {
	IDX_USERNAME,		/* users by userName folded per RFC 8265 */
	IDX_EMAIL,		/* users by case-folded email value */
	IDX_USER_EXTID,		/* users by externalId */
	IDX_GROUP_NAME,		/* groups by case-folded displayName */
	IDX_GROUP_EXTID,	/* groups by externalId */
	IDX_USER_UNIQUE,	/* users by the schemas' unique attributes */
	IDX_GROUP_UNIQUE,	/* groups by the schemas' unique attributes */
	IDX__COUNT
};

/* How an index makes its keys from values (docs/storage.md, "Keys"). */
enum index_fold {
	FOLD_EXACT,		/* the value's bytes */
	FOLD_CASE,		/* fold_utf8: case folding + NFC */
	FOLD_USERNAME		/* fold_username: RFC 8265 (width, case, NFC) */
};

/*
 * One index of a type.  attr (with sub, for a sub-attribute of a complex
 * or multi-valued one) names the core attribute whose string values are
 * its keys; NULL for the type's unique index, whose keys come from the
 * derived unique attributes.
 */
struct rtype_index {
	enum store_index idx;
	const char	*db;		/* its database (docs/storage.md) */
	const char	*attr;
	const char	*sub;
	const char	*path;		/* "emails.value", for messages */
	enum index_fold	 fold;
	bool		 unique;	/* one id per key (409 uniqueness) */
	bool		 prefix;	/* `sw` filters may use it */
};

/*
 * An attribute whose values no two resources of the type may share
 * (RFC 7643 2.4 uniqueness "server"; "global" is enforced as "server",
 * the most one server can).  schema is the extension's URN, or NULL for
 * the core schema; sub names a sub-attribute of the complex attribute
 * attr.  Each value is unique on its own: every element of a
 * multi-valued attribute, every sub-attribute value of the elements of a
 * multi-valued complex one.  Strings compare by the attribute's
 * caseExact (fold), dateTimes as instants, numbers and booleans by
 * value.
 */
struct rtype_unique {
	const char	*schema;
	const char	*attr;
	const char	*sub;
	const char	*path;		/* [schema ":"] attr ["." sub] */
	enum index_fold	 fold;
	bool		 datetime;	/* values are dateTimes */
};

#define RTYPE_EXTENSIONS	8	/* extensions of one type, NULL ended */

/* One resource type. */
struct resource_type {
	const char		*name;		/* "User" */
	const char		*endpoint;	/* "/Users" */
	const char		*description;
	const struct schema	*core;
	/* Extensions allowed on this type, NULL-terminated. */
	const struct schema	*ext[RTYPE_EXTENSIONS];
	bool			 ext_required[RTYPE_EXTENSIONS];
	const char		*word;		/* "user", in messages */
	const char		*records;	/* its records' database */
	char			 counts;	/* its id_counts key letter */
	const char		*links;		/* "groups" or "members" */
	bool			 has_members;	/* a Group: members to unlink */
	bool			 has_password;	/* a User: a password hash */
	/* A schema URN clients send on this type that is accepted in
	 * "schemas" and not stored (Entra's ADSCIM Group), or NULL. */
	const char		*ignored_schema;
	const struct rtype_index *indexes;	/* in key order of a record */
	size_t			 nindexes;
	enum store_index	 unique_index;	/* holds `unique` */
	const struct rtype_unique *unique;	/* derived at schema_init() */
	size_t			 nunique;
};

/* The entry of t; never NULL for t < RT__COUNT (others give User's). */
const struct resource_type *rtype_get(enum rtype t);

/* The type named name (case-insensitive): true and *t, or false. */
bool		rtype_by_name(const char *name, enum rtype *t);

/* The index idx of whichever type has it (never NULL for idx <
 * IDX__COUNT), and that type in *t when t is not NULL. */
const struct rtype_index *rtype_index_get(enum store_index idx,
		    enum rtype *t);

/*
 * Adds extension s (borrowed for the process's life) to type t:
 * SCIM_OK, or SCIM_ERR_INVALID_VALUE when t has RTYPE_EXTENSIONS - 1
 * already.  schema.c calls it while loading the schema file.
 */
enum scim_err	rtype_add_extension(enum rtype t, const struct schema *s,
		    bool required, struct scim_error *err);

/*
 * Derives each type's `unique` from its core schema and extensions:
 * every attribute and sub-attribute whose uniqueness is not "none",
 * except those a fixed unique index holds (userName) and id (the
 * record's key).  Replaces what an earlier call derived.  SCIM_OK, or
 * SCIM_ERR_INVALID_VALUE naming a complex attribute marked unique
 * (uniqueness belongs on its sub-attributes, where values are), or
 * SCIM_ERR_NOMEM.
 */
enum scim_err	rtype_derive_unique(struct scim_error *err);

#endif
