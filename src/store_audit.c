/*
 * store_audit.c: the audit trail and the version counter.
 *
 * The audit trail (append with retention, read in order) and
 * meta "seq", the counter behind every meta.version.
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

/* ---- audit trail --------------------------------------------------------- */

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
