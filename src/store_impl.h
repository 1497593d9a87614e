/*
 * store_impl.h: internal to the store module (src/store*.c): not for other
 * modules, which use store.h.
 *
 * What the store's files share: the database and index tables, struct
 * store and struct store_txn, and the helpers more than one file calls.
 * Each file's job is in the comment at its top; docs/architecture.md
 * lists them.
 */
#ifndef SCIMD_STORE_IMPL_H
#define SCIMD_STORE_IMPL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include <lmdb.h>
#include <sodium.h>

#include "fold.h"
#include "limits.h"
#include "jsonx.h"
#include "store.h"

enum db {
	DB_META, DB_USERS, DB_GROUPS,
	DB_IDX_USERNAME, DB_IDX_EMAIL, DB_IDX_USER_EXTID,
	DB_IDX_GROUP_NAME, DB_IDX_GROUP_EXTID,
	DB_IDX_USER_UNIQUE, DB_IDX_GROUP_UNIQUE,
	DB_MEMBERS, DB_MEMBEROF, DB_TOKENS, DB_TOKEN_HASH, DB_PASSWORDS,
	DB_AUDIT, DB_COUNTS,
	DB__COUNT
};

/* Names and flags of the databases; the order matches enum db. */
static const struct {
	const char	*name;
	unsigned int	 flags;
} db_table[DB__COUNT] = {
	[DB_META] = { "meta", 0 },
	[DB_USERS] = { "users", 0 },
	[DB_GROUPS] = { "groups", 0 },
	[DB_IDX_USERNAME] = { "idx_username", 0 },
	[DB_IDX_EMAIL] = { "idx_email", MDB_DUPSORT },
	[DB_IDX_USER_EXTID] = { "idx_user_extid", MDB_DUPSORT },
	[DB_IDX_GROUP_NAME] = { "idx_group_name", MDB_DUPSORT },
	[DB_IDX_GROUP_EXTID] = { "idx_group_extid", MDB_DUPSORT },
	[DB_IDX_USER_UNIQUE] = { "idx_user_unique", 0 },
	[DB_IDX_GROUP_UNIQUE] = { "idx_group_unique", 0 },
	[DB_MEMBERS] = { "members", MDB_DUPSORT },
	[DB_MEMBEROF] = { "memberof", MDB_DUPSORT },
	[DB_TOKENS] = { "tokens", 0 },
	[DB_TOKEN_HASH] = { "token_hash", 0 },
	[DB_PASSWORDS] = { "passwords", 0 },
	[DB_AUDIT] = { "audit", 0 },
	[DB_COUNTS] = { "id_counts", 0 }, /* optional: see st_open_dbs() */
};

/*
 * The database of each index and of each type's records: the tables of
 * rtype.c name them, resolved against db_table once per process
 * (resolve_tables(), at store_open).
 */
extern enum db	st_index_dbs[IDX__COUNT];
extern enum db	st_record_dbs[RT__COUNT];

static int	db_by_name(const char *name);

/*
 * The unique attributes a store's unique indexes (idx_user_unique,
 * idx_group_unique) are built for, as meta "unique" holds them
 * (docs/storage.md): text is the stored JSON (NULL: none, the indexes
 * are empty); u[t] borrow their strings from doc.
 */
struct unique_set {
	char		*text;
	size_t		 len;
	json_t		*doc;
	struct rtype_unique *u[RT__COUNT];
	size_t		 n[RT__COUNT];
};

static void	unique_set_free(struct unique_set *set);
struct store_txn;

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB__COUNT];
	bool		 missing[DB__COUNT];	/* absent (STORE_NO_MIGRATE) */
	int		 layout;	/* layout version of the file */
	char		*path;
	unsigned char	 cursor_key[32];
	bool		 has_cursor_key;
	bool		 has_counts;	/* id_counts exists: keep it exact */
	struct unique_set *uq;		/* what the unique indexes hold */
};

/*
 * A transaction.  `failed` is sticky: once any store call inside it
 * fails, store_write() aborts whatever the callback returns.
 */
struct store_txn {
	struct store	*store;
	MDB_txn		*txn;
	bool		 read_only;
	bool		 failed;
	bool		 map_full;
};

/* One index key of a record. */
struct index_key {
	enum store_index idx;
	const char	*attr;		/* its attribute, for messages */
	char		 key[LIMIT_INDEX_KEY_BYTES];
	size_t		 len;
};

typedef enum scim_err (*key_fn)(struct store_txn *t, const struct index_key *k,
		    const char *id, void *ctx, struct scim_error *err);

static enum scim_err	unique_keys(struct store_txn *t, enum rtype type,
			    const json_t *rec, const char *id, key_fn fn,
			    void *ctx, struct scim_error *err);

/* store.c (each described there) */
int
st_open_dbs(struct store *s, MDB_txn *txn, bool create, bool tolerate);
enum scim_err
st_read_layout(MDB_txn *txn, MDB_dbi meta, int *version,
    struct scim_error *err);

/* store_index.c (each described there) */
enum scim_err
st_fold_key(enum index_fold fold, const char *attr, const char *s, size_t len,
    char *out, size_t outsz, size_t *outlen, size_t limit,
    struct scim_error *err);
