/*
 * store.c: LMDB environment, named databases, records and their indexes.
 */
#include "config.h"

#include <errno.h>
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
	DB_MEMBERS, DB_MEMBEROF, DB_TOKENS, DB_TOKEN_HASH, DB_PASSWORDS,
	DB_AUDIT,
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
	[DB_MEMBERS] = { "members", MDB_DUPSORT },
	[DB_MEMBEROF] = { "memberof", MDB_DUPSORT },
	[DB_TOKENS] = { "tokens", 0 },
	[DB_TOKEN_HASH] = { "token_hash", 0 },
	[DB_PASSWORDS] = { "passwords", 0 },
	[DB_AUDIT] = { "audit", 0 },
};

/* The database of each index, and which resource type it covers. */
static const struct {
	enum db		 db;
	enum rtype	 type;
	const char	*attr;		/* for error details */
	bool		 folded;
	bool		 unique;
} index_table[IDX__COUNT] = {
	[IDX_USERNAME] = { DB_IDX_USERNAME, RT_USER, "userName", true, true },
	[IDX_EMAIL] = { DB_IDX_EMAIL, RT_USER, "emails.value", true, false },
	[IDX_USER_EXTID] = { DB_IDX_USER_EXTID, RT_USER, "externalId", false,
	    false },
	[IDX_GROUP_NAME] = { DB_IDX_GROUP_NAME, RT_GROUP, "displayName", true,
	    false },
	[IDX_GROUP_EXTID] = { DB_IDX_GROUP_EXTID, RT_GROUP, "externalId", false,
	    false },
};

_Static_assert(LIMIT_INDEX_KEY_BYTES <= 511, "LMDB keys are at most 511 bytes");

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB__COUNT];
	char		*path;
	unsigned char	 cursor_key[32];
	bool		 has_cursor_key;
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

/*
 * Maps an LMDB error to ours (507 for a full map or disk, 503 for a
 * read-only or broken store...), marking the transaction failed so that
 * store_write() aborts it.
 */
static enum scim_err
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

static MDB_dbi
dbi(struct store_txn *t, enum db d)
{
	return t->store->dbi[d];
}

static MDB_dbi
record_db(struct store_txn *t, enum rtype type)
{
	return dbi(t, type == RT_USER ? DB_USERS : DB_GROUPS);
}

/* The database name from the index table. */
const char *
store_index_name(enum store_index idx)
{
	return db_table[index_table[idx].db].name;
}

/* ---- opening ------------------------------------------------------------ */

/* Refuses network filesystems, where LMDB's locking does not work. */
static enum scim_err
check_filesystem(const char *path, struct scim_error *err)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "Cannot examine the store directory: %s", strerror(errno));
	switch ((unsigned long)sf.f_type) {
	case 0x6969UL:		/* NFS */
	case 0x517BUL:		/* SMB */
	case 0xFF534D42UL:	/* CIFS */
	case 0xFE534D42UL:	/* SMB2 */
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "The store is on a network filesystem; LMDB needs a "
		    "local one.");
	default:
		return SCIM_OK;
	}
}

/*
 * A data file shorter than its own meta page says would make the first
 * read of a page past its end fault (SIGBUS) instead of failing: refuse
 * a truncated store at open.
 */
static enum scim_err
check_file_size(MDB_env *env, const MDB_envinfo *info, struct scim_error *err)
{
	MDB_stat st;
	struct stat sb;
	mdb_filehandle_t fd;

	if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &sb) != 0 ||
	    mdb_env_stat(env, &st) != 0)
		return SCIM_OK;		/* nothing to compare with */
	if ((unsigned long long)sb.st_size <
	    ((unsigned long long)info->me_last_pgno + 1) * st.ms_psize)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "The store's data "
		    "file is truncated (%lld bytes, its last page ends at "
		    "%llu): restore it from a backup.", (long long)sb.st_size,
		    ((unsigned long long)info->me_last_pgno + 1) * st.ms_psize);
	return SCIM_OK;
}

