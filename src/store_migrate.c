/*
 * store_migrate.c: layout migrations and restore.
 *
 * The layout migration steps (a store of an older layout
 * brought forward in one write transaction) and restore, which copies
 * a backup over the live store and brings it forward the same way.
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

/*
 * Layout 3 -> 4: the unique indexes of the schemas' unique attributes,
 * idx_user_unique and idx_group_unique, exist (migrate_fn made them)
 * and are empty, as meta "unique" (absent) says; scimd's start builds
 * them for its schemas (store_unique_sync()).
 */
static enum scim_err
migrate_unique_indexes(struct store_txn *t, struct migration *m,
    struct scim_error *err)
{
	MDB_val k = { 6, "unique" };
	int rc, i;

	(void)m;
	for (i = 0; i < RT__COUNT; i++)
		if ((rc = mdb_drop(t->txn, index_db(t,
		    rtype_get((enum rtype)i)->unique_index), 0)) != 0)
			return mdb_error(t, rc, "migrate", err);
	rc = mdb_del(t->txn, dbi(t, DB_META), &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "migrate", err);
	unique_set_free(t->store->uq);
	t->store->uq = NULL;
	return SCIM_OK;
}

static const struct {
	int		 from;		/* upgrades layout from to from + 1 */
	const char	*what;
	enum scim_err	(*fn)(struct store_txn *, struct migration *,
			    struct scim_error *);
} migrations[] = {
	{ 1, "userName keys folded per RFC 8265", migrate_username_keys },
	{ 2, "id_counts built from the records", migrate_id_counts },
	{ 3, "unique-attribute indexes made", migrate_unique_indexes },
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

	e = st_read_layout(t->txn, dbi(t, DB_META), &version, err);
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
	if ((rc = st_open_dbs(t->store, t->txn, true, false)) != 0)
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
