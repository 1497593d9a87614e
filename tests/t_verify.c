/*
 * t_verify.c: verify and reindex against a real store damaged with the
 * LMDB API, as another program editing the file could damage it: each
 * problem reported by name, each repaired, lookups right again after.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "auth.h"
#include "schema.h"
#include "store.h"
#include "tap.h"
#include "verify.h"

static char dir[64];

#define A	"11111111-1111-4111-8111-111111111111"
#define B	"22222222-2222-4222-8222-222222222222"
#define C	"55555555-5555-4555-8555-555555555555"
#define G	"33333333-3333-4333-8333-333333333333"
#define GONE	"44444444-4444-4444-8444-444444444444"

/* ---- the store, as scimd writes it ---------------------------------------- */

static json_t *
user(const char *id, const char *name, const char *email, int version)
{
	char v[32];

	snprintf(v, sizeof(v), "W/\"%d\"", version);
	return json_pack("{s:[s], s:s, s:s, s:[{s:s}], s:{s:s, s:s}}",
	    "schemas", SCHEMA_URN_USER, "id", id, "userName", name, "emails",
	    "value", email, "meta", "resourceType", "User", "version", v);
}

static enum scim_err
fill_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	unsigned char hash[STORE_HASH_LEN];
	json_t *g;
	enum scim_err e;
	char v[32];
	int i;

	(void)ctx;
	for (i = 0; i < 3; i++)		/* meta seq to 3 */
		if ((e = store_next_version(t, v, sizeof(v), err)) != SCIM_OK)
			return e;
	json_t *a = user(A, "alice", "alice@example.com", 1);
	json_t *b = user(B, "bob", "bob@example.com", 2);
	json_t *c = user(C, "carol", "carol@example.com", 3);

	e = store_put(t, RT_USER, NULL, a, err);
	if (e == SCIM_OK)
		e = store_put(t, RT_USER, NULL, b, err);
	if (e == SCIM_OK)
		e = store_put(t, RT_USER, NULL, c, err);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	if (e != SCIM_OK)
		return e;
	g = json_pack("{s:[s], s:s, s:s}", "schemas", SCHEMA_URN_GROUP, "id",
	    G, "displayName", "staff");
	e = store_put(t, RT_GROUP, NULL, g, err);
	json_decref(g);
	if (e == SCIM_OK)
		e = store_member_add(t, G, A, err);
	if (e == SCIM_OK)
		e = store_password_put(t, A, "$argon2id$v=19$x", err);
	auth_hash("secret-one", 10, hash);
	if (e == SCIM_OK)
		e = store_token_put(t, "okta", hash, NULL, err);
	return e;
}

/* ---- damage, with the LMDB API ---------------------------------------------- */

struct damage {
	const char	*db;
	const void	*k;
	size_t		 klen;
	const void	*v;
	size_t		 vlen;
	bool		 del;
};

/* Applies each damage in one LMDB transaction; 0 or an LMDB error. */
static int
damage(const struct damage *d, size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	unsigned int flags;
	size_t i;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		mdb_env_close(env);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = mdb_dbi_open(txn, d[i].db, 0, &dbi)) != 0 ||
		    (rc = mdb_dbi_flags(txn, dbi, &flags)) != 0)
			break;
		k.mv_size = d[i].klen;
		k.mv_data = (void *)d[i].k;
		v.mv_size = d[i].vlen;
		v.mv_data = (void *)d[i].v;
		rc = d[i].del ? mdb_del(txn, dbi, &k, (flags & MDB_DUPSORT) ?
		    &v : NULL) : mdb_put(txn, dbi, &k, &v, 0);
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else {
		printf("# damage %zu (%s): %s\n", i, d[i].db, mdb_strerror(rc));
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* ---- checks ------------------------------------------------------------------- */

struct tally {
	int	 kind[VERIFY__COUNT];
	int	 repaired;
	char	 lines[4096];
};

static void
tally_one(const struct verify_problem *p, void *ctx)
{
	struct tally *t = ctx;
	size_t n = strlen(t->lines);

	t->kind[p->kind]++;
	t->repaired += p->repaired;
	snprintf(t->lines + n, sizeof(t->lines) - n, "# %s: %s: %s\n",
	    verify_kind_name(p->kind), p->db, p->what);
}

struct run {
	bool		 repair;
	struct tally	 t;
	struct verify_result res;
};

static enum scim_err
run_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct run *r = ctx;

	memset(&r->t, 0, sizeof(r->t));
	return verify_run(txn, r->repair, tally_one, &r->t, &r->res, err);
}

static enum scim_err
run(struct store *s, bool repair, struct run *r)
{
	struct scim_error err;

	memset(r, 0, sizeof(*r));
	r->repair = repair;
	return repair ? store_write(s, run_fn, r, &err) :
	    store_read(s, run_fn, r, &err);
}

struct look {
	const char	*key;
	char		 id[STORE_ID_LEN + 1];
	int		 n;
};

static bool
look_one(const char *id, void *ctx)
{
	struct look *l = ctx;

	if (l->n++ == 0)
		snprintf(l->id, sizeof(l->id), "%s", id);
	return true;
}