/* Opens every named database in txn (creating them when asked). */
static int
open_dbs(struct store *s, MDB_txn *txn, bool create)
{
	int i, rc;

	for (i = 0; i < DB__COUNT; i++) {
		rc = mdb_dbi_open(txn, db_table[i].name,
		    db_table[i].flags | (create ? MDB_CREATE : 0), &s->dbi[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Checks the layout version, writing it when the store is new. */
static enum scim_err
check_layout(struct store *s, MDB_txn *txn, bool writable,
    struct scim_error *err)
{
	MDB_val k = { 6, "layout" }, v;
	char want[16];
	int rc;

	snprintf(want, sizeof(want), "%d", STORE_LAYOUT_VERSION);
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && writable) {
		v.mv_size = strlen(want);
		v.mv_data = want;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
		return rc == 0 ? SCIM_OK : mdb_error(NULL, rc, "layout", err);
	}
	if (rc != 0)
		return mdb_error(NULL, rc, "layout", err);
	if (v.mv_size != strlen(want) || memcmp(v.mv_data, want, v.mv_size))
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "The store has layout version %.*s; this scimd reads "
		    "version %s.", (int)(v.mv_size < 8 ? v.mv_size : 8),
		    (const char *)v.mv_data, want);
	return SCIM_OK;
}

/*
 * Opens or creates the environment and every database, checks the
 * layout version, refuses network filesystems and clears the reader
 * slots of dead processes.
 */
enum scim_err
store_open(const char *path, bool create, struct store **out,
    struct scim_error *err)
{
	struct store *s;
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	enum scim_err e;
	int rc, dead;
	struct stat st;

	*out = NULL;
	if (sodium_init() < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "libsodium failed.");
	if (create && stat(path, &st) != 0 && mkdir(path, 0700) != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "Cannot create the store directory: %s", strerror(errno));
	if ((e = check_filesystem(path, err)) != SCIM_OK)
		return e;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB__COUNT)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, LIMIT_MAX_READERS)) != 0 ||
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS, 0600)) != 0) {
		e = err_set(err, SCIM_ERR_UNAVAILABLE,
		    "Cannot open the store: %s", mdb_strerror(rc));
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	mdb_env_info(s->env, &info);
	if ((e = check_file_size(s->env, &info, err)) != SCIM_OK)
		goto fail;
	if (info.me_mapsize < LIMIT_MAP_INITIAL &&
	    (rc = mdb_env_set_mapsize(s->env, LIMIT_MAP_INITIAL)) != 0) {
		e = mdb_error(NULL, rc, "set_mapsize", err);
		goto fail;
	}

	/* Readers first: the common case takes no write lock. */
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		e = mdb_error(NULL, rc, "open", err);
		goto fail;
	}
	rc = open_dbs(s, txn, false);
	if (rc == 0) {
		if ((e = check_layout(s, txn, false, err)) != SCIM_OK)
			goto fail;
		if ((rc = mdb_txn_commit(txn)) != 0) {
			txn = NULL;
			e = mdb_error(NULL, rc, "open", err);
			goto fail;
		}
		*out = s;
		return SCIM_OK;
	}
	mdb_txn_abort(txn);
	txn = NULL;
	if (rc != MDB_NOTFOUND || !create) {
		e = err_set(err, SCIM_ERR_UNAVAILABLE, "%s is not a scimd "
		    "store (create it with `scimctl --db DIR init`).", path);
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = open_dbs(s, txn, true)) != 0) {
		e = mdb_error(NULL, rc, "create", err);
		goto fail;
	}
	if ((e = check_layout(s, txn, true, err)) != SCIM_OK)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		e = mdb_error(NULL, rc, "create", err);
		goto fail;
	}
	*out = s;
	return SCIM_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	free(s->path);
	free(s);
	return e;
}

/* mdb_env_close and free; NULL is a no-op. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s->path);
	free(s);
}

/* ---- transactions ------------------------------------------------------- */

/* Begins a transaction, adopting a map grown by another process and
 * clearing dead readers when the reader table is full. */
static int
begin(struct store *s, unsigned int flags, MDB_txn **txn)
{
	int rc, dead, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == MDB_MAP_RESIZED)
			mdb_env_set_mapsize(s->env, 0);
		else if (rc == MDB_READERS_FULL)
			mdb_reader_check(s->env, &dead);
		else
			return rc;
	}
	return rc;
}

/* Doubles the map size, up to LIMIT_MAP_MAX; false when at the ceiling. */
static bool
grow_map(struct store *s)
{
	MDB_envinfo info;
	size_t next;

	mdb_env_info(s->env, &info);
	if (info.me_mapsize >= LIMIT_MAP_MAX)
		return false;
	next = info.me_mapsize * 2;
	if (next > LIMIT_MAP_MAX)
		next = LIMIT_MAP_MAX;
	return mdb_env_set_mapsize(s->env, next) == 0;
}

/* Whether the filesystem holding path has less free space than one
 * large commit could need (a body, its indexes and their pages). */
static bool
disk_nearly_full(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return false;
	return (unsigned long long)sf.f_bavail *
	    (unsigned long long)sf.f_bsize < 4ULL * LIMIT_BODY_BYTES;
}

/* One write transaction: committed when fn and every store call in it
 * succeeded, aborted otherwise; a full map is grown and fn run again. */
enum scim_err
store_write(struct store *s, store_fn fn, void *ctx, struct scim_error *err)
{
	struct store_txn t;
	enum scim_err e;
	int rc, attempt;

	for (attempt = 0; attempt < LIMIT_WRITE_RETRIES; attempt++) {
		memset(&t, 0, sizeof(t));
		t.store = s;
		if ((rc = begin(s, 0, &t.txn)) != 0)
			return mdb_error(NULL, rc, "begin", err);
		e = fn(&t, ctx, err);
		if (e == SCIM_OK && !t.failed) {
			rc = mdb_txn_commit(t.txn);
			if (rc == 0)
				return SCIM_OK;
			/* LMDB reports a short write (a full disk) as EIO. */
			if (rc == EIO && disk_nearly_full(s->path))
				rc = ENOSPC;
			if (rc != MDB_MAP_FULL)
				return mdb_error(NULL, rc, "commit", err);
			t.map_full = true;
		} else
			mdb_txn_abort(t.txn);
		if (!t.map_full)
			return e != SCIM_OK ? e :
			    err_set(err, SCIM_ERR_INTERNAL, "Write failed.");
		if (!grow_map(s))
			break;
		err_clear(err);
	}
	return err_set(err, SCIM_ERR_STORE_FULL,
	    "The store is full and cannot grow.");
}

/* One read-only transaction around fn: a consistent snapshot. */
enum scim_err
store_read(struct store *s, store_fn fn, void *ctx, struct scim_error *err)
{
	struct store_txn t;
	enum scim_err e;
	int rc;

	memset(&t, 0, sizeof(t));
	t.store = s;
	t.read_only = true;
	if ((rc = begin(s, MDB_RDONLY, &t.txn)) != 0)
		return mdb_error(NULL, rc, "begin", err);
	e = fn(&t, ctx, err);
	mdb_txn_abort(t.txn);
	return e;
}

/* ---- index keys ---------------------------------------------------------- */

/* One index key of a record. */
struct index_key {
	enum store_index idx;
	char		 key[LIMIT_INDEX_KEY_BYTES];
	size_t		 len;
};

