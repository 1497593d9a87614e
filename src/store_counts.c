/*
 * store_counts.c: id counts.
 *
 * The id_counts database, the per-bucket counts of ids that make
 * startIndex paging cost the same at any offset, kept exact, verified
 * and rebuilt.
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
	key[0] = rtype_get(type)->counts;
	key[1] = "0123456789abcdef"[digit];
}

/*
 * Adds delta (+1 or -1) to the bucket of id of type type, in t.  A no-op
 * for a store without id_counts and for an id outside the buckets.
 */
enum scim_err
st_counts_adjust(struct store_txn *t, enum rtype type, const char *id,
    int delta, struct scim_error *err)
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
	for (i = 0; i < RT__COUNT; i++) {
		if ((e = counts_from_records(t, (enum rtype)i, want, err)) !=
		    SCIM_OK)
			goto done;
		(void)counts_load(t, (enum rtype)i, have, 0);
		for (j = 0; j < COUNTS_BUCKETS; j++)
			if (want[j] != have[j])
				(*problems)++;
		if (repair && (e = counts_write(t, (enum rtype)i, want, err)) !=
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
	return st_walk_ids(c, rc, &k, &v, pos - before, fn, ctx, err);
}