static enum scim_err
look_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct look *l = ctx;

	return store_lookup(txn, IDX_USERNAME, l->key, strlen(l->key), look_one,
	    l, err);
}

/* The id the userName index gives for name ("" when none). */
static const char *
by_name(struct store *s, const char *name)
{
	static struct look l;
	struct scim_error err;

	memset(&l, 0, sizeof(l));
	l.key = name;
	store_read(s, look_fn, &l, &err);
	return l.id;
}

struct find_token {
	unsigned char	 hash[STORE_HASH_LEN];
	bool		 found;
};

static enum scim_err
token_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct find_token *f = ctx;
	char name[80], exp[40];

	return store_token_find(txn, f->hash, &f->found, name, sizeof(name),
	    exp, sizeof(exp), err);
}

/* Whether the token secret is accepted. */
static bool
token_works(struct store *s, const char *secret)
{
	struct find_token f;
	struct scim_error err;

	auth_hash(secret, strlen(secret), f.hash);
	f.found = false;
	store_read(s, token_fn, &f, &err);
	return f.found;
}

int
main(void)
{
	struct store *s = NULL;
	struct scim_error err;
	struct run r;
	unsigned char old_hash[STORE_HASH_LEN], seq1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	char pad[STORE_ID_LEN + 8];

	schema_init(NULL, &err);
	strcpy(dir, "/tmp/t_verify.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	ok(store_open(dir, true, &s, &err) == SCIM_OK, "store created");
	ok(store_write(s, fill_fn, NULL, &err) == SCIM_OK, "three users, a "
	    "group with a member, a password, a token");
	ok(run(s, false, &r) == SCIM_OK && r.res.problems == 0,
	    "verify: a store written by the store API is clean");
	ok(run(s, true, &r) == SCIM_OK && r.res.problems == 0,
	    "reindex of a clean store changes nothing");
	store_close(s);

	/* Every kind of damage at once, as an editor of the file could. */
	auth_hash("secret-old", 10, old_hash);
	memset(pad, 'x', sizeof(pad));
	{
		const struct damage d[] = {
			/* stale unique key: "alice" -> bob; alice unindexed */
			{ "idx_username", "alice", 5, B, 36, false },
			/* dangling index entry */
			{ "idx_email", "nobody@example.com", 18, GONE, 36, false },
			/* stale dupsort entry: carol's extid she lacks */
			{ "idx_user_extid", "E-9", 3, C, 36, false },
			/* missing index entry: bob's email gone */
			{ "idx_email", "bob@example.com", 15, B, 36, true },
			/* malformed: a value that is not an id */
			{ "idx_group_name", "staff", 5, pad, 40, false },
			/* dangling member: the member does not exist */
			{ "members", G, 36, GONE, 36, false },
			/* one-way: members without memberof */
			{ "members", G, 36, C, 36, false },
			/* one-way: memberof without members */
			{ "memberof", B, 36, G, 36, false },
			/* dangling password */
			{ "passwords", GONE, 36, "$argon2id$x", 11, false },
			/* a revoked secret still found by its hash */
			{ "token_hash", old_hash, 32, "okta", 4, false },
			/* version counter behind the records (3) */
			{ "meta", "seq", 3, seq1, 8, false },
		};

		ok(damage(d, sizeof(d) / sizeof(d[0])) == 0,
		    "the store damaged with the LMDB API");
	}
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	is_str(by_name(s, "alice"), B, "the stale key makes a lookup of "
	    "alice give bob (the bug verify must see)");
	ok(token_works(s, "secret-old"), "...and the stale hash lets a "
	    "revoked secret in");

	ok(run(s, false, &r) == SCIM_OK, "verify runs");
	printf("%s", r.t.lines);
	is_int(r.t.kind[VERIFY_STALE_KEY], 2, "stale index entry: alice -> "
	    "bob, carol's externalId");
	is_int(r.t.kind[VERIFY_MISSING_KEY], 2, "missing index entry: "
	    "alice's userName, bob's email");
	is_int(r.t.kind[VERIFY_DANGLING_KEY], 1, "dangling index entry");
	is_int(r.t.kind[VERIFY_MALFORMED], 1, "malformed entry");
	is_int(r.t.kind[VERIFY_DANGLING_MEMBER], 1, "dangling membership");
	is_int(r.t.kind[VERIFY_ONE_WAY_MEMBER], 2, "one-way membership, "
	    "each direction");
	is_int(r.t.kind[VERIFY_DANGLING_PASSWORD], 1, "dangling password");
	is_int(r.t.kind[VERIFY_TOKEN], 1, "token mismatch: the revoked "
	    "secret's hash");
	is_int(r.t.kind[VERIFY_SEQ_BEHIND], 1, "version counter behind");
	is_int(r.res.problems, 12, "12 problems in all");
	is_int(r.t.repaired, 0, "verify repairs nothing");
	is_str(by_name(s, "alice"), B, "...and changes nothing");

	ok(run(s, true, &r) == SCIM_OK, "reindex runs");
	is_int(r.res.problems, 12, "reindex finds the same 12");
	is_int(r.res.repaired, 12, "...and repairs all 12");
	ok(run(s, false, &r) == SCIM_OK && r.res.problems == 0,
	    "verify after reindex: clean");
	printf("%s", r.t.lines);
	is_str(by_name(s, "alice"), A, "a lookup of alice gives alice");
	is_str(by_name(s, "bob"), B, "...and bob bob");
	ok(!token_works(s, "secret-old"), "the revoked secret is refused");
	ok(token_works(s, "secret-one"), "the token's own secret works");
	store_close(s);

	/* Two records claiming one unique userName: reported, not mended
	 * (a record is never changed by reindex). */
	{
		const char rec[] = "{\"schemas\":[\"" SCHEMA_URN_USER "\"],"
		    "\"id\":\"" C "\",\"userName\":\"ALICE\",\"emails\":"
		    "[{\"value\":\"carol@example.com\"}],\"meta\":{}}";
		const struct damage d[] = {
			{ "users", C, 36, rec, sizeof(rec) - 1, false },
			{ "idx_username", "carol", 5, C, 36, true },
		};

		ok(damage(d, 2) == 0, "carol's record renamed ALICE behind "
		    "the store's back");
	}
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	ok(run(s, true, &r) == SCIM_OK, "reindex runs");
	printf("%s", r.t.lines);
	is_int(r.t.kind[VERIFY_DUPLICATE_KEY], 1, "duplicate unique value "
	    "reported");
	is_int(r.res.repaired, 0, "...and not repaired");
	is_str(by_name(s, "alice"), A, "alice keeps her name");
	store_close(s);

	/* An unreadable record. */
	{
		const struct damage d[] = {
			{ "users", C, 36, "{not json", 9, false },
		};

		ok(damage(d, 1) == 0, "carol's record overwritten with junk");
	}
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	ok(run(s, false, &r) == SCIM_OK, "verify runs");
	printf("%s", r.t.lines);
	is_int(r.t.kind[VERIFY_UNREADABLE], 1, "unreadable record reported");
	store_close(s);

	/* A unique attribute of the schemas' (rtype.h): verify checks its
	 * index by the list the store holds (meta "unique"), so no schema
	 * file is needed here. */
	{
		static const char list[] = "[{\"type\":\"User\",\"path\":"
		    "\"urn:x:User:badge\",\"attribute\":\"badge\",\"fold\":"
		    "\"case\",\"schema\":\"urn:x:User\"}]";
		static const char rec[] = "{\"schemas\":[\"" SCHEMA_URN_USER
		    "\"],\"id\":\"" A "\",\"userName\":\"alice\",\"emails\":"
		    "[{\"value\":\"alice@example.com\"}],\"urn:x:User\":"
		    "{\"badge\":\"B1\"},\"meta\":{\"version\":\"W/\\\"1\\\"\"}}";
		static const char stale[] = "urn:x:User:badge\0zz";
		const struct damage d[] = {
			{ "meta", "unique", 6, list, sizeof(list) - 1, false },
			{ "users", A, 36, rec, sizeof(rec) - 1, false },
			{ "idx_user_unique", stale, sizeof(stale) - 1, A, 36,
			    false },
		};

		ok(damage(d, 3) == 0, "a unique badge listed, alice given "
		    "badge B1 and a stale badge entry, with LMDB");
	}
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	ok(run(s, false, &r) == SCIM_OK, "verify runs");
	printf("%s", r.t.lines);
	ok(r.t.kind[VERIFY_MISSING_KEY] == 1 && r.t.kind[VERIFY_STALE_KEY] ==
	    1 && strstr(r.t.lines, "idx_user_unique: user " A " has unique "
	    "attribute \"urn:x:User:badge\\x00b1\"") != NULL,
	    "verify: alice's badge missing from idx_user_unique, one stale");
	ok(run(s, true, &r) == SCIM_OK && r.res.repaired == 2,
	    "reindex adds the one and removes the other");
	ok(run(s, false, &r) == SCIM_OK && r.t.kind[VERIFY_MISSING_KEY] == 0 &&
	    r.t.kind[VERIFY_STALE_KEY] == 0, "verify: the unique index agrees");
	store_close(s);
	{
		static const char rec[] = "{\"schemas\":[\"" SCHEMA_URN_USER
		    "\"],\"id\":\"" B "\",\"userName\":\"bob\",\"emails\":"
		    "[{\"value\":\"bob@example.com\"}],\"urn:x:User\":"
		    "{\"badge\":\"b1\"},\"meta\":{\"version\":\"W/\\\"2\\\"\"}}";
		const struct damage d[] = {
			{ "users", B, 36, rec, sizeof(rec) - 1, false },
		};

		ok(damage(d, 1) == 0, "bob given alice's badge (b1) behind the "
		    "store's back");
	}
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	ok(run(s, true, &r) == SCIM_OK, "reindex runs");
	printf("%s", r.t.lines);
	ok(r.t.kind[VERIFY_DUPLICATE_KEY] == 1 && strstr(r.t.lines,
	    "user " B " and " A " both have unique attribute") != NULL,
	    "duplicate unique value of the badge reported");
	store_close(s);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