typedef enum scim_err (*key_fn)(struct store_txn *t, const struct index_key *k,
		    const char *id, void *ctx, struct scim_error *err);

/* Builds the key of value s for idx into k; INVALID_VALUE when too long. */
static enum scim_err
make_key(enum store_index idx, const char *s, size_t len, struct index_key *k,
    struct scim_error *err)
{
	enum scim_err e;

	k->idx = idx;
	if (index_table[idx].folded) {
		e = fold_into(s, len, k->key, sizeof(k->key), &k->len);
		if (e == SCIM_ERR_TOO_LARGE)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s is longer than %d bytes.",
			    index_table[idx].attr, LIMIT_INDEX_KEY_BYTES);
		if (e != SCIM_OK)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s is not valid UTF-8.", index_table[idx].attr);
	} else {
		if (len > sizeof(k->key))
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s is longer than %d bytes.",
			    index_table[idx].attr, LIMIT_INDEX_KEY_BYTES);
		memcpy(k->key, s, len);
		k->len = len;
	}
	return SCIM_OK;
}

/* Calls fn for the key of the string member `name` of rec, if any. */
static enum scim_err
each_string_key(struct store_txn *t, enum store_index idx, const json_t *v,
    const char *id, key_fn fn, void *ctx, struct scim_error *err)
{
	struct index_key k;
	enum scim_err e;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return SCIM_OK;
	if ((e = make_key(idx, json_string_value(v), json_string_length(v),
	    &k, err)) != SCIM_OK)
		return e;
	return fn(t, &k, id, ctx, err);
}

/* Calls fn for every index key of record rec of type type. */
static enum scim_err
each_key(struct store_txn *t, enum rtype type, const json_t *rec, key_fn fn,
    void *ctx, struct scim_error *err)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	const json_t *emails, *el;
	enum scim_err e;
	size_t i;

	if (id == NULL)
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	if (type == RT_GROUP) {
		if ((e = each_string_key(t, IDX_GROUP_NAME,
		    json_object_get(rec, "displayName"), id, fn, ctx,
		    err)) != SCIM_OK)
			return e;
		return each_string_key(t, IDX_GROUP_EXTID,
		    json_object_get(rec, "externalId"), id, fn, ctx, err);
	}
	if ((e = each_string_key(t, IDX_USERNAME,
	    json_object_get(rec, "userName"), id, fn, ctx, err)) != SCIM_OK)
		return e;
	if ((e = each_string_key(t, IDX_USER_EXTID,
	    json_object_get(rec, "externalId"), id, fn, ctx, err)) != SCIM_OK)
		return e;
	emails = json_object_get(rec, "emails");
	json_array_foreach(emails, i, el)
		if ((e = each_string_key(t, IDX_EMAIL,
		    json_object_get(el, "value"), id, fn, ctx, err)) != SCIM_OK)
			return e;
	return SCIM_OK;
}

/* Removes one index entry (only the one pointing at id). */
static enum scim_err
key_del(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id }, cur;
	MDB_dbi d = dbi(t, index_table[k->idx].db);
	int rc;

	(void)ctx;
	if (index_table[k->idx].unique) {
		rc = mdb_get(t->txn, d, &key, &cur);
		if (rc == MDB_NOTFOUND || (rc == 0 && (cur.mv_size !=
		    STORE_ID_LEN || memcmp(cur.mv_data, id, STORE_ID_LEN))))
			return SCIM_OK;
		if (rc != 0)
			return mdb_error(t, rc, "index", err);
		rc = mdb_del(t->txn, d, &key, NULL);
	} else
		rc = mdb_del(t->txn, d, &key, &val);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "index", err);
	return SCIM_OK;
}

/* Adds one index entry; UNIQUENESS when a unique key is taken. */
static enum scim_err
key_add(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id };
	MDB_dbi d = dbi(t, index_table[k->idx].db);
	int rc;

	(void)ctx;
	if (index_table[k->idx].unique) {
		rc = mdb_put(t->txn, d, &key, &val, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			t->failed = true;
			return err_set(err, SCIM_ERR_UNIQUENESS,
			    "%s is already in use.", index_table[k->idx].attr);
		}
	} else {
		rc = mdb_put(t->txn, d, &key, &val, MDB_NODUPDATA);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "index", err);
}

/* ---- records ------------------------------------------------------------- */

static bool
id_ok(const char *id)
{
	return id != NULL && strlen(id) == STORE_ID_LEN;
}

/* The record's bytes in the map (valid until the transaction ends);
 * SCIM_ERR_NOT_FOUND, or a store error. */
enum scim_err
store_get_raw(struct store_txn *t, enum rtype type, const char *id,
    const char **data, size_t *len, struct scim_error *err)
{
	MDB_val k, v;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_get(t->txn, record_db(t, type), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	if (rc != 0)
		return mdb_error(NULL, rc, "get", err);
	*data = v.mv_data;
	*len = v.mv_size;
	return SCIM_OK;
}

/* store_get_raw, parsed into a new object. */
enum scim_err
store_get(struct store_txn *t, enum rtype type, const char *id, json_t **out,
    struct scim_error *err)
{
	const char *data;
	size_t len;
	enum scim_err e;

	*out = NULL;
	if ((e = store_get_raw(t, type, id, &data, &len, err)) != SCIM_OK)
		return e;
	if ((*out = json_loadb(data, len, 0, NULL)) == NULL)
		return err_set(err, SCIM_ERR_INTERNAL,
		    "Stored record %s is not JSON.", id);
	return SCIM_OK;
}

/* *found tells whether the record is there; NOT_FOUND is no error here,
 * any other failure of the get is returned (and fails a write). */
enum scim_err
store_exists(struct store_txn *t, enum rtype type, const char *id,
    bool *found, struct scim_error *err)
{
	MDB_val k, v;
	int rc;

	*found = false;
	if (!id_ok(id))
		return SCIM_OK;
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_get(t->txn, record_db(t, type), &k, &v);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "get", err);
	*found = true;
	return SCIM_OK;
}

