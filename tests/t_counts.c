/*
 * t_counts.c: id_counts, the per-bucket id counts behind constant-cost
 * startIndex paging, against real LMDB stores in temp dirs: exact after
 * creates, deletes, failed and aborted writes, reindex, restore and the
 * layout step that builds them for an older store; store_scan_at()
 * returns exactly the ids a walk from the first one does, at every
 * offset tried, with and without counts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "schema.h"
#include "store.h"
#include "tap.h"

#define MAXIDS	4000

/* Every id of one type in id order, as a walk from the first gives. */
struct list {
	char	(*id)[STORE_ID_LEN + 1];
	size_t	 n;
};

static bool
list_add(const char *id, void *ctx)
{
	struct list *l = ctx;

	if (l->n < MAXIDS)
		memcpy(l->id[l->n++], id, STORE_ID_LEN + 1);
	return true;
}

struct all {
	enum rtype	 type;
	struct list	*l;
};

static enum scim_err
all_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct all *a = ctx;

	a->l->n = 0;
	return store_scan(txn, a->type, NULL, list_add, a->l, err);
}

/* What store_scan_at gives: up to want ids from pos. */
struct at {
	enum rtype	 type;
	size_t		 pos, want;
	struct list	 got;
};

static bool
at_one(const char *id, void *ctx)
{
	struct at *a = ctx;

	memcpy(a->got.id[a->got.n++], id, STORE_ID_LEN + 1);
	return a->got.n < a->want;
}

static enum scim_err
at_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct at *a = ctx;

	a->got.n = 0;
	return store_scan_at(txn, a->type, a->pos, at_one, a, err);
}

/* Whether store_scan_at's page of 3 ids at pos is walk's. */
static bool
page_right(struct store *s, enum rtype type, const struct list *walk,
    size_t pos)
{
	static char atbuf[4][STORE_ID_LEN + 1];
	struct at a = { type, pos, 3, { atbuf, 0 } };
	struct scim_error err;
	size_t i, want;

	if (store_read(s, at_fn, &a, &err) != SCIM_OK)
		return false;
	want = pos >= walk->n ? 0 : walk->n - pos < 3 ? walk->n - pos : 3;
	if (a.got.n != want) {
		printf("# at %zu: %zu ids, not %zu\n", pos, a.got.n, want);
		return false;
	}
	for (i = 0; i < want; i++)
		if (strcmp(a.got.id[i], walk->id[pos + i]) != 0) {
			printf("# at %zu: %s, not %s\n", pos + i, a.got.id[i],
			    walk->id[pos + i]);
			return false;
		}
	return true;
}

/* Whether store_scan_at agrees with a walk from the first id at every
 * step-th position, at the last three and just past the end. */
static bool
pages_right(struct store *s, enum rtype type, size_t step)
{
	static char walkbuf[MAXIDS][STORE_ID_LEN + 1];
	struct list walk = { walkbuf, 0 };
	struct all all = { type, &walk };
	struct scim_error err;
	size_t pos;

	if (store_read(s, all_fn, &all, &err) != SCIM_OK)
		return false;
	for (pos = 0; pos < walk.n; pos += step)
		if (!page_right(s, type, &walk, pos))
			return false;
	for (pos = walk.n > 3 ? walk.n - 3 : 0; pos <= walk.n + 1; pos++)
		if (!page_right(s, type, &walk, pos))
			return false;
	return true;
}

static enum scim_err
counts_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_counts_verify(txn, false, ctx, err);
}

/* Buckets whose count differs from the records (99 on error). */
static size_t
bad_buckets(struct store *s)
{
	struct scim_error err;
	size_t n = 99;

	if (store_read(s, counts_fn, &n, &err) != SCIM_OK)
		return 99;
	return n;
}

/* A batch of writes: n creates of new users (their ids into ids[]) or
 * deletes of ids[0..n), then an error when fail is set. */
struct batch {
	enum rtype	  type;
	char		(*ids)[STORE_ID_LEN + 1];
	size_t		  n;
	bool		  del, fail, dup;
};

static json_t *
resource(enum rtype type, const char *id)
{
	if (type == RT_GROUP)
		return json_pack("{s:[s], s:s, s:s}", "schemas",
		    SCHEMA_URN_GROUP, "id", id, "displayName", id);
	return json_pack("{s:[s], s:s, s:s}", "schemas", SCHEMA_URN_USER,
	    "id", id, "userName", id);
}

