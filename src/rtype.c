/*
 * rtype.c: the resource types as one table (rtype.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "rtype.h"
#include "schema.h"
#include "schema_tables.h"

/* The indexes of a User, in the order a record's keys are made. */
static const struct rtype_index user_indexes[] = {
	{ IDX_USERNAME, "idx_username", "userName", NULL, "userName",
	  FOLD_USERNAME, true, true },
	{ IDX_USER_EXTID, "idx_user_extid", "externalId", NULL, "externalId",
	  FOLD_EXACT, false, false },
	{ IDX_EMAIL, "idx_email", "emails", "value", "emails.value",
	  FOLD_CASE, false, false },
	{ IDX_USER_UNIQUE, "idx_user_unique", NULL, NULL,
	  "unique attribute", FOLD_EXACT, true, false },
};

static const struct rtype_index group_indexes[] = {
	{ IDX_GROUP_NAME, "idx_group_name", "displayName", NULL,
	  "displayName", FOLD_CASE, false, false },
	{ IDX_GROUP_EXTID, "idx_group_extid", "externalId", NULL,
	  "externalId", FOLD_EXACT, false, false },
	{ IDX_GROUP_UNIQUE, "idx_group_unique", NULL, NULL,
	  "unique attribute", FOLD_EXACT, true, false },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct resource_type table[RT__COUNT] = {
	[RT_USER] = {
		.name = "User", .endpoint = "/Users",
		.description = "User Account", .core = &schema_user,
		.ext = { &schema_enterprise }, .word = "user",
		.records = "users", .counts = 'u', .links = "groups",
		.has_password = true, .indexes = user_indexes,
		.nindexes = NELEM(user_indexes),
		.unique_index = IDX_USER_UNIQUE,
	},
	[RT_GROUP] = {
		.name = "Group", .endpoint = "/Groups", .description = "Group",
		.core = &schema_group, .word = "group", .records = "groups",
		.counts = 'g', .links = "members", .has_members = true,
		.ignored_schema = SCHEMA_URN_ADSCIM_GROUP,
		.indexes = group_indexes, .nindexes = NELEM(group_indexes),
		.unique_index = IDX_GROUP_UNIQUE,
	},
};

/* What rtype_derive_unique() made, owned here (the table borrows). */
static struct rtype_unique	*derived[RT__COUNT];

/* The entry of t (rtype.h). */
const struct resource_type *
rtype_get(enum rtype t)
{
	return &table[(unsigned)t < RT__COUNT ? t : RT_USER];
}

/* The type named name, case-insensitive (rtype.h). */
bool
rtype_by_name(const char *name, enum rtype *t)
{
	int i;

	for (i = 0; name != NULL && i < RT__COUNT; i++)
		if (strcasecmp(table[i].name, name) == 0) {
			*t = (enum rtype)i;
			return true;
		}
	return false;
}

/* The index idx and its type (rtype.h). */
const struct rtype_index *
rtype_index_get(enum store_index idx, enum rtype *t)
{
	size_t i;
	int r;

	for (r = 0; r < RT__COUNT; r++)
		for (i = 0; i < table[r].nindexes; i++)
			if (table[r].indexes[i].idx == idx) {
				if (t != NULL)
					*t = (enum rtype)r;
				return &table[r].indexes[i];
			}
	if (t != NULL)
		*t = RT_USER;
	return &user_indexes[0];
}

/* Adds extension s to type t, up to RTYPE_EXTENSIONS - 1 (rtype.h). */
enum scim_err
rtype_add_extension(enum rtype t, const struct schema *s, bool required,
    struct scim_error *err)
{
	struct resource_type *r = &table[(unsigned)t < RT__COUNT ? t : RT_USER];
	size_t e;

	for (e = 0; r->ext[e] != NULL; e++)
		;
	if (e >= RTYPE_EXTENSIONS - 1)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "too many extensions on %s", r->name);
	r->ext[e] = s;
	r->ext_required[e] = required;
	return SCIM_OK;
}

/* Whether a fixed unique index of r holds attr (sub) of its core. */
static bool
fixed_unique(const struct resource_type *r, const char *attr, const char *sub)
{
	const struct rtype_index *ix;
	size_t i;

	for (i = 0; i < r->nindexes; i++) {
		ix = &r->indexes[i];
		if (ix->unique && ix->attr != NULL &&
		    strcasecmp(ix->attr, attr) == 0 && (sub == NULL ?
		    ix->sub == NULL : ix->sub != NULL &&
		    strcasecmp(ix->sub, sub) == 0))
			return true;
	}
	return false;
}