/* The record and its index keys in one step: the old keys deleted, the
 * new ones added with MDB_NOOVERWRITE where unique (409). */
enum scim_err
store_put(struct store_txn *t, enum rtype type, const json_t *old,
    const json_t *rec, struct scim_error *err)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	MDB_val k, v;
	enum scim_err e;
	char *text;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	if (old == NULL) {
		bool taken;

		if ((e = store_exists(t, type, id, &taken, err)) != SCIM_OK)
			return e;
		if (taken) {
			t->failed = true;
			return err_set(err, SCIM_ERR_CONFLICT, "id %s exists.",
			    id);
		}
	}
	if (old != NULL &&
	    (e = each_key(t, type, old, key_del, NULL, err)) != SCIM_OK)
		return e;
	if ((e = each_key(t, type, rec, key_add, NULL, err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if ((text = jsonx_dumps(rec)) == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, record_db(t, type), &k, &v,
	    old == NULL ? MDB_NOOVERWRITE : 0);
	free(text);
	if (rc == MDB_KEYEXIST) {
		t->failed = true;
		return err_set(err, SCIM_ERR_CONFLICT, "id %s exists.", id);
	}
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "put", err);
}

/* Deletes key=k, value=v in database d (v NULL: all values). */
static enum scim_err
del_pair(struct store_txn *t, enum db d, const char *k, const char *v,
    struct scim_error *err)
{
	MDB_val key = { STORE_ID_LEN, (void *)k };
	MDB_val val = { STORE_ID_LEN, (void *)v };
	int rc;

	rc = mdb_del(t->txn, dbi(t, d), &key, v != NULL ? &val : NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "del", err);
	return SCIM_OK;
}

/*
 * Removes every pair (id, x) from `from` and the mirror pair (x, id)
 * from `mirror` (the members/memberof pair of databases).
 */
static enum scim_err
unlink_all(struct store_txn *t, enum db from, enum db mirror, const char *id,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k = { STORE_ID_LEN, (void *)id }, v;
	char other[STORE_ID_LEN + 1];
	enum scim_err e = SCIM_OK;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, from), &c)) != 0)
		return mdb_error(t, rc, "cursor", err);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == STORE_ID_LEN) {
			memcpy(other, v.mv_data, STORE_ID_LEN);
			other[STORE_ID_LEN] = '\0';
			if ((e = del_pair(t, mirror, other, id,
			    err)) != SCIM_OK)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (e != SCIM_OK)
		return e;
	if (rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "cursor", err);
	return del_pair(t, from, id, NULL, err);
}

/* Deletes the record, its index keys, its memberships both ways and its
 * password hash. */
enum scim_err
store_delete(struct store_txn *t, enum rtype type, const json_t *old,
    struct scim_error *err)
{
	const char *id = json_string_value(json_object_get(old, "id"));
	MDB_val k;
	enum scim_err e;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	if ((e = each_key(t, type, old, key_del, NULL, err)) != SCIM_OK)
		return e;
	/* Groups it belongs to, and for a group, its own members. */
	if ((e = unlink_all(t, DB_MEMBEROF, DB_MEMBERS, id, err)) != SCIM_OK)
		return e;
	if (type == RT_GROUP &&
	    (e = unlink_all(t, DB_MEMBERS, DB_MEMBEROF, id, err)) != SCIM_OK)
		return e;
	if (type == RT_USER &&
	    (e = del_pair(t, DB_PASSWORDS, id, NULL, err)) != SCIM_OK)
		return e;
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_del(t->txn, record_db(t, type), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "delete", err);
}

/* The entry count of the type's database, from LMDB's statistics. */
enum scim_err
store_count(struct store_txn *t, enum rtype type, size_t *n,
    struct scim_error *err)
{
	MDB_stat st;
	int rc;

	*n = 0;
	if ((rc = mdb_stat(t->txn, record_db(t, type), &st)) != 0)
		return mdb_error(t, rc, "stat", err);
	*n = st.ms_entries;
	return SCIM_OK;
}