enum scim_err
st_each_key(struct store_txn *t, enum rtype type, const json_t *rec, key_fn fn,
    void *ctx, struct scim_error *err);
enum scim_err
st_key_del(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err);
enum scim_err
st_key_add(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err);
enum scim_err
st_rekey(struct store_txn *t, enum rtype type, const json_t *old,
    const json_t *rec, struct scim_error *err);
/* Walks record ids from a positioned cursor (store_record.c). */
enum scim_err	st_walk_ids(MDB_cursor *c, int rc, MDB_val *k, MDB_val *v,
		    size_t skip, store_id_fn fn, void *ctx,
		    struct scim_error *err);
enum scim_err	st_scan_dups(struct store_txn *t, MDB_dbi d,
			    const void *key, size_t keylen, store_id_fn fn,
			    void *ctx, struct scim_error *err);

/* store_unique.c (each described there) */
enum scim_err st_unique_refresh(struct store_txn *t,
		    struct scim_error *err);
enum scim_err
st_unique_set_keys(const struct unique_set *set, struct store_txn *t,
    enum rtype type, const json_t *rec, const char *id, key_fn fn,
    void *ctx, struct scim_error *err);

/* store_counts.c (each described there) */
enum scim_err
st_counts_adjust(struct store_txn *t, enum rtype type, const char *id,
    int delta, struct scim_error *err);

/*
 * Maps an LMDB error to ours (507 for a full map or disk, 503 for a
 * read-only or broken store...), marking the transaction failed so that
 * store_write() aborts it.
 */
static inline enum scim_err
mdb_error(struct store_txn *t, int rc, const char *what,
    struct scim_error *err)
{
	if (t != NULL) {
		t->failed = true;
		if (rc == MDB_MAP_FULL)
			t->map_full = true;
	}
	if (rc == MDB_MAP_FULL)
		return err_set(err, SCIM_ERR_STORE_FULL,
		    "The store is full.");
	if (rc == ENOMEM)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	if (rc == ENOSPC || rc == EDQUOT)
		return err_set(err, SCIM_ERR_STORE_FULL, "The disk holding the "
		    "store is full (%s); nothing was written.", what);
	if (rc == EROFS || rc == EACCES || rc == EPERM)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "The store cannot be "
		    "written (%s: %s).", what, mdb_strerror(rc));
	return err_set(err, SCIM_ERR_UNAVAILABLE, "Store error in %s: %s",
	    what, mdb_strerror(rc));
}

static inline MDB_dbi
dbi(struct store_txn *t, enum db d)
{
	return t->store->dbi[d];
}

/* The database of type's records. */
static inline MDB_dbi
record_db(struct store_txn *t, enum rtype type)
{
	return dbi(t,
	    st_record_dbs[(unsigned)type < RT__COUNT ? type : RT_USER]);
}

/* The database of index idx. */
static inline MDB_dbi
index_db(struct store_txn *t, enum store_index idx)
{
	return dbi(t, st_index_dbs[(unsigned)idx < IDX__COUNT ? idx : 0]);
}

/* Writes the current layout version in txn. */
static inline int
write_layout(MDB_txn *txn, MDB_dbi meta)
{
	MDB_val k = { 6, "layout" }, v;
	char want[16];

	snprintf(want, sizeof(want), "%d", STORE_LAYOUT_VERSION);
	v.mv_size = strlen(want);
	v.mv_data = want;
	return mdb_put(txn, meta, &k, &v, 0);
}

/* Builds the key of value s for idx into k; INVALID_VALUE when too long. */
static inline enum scim_err
make_key(enum store_index idx, const char *s, size_t len, struct index_key *k,
    struct scim_error *err)
{
	const struct rtype_index *ix = rtype_index_get(idx, NULL);

	k->idx = idx;
	k->attr = ix->path;
	return st_fold_key(ix->fold, ix->path, s, len, k->key, sizeof(k->key),
	    &k->len, LIMIT_INDEX_KEY_BYTES, err);
}

/* Frees set; NULL is a no-op. */
static inline void
unique_set_free(struct unique_set *set)
{
	int t;

	if (set == NULL)
		return;
	for (t = 0; t < RT__COUNT; t++)
		free(set->u[t]);
	json_decref(set->doc);
	free(set->text);
	free(set);
}

/* The unique keys of rec, from the list t's store holds. */
static inline enum scim_err
unique_keys(struct store_txn *t, enum rtype type, const json_t *rec,
    const char *id, key_fn fn, void *ctx, struct scim_error *err)
{
	return st_unique_set_keys(t->store->uq, t, type, rec, id, fn, ctx, err);
}

static inline void
be64(unsigned char out[8], unsigned long long n)
{
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		out[i] = (unsigned char)n;
}

static inline unsigned long long
from_be64(const unsigned char *p)
{
	unsigned long long n = 0;
	int i;

	for (i = 0; i < 8; i++)
		n = n << 8 | p[i];
	return n;
}

/* The database named name (docs/storage.md), or -1. */
static inline int
db_by_name(const char *name)
{
	int i;

	for (i = 0; i < DB__COUNT; i++)
		if (strcmp(db_table[i].name, name) == 0)
			return i;
	return -1;
}

#endif