static enum scim_err
batch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct batch *b = ctx;
	enum scim_err e = SCIM_OK;
	json_t *rec;
	size_t i;

	for (i = 0; i < b->n && e == SCIM_OK; i++) {
		if (!b->del)
			store_new_id(b->ids[i]);
		if (b->dup && i == b->n - 1)	/* the first id again */
			memcpy(b->ids[i], b->ids[0], STORE_ID_LEN + 1);
		if ((rec = resource(b->type, b->ids[i])) == NULL)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		e = b->del ? store_delete(txn, b->type, rec, err) :
		    store_put(txn, b->type, NULL, rec, err);
		json_decref(rec);
	}
	if (e == SCIM_OK && b->fail)
		return err_set(err, SCIM_ERR_INVALID_VALUE, "test abort");
	return e;
}

static enum scim_err
batch(struct store *s, enum rtype type, char (*ids)[STORE_ID_LEN + 1],
    size_t n, bool del, bool fail)
{
	struct batch b = { type, ids, n, del, fail, false };
	struct scim_error err;

	return store_write(s, batch_fn, &b, &err);
}

static size_t
count(struct store *s, enum rtype type)
{
	static char buf[MAXIDS][STORE_ID_LEN + 1];
	struct list l = { buf, 0 };
	struct all a = { type, &l };
	struct scim_error err;

	store_read(s, all_fn, &a, &err);
	return l.n;
}

/* Does something to id_counts with LMDB directly, as another program
 * (or a damaged disk) could: "drop" deletes the database, "move" moves
 * one id of bucket 0 of the first non-empty users row to bucket 255
 * (the total stays right, the position of every id after it does not);
 * "layout2" marks the store as layout 2, made before id_counts. */
static int
tamper(const char *path, const char *what)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi d;
	MDB_cursor *c;
	MDB_val k = { 1, "u" }, v;
	unsigned char row[1024];
	int rc, i;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) == 0 &&
	    (rc = mdb_env_open(env, path, 0, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if (strcmp(what, "layout2") == 0) {
			MDB_val lk = { 6, "layout" }, lv = { 1, "2" };

			if ((rc = mdb_dbi_open(txn, "meta", 0, &d)) == 0)
				rc = mdb_put(txn, d, &lk, &lv, 0);
			goto abort;
		}
		if ((rc = mdb_dbi_open(txn, "id_counts", 0, &d)) != 0)
			goto abort;
		if (strcmp(what, "drop") == 0)
			rc = mdb_drop(txn, d, 1);
		else if ((rc = mdb_cursor_open(txn, d, &c)) == 0) {
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
			for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
				memcpy(row, v.mv_data, sizeof(row));
				for (i = 0; i < 1024 && row[i] == 0; i++)
					;
				if (i < 1024)
					break;
			}
			mdb_cursor_close(c);
			if (rc == 0) {
				i = (i / 4) * 4;
				row[i + 3]--;	/* counts < 256 here */
				row[1023]++;
				v.mv_size = sizeof(row);
				v.mv_data = row;
				rc = mdb_put(txn, d, &k, &v, 0);
			}
		}
abort:
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

static enum scim_err
migrate_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	(void)ctx;
	return store_migrate_counts(txn, err);
}

static enum scim_err
reindex_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_verify(txn, true, ctx, err);
}

static enum scim_err
verify_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_verify(txn, false, ctx, err);
}