/* Iterates the keys of database d from the first key > after. */
static enum scim_err
scan_keys(struct store_txn *t, MDB_dbi d, const char *after, store_id_fn fn,
    void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	char id[STORE_ID_LEN + 1];
	int rc;

	if ((rc = mdb_cursor_open(t->txn, d, &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	if (after != NULL) {
		k.mv_size = strlen(after);
		k.mv_data = (void *)after;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == strlen(after) &&
		    memcmp(k.mv_data, after, k.mv_size) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_ID_LEN)
			continue;
		memcpy(id, k.mv_data, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		if (!fn(id, ctx)) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(NULL, rc, "scan", err);
}

/* Walks the type's database in id order from after. */
enum scim_err
store_scan(struct store_txn *t, enum rtype type, const char *after,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	return scan_keys(t, record_db(t, type), after, fn, ctx, err);
}

/* Iterates the values stored under key in dupsort (or plain) database d. */
static enum scim_err
scan_dups(struct store_txn *t, MDB_dbi d, const void *key, size_t keylen,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k = { keylen, (void *)key }, v;
	char id[STORE_ID_LEN + 1];
	unsigned int flags;
	int rc;

	if (keylen == 0)
		return SCIM_OK;
	mdb_dbi_flags(t->txn, d, &flags);
	if ((rc = mdb_cursor_open(t->txn, d, &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == STORE_ID_LEN) {
			memcpy(id, v.mv_data, STORE_ID_LEN);
			id[STORE_ID_LEN] = '\0';
			if (!fn(id, ctx))
				break;
		}
		if (!(flags & MDB_DUPSORT))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(NULL, rc, "lookup", err);
}

/* Folds key as the index does and walks its duplicates in id order. */
enum scim_err
store_lookup(struct store_txn *t, enum store_index idx, const char *key,
    size_t keylen, store_id_fn fn, void *ctx, struct scim_error *err)
{
	struct index_key k;

	if (make_key(idx, key, keylen, &k, NULL) != SCIM_OK)
		return SCIM_OK;
	return scan_dups(t, dbi(t, index_table[idx].db), k.key, k.len, fn,
	    ctx, err);
}

/* Walks the index keys that start with the folded prefix. */
enum scim_err
store_lookup_prefix(struct store_txn *t, enum store_index idx,
    const char *prefix, size_t len, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	struct index_key k;
	MDB_cursor *c;
	MDB_val key, v;
	char id[STORE_ID_LEN + 1];
	int rc;

	if (make_key(idx, prefix, len, &k, NULL) != SCIM_OK)
		return SCIM_OK;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, index_table[idx].db),
	    &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	key.mv_size = k.len;
	key.mv_data = k.key;
	for (rc = mdb_cursor_get(c, &key, &v,
	    k.len ? MDB_SET_RANGE : MDB_FIRST);
	    rc == 0; rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (key.mv_size < k.len || memcmp(key.mv_data, k.key,
		    k.len) != 0)
			break;
		if (v.mv_size != STORE_ID_LEN)
			continue;
		memcpy(id, v.mv_data, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		if (!fn(id, ctx))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(NULL, rc, "lookup", err);
}

/* Increments meta "seq" in the transaction and formats W/"<seq>". */
enum scim_err
store_next_version(struct store_txn *t, char *buf, size_t bufsz,
    struct scim_error *err)
{
	MDB_val k = { 3, "seq" }, v;
	unsigned char be[8];
	unsigned long long n = 0;
	int rc, i;

	rc = mdb_get(t->txn, dbi(t, DB_META), &k, &v);
	if (rc == 0 && v.mv_size == 8)
		for (i = 0; i < 8; i++)
			n = n << 8 | ((unsigned char *)v.mv_data)[i];
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "seq", err);
	n++;
	for (i = 7; i >= 0; i--)
		be[7 - i] = (unsigned char)(n >> (i * 8));
	v.mv_size = 8;
	v.mv_data = be;
	if ((rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "seq", err);
	snprintf(buf, bufsz, "W/\"%llu\"", n);
	return SCIM_OK;
}

/* ---- membership ---------------------------------------------------------- */

static enum scim_err
put_pair(struct store_txn *t, enum db d, const char *k, const char *v,
    struct scim_error *err)
{
	MDB_val key = { STORE_ID_LEN, (void *)k };
	MDB_val val = { STORE_ID_LEN, (void *)v };
	int rc;

	rc = mdb_put(t->txn, dbi(t, d), &key, &val, MDB_NODUPDATA);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return mdb_error(t, rc, "member", err);
	return SCIM_OK;
}

/* Puts the pair in members and memberof; an existing pair is no error. */
enum scim_err
store_member_add(struct store_txn *t, const char *gid, const char *mid,
    struct scim_error *err)
{
	enum scim_err e;

	if (!id_ok(gid) || !id_ok(mid))
		return err_set(err, SCIM_ERR_INTERNAL, "Bad member id.");
	if ((e = put_pair(t, DB_MEMBERS, gid, mid, err)) != SCIM_OK)
		return e;
	return put_pair(t, DB_MEMBEROF, mid, gid, err);
}

/* Deletes the pair from members and memberof; an absent pair is no
 * error. */
enum scim_err
store_member_remove(struct store_txn *t, const char *gid, const char *mid,
    struct scim_error *err)
{
	enum scim_err e;

	if (!id_ok(gid) || !id_ok(mid))
		return SCIM_OK;
	if ((e = del_pair(t, DB_MEMBERS, gid, mid, err)) != SCIM_OK)
		return e;
	return del_pair(t, DB_MEMBEROF, mid, gid, err);
}

/* Deletes every member of gid, both directions. */
enum scim_err
store_member_clear(struct store_txn *t, const char *gid, struct scim_error *err)
{
	if (!id_ok(gid))
		return SCIM_OK;
	return unlink_all(t, DB_MEMBERS, DB_MEMBEROF, gid, err);
}

/* Walks gid's duplicates in members. */
enum scim_err
store_members(struct store_txn *t, const char *gid, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	if (!id_ok(gid))
		return SCIM_OK;
	return scan_dups(t, dbi(t, DB_MEMBERS), gid, STORE_ID_LEN, fn, ctx,
	    err);
}

/* Walks the member's duplicates in memberof. */
enum scim_err
store_memberof(struct store_txn *t, const char *mid, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	if (!id_ok(mid))
		return SCIM_OK;
	return scan_dups(t, dbi(t, DB_MEMBEROF), mid, STORE_ID_LEN, fn, ctx,
	    err);
}

/* ---- passwords and tokens ------------------------------------------------ */

/* Puts or deletes the user's entry in passwords. */
enum scim_err
store_password_put(struct store_txn *t, const char *id, const char *hash,
    struct scim_error *err)
{
	MDB_val k = { STORE_ID_LEN, (void *)id }, v;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Bad id.");
	if (hash == NULL)
		return del_pair(t, DB_PASSWORDS, id, NULL, err);
	v.mv_size = strlen(hash);
	v.mv_data = (void *)hash;
	rc = mdb_put(t->txn, dbi(t, DB_PASSWORDS), &k, &v, 0);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "password", err);
}

/* The token record and its hash key, both with MDB_NOOVERWRITE (409
 * for a taken name). */
enum scim_err
store_token_put(struct store_txn *t, const char *name,
    const unsigned char hash[STORE_HASH_LEN], const char *expires,
    struct scim_error *err)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_val hk = { STORE_HASH_LEN, (void *)hash };
	char hex[STORE_HASH_LEN * 2 + 1], now[32];
	json_t *doc;
	char *text;
	int rc;

	if (k.mv_size == 0 || k.mv_size > LIMIT_TOKEN_NAME_BYTES)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Token names are 1 to %d bytes.", LIMIT_TOKEN_NAME_BYTES);
	sodium_bin2hex(hex, sizeof(hex), hash, STORE_HASH_LEN);
	store_now(now, sizeof(now));
	doc = json_pack("{s:s, s:s}", "sha256", hex, "created", now);
	if (doc != NULL && expires != NULL &&
	    json_object_set_new(doc, "expires", json_string(expires)) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	text = doc != NULL ? jsonx_dumps(doc) : NULL;
	json_decref(doc);
	if (text == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, dbi(t, DB_TOKENS), &k, &v, MDB_NOOVERWRITE);
	free(text);
	if (rc == MDB_KEYEXIST) {
		t->failed = true;
		return err_set(err, SCIM_ERR_CONFLICT,
		    "A token with that name exists.");
	}
	if (rc != 0)
		return mdb_error(t, rc, "token", err);
	rc = mdb_put(t->txn, dbi(t, DB_TOKEN_HASH), &hk, &k, 0);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "token", err);
}

/* Deletes the token record and its hash key. */
enum scim_err
store_token_delete(struct store_txn *t, const char *name,
    struct scim_error *err)
{
	MDB_val k = { strlen(name), (void *)name }, v, hk;
	unsigned char hash[STORE_HASH_LEN];
	json_t *doc;
	const char *hex;
	size_t n = 0;
	int rc;

	if (k.mv_size == 0 || k.mv_size > LIMIT_TOKEN_NAME_BYTES)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such token.");
	rc = mdb_get(t->txn, dbi(t, DB_TOKENS), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such token.");
	if (rc != 0)
		return mdb_error(t, rc, "token", err);
	doc = json_loadb(v.mv_data, v.mv_size, 0, NULL);
	hex = json_string_value(json_object_get(doc, "sha256"));
	if (hex != NULL && sodium_hex2bin(hash, sizeof(hash), hex, strlen(hex),
	    NULL, &n, NULL) == 0 && n == STORE_HASH_LEN) {
		hk.mv_size = STORE_HASH_LEN;
		hk.mv_data = hash;
		rc = mdb_del(t->txn, dbi(t, DB_TOKEN_HASH), &hk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			json_decref(doc);
			return mdb_error(t, rc, "token", err);
		}
	}
	json_decref(doc);
	rc = mdb_del(t->txn, dbi(t, DB_TOKENS), &k, NULL);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "token", err);
}

/* Looks the hash up in token_hash, then the name's record in tokens
 * for its expiry.  A name without a record, or a record whose expiry
 * cannot be read, denies the token (*found false); a failed read is
 * an error, never a denial. */
enum scim_err
store_token_find(struct store_txn *t, const unsigned char hash[STORE_HASH_LEN],
    bool *found, char *name, size_t namesz, char *expires, size_t expiressz,
    struct scim_error *err)
{
	MDB_val k = { STORE_HASH_LEN, (void *)hash }, v, doc;
	const char *e;
	size_t elen;
	int rc;

	*found = false;
	if (namesz > 0)
		name[0] = '\0';
	if (expiressz > 0)
		expires[0] = '\0';
	rc = mdb_get(t->txn, dbi(t, DB_TOKEN_HASH), &k, &v);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "token_hash", err);
	if (namesz > 0)
		snprintf(name, namesz, "%.*s", (int)(v.mv_size < namesz ?
		    v.mv_size : namesz - 1), (const char *)v.mv_data);
	rc = mdb_get(t->txn, dbi(t, DB_TOKENS), &v, &doc);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "tokens", err);
	if (jsonx_find_member(doc.mv_data, doc.mv_size, "expires", &e, &elen)) {
		if (elen < 2 || e[0] != '"' || elen - 1 > expiressz)
			return SCIM_OK;
		memcpy(expires, e + 1, elen - 2);
		expires[elen - 2] = '\0';
	}
	*found = true;
	return SCIM_OK;
}

/* Walks tokens in name order, reading each record's fields. */
enum scim_err
store_token_list(struct store_txn *t, store_token_fn fn, void *ctx,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	char name[LIMIT_TOKEN_NAME_BYTES + 1];
	json_t *doc;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_TOKENS), &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		snprintf(name, sizeof(name), "%.*s", (int)k.mv_size,
		    (const char *)k.mv_data);
		doc = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		fn(name, json_string_value(json_object_get(doc, "created")),
		    json_string_value(json_object_get(doc, "expires")), ctx);
		json_decref(doc);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(NULL, rc, "tokens",
	    err);
}

/* Reads (or, in a write transaction, makes) the cursor key. */
static enum scim_err
cursor_key_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	MDB_val k = { 10, "cursor_key" }, v;
	unsigned char fresh[32];
	int rc;

	(void)ctx;
	rc = mdb_get(t->txn, dbi(t, DB_META), &k, &v);
	if (rc == 0 && v.mv_size == 32) {
		memcpy(t->store->cursor_key, v.mv_data, 32);
		t->store->has_cursor_key = true;
		return SCIM_OK;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "cursor key", err);
	if (t->read_only)
		return SCIM_OK;	/* made by store_write() next */
	randombytes_buf(fresh, sizeof(fresh));
	v.mv_size = sizeof(fresh);
	v.mv_data = fresh;
	if ((rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "cursor key", err);
	memcpy(t->store->cursor_key, fresh, 32);
	t->store->has_cursor_key = true;
	return SCIM_OK;
}

/* Reads meta "cursor_key", making it in its own write transaction
 * the first time; cached for the process. */
enum scim_err
store_cursor_key(struct store *s, unsigned char key[32], struct scim_error *err)
{
	enum scim_err e;

	if (!s->has_cursor_key &&
	    (e = store_read(s, cursor_key_fn, NULL, err)) != SCIM_OK)
		return e;
	if (!s->has_cursor_key &&
	    (e = store_write(s, cursor_key_fn, NULL, err)) != SCIM_OK)
		return e;
	memcpy(key, s->cursor_key, 32);
	return SCIM_OK;
}

/* ---- audit trail --------------------------------------------------------- */

static void
be64(unsigned char out[8], unsigned long long n)
{
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		out[i] = (unsigned char)n;
}

static unsigned long long
from_be64(const unsigned char *p)
{
	unsigned long long n = 0;
	int i;

	for (i = 0; i < 8; i++)
		n = n << 8 | p[i];
	return n;
}

/* Appends the entry under the next audit sequence; past keep + keep/64
 * entries, drops the oldest down to keep in the same transaction. */
enum scim_err
store_audit(struct store_txn *t, const char *who, const char *op,
    const char *type, const char *id, const char *version, size_t keep,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat st;
	unsigned char key[8];
	unsigned long long seq = 1;
	char now[32], *text;
	json_t *entry;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT), &c)) != 0)
		return mdb_error(t, rc, "audit", err);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = from_be64(k.mv_data) + 1;
	/* Retention: once the trail holds keep + keep/64 entries, drop the
	 * oldest down to keep.  Trimming in batches spares every other
	 * commit the write of the trail's first leaf (a durable write's
	 * cost is its pages: docs/performance.md). */
	if (keep > 0 && mdb_stat(t->txn, dbi(t, DB_AUDIT), &st) == 0) {
		size_t excess = st.ms_entries >= keep + keep / 64 ?
		    st.ms_entries - keep + 1 : 0;

		while (excess-- > 0 &&
		    mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0)
			if ((rc = mdb_cursor_del(c, 0)) != 0) {
				mdb_cursor_close(c);
				return mdb_error(t, rc, "audit", err);
			}
	}
	mdb_cursor_close(c);
	store_now(now, sizeof(now));
	entry = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "seq",
	    (json_int_t)seq, "time", now, "token", who ? who : "-", "op", op,
	    "type", type, "id", id);
	if (entry != NULL && version != NULL)
		json_object_set_new(entry, "version", json_string(version));
	text = entry ? jsonx_dumps(entry) : NULL;
	json_decref(entry);
	if (text == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	be64(key, seq);
	k.mv_size = 8;
	k.mv_data = key;
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, dbi(t, DB_AUDIT), &k, &v, MDB_APPEND);
	free(text);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "audit", err);
}

