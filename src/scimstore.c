/*
 * scimstore.c: the read API over store.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "scimstore.h"
#include "store.h"

struct scimstore {
	struct store	*store;
};

/* Opens an existing store (it never creates one); -1 on any failure. */
int
scimstore_open(const char *dir, struct scimstore **out)
{
	struct scim_error err;
	struct scimstore *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	/* Read-only (MDB_RDONLY): never writes, so a store of an older
	 * layout is refused until scimd or `scimctl migrate` migrates it;
	 * lookups fold names as the current layout's keys do. */
	if (store_open_flags(dir, STORE_READ_ONLY, &s->store, &err) !=
	    SCIM_OK) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* Closes the store; NULL is a no-op. */
void
scimstore_close(struct scimstore *s)
{
	if (s == NULL)
		return;
	store_close(s->store);
	free(s);
}

struct get_ctx {
	enum rtype	 type;
	const char	*id;
	enum store_index idx;
	bool		 by_index;
	char		*out;
	char		 found[STORE_ID_LEN + 1];	/* id an index gave */
};

/* Keeps the first id of a lookup: a copy, since the id passed in lives
 * only for the call. */
static bool
copy_first(const char *id, void *vctx)
{
	struct get_ctx *g = vctx;

	snprintf(g->found, sizeof(g->found), "%s", id);
	g->id = g->found;
	return false;
}

/* Read callback: finds the id (by index when asked) and copies its
 * record out of the map into g->out. */
static enum scim_err
get_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct get_ctx *g = ctx;
	const char *key = g->id, *data;
	size_t len;

	if (g->by_index) {
		g->id = NULL;
		store_lookup(txn, g->idx, key, strlen(key), copy_first, g, err);
		if (g->id == NULL)
			return SCIM_OK;
	}
	if (store_get_raw(txn, g->type, g->id, &data, &len, NULL) == SCIM_OK &&
	    (g->out = malloc(len + 1)) != NULL) {
		memcpy(g->out, data, len);
		g->out[len] = '\0';
	}
	return SCIM_OK;
}

static char *
get(struct scimstore *s, enum rtype t, const char *key, bool by_index,
    enum store_index idx)
{
	struct get_ctx g = { t, key, idx, by_index, NULL, "" };
	struct scim_error err;

	if (key == NULL || store_read(s->store, get_fn, &g, &err) != SCIM_OK)
		return NULL;
	return g.out;
}

/* A copy of the user's record, or NULL. */
char *
scimstore_user_by_id(struct scimstore *s, const char *id)
{
	return get(s, RT_USER, id, false, IDX_USERNAME);
}

/* The user whose userName folds to name's folding, or NULL. */
char *
scimstore_user_by_username(struct scimstore *s, const char *name)
{
	return get(s, RT_USER, name, true, IDX_USERNAME);
}

/* The first user (in id order) with this email, or NULL. */
char *
scimstore_user_by_email(struct scimstore *s, const char *email)
{
	return get(s, RT_USER, email, true, IDX_EMAIL);
}

/* A copy of the group's record, or NULL. */
char *
scimstore_group_by_id(struct scimstore *s, const char *id)
{
	return get(s, RT_GROUP, id, false, IDX_USERNAME);
}

struct each_ctx {
	struct store_txn	*txn;
	enum rtype		 type;
	int			(*json_fn)(const char *, void *);
	int			(*id_fn)(const char *, void *);
	int			(*seq_fn)(unsigned long long, const char *,
				    void *);
	void			*ctx;
	const char		*key;
	unsigned long long	 after;
	int			 stopped;
};

/* Scan callback: copies one record out of the map, NUL-terminated, for
 * the caller's fn; its nonzero answer stops the scan. */
static bool
each_record(const char *id, void *vctx)
{
	struct each_ctx *c = vctx;
	const char *data;
	size_t len;
	char *copy;

	if (store_get_raw(c->txn, c->type, id, &data, &len, NULL) != SCIM_OK)
		return true;
	if ((copy = malloc(len + 1)) == NULL)
		return false;
	memcpy(copy, data, len);
	copy[len] = '\0';
	c->stopped = c->json_fn(copy, c->ctx);
	free(copy);
	return c->stopped == 0;
}

static bool
each_id(const char *id, void *vctx)
{
	struct each_ctx *c = vctx;

	c->stopped = c->id_fn(id, c->ctx);
	return c->stopped == 0;
}

static bool
each_change(unsigned long long seq, const char *json, size_t len, void *vctx)
{
	struct each_ctx *c = vctx;
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return false;
	memcpy(copy, json, len);
	copy[len] = '\0';
	c->stopped = c->seq_fn(seq, copy, c->ctx);
	free(copy);
	return c->stopped == 0;
}

enum each_kind { EACH_RECORDS, EACH_GROUPS_OF, EACH_MEMBERS_OF, EACH_CHANGES };

struct each_req {
	enum each_kind	 kind;
	struct each_ctx	 c;
};

/* Read callback: the walk the request asks for, in one snapshot. */
static enum scim_err
each_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct each_req *r = ctx;

	r->c.txn = txn;
	switch (r->kind) {
	case EACH_RECORDS:
		return store_scan(txn, r->c.type, NULL, each_record, &r->c,
		    err);
	case EACH_GROUPS_OF:
		return store_memberof(txn, r->c.key, each_id, &r->c, err);
	case EACH_MEMBERS_OF:
		return store_members(txn, r->c.key, each_id, &r->c, err);
	default:
		return store_audit_list(txn, r->c.after, each_change, &r->c,
		    err);
	}
}

static int
run(struct scimstore *s, struct each_req *r)
{
	struct scim_error err;

	return store_read(s->store, each_fn, r, &err) == SCIM_OK ? 0 : -1;
}

/* Each user record in id order. */
int
scimstore_users(struct scimstore *s, int (*fn)(const char *, void *), void *ctx)
{
	struct each_req r = { EACH_RECORDS, { .type = RT_USER, .json_fn = fn,
	    .ctx = ctx } };

	return run(s, &r);
}

/* Each group record in id order. */
int
scimstore_groups(struct scimstore *s, int (*fn)(const char *, void *),
    void *ctx)
{
	struct each_req r = { EACH_RECORDS, { .type = RT_GROUP, .json_fn = fn,
	    .ctx = ctx } };

	return run(s, &r);
}

/* Each group id user_id belongs to directly. */
int
scimstore_groups_of(struct scimstore *s, const char *user_id,
    int (*fn)(const char *, void *), void *ctx)
{
	struct each_req r = { EACH_GROUPS_OF, { .id_fn = fn, .ctx = ctx,
	    .key = user_id } };

	return run(s, &r);
}

/* Each member id of group_id. */
int
scimstore_members_of(struct scimstore *s, const char *group_id,
    int (*fn)(const char *, void *), void *ctx)
{
	struct each_req r = { EACH_MEMBERS_OF, { .id_fn = fn, .ctx = ctx,
	    .key = group_id } };

	return run(s, &r);
}

/* Each audit entry after seq `after`, in order. */
int
scimstore_changes_since(struct scimstore *s, unsigned long long after,
    int (*fn)(unsigned long long, const char *, void *), void *ctx)
{
	struct each_req r = { EACH_CHANGES, { .seq_fn = fn, .ctx = ctx,
	    .after = after } };

	return run(s, &r);
}