int
main(void)
{
	static char ids[MAXIDS][STORE_ID_LEN + 1], gids[50][STORE_ID_LEN + 1];
	char dir[64], dir2[64], cmd[160];
	struct store *s = NULL, *s2 = NULL;
	struct scim_error err;
	struct batch b;
	size_t n, i;

	schema_init(NULL, &err);
	strcpy(dir, "/tmp/t_counts.XXXXXX");
	strcpy(dir2, "/tmp/t_counts2.XXXXXX");
	if (mkdtemp(dir) == NULL || mkdtemp(dir2) == NULL)
		return 1;
	ok(store_open(dir, true, &s, &err) == SCIM_OK, "store created");
	ok(bad_buckets(s) == 0 && pages_right(s, RT_USER, 1),
	    "an empty store: counts exact, nothing at any position");

	/* Creates, in batches as import writes them. */
	for (i = 0; i < 3000; i += 500)
		if (batch(s, RT_USER, ids + i, 500, false, false) != SCIM_OK)
			break;
	ok(i == 3000 && count(s, RT_USER) == 3000, "3000 users created");
	ok(batch(s, RT_GROUP, gids, 50, false, false) == SCIM_OK,
	    "50 groups created");
	ok(bad_buckets(s) == 0, "counts exact after creates");
	ok(pages_right(s, RT_USER, 7), "users: every 7th position right");
	ok(pages_right(s, RT_GROUP, 1), "groups: every position right");

	/* Deletes: every third user, some groups. */
	for (i = 0, n = 0; i < 3000; i += 3, n++)
		memcpy(ids[n], ids[i], sizeof(ids[0]));
	ok(batch(s, RT_USER, ids, n, true, false) == SCIM_OK &&
	    count(s, RT_USER) == 2000, "1000 users deleted");
	ok(batch(s, RT_GROUP, gids, 10, true, false) == SCIM_OK,
	    "10 groups deleted");
	ok(bad_buckets(s) == 0, "counts exact after deletes");
	ok(pages_right(s, RT_USER, 5) && pages_right(s, RT_GROUP, 1),
	    "positions right after deletes");

	/* Failed writes change nothing. */
	ok(batch(s, RT_USER, ids + 3000, 100, false, true) != SCIM_OK &&
	    count(s, RT_USER) == 2000, "aborted creates: nothing written");
	ok(batch(s, RT_GROUP, gids + 10, 5, true, true) != SCIM_OK,
	    "aborted deletes refused");
	b = (struct batch){ RT_USER, ids + 3000, 3, false, false, true };
	ok(store_write(s, batch_fn, &b, &err) == SCIM_ERR_CONFLICT &&
	    count(s, RT_USER) == 2000,
	    "a create of an id that exists fails after two good ones");
	ok(bad_buckets(s) == 0 && pages_right(s, RT_USER, 11),
	    "counts and positions unchanged by failed writes");

	/* A damaged row: verify sees it, paging would go wrong, reindex
	 * repairs it. */
	store_close(s);
	ok(tamper(dir, "move") == 0 && store_open(dir, false, &s, &err) ==
	    SCIM_OK, "one id moved to another bucket behind scimd's back");
	ok(bad_buckets(s) == 2, "verify counts the two buckets that differ");
	ok(!pages_right(s, RT_USER, 1),
	    "paging follows the counts (wrong ones give wrong pages)");
	n = 99;
	ok(store_read(s, verify_fn, &n, &err) == SCIM_OK && n == 2,
	    "store_verify reports them");
	ok(store_write(s, reindex_fn, &n, &err) == SCIM_OK &&
	    bad_buckets(s) == 0 && pages_right(s, RT_USER, 13),
	    "reindex rebuilds the counts; positions right again");

	/* A store made before id_counts: it opens, paging walks, the
	 * layout step builds the counts. */
	store_close(s);
	ok(tamper(dir, "drop") == 0 && store_open(dir, false, &s, &err) ==
	    SCIM_OK, "a store without id_counts opens");
	ok(pages_right(s, RT_USER, 97) && bad_buckets(s) == 0,
	    "...pages by walking, right");
	ok(batch(s, RT_USER, ids + 3000, 10, false, false) == SCIM_OK,
	    "...and takes writes");
	ok(store_write(s, migrate_fn, NULL, &err) == SCIM_OK &&
	    bad_buckets(s) == 0 && pages_right(s, RT_USER, 17),
	    "store_migrate_counts builds them: exact");
	store_close(s);
	ok(store_open(dir, false, &s, &err) == SCIM_OK && bad_buckets(s) == 0 &&
	    pages_right(s, RT_GROUP, 1), "...and they are there on reopening");
	ok(store_write(s, migrate_fn, NULL, &err) == SCIM_OK &&
	    bad_buckets(s) == 0, "running the step again changes nothing");

	/* A layout 2 store (before id_counts): store_open migrates it and
	 * the step builds the counts. */
	store_close(s);
	ok(tamper(dir, "drop") == 0 && tamper(dir, "layout2") == 0,
	    "the store made a layout 2 store without id_counts");
	ok(store_open(dir, false, &s, &err) == SCIM_OK &&
	    store_layout(s) == STORE_LAYOUT_VERSION,
	    "store_open migrates it to the current layout");
	ok(bad_buckets(s) == 0 && pages_right(s, RT_USER, 19) &&
	    pages_right(s, RT_GROUP, 1), "...and the counts are exact");
	store_close(s);
	ok(tamper(dir, "move") == 0 && store_open(dir, false, &s, &err) ==
	    SCIM_OK && bad_buckets(s) == 2,
	    "(the counts are read from id_counts: a moved id shows)");
	n = 99;
	ok(store_write(s, reindex_fn, &n, &err) == SCIM_OK &&
	    bad_buckets(s) == 0, "...and reindex puts it back");

	/* Restore from a store without counts: rebuilt from its records. */
	ok(store_open(dir2, true, &s2, &err) == SCIM_OK &&
	    batch(s2, RT_USER, ids, 700, false, false) == SCIM_OK,
	    "a second store of 700 users");
	store_close(s2);
	ok(tamper(dir2, "drop") == 0, "...without id_counts");
	ok(store_restore(s, dir2, false, &err) == SCIM_OK &&
	    count(s, RT_USER) == 700 &&
	    bad_buckets(s) == 0 && pages_right(s, RT_USER, 3),
	    "restored into a store with counts: exact, positions right");

	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, dir2);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
