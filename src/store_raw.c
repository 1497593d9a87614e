/*
 * store_raw.c: raw access.
 *
 * Access to the databases by their docs/storage.md names, for
 * verify.c, and their entry counts.
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