/* Walks audit from after + 1 in sequence order. */
enum scim_err
store_audit_list(struct store_txn *t, unsigned long long after,
    store_audit_fn fn, void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned char key[8];
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT), &c)) != 0)
		return mdb_error(NULL, rc, "audit", err);
	be64(key, after + 1);
	k.mv_size = 8;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if (k.mv_size == 8 && !fn(from_be64(k.mv_data), v.mv_data,
		    v.mv_size, ctx))
			break;
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(NULL, rc, "audit", err);
}

/* ---- maintenance --------------------------------------------------------- */

struct restore_ctx {
	struct store	*src;
};

/* Write callback of store_restore: empties each database and copies the
 * source's entries in order, all in one transaction. */
static enum scim_err
restore_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct restore_ctx *r = ctx;
	MDB_txn *stx;
	MDB_cursor *c;
	MDB_val k, v;
	int i, rc;

	if ((rc = mdb_txn_begin(r->src->env, NULL, MDB_RDONLY, &stx)) != 0)
		return mdb_error(NULL, rc, "restore", err);
	for (i = 0; i < DB__COUNT; i++) {
		if ((rc = mdb_drop(t->txn, dbi(t, i), 0)) != 0)
			break;
		if ((rc = mdb_cursor_open(stx, r->src->dbi[i], &c)) != 0)
			break;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if ((rc = mdb_put(t->txn, dbi(t, i), &k, &v,
			    (db_table[i].flags & MDB_DUPSORT) ? MDB_APPENDDUP :
			    MDB_APPEND)) != 0)
				break;
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			break;
		rc = 0;
	}
	mdb_txn_abort(stx);
	if (rc != 0)
		return mdb_error(t, rc, "restore", err);
	t->store->has_cursor_key = false;
	return SCIM_OK;
}

