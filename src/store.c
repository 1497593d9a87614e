/*
 * store.c: the LMDB environment.
 *
 * Opening and closing the environment, the layout version
 * check, the named databases, transactions (store_write() with its map
 * growth, store_read()), the cursor key, store facts, ids and time.
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
#include "store_impl.h"

/*
 * The database of each index and of each type's records: the tables of
 * rtype.c name them, resolved against db_table once per process
 * (resolve_tables(), at store_open).
 */
enum db	st_index_dbs[IDX__COUNT];
enum db	st_record_dbs[RT__COUNT];
static bool	tables_resolved;

_Static_assert(LIMIT_INDEX_KEY_BYTES <= 511, "LMDB keys are at most 511 bytes");

/*
 * Finds, once per process, the database each index and each type's
 * records live in, by the names rtype.c gives them.  SCIM_ERR_INTERNAL
 * when the tables name a database db_table lacks.
 */
static enum scim_err
resolve_tables(struct scim_error *err)
{
	const char *name;
	int i, d;

	if (tables_resolved)
		return SCIM_OK;
	for (i = 0; i < IDX__COUNT + RT__COUNT; i++) {
		name = i < IDX__COUNT ?
		    rtype_index_get((enum store_index)i, NULL)->db :
		    rtype_get((enum rtype)(i - IDX__COUNT))->records;
		if ((d = db_by_name(name)) < 0)
			return err_set(err, SCIM_ERR_INTERNAL, "No database "
			    "%s.", name);
		if (i < IDX__COUNT)
			st_index_dbs[i] = (enum db)d;
		else
			st_record_dbs[i - IDX__COUNT] = (enum db)d;
	}
	tables_resolved = true;
	return SCIM_OK;
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
int
st_open_dbs(struct store *s, MDB_txn *txn, bool create, bool tolerate)
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
enum scim_err
st_read_layout(MDB_txn *txn, MDB_dbi meta, int *version, struct scim_error *err)
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

/* Makes a new store: every database and the layout, in one commit. */
static enum scim_err
create_store(struct store *s, struct scim_error *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_error(NULL, rc, "create", err);
	if ((rc = st_open_dbs(s, txn, true, false)) != 0 ||
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
	if ((e = resolve_tables(err)) != SCIM_OK)
		return e;
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
	e = rc == 0 ? st_read_layout(txn, s->dbi[DB_META], &version, err) :
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
	if ((rc = st_open_dbs(s, txn, false, as_is)) != 0) {
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
	unique_set_free(s->uq);
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
	unique_set_free(s->uq);
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
		if ((e = st_unique_refresh(&t, err)) == SCIM_OK)
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
	if ((e = st_unique_refresh(&t, err)) == SCIM_OK)
		e = fn(&t, ctx, err);
	mdb_txn_abort(t.txn);
	return e;
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
