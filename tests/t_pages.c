/*
 * t_pages.c: a durable write costs its pages (docs/performance.md), so
 * a write must leave alone the trees it does not change.  Checked on a
 * real store by reading each database's record in LMDB's main database
 * (its root page and counters) before and after: a rewrite of a record
 * whose indexed values are unchanged leaves every index tree as it was;
 * a change of userName or of one email moves only that index.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "schema.h"
#include "store.h"
#include "tap.h"

static char dir[64];

/* The main database's record of database name (root page, depth, page
 * and entry counts) into rec[48]; 0 or an LMDB error. */
static int
db_record(const char *name, unsigned char rec[64], size_t *len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) == 0 &&
	    (rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) == 0 &&
		    (rc = mdb_get(txn, main, &k, &v)) == 0) {
			*len = v.mv_size < 64 ? v.mv_size : 64;
			memcpy(rec, v.mv_data, *len);
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

static const char *const indexes[] = { "idx_username", "idx_email",
	"idx_user_extid" };

struct snap {
	unsigned char	rec[3][64];
	size_t		len[3];
};

static bool
snap(struct snap *s)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (db_record(indexes[i], s->rec[i], &s->len[i]) != 0)
			return false;
	return true;
}

/* Whether index i's tree is as it was in a. */
static bool
same(const struct snap *a, const struct snap *b, size_t i)
{
	return a->len[i] == b->len[i] && memcmp(a->rec[i], b->rec[i],
	    a->len[i]) == 0;
}

struct put {
	json_t	*old, *rec;
};

static enum scim_err
put_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct put *p = ctx;

	return store_put(txn, RT_USER, p->old, p->rec, err);
}

static json_t *
user(const char *id, const char *name, const char *email, bool active)
{
	return json_pack("{s:[s], s:s, s:s, s:s, s:b, s:[{s:s}]}", "schemas",
	    SCHEMA_URN_USER, "id", id, "userName", name, "externalId", "x-1",
	    "active", active, "emails", "value", email);
}

struct find {
	enum store_index idx;
	const char	*key;
	int		 n;
};

static bool
found(const char *id, void *ctx)
{
	(void)id;
	((struct find *)ctx)->n++;
	return true;
}

static enum scim_err
find_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct find *f = ctx;

	f->n = 0;
	return store_lookup(txn, f->idx, f->key, strlen(f->key), found, f, err);
}

static int
lookup(struct store *s, enum store_index idx, const char *key)
{
	struct find f = { idx, key, 0 };
	struct scim_error err;

	store_read(s, find_fn, &f, &err);
	return f.n;
}

int
main(void)
{
	struct store *s = NULL;
	struct scim_error err;
	struct snap a, b;
	struct put p;
	char id[STORE_ID_LEN + 1], other[STORE_ID_LEN + 1];
	json_t *v1, *v2, *v3, *v4, *o;
	char cmd[96];

	schema_init(NULL, &err);
	strcpy(dir, "/tmp/t_pages.XXXXXX");
	if (mkdtemp(dir) == NULL || store_open(dir, true, &s, &err) != SCIM_OK)
		return 1;
	store_new_id(id);
	store_new_id(other);
	v1 = user(id, "Alice", "alice@example.com", true);
	v2 = user(id, "Alice", "alice@example.com", false);
	v3 = user(id, "alice2", "alice@example.com", false);
	v4 = user(id, "alice2", "ALICE@example.org", false);
	o = user(other, "Bob", "bob@example.com", true);
	p = (struct put){ NULL, o };
	ok(store_write(s, put_fn, &p, &err) == SCIM_OK, "a user created");
	p = (struct put){ NULL, v1 };
	ok(store_write(s, put_fn, &p, &err) == SCIM_OK, "another created");

	ok(snap(&a), "index records read");
	p = (struct put){ v1, v2 };
	ok(store_write(s, put_fn, &p, &err) == SCIM_OK, "active rewritten");
	ok(snap(&b) && same(&a, &b, 0) && same(&a, &b, 1) && same(&a, &b, 2),
	    "a change of active leaves every index tree untouched");
	ok(lookup(s, IDX_USERNAME, "alice") == 1 &&
	    lookup(s, IDX_EMAIL, "alice@example.com") == 1 &&
	    lookup(s, IDX_USER_EXTID, "x-1") == 2,
	    "...and every entry still there");

	a = b;
	p = (struct put){ v2, v3 };
	ok(store_write(s, put_fn, &p, &err) == SCIM_OK, "userName changed");
	ok(snap(&b) && !same(&a, &b, 0) && same(&a, &b, 1) && same(&a, &b, 2),
	    "...only idx_username moves");
	ok(lookup(s, IDX_USERNAME, "alice") == 0 &&
	    lookup(s, IDX_USERNAME, "alice2") == 1, "...old key gone, new one in");

	a = b;
	p = (struct put){ v3, v4 };
	ok(store_write(s, put_fn, &p, &err) == SCIM_OK, "email changed");
	ok(snap(&b) && same(&a, &b, 0) && !same(&a, &b, 1) && same(&a, &b, 2),
	    "...only idx_email moves");
	ok(lookup(s, IDX_EMAIL, "alice@example.com") == 0 &&
	    lookup(s, IDX_EMAIL, "alice@example.org") == 1 &&
	    lookup(s, IDX_EMAIL, "bob@example.com") == 1,
	    "...old address gone, new one in, the other user's kept");

	/* A rename onto a taken name still fails and changes nothing. */
	a = b;
	json_decref(v1);
	v1 = user(id, "BOB", "ALICE@example.org", false);
	p = (struct put){ v4, v1 };
	ok(store_write(s, put_fn, &p, &err) == SCIM_ERR_UNIQUENESS,
	    "a rename onto a taken userName: uniqueness");
	ok(snap(&b) && same(&a, &b, 0) && same(&a, &b, 1) && same(&a, &b, 2) &&
	    lookup(s, IDX_USERNAME, "alice2") == 1 &&
	    lookup(s, IDX_EMAIL, "alice@example.org") == 1,
	    "...and nothing changed");

	json_decref(v1);
	json_decref(v2);
	json_decref(v3);
	json_decref(v4);
	json_decref(o);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