/* Opens src read-only and copies it over s in one write transaction. */
enum scim_err
store_restore(struct store *s, const char *src, struct scim_error *err)
{
	struct restore_ctx r;
	enum scim_err e;

	if ((e = store_open(src, false, &r.src, err)) != SCIM_OK)
		return e;
	e = store_write(s, restore_fn, &r, err);
	store_close(r.src);
	return e;
}

/* Map, file and reader facts; clears stale readers and counts them. */
void
store_info(struct store *s, struct store_info *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	struct stat fs;
	char path[LIMIT_FILE_PATH_BYTES];

	memset(info, 0, sizeof(*info));
	mdb_reader_check(s->env, &info->stale_readers);
	mdb_env_info(s->env, &ei);
	mdb_env_stat(s->env, &st);
	info->map_size = ei.me_mapsize;
	info->used = (ei.me_last_pgno + 1) * (size_t)st.ms_psize;
	info->readers = ei.me_numreaders;
	info->max_readers = ei.me_maxreaders;
	snprintf(path, sizeof(path), "%s/data.mdb", s->path);
	if (stat(path, &fs) == 0)
		info->file_size = (size_t)fs.st_size;
}

/* mdb_env_copy2 with compaction: consistent while writers run. */
enum scim_err
store_backup(struct store *s, const char *dir, struct scim_error *err)
{
	int rc;

	rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	if (rc != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "Backup to %s "
		    "failed: %s", dir, mdb_strerror(rc));
	return SCIM_OK;
}