/* The list being derived for one type. */
struct derive {
	struct rtype_unique	*u;
	size_t			 n, cap;
};

/* Appends the unique attribute a (sub of parent, or parent itself when
 * a is NULL) of schema s (urn NULL for the core) to d. */
static enum scim_err
derive_add(struct derive *d, const char *urn, const struct schema_attr *parent,
    const struct schema_attr *a, struct scim_error *err)
{
	const struct schema_attr *v = a != NULL ? a : parent;
	struct rtype_unique *u;
	char *path;
	int n;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4;

		if ((u = realloc(d->u, cap * sizeof(*u))) == NULL)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		d->u = u;
		d->cap = cap;
	}
	n = asprintf(&path, "%s%s%s%s%s", urn != NULL ? urn : "",
	    urn != NULL ? ":" : "", parent->name, a != NULL ? "." : "",
	    a != NULL ? a->name : "");
	if (n < 0)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if ((size_t)n > LIMIT_UNIQUE_PATH_BYTES) {
		err_set(err, SCIM_ERR_INVALID_VALUE, "%.64s...: the path of a "
		    "unique attribute is at most %d bytes", path,
		    LIMIT_UNIQUE_PATH_BYTES);
		free(path);
		return SCIM_ERR_INVALID_VALUE;
	}
	u = &d->u[d->n++];
	memset(u, 0, sizeof(*u));
	u->schema = urn;
	u->attr = parent->name;
	u->sub = a != NULL ? a->name : NULL;
	u->path = path;
	u->datetime = v->type == AT_DATETIME;
	if ((v->type == AT_STRING || v->type == AT_REFERENCE) &&
	    !v->case_exact)
		u->fold = v->username ? FOLD_USERNAME : FOLD_CASE;
	else
		u->fold = FOLD_EXACT;
	return SCIM_OK;
}

/* Appends to d the unique attributes of schema s (an extension of type
 * r when ext) that no fixed index of r holds. */
static enum scim_err
derive_schema(struct derive *d, const struct resource_type *r,
    const struct schema *s, bool ext, struct scim_error *err)
{
	const char *urn = ext ? s->urn : NULL;
	const struct schema_attr *a;
	enum scim_err e;
	size_t i, j;

	for (i = 0; i < s->nattrs; i++) {
		a = &s->attrs[i];
		if (a->uniqueness != UNIQ_NONE && a->type == AT_COMPLEX)
			return err_set(err, SCIM_ERR_INVALID_VALUE, "%s%s%s: a "
			    "complex attribute cannot be unique; mark the "
			    "sub-attributes whose values are (uniqueness "
			    "\"server\")", urn ? urn : "", urn ? ":" : "",
			    a->name);
		if (a->uniqueness != UNIQ_NONE &&
		    !(!ext && fixed_unique(r, a->name, NULL)) &&
		    (e = derive_add(d, urn, a, NULL, err)) != SCIM_OK)
			return e;
		for (j = 0; j < a->nsub; j++)
			if (a->sub[j].uniqueness != UNIQ_NONE &&
			    !(!ext && fixed_unique(r, a->name,
			    a->sub[j].name)) &&
			    (e = derive_add(d, urn, a, &a->sub[j], err)) !=
			    SCIM_OK)
				return e;
	}
	return SCIM_OK;
}

/* Frees what one type's earlier derivation made. */
static void
derive_free(struct rtype_unique *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)u[i].path);
	free(u);
}

/* Each type's unique attributes from its schemas (rtype.h). */
enum scim_err
rtype_derive_unique(struct scim_error *err)
{
	struct derive d[RT__COUNT];
	enum scim_err e = SCIM_OK;
	size_t i;
	int t;

	memset(d, 0, sizeof(d));
	for (t = 0; t < RT__COUNT && e == SCIM_OK; t++) {
		e = derive_schema(&d[t], &table[t], table[t].core, false, err);
		for (i = 0; e == SCIM_OK && table[t].ext[i] != NULL; i++)
			e = derive_schema(&d[t], &table[t], table[t].ext[i],
			    true, err);
	}
	if (e != SCIM_OK) {
		for (t = 0; t < RT__COUNT; t++)
			derive_free(d[t].u, d[t].n);
		return e;
	}
	for (t = 0; t < RT__COUNT; t++) {
		derive_free(derived[t], table[t].nunique);
		derived[t] = d[t].u;
		table[t].unique = d[t].u;
		table[t].nunique = d[t].n;
	}
	return SCIM_OK;
}
