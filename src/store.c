/*
 * store.c: LMDB environment, named databases, records and their indexes.
 */
#include "config.h"

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
	[DB_MEMBERS] = { "members", MDB_DUPSORT },
	[DB_MEMBEROF] = { "memberof", MDB_DUPSORT },
	[DB_TOKENS] = { "tokens", 0 },
	[DB_TOKEN_HASH] = { "token_hash", 0 },
	[DB_PASSWORDS] = { "passwords", 0 },
	[DB_AUDIT] = { "audit", 0 },
	[DB_COUNTS] = { "id_counts", 0 },	/* optional: see open_dbs() */
};

/* How an index makes its keys from values (docs/storage.md, "Keys"). */
enum key_fold {
	KEY_EXACT,	/* the value's bytes */
	KEY_CASE,	/* fold_utf8: case folding + NFC */
	KEY_USERNAME	/* fold_username: RFC 8265 (width, case, NFC) */
};

/* The database of each index, and which resource type it covers. */
static const struct {
	enum db		 db;
	enum rtype	 type;
	const char	*attr;		/* for error details */
	enum key_fold	 fold;
	bool		 unique;
} index_table[IDX__COUNT] = {
	[IDX_USERNAME] = { DB_IDX_USERNAME, RT_USER, "userName", KEY_USERNAME,
	    true },
	[IDX_EMAIL] = { DB_IDX_EMAIL, RT_USER, "emails.value", KEY_CASE,
	    false },
	[IDX_USER_EXTID] = { DB_IDX_USER_EXTID, RT_USER, "externalId",
	    KEY_EXACT, false },
	[IDX_GROUP_NAME] = { DB_IDX_GROUP_NAME, RT_GROUP, "displayName",
	    KEY_CASE, false },
	[IDX_GROUP_EXTID] = { DB_IDX_GROUP_EXTID, RT_GROUP, "externalId",
	    KEY_EXACT, false },
};

_Static_assert(LIMIT_INDEX_KEY_BYTES <= 511, "LMDB keys are at most 511 bytes");

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB__COUNT];
	bool		 missing[DB__COUNT];	/* absent (STORE_NO_MIGRATE) */
	int		 layout;	/* layout version of the file */
	char		*path;
	unsigned char	 cursor_key[32];
	bool		 has_cursor_key;
	bool		 has_counts;	/* id_counts exists: keep it exact */
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

/*
 * Opens every named database in txn (creating them when asked).  With
 * tolerate, a database missing from the file (a store of an older
 * layout opened as it is) is marked in s->missing instead of failing.
 * id_counts is the one a store may lack (made before it existed): then
 * has_counts is false, nothing maintains it and paging walks.
 */
static int
open_dbs(struct store *s, MDB_txn *txn, bool create, bool tolerate)
{
	int i, rc;

	for (i = 0; i < DB__COUNT; i++) {
		rc = mdb_dbi_open(txn, db_table[i].name,
		    db_table[i].flags | (create ? MDB_CREATE : 0), &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i == DB_COUNTS) {
			s->has_counts = false;
			s->missing[i] = true;
			continue;
		}
		s->missing[i] = rc == MDB_NOTFOUND && tolerate;
		if (rc != 0 && !s->missing[i])
			return rc;
		if (i == DB_COUNTS)
			s->has_counts = true;
	}
	return 0;
}

/*
 * Reads the layout version of the store in txn into *version.
 * SCIM_ERR_NOT_FOUND when there is none (a new store), or
 * SCIM_ERR_UNAVAILABLE when it is not a version this code knows how to
 * read or migrate.
 */
static enum scim_err
read_layout(MDB_txn *txn, MDB_dbi meta, int *version, struct scim_error *err)
{
	MDB_val k = { 6, "layout" }, v;
	const char *p;
	size_t i;
	int rc, n = 0;

	rc = mdb_get(txn, meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return SCIM_ERR_NOT_FOUND;
	if (rc != 0)
		return mdb_error(NULL, rc, "layout", err);
	p = v.mv_data;
	for (i = 0; i < v.mv_size && i < 4 && p[i] >= '0' && p[i] <= '9'; i++)
		n = n * 10 + (p[i] - '0');
	if (v.mv_size == 0 || i != v.mv_size || n < 1)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "The store's layout "
		    "version is unreadable; restore it from a backup.");
	if (n > STORE_LAYOUT_VERSION)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "The store has layout version %d; this scimd reads "
		    "versions up to %d (a newer scimd wrote it).", n,
		    STORE_LAYOUT_VERSION);
	*version = n;
	return SCIM_OK;
}

/* Writes the current layout version in txn. */
static int
write_layout(MDB_txn *txn, MDB_dbi meta)
{
	MDB_val k = { 6, "layout" }, v;
	char want[16];

	snprintf(want, sizeof(want), "%d", STORE_LAYOUT_VERSION);
	v.mv_size = strlen(want);
	v.mv_data = want;
	return mdb_put(txn, meta, &k, &v, 0);
}