/* Context of verification: the record being checked and the count. */
struct verify_ctx {
	size_t		*problems;
	bool		 repair;
};

/* Checks that key k of record id is present in its index. */
static enum scim_err
key_check(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct verify_ctx *vc = ctx;
	MDB_cursor *c;
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id };
	int rc;

	if (vc->repair)
		return key_add(t, k, id, NULL, err);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, index_table[k->idx].db),
	    &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	if (index_table[k->idx].unique) {
		rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY);
		if (rc == 0 && (val.mv_size != STORE_ID_LEN ||
		    memcmp(val.mv_data, id, STORE_ID_LEN) != 0))
			rc = MDB_NOTFOUND;
	} else
		rc = mdb_cursor_get(c, &key, &val, MDB_GET_BOTH);
	mdb_cursor_close(c);
	if (rc != 0)
		(*vc->problems)++;
	return SCIM_OK;
}

/* Counts the record keys of one type (in verify mode) or re-adds them. */
static enum scim_err
verify_records(struct store_txn *t, enum rtype type, struct verify_ctx *vc,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	json_t *rec;
	enum scim_err e = SCIM_OK;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, record_db(t, type), &c)) != 0)
		return mdb_error(t, rc, "cursor", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		if (rec == NULL) {
			(*vc->problems)++;
			continue;
		}
		e = each_key(t, type, rec, key_check, vc, err);
		json_decref(rec);
		if (e != SCIM_OK)
			break;
	}
	mdb_cursor_close(c);
	if (e != SCIM_OK)
		return e;
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(t, rc, "verify", err);
}

/* Counts index entries whose record is missing (verify mode). */
static void
verify_dangling(struct store_txn *t, enum db d, enum rtype type,
    size_t *problems)
{
	MDB_cursor *c;
	MDB_val k, v, rk, rv;

	if (mdb_cursor_open(t->txn, dbi(t, d), &c) != 0)
		return;
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		rk = v;
		if (mdb_get(t->txn, record_db(t, type), &rk, &rv) != 0)
			(*problems)++;
	}
	mdb_cursor_close(c);
}

/* Checks indexes both ways; with repair, drops and rebuilds them from
 * the records, all in the caller's transaction. */
enum scim_err
store_verify(struct store_txn *t, bool repair, size_t *problems,
    struct scim_error *err)
{
	struct verify_ctx vc = { problems, repair };
	enum scim_err e;
	int i, rc;

	*problems = 0;
	for (i = 0; i < IDX__COUNT; i++)
		verify_dangling(t, index_table[i].db, index_table[i].type,
		    problems);
	if (repair) {
		for (i = 0; i < IDX__COUNT; i++)
			if ((rc = mdb_drop(t->txn, dbi(t, index_table[i].db),
			    0)) != 0)
				return mdb_error(t, rc, "drop", err);
	}
	if ((e = verify_records(t, RT_USER, &vc, err)) != SCIM_OK ||
	    (e = verify_records(t, RT_GROUP, &vc, err)) != SCIM_OK)
		return e;
	return SCIM_OK;
}

/* Calls fn with each database's entry count. */
enum scim_err
store_stats(struct store_txn *t, store_stat_fn fn, void *ctx,
    struct scim_error *err)
{
	MDB_stat st;
	int i, rc;

	for (i = 0; i < DB__COUNT; i++) {
		if ((rc = mdb_stat(t->txn, dbi(t, i), &st)) != 0)
			return mdb_error(NULL, rc, "stat", err);
		fn(db_table[i].name, st.ms_entries, ctx);
	}
	return SCIM_OK;
}

/* ---- ids and time -------------------------------------------------------- */

/* The current UTC time, milliseconds, in the fixed form that compares
 * as text. */
void
store_now(char *buf, size_t bufsz)
{
	struct timespec ts;
	struct tm tm;
	char s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, bufsz, "%s.%03ldZ", s, ts.tv_nsec / 1000000);
}

/* A version 4 UUID from the kernel's CSPRNG (bytes drawn in batches). */
void
store_new_id(char buf[STORE_ID_LEN + 1])
{
	/* Ids are public, so their randomness may come from a pool: one
	 * getrandom(2) per 256 ids instead of one per id (scimctl import
	 * makes a million). */
	static unsigned char pool[4096];
	static size_t pool_left;
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	int i, j;

	if (pool_left < sizeof(b)) {
		randombytes_buf(pool, sizeof(pool));
		pool_left = sizeof(pool);
	}
	memcpy(b, pool + sizeof(pool) - pool_left, sizeof(b));
	pool_left -= sizeof(b);
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[j++] = '-';
		buf[j++] = hex[b[i] >> 4];
		buf[j++] = hex[b[i] & 15];
	}
	buf[j] = '\0';
}

/* 8-4-4-4-12 hexadecimal digits, either case. */
bool
store_id_valid(const char *s, size_t len)
{
	size_t i;

	if (len != STORE_ID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' &&
		    s[i] <= 'F')))
			return false;
	}
	return true;
}