/* Makes a new store: every database and the layout, in one commit. */
static enum scim_err
create_store(struct store *s, struct scim_error *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_error(NULL, rc, "create", err);
	if ((rc = open_dbs(s, txn, true, false)) != 0 ||
	    (rc = write_layout(txn, s->dbi[DB_META])) != 0) {
		mdb_txn_abort(txn);
		return mdb_error(NULL, rc, "create", err);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return mdb_error(NULL, rc, "create", err);
	s->layout = STORE_LAYOUT_VERSION;
	return SCIM_OK;
}

/* store_open_flags with STORE_CREATE when create is true. */
enum scim_err
store_open(const char *path, bool create, struct store **out,
    struct scim_error *err)
{
	return store_open_flags(path, create ? STORE_CREATE : 0, out, err);
}

/*
 * Opens or creates the environment and its databases, checks the
 * layout version (an older one opened as it is with STORE_NO_MIGRATE,
 * read-only with STORE_READ_ONLY), refuses network filesystems and
 * clears the reader slots of dead processes.
 */
enum scim_err
store_open_flags(const char *path, unsigned flags, struct store **out,
    struct scim_error *err)
{
	struct store *s;
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	enum scim_err e;
	int rc, dead, version = 0;
	struct stat st;
	bool ro = (flags & STORE_READ_ONLY) != 0;
	bool as_is = (flags & STORE_NO_MIGRATE) != 0;

	*out = NULL;
	if (sodium_init() < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "libsodium failed.");
	if ((flags & STORE_CREATE) && !ro && stat(path, &st) != 0 &&
	    mkdir(path, 0700) != 0)
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
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS |
	    (ro ? MDB_RDONLY : 0), 0600)) != 0) {
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
	rc = mdb_dbi_open(txn, db_table[DB_META].name, 0, &s->dbi[DB_META]);
	e = rc == 0 ? read_layout(txn, s->dbi[DB_META], &version, err) :
	    SCIM_ERR_NOT_FOUND;
	if (e == SCIM_ERR_NOT_FOUND) {
		mdb_txn_abort(txn);
		txn = NULL;
		if (!(flags & STORE_CREATE) || ro ||
		    (rc != 0 && rc != MDB_NOTFOUND)) {
			e = err_set(err, SCIM_ERR_UNAVAILABLE, "%s is not a "
			    "scimd store (create it with `scimctl --db DIR "
			    "init`).", path);
			goto fail;
		}
		if ((e = create_store(s, err)) != SCIM_OK)
			goto fail;
		*out = s;
		return SCIM_OK;
	}
	if (e != SCIM_OK)
		goto fail;
	s->layout = version;
	if (version < STORE_LAYOUT_VERSION && !as_is) {
		/* An older layout: migrated in one write transaction
		 * (store_migrate), which a read-only opener cannot do. */
		mdb_txn_abort(txn);
		txn = NULL;
		if (ro) {
			e = err_set(err, SCIM_ERR_UNAVAILABLE, "The store has "
			    "layout version %d and this program reads %d "
			    "without writing: run `scimctl --db DIR migrate` "
			    "as the store's owner (or start scimd once).",
			    version, STORE_LAYOUT_VERSION);
			goto fail;
		}
		if ((e = store_migrate(s, NULL, NULL, err)) != SCIM_OK)
			goto fail;
		*out = s;
		return SCIM_OK;
	}
	if ((rc = open_dbs(s, txn, false, as_is)) != 0) {
		e = err_set(err, SCIM_ERR_UNAVAILABLE, "%s is not a scimd "
		    "store (create it with `scimctl --db DIR init`).", path);
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		e = mdb_error(NULL, rc, "open", err);
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

/* The layout read at open. */
int
store_layout(const struct store *s)
{
	return s->layout;
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
	if (index_table[idx].fold != KEY_EXACT) {
		e = index_table[idx].fold == KEY_USERNAME ?
		    fold_username_into(s, len, k->key, sizeof(k->key),
		    &k->len) :
		    fold_into(s, len, k->key, sizeof(k->key), &k->len);
		if (e == SCIM_ERR_NOMEM)
			return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
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

/* ---- id counts
 * ------------------------------------------------------------ */

/*
 * id_counts makes startIndex paging cost the same at any offset.  Ids
 * are random lower-case UUIDs, so their first three hex digits spread
 * them over 4096 buckets, each a contiguous range of the id tree.  Key
 * "u" or "g" plus the first digit D holds 256 big-endian 32-bit counts:
 * entry XY (0..255) is how many ids of that type start with D X Y.  A
 * create adds one and a delete takes one away in the write transaction
 * that writes the record, so the counts are exact in every snapshot.
 * Reaching position N is then: sum the buckets (4096 additions), seek to
 * the bucket's first id, and walk fewer ids than one bucket holds.
 */
#define COUNTS_SLOTS	256			/* buckets per row */
#define COUNTS_VALUE	(COUNTS_SLOTS * 4)	/* bytes of a row */
#define COUNTS_BUCKETS	(16 * COUNTS_SLOTS)	/* buckets per type */

/* The value of lower-case hex digit c, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bucket (0..4095) of a record key, or -1 when it is not an id
 * whose first three characters are lower-case hex (never counted). */
static int
key_bucket(const MDB_val *k)
{
	const char *p = k->mv_data;
	int a, b, c;

	if (k->mv_size != STORE_ID_LEN || (a = hexval(p[0])) < 0 ||
	    (b = hexval(p[1])) < 0 || (c = hexval(p[2])) < 0)
		return -1;
	return a << 8 | b << 4 | c;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(unsigned char *p, uint32_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

/* The key of row `digit` (0..15) of type's counts into key[2]. */
static void
counts_key(enum rtype type, int digit, char key[2])
{
	key[0] = type == RT_USER ? 'u' : 'g';
	key[1] = "0123456789abcdef"[digit];
}

/*
 * Adds delta (+1 or -1) to the bucket of id of type type, in t.  A no-op
 * for a store without id_counts and for an id outside the buckets.
 */
static enum scim_err
counts_adjust(struct store_txn *t, enum rtype type, const char *id, int delta,
    struct scim_error *err)
{
	unsigned char row[COUNTS_VALUE];
	char key[2];
	MDB_val k = { STORE_ID_LEN, (void *)id }, v;
	uint32_t n;
	int b, rc;

	if (!t->store->has_counts || (b = key_bucket(&k)) < 0)
		return SCIM_OK;
	counts_key(type, b >> 8, key);
	k.mv_size = 2;
	k.mv_data = key;
	rc = mdb_get(t->txn, dbi(t, DB_COUNTS), &k, &v);
	if (rc == 0 && v.mv_size == COUNTS_VALUE)
		memcpy(row, v.mv_data, COUNTS_VALUE);
	else if (rc == 0 || rc == MDB_NOTFOUND)
		memset(row, 0, sizeof(row));	/* verify reports a bad row */
	else
		return mdb_error(t, rc, "id_counts", err);
	n = get_be32(row + (b & 255) * 4);
	if (delta > 0 || n > 0)
		n += (uint32_t)delta;
	put_be32(row + (b & 255) * 4, n);
	v.mv_size = COUNTS_VALUE;
	v.mv_data = row;
	if ((rc = mdb_put(t->txn, dbi(t, DB_COUNTS), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "id_counts", err);
	return SCIM_OK;
}

/*
 * Reads type's counts into cnt[COUNTS_BUCKETS] (absent rows are zeros).
 * True when they are usable: the store keeps them and they add up to
 * total, the records of that type (an id outside the buckets, or a row
 * written by something else, makes them disagree and paging walks).
 */
static bool
counts_load(struct store_txn *t, enum rtype type, uint32_t *cnt, size_t total)
{
	MDB_cursor *c;
	MDB_val k, v;
	char key[2];
	size_t sum = 0;
	int i, d, rc;

	memset(cnt, 0, COUNTS_BUCKETS * sizeof(*cnt));
	if (!t->store->has_counts ||
	    mdb_cursor_open(t->txn, dbi(t, DB_COUNTS), &c) != 0)
		return false;
	counts_key(type, 0, key);
	k.mv_size = 1;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 &&
	    k.mv_size >= 1 && ((char *)k.mv_data)[0] == key[0];
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 2 ||
		    (d = hexval(((char *)k.mv_data)[1])) < 0 ||
		    v.mv_size != COUNTS_VALUE)
			continue;
		for (i = 0; i < COUNTS_SLOTS; i++) {
			cnt[d << 8 | i] = get_be32((unsigned char *)v.mv_data +
			    i * 4);
			sum += cnt[d << 8 | i];
		}
	}
	mdb_cursor_close(c);
	return sum == total;
}

/* Counts type's record ids per bucket, from the records themselves. */
static enum scim_err
counts_from_records(struct store_txn *t, enum rtype type, uint32_t *cnt,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	int b, rc;

	memset(cnt, 0, COUNTS_BUCKETS * sizeof(*cnt));
	if ((rc = mdb_cursor_open(t->txn, record_db(t, type), &c)) != 0)
		return mdb_error(t, rc, "cursor", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((b = key_bucket(&k)) >= 0)
			cnt[b]++;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(t, rc, "id_counts",
	    err);
}

/* Writes the 16 rows of type from cnt, replacing what was there. */
static enum scim_err
counts_write(struct store_txn *t, enum rtype type, const uint32_t *cnt,
    struct scim_error *err)
{
	unsigned char row[COUNTS_VALUE];
	char key[2];
	MDB_val k = { 2, key }, v = { COUNTS_VALUE, row };
	int d, i, rc;

	for (d = 0; d < 16; d++) {
		for (i = 0; i < COUNTS_SLOTS; i++)
			put_be32(row + i * 4, cnt[d << 8 | i]);
		counts_key(type, d, key);
		if ((rc = mdb_put(t->txn, dbi(t, DB_COUNTS), &k, &v, 0)) != 0)
			return mdb_error(t, rc, "id_counts", err);
	}
	return SCIM_OK;
}

/* Recounts each id_counts bucket from the records; with repair, writes
 * the counts found. */
enum scim_err
store_counts_verify(struct store_txn *t, bool repair, size_t *problems,
    struct scim_error *err)
{
	static const enum rtype types[] = { RT_USER, RT_GROUP };
	uint32_t *want, *have;
	enum scim_err e = SCIM_OK;
	size_t i, j;

	*problems = 0;
	if (!t->store->has_counts)
		return SCIM_OK;
	want = malloc(COUNTS_BUCKETS * sizeof(*want));
	have = malloc(COUNTS_BUCKETS * sizeof(*have));
	if (want == NULL || have == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		goto done;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((e = counts_from_records(t, types[i], want,
		    err)) != SCIM_OK)
			goto done;
		(void)counts_load(t, types[i], have, 0);
		for (j = 0; j < COUNTS_BUCKETS; j++)
			if (want[j] != have[j])
				(*problems)++;
		if (repair && (e = counts_write(t, types[i], want, err)) !=
		    SCIM_OK)
			goto done;
	}
done:
	free(want);
	free(have);
	return e;
}

/* Creates id_counts when missing and fills it from the records, in the
 * caller's transaction. */
enum scim_err
store_migrate_counts(struct store_txn *t, struct scim_error *err)
{
	size_t problems;
	int rc;

	if (!t->store->has_counts) {
		rc = mdb_dbi_open(t->txn, db_table[DB_COUNTS].name,
		    db_table[DB_COUNTS].flags | MDB_CREATE,
		    &t->store->dbi[DB_COUNTS]);
		if (rc != 0)
			return mdb_error(t, rc, "id_counts", err);
		t->store->has_counts = true;
	}
	if ((rc = mdb_drop(t->txn, dbi(t, DB_COUNTS), 0)) != 0)
		return mdb_error(t, rc, "id_counts", err);
	return store_counts_verify(t, true, &problems, err);
}

/* Positions c on the first id of bucket b (MDB_NOTFOUND past the end). */
static int
seek_bucket(MDB_cursor *c, int b, MDB_val *k, MDB_val *v)
{
	static const char hex[] = "0123456789abcdef";
	char prefix[3];

	prefix[0] = hex[b >> 8];
	prefix[1] = hex[(b >> 4) & 15];
	prefix[2] = hex[b & 15];
	k->mv_size = sizeof(prefix);
	k->mv_data = prefix;
	return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

/* Seeks to the bucket of the pos-th id through id_counts when they add
 * up to the records, else walks from the first id. */
enum scim_err
store_scan_at(struct store_txn *t, enum rtype type, size_t pos,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	uint32_t cnt[COUNTS_BUCKETS];
	MDB_cursor *c;
	MDB_val k, v;
	char id[STORE_ID_LEN + 1];
	size_t total, before = 0;
	enum scim_err e;
	int b = 0, rc;

	if ((e = store_count(t, type, &total, err)) != SCIM_OK)
		return e;
	if (pos >= total)
		return SCIM_OK;
	if ((rc = mdb_cursor_open(t->txn, record_db(t, type), &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	if (counts_load(t, type, cnt, total)) {
		/* The bucket holding position pos, then into it.  Only
		 * counted ids are stepped over: the counts say where they
		 * are. */
		for (b = 0; b < COUNTS_BUCKETS - 1 &&
		    before + cnt[b] <= pos; b++)
			before += cnt[b];
		rc = seek_bucket(c, b, &k, &v);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_ID_LEN)
			continue;
		if (before < pos) {
			before++;
			continue;
		}
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

/* The index keys of one record, collected by each_key(). */
struct key_set {
	struct index_key *k;
	size_t		  n, cap;
};

/* each_key() callback: appends a copy of k to the key set, doubling it. */
static enum scim_err
key_collect(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct key_set *ks = ctx;

	(void)t;
	(void)id;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;
		struct index_key *p = realloc(ks->k, cap * sizeof(*p));

		if (p == NULL)
			return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		ks->k = p;
		ks->cap = cap;
	}
	ks->k[ks->n++] = *k;
	return SCIM_OK;
}

static bool
key_in(const struct key_set *ks, const struct index_key *k)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].idx == k->idx && ks->k[i].len == k->len &&
		    memcmp(ks->k[i].key, k->key, k->len) == 0)
			return true;
	return false;
}

/*
 * Moves the index entries of a record from old's keys to rec's: removes
 * the keys only old has, then adds those only rec has.  A key both have
 * is left alone, so a change that touches no indexed value (PATCH of
 * active, of a title) writes no index page: a durable write costs its
 * pages (docs/performance.md).
 */
static enum scim_err
rekey(struct store_txn *t, enum rtype type, const json_t *old,
    const json_t *rec, struct scim_error *err)
{
	struct key_set ko = { NULL, 0, 0 }, kn = { NULL, 0, 0 };
	const char *id = json_string_value(json_object_get(rec, "id"));
	enum scim_err e;
	size_t i;

	if ((e = each_key(t, type, old, key_collect, &ko, err)) != SCIM_OK ||
	    (e = each_key(t, type, rec, key_collect, &kn, err)) != SCIM_OK)
		goto done;
	for (i = 0; i < ko.n; i++)
		if (!key_in(&kn, &ko.k[i]) &&
		    (e = key_del(t, &ko.k[i], id, NULL, err)) != SCIM_OK)
			goto done;
	for (i = 0; i < kn.n; i++)
		if (!key_in(&ko, &kn.k[i]) &&
		    (e = key_add(t, &kn.k[i], id, NULL, err)) != SCIM_OK)
			goto done;
done:
	free(ko.k);
	free(kn.k);
	return e;
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
	if (old != NULL)
		e = rekey(t, type, old, rec, err);
	else
		e = each_key(t, type, rec, key_add, NULL, err);
	if (e != SCIM_OK) {
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
	if (rc != 0)
		return mdb_error(t, rc, "put", err);
	return old == NULL ? counts_adjust(t, type, id, 1, err) : SCIM_OK;
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
 * Gives record id of type type a new meta.version, and with modified a
 * new meta.lastModified (its other members and its index entries are
 * unchanged): its membership changed without the record being written.
 * A missing record is left alone (SCIM_OK).
 */
enum scim_err
store_touch(struct store_txn *t, enum rtype type, const char *id,
    bool modified, struct scim_error *err)
{
	json_t *rec = NULL, *meta;
	char version[32], now[32], *text = NULL;
	MDB_val k, v;
	enum scim_err e;
	bool found;
	int rc;

	if (!id_ok(id))
		return SCIM_OK;
	if ((e = store_exists(t, type, id, &found, err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if (!found)
		return SCIM_OK;
	if ((e = store_get(t, type, id, &rec, err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if ((e = store_next_version(t, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	store_now(now, sizeof(now));
	/* A record without meta (none scimd wrote) gets one, last. */
	if (!json_is_object(meta = json_object_get(rec, "meta")) &&
	    json_object_set_new(rec, "meta", meta = json_object()) != 0)
		meta = NULL;
	if (meta == NULL || (modified &&
	    json_object_set_new(meta, "lastModified", json_string(now)) != 0) ||
	    json_object_set_new(meta, "version", json_string(version)) != 0 ||
	    (text = jsonx_dumps(rec)) == NULL) {
		t->failed = true;
		e = err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		goto fail;
	}
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	v.mv_size = strlen(text);
	v.mv_data = text;
	if ((rc = mdb_put(t->txn, record_db(t, type), &k, &v, 0)) != 0)
		e = mdb_error(t, rc, "put", err);
fail:
	free(text);
	json_decref(rec);
	return e;
}

/*
 * Removes every pair (id, x) from `from` and the mirror pair (x, id)
 * from `mirror` (the members/memberof pair of databases).  When `from`
 * is memberof, each group x lost a member: its version changes
 * (store_touch), so that an ETag read before no longer matches.
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
			if (from == DB_MEMBEROF &&
			    (e = store_touch(t, RT_GROUP, other, true, err)) !=
			    SCIM_OK)
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
	if (rc != 0)
		return mdb_error(t, rc, "delete", err);
	return counts_adjust(t, type, id, -1, err);
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

/* The write counter (meta "seq") into *n: 0 when there is none yet. */
static enum scim_err
seq_read(struct store_txn *t, unsigned long long *n, struct scim_error *err)
{
	MDB_val k = { 3, "seq" }, v;
	int rc, i;

	*n = 0;
	rc = mdb_get(t->txn, dbi(t, DB_META), &k, &v);
	if (rc == 0 && v.mv_size == 8)
		for (i = 0; i < 8; i++)
			*n = *n << 8 | ((unsigned char *)v.mv_data)[i];
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "seq", err);
	return SCIM_OK;
}

/* Sets the write counter to n. */
static enum scim_err
seq_write(struct store_txn *t, unsigned long long n, struct scim_error *err)
{
	MDB_val k = { 3, "seq" }, v;
	unsigned char be[8];
	int rc, i;

	for (i = 7; i >= 0; i--)
		be[7 - i] = (unsigned char)(n >> (i * 8));
	v.mv_size = 8;
	v.mv_data = be;
	if ((rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "seq", err);
	return SCIM_OK;
}

/* Increments meta "seq" in the transaction and formats W/"<seq>". */
enum scim_err
store_next_version(struct store_txn *t, char *buf, size_t bufsz,
    struct scim_error *err)
{
	unsigned long long n;
	enum scim_err e;

	if ((e = seq_read(t, &n, err)) != SCIM_OK ||
	    (e = seq_write(t, n + 1, err)) != SCIM_OK)
		return e;
	snprintf(buf, bufsz, "W/\"%llu\"", n + 1);
	return SCIM_OK;
}

/* store.h: the counter only ever grows. */
enum scim_err
store_version_raise(struct store_txn *t, unsigned long long n,
    struct scim_error *err)
{
	unsigned long long cur;
	enum scim_err e;

	if ((e = seq_read(t, &cur, err)) != SCIM_OK || cur >= n)
		return e;
	return seq_write(t, n, err);
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

/* ---- layout migrations
 * ----------------------------------------------------- */

/*
 * A store made by an older scimd is brought to STORE_LAYOUT_VERSION by
 * the steps below, run in order from its version, all in one write
 * transaction with the new version written last: it is migrated
 * completely or not at all.  A step may read and rewrite any database
 * (all are open, missing ones created); it reports what it cannot
 * migrate with migration_problem() and fails, which aborts everything.
 * Adding a layout: bump STORE_LAYOUT_VERSION and add one entry here.
 */
struct migration {
	store_report_fn	 report;	/* problem lines, or NULL */
	void		*ctx;
	size_t		 problems;
	int		 from;		/* layout found */
};

/* Counts a problem and hands its line to the report callback. */
static void
migration_problem(struct migration *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	m->problems++;
	if (m->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->report(line, m->ctx);
}

/* The userName of user record v (a JSON text), escaped into out. */
static void
record_username(const MDB_val *v, char *out, size_t outsz)
{
	json_t *rec = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	const char *n = json_string_value(json_object_get(rec, "userName"));

	fold_printable(out, outsz, n ? n : "", n ? strlen(n) : 0);
	json_decref(rec);
}

/*
 * Layout 1 -> 2: idx_username keys become fold_username() forms (RFC
 * 8265: width mapping before case folding and NFC), rebuilt from the
 * user records.  Two users whose names now fold alike (`ＡＤＭＩＮ` and
 * `admin`) are a collision: reported with both ids, never merged, and
 * the step fails so that nothing changes.
 */
static enum scim_err
migrate_username_keys(struct store_txn *t, struct migration *m,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v, key, val, other, orec;
	struct index_key ik;
	struct scim_error kerr;
	json_t *rec;
	const char *name;
	char first[2][STORE_ID_LEN + 1], n1[128], n2[128];
	char id[STORE_ID_LEN + 1] = "";
	size_t before = m->problems;
	int rc;

	if ((rc = mdb_drop(t->txn, dbi(t, DB_IDX_USERNAME), 0)) != 0)
		return mdb_error(t, rc, "migrate", err);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_USERS), &c)) != 0)
		return mdb_error(t, rc, "migrate", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_ID_LEN ||
		    (rec = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL)
			continue;	/* verify reports these */
		name = json_string_value(json_object_get(rec, "userName"));
		if (name == NULL || *name == '\0' ||
		    make_key(IDX_USERNAME, name, strlen(name), &ik, &kerr) !=
		    SCIM_OK) {
			json_decref(rec);
			continue;	/* had no key in layout 1 either */
		}
		fold_printable(n2, sizeof(n2), name, strlen(name));
		json_decref(rec);
		memcpy(id, k.mv_data, STORE_ID_LEN);
		key.mv_size = ik.len;
		key.mv_data = ik.key;
		val.mv_size = STORE_ID_LEN;
		val.mv_data = id;
		rc = mdb_put(t->txn, dbi(t, DB_IDX_USERNAME), &key, &val,
		    MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			other = val;	/* MDB_NOOVERWRITE: the id there */
			if (mdb_get(t->txn, dbi(t, DB_USERS), &other, &orec) ==
			    0)
				record_username(&orec, n1, sizeof(n1));
			else
				snprintf(n1, sizeof(n1), "?");
			if (m->problems == before) {
				snprintf(first[0], sizeof(first[0]), "%.*s",
				    (int)STORE_ID_LEN,
				    (const char *)other.mv_data);
				memcpy(first[1], id, sizeof(first[1]));
			}
			migration_problem(m, "users %.*s (userName \"%s\") and "
			    "%s (userName \"%s\") have the same userName "
			    "under RFC 8265", (int)STORE_ID_LEN,
			    (const char *)other.mv_data, n1, id, n2);
			continue;
		}
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "migrate", err);
	if (m->problems > before) {
		t->failed = true;
		return err_set(err, SCIM_ERR_UNAVAILABLE, "Layout %d->2: users "
		    "%s and %s have the same userName under RFC 8265%s; "
		    "nothing changed.  Rename one (scimctl user rename ID "
		    "NAME; see scimctl migrate), then open again.", m->from,
		    first[0], first[1], m->problems - before > 1 ?
		    " (and more: scimctl migrate lists them)" : "");
	}
	return SCIM_OK;
}

/*
 * Layout 2 -> 3: id_counts, the per-bucket counts of ids behind
 * constant-cost startIndex paging, built from the records (a store
 * migrated from layout 1 got the database empty; one made at layout 2
 * kept it, and gets it rebuilt, exact either way).
 */
static enum scim_err
migrate_id_counts(struct store_txn *t, struct migration *m,
    struct scim_error *err)
{
	(void)m;
	return store_migrate_counts(t, err);
}

static const struct {
	int		 from;		/* upgrades layout from to from + 1 */
	const char	*what;
	enum scim_err	(*fn)(struct store_txn *, struct migration *,
			    struct scim_error *);
} migrations[] = {
	{ 1, "userName keys folded per RFC 8265", migrate_username_keys },
	{ 2, "id_counts built from the records", migrate_id_counts },
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
    STORE_LAYOUT_VERSION - 1, "one migration step per layout version");

/* Runs the steps from the layout found in t up to the current one and
 * writes the current version; nothing to do at the current layout. */
static enum scim_err
migrate_txn(struct store_txn *t, struct migration *m, struct scim_error *err)
{
	enum scim_err e;
	size_t i;
	int version, rc;

	e = read_layout(t->txn, dbi(t, DB_META), &version, err);
	if (e == SCIM_ERR_NOT_FOUND)
		version = STORE_LAYOUT_VERSION;	/* a new store */
	else if (e != SCIM_OK) {
		t->failed = true;
		return e;
	}
	m->from = version;
	if (version == STORE_LAYOUT_VERSION)
		return SCIM_OK;
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].from < version)
			continue;
		if ((e = migrations[i].fn(t, m, err)) != SCIM_OK) {
			t->failed = true;
			return e;
		}
	}
	if ((rc = write_layout(t->txn, dbi(t, DB_META))) != 0)
		return mdb_error(t, rc, "layout", err);
	return SCIM_OK;
}

/* store_migrate()'s transaction: every database open (missing ones
 * made), then the steps.  Repeatable: store_write() may run it again
 * after growing the map. */
static enum scim_err
migrate_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct migration *m = ctx;
	int rc;

	m->problems = 0;
	if ((rc = open_dbs(t->store, t->txn, true, false)) != 0)
		return mdb_error(t, rc, "migrate", err);
	return migrate_txn(t, m, err);
}

/* The migration steps from the store's layout on, and the new layout
 * written last, in one write transaction: all of it or nothing. */
enum scim_err
store_migrate(struct store *s, store_report_fn report, void *ctx,
    struct scim_error *err)
{
	struct migration m = { report, ctx, 0, 0 };
	enum scim_err e;

	if ((e = store_write(s, migrate_fn, &m, err)) != SCIM_OK)
		return e;
	s->layout = STORE_LAYOUT_VERSION;
	return SCIM_OK;
}

/* ---- maintenance
 * ------------------------------------------------------------ */

struct restore_ctx {
	struct store	*src;
	/* the backup's directory, for the trail */
	const char	*from;
	bool		 tokens;	/* take the backup's tokens too */
};

/* The 8-byte big-endian number under key in meta of txn (0 if none). */
static unsigned long long
meta_number(MDB_txn *txn, MDB_dbi meta, const char *key)
{
	MDB_val k = { strlen(key), (void *)key }, v;

	if (mdb_get(txn, meta, &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return from_be64(v.mv_data);
}

/* The last sequence number of the audit trail of txn (0 if empty). */
static unsigned long long
audit_last(MDB_txn *txn, MDB_dbi audit)
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned long long n = 0;

	if (mdb_cursor_open(txn, audit, &c) != 0)
		return 0;
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		n = from_be64(k.mv_data);
	mdb_cursor_close(c);
	return n;
}

/* Copies database i of the backup over the live one. */
static int
restore_db(struct store_txn *t, struct restore_ctx *r, MDB_txn *stx, int i)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_drop(t->txn, dbi(t, i), 0)) != 0)
		return rc;
	if (r->src->missing[i])
		return 0;	/* an older layout's backup */
	if ((rc = mdb_cursor_open(stx, r->src->dbi[i], &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((rc = mdb_put(t->txn, dbi(t, i), &k, &v,
		    (db_table[i].flags & MDB_DUPSORT) ? MDB_APPENDDUP :
		    MDB_APPEND)) != 0)
			break;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The restore, in the live store's write transaction: every database
 * from the backup except what must not go back in time.  The audit
 * trail is the live store's (a restore never rewrites history) and
 * gets a "restore" entry numbered past both trails, so a follower
 * misses nothing and sees that everything may have changed; the
 * version counter becomes the larger of the two, so no version (ETag)
 * is handed out twice; the cursor key stays; the tokens stay unless
 * r->tokens (a token revoked since the backup must stay revoked).
 */
static enum scim_err
restore_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct restore_ctx *r = ctx;
	MDB_txn *stx;
	MDB_val k, v;
	unsigned char key[32], be[8];
	unsigned long long seq, trail;
	bool had_key = false;
	json_t *entry;
	char now[32], *text;
	struct migration m = { NULL, NULL, 0, 0 };
	enum scim_err e;
	size_t problems;
	int i, rc;

	if ((rc = mdb_txn_begin(r->src->env, NULL, MDB_RDONLY, &stx)) != 0)
		return mdb_error(NULL, rc, "restore", err);
	seq = meta_number(t->txn, dbi(t, DB_META), "seq");
	if (meta_number(stx, r->src->dbi[DB_META], "seq") > seq)
		seq = meta_number(stx, r->src->dbi[DB_META], "seq");
	trail = audit_last(t->txn, dbi(t, DB_AUDIT));
	if (audit_last(stx, r->src->dbi[DB_AUDIT]) > trail)
		trail = audit_last(stx, r->src->dbi[DB_AUDIT]);
	k.mv_size = 10;
	k.mv_data = "cursor_key";
	if (mdb_get(t->txn, dbi(t, DB_META), &k, &v) == 0 && v.mv_size == 32) {
		memcpy(key, v.mv_data, 32);
		had_key = true;
	}
	for (i = 0, rc = 0; i < DB__COUNT && rc == 0; i++)
		if (i != DB_AUDIT && i != DB_COUNTS && (r->tokens ||
		    (i != DB_TOKENS &&
		    i != DB_TOKEN_HASH)))
			rc = restore_db(t, r, stx, i);
	mdb_txn_abort(stx);
	if (rc != 0)
		return mdb_error(t, rc, "restore", err);
	k.mv_size = 3;
	k.mv_data = "seq";
	be64(be, seq);
	v.mv_size = 8;
	v.mv_data = be;
	if (seq > 0 && (rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "restore", err);
	k.mv_size = 10;
	k.mv_data = "cursor_key";
	v.mv_size = 32;
	v.mv_data = key;
	if (had_key && (rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0)) != 0)
		return mdb_error(t, rc, "restore", err);
	store_now(now, sizeof(now));
	entry = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
	    (json_int_t)(trail + 1), "time", now, "token", "scimctl", "op",
	    "restore", "type", "Store", "id", r->from, "tokens", r->tokens ?
	    "restored" : "kept");
	text = entry != NULL ? jsonx_dumps(entry) : NULL;
	json_decref(entry);
	if (text == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	be64(be, trail + 1);
	k.mv_size = 8;
	k.mv_data = be;
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, dbi(t, DB_AUDIT), &k, &v, MDB_APPEND);
	free(text);
	if (rc != 0)
		return mdb_error(t, rc, "restore", err);
	t->store->has_cursor_key = false;
	/* A backup of an older layout is migrated in the same
	 * transaction: the store is never left at the old layout. */
	if ((e = migrate_txn(t, &m, err)) != SCIM_OK)
		return e;
	return store_counts_verify(t, true, &problems, err);
}

/* Opens src read-only and copies it over s in one write transaction. */
enum scim_err
store_restore(struct store *s, const char *src, bool tokens,
    struct scim_error *err)
{
	struct restore_ctx r;
	enum scim_err e;

	/* The backup is only read, whatever its layout. */
	if ((e = store_open_flags(src, STORE_READ_ONLY | STORE_NO_MIGRATE,
	    &r.src, err)) != SCIM_OK)
		return e;
	r.from = src;
	r.tokens = tokens;
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

/* ---- raw access, for verify.c
 * ------------------------------------------------ */

/* The database named name (docs/storage.md), or -1. */
static int
db_by_name(const char *name)
{
	int i;

	for (i = 0; i < DB__COUNT; i++)
		if (strcmp(db_table[i].name, name) == 0)
			return i;
	return -1;
}

/* store.h: a cursor over every pair of one database. */
enum scim_err
store_raw_scan(struct store_txn *t, const char *db, store_raw_fn fn,
    void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	int d = db_by_name(db), rc;

	if (d < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "No database %s.", db);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, d), &c)) != 0)
		return mdb_error(t, rc, "cursor", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if (!fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, ctx))
			break;
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(t, rc, db, err);
}

/* store.h: the first value under a key. */
enum scim_err
store_raw_get(struct store_txn *t, const char *db, const void *key,
    size_t klen, const void **val, size_t *vlen, struct scim_error *err)
{
	MDB_val k = { klen, (void *)key }, v;
	int d = db_by_name(db), rc;

	if (d < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "No database %s.", db);
	if (klen == 0 || klen > LIMIT_INDEX_KEY_BYTES)
		return err_set(err, SCIM_ERR_NOT_FOUND, NULL);
	rc = mdb_get(t->txn, dbi(t, d), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, NULL);
	if (rc != 0)
		return mdb_error(t, rc, db, err);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return SCIM_OK;
}

/* store.h: exactly this pair (GET_BOTH in a DUPSORT database). */
bool
store_raw_has(struct store_txn *t, const char *db, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_cursor *c;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int d = db_by_name(db), rc;

	if (d < 0 || klen == 0 || klen > LIMIT_INDEX_KEY_BYTES)
		return false;
	if (!(db_table[d].flags & MDB_DUPSORT)) {
		if (mdb_get(t->txn, dbi(t, d), &k, &v) != 0)
			return false;
		return v.mv_size == vlen && memcmp(v.mv_data, val, vlen) == 0;
	}
	if (mdb_cursor_open(t->txn, dbi(t, d), &c) != 0)
		return false;
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(c);
	return rc == 0;
}

/* store.h: one pair added (NODUPDATA where duplicates are kept). */
enum scim_err
store_raw_put(struct store_txn *t, const char *db, const void *key,
    size_t klen, const void *val, size_t vlen, struct scim_error *err)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int d = db_by_name(db), rc;

	if (d < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "No database %s.", db);
	rc = mdb_put(t->txn, dbi(t, d), &k, &v,
	    (db_table[d].flags & MDB_DUPSORT) ? MDB_NODUPDATA : 0);
	return rc == 0 || rc == MDB_KEYEXIST ? SCIM_OK :
	    mdb_error(t, rc, db, err);
}

/* store.h: exactly this pair removed (in a plain database only when
 * the value matches). */
enum scim_err
store_raw_del(struct store_txn *t, const char *db, const void *key,
    size_t klen, const void *val, size_t vlen, struct scim_error *err)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int d = db_by_name(db), rc;

	if (d < 0)
		return err_set(err, SCIM_ERR_INTERNAL, "No database %s.", db);
	if (klen == 0 || klen > LIMIT_INDEX_KEY_BYTES)
		return SCIM_OK;		/* LMDB holds no such key */
	if (!(db_table[d].flags & MDB_DUPSORT)) {
		if (!store_raw_has(t, db, key, klen, val, vlen))
			return SCIM_OK;
		rc = mdb_del(t->txn, dbi(t, d), &k, NULL);
	} else
		rc = mdb_del(t->txn, dbi(t, d), &k, &v);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(t, rc, db, err);
}

/* Carries store_record_keys()'s callback through each_key(). */
struct record_keys_ctx {
	store_key_fn	 fn;
	void		*ctx;
};

static enum scim_err
record_key_one(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct record_keys_ctx *r = ctx;

	(void)t;
	(void)id;
	(void)err;
	r->fn(k->idx, k->key, k->len, r->ctx);
	return SCIM_OK;
}

/* store.h: each_key() without a transaction. */
enum scim_err
store_record_keys(enum rtype type, const json_t *rec, store_key_fn fn,
    void *ctx, struct scim_error *err)
{
	struct record_keys_ctx r = { fn, ctx };

	return each_key(NULL, type, rec, record_key_one, &r, err);
}

/* store.h: from index_table. */
enum rtype
store_index_type(enum store_index idx)
{
	return index_table[idx].type;
}

/* store.h: from index_table. */
bool
store_index_unique(enum store_index idx)
{
	return index_table[idx].unique;
}

/* store.h: from index_table. */
const char *
store_index_attr(enum store_index idx)
{
	return index_table[idx].attr;
}

/* Calls fn with each database's entry count. */
enum scim_err
store_stats(struct store_txn *t, store_stat_fn fn, void *ctx,
    struct scim_error *err)
{
	MDB_stat st;
	int i, rc;

	for (i = 0; i < DB__COUNT; i++) {
		if (i == DB_COUNTS && !t->store->has_counts)
			continue;
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
