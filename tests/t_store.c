/*
 * t_store.c: the LMDB store against a real environment in a temp dir:
 * CRUD, userName uniqueness (Unicode case folding), index consistency
 * after each operation, abort leaving nothing, membership, tokens.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "schema.h"
#include "store.h"
#include "tap.h"

/* Writes meta "layout" = value with LMDB directly, as a newer or older
 * scimd would have left it; 0 or an LMDB error. */
static int
set_layout(const char *path, const char *value)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "layout" }, v = { strlen(value), (void *)value };
	int rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) == 0 &&
	    (rc = mdb_env_open(env, path, 0, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) == 0 &&
		    (rc = mdb_put(txn, meta, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

static char dir[64];

struct op {
	const json_t	*old;
	json_t		*rec;
	enum rtype	 type;
	bool		 del;
	bool		 then_fail;	/* return an error after writing */
};

static enum scim_err
op_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct op *o = ctx;
	enum scim_err e;

	if (o->del)
		e = store_delete(txn, o->type, o->old, err);
	else
		e = store_put(txn, o->type, o->old, o->rec, err);
	if (e == SCIM_OK && o->then_fail)
		return err_set(err, SCIM_ERR_INVALID_VALUE, "test abort");
	return e;
}

static enum scim_err
put(struct store *s, enum rtype t, const json_t *old, json_t *rec)
{
	struct op o = { old, rec, t, false, false };
	struct scim_error err;

	return store_write(s, op_fn, &o, &err);
}

struct ids {
	char	 list[8][STORE_ID_LEN + 1];
	int	 n;
};

static bool
collect(const char *id, void *ctx)
{
	struct ids *ids = ctx;

	if (ids->n < 8)
		strcpy(ids->list[ids->n++], id);
	return true;
}

struct lookup {
	enum store_index idx;
	const char	*key;
	struct ids	 ids;
};

static enum scim_err
lookup_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct lookup *l = ctx;

	l->ids.n = 0;
	return store_lookup(txn, l->idx, l->key, strlen(l->key), collect,
	    &l->ids, err);
}

/* The number of ids under key in idx. */
static int
lookup(struct store *s, enum store_index idx, const char *key, const char *want)
{
	struct lookup l = { idx, key, { .n = 0 } };
	struct scim_error err;

	store_read(s, lookup_fn, &l, &err);
	if (want != NULL && (l.ids.n != 1 || strcmp(l.ids.list[0], want) != 0))
		return -1;
	return l.ids.n;
}

static enum scim_err
verify_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_verify(txn, false, ctx, err);
}

static size_t
problems(struct store *s)
{
	struct scim_error err;
	size_t n = 99;

	store_read(s, verify_fn, &n, &err);
	return n;
}

struct member_op {
	const char	*gid, *mid;
	bool		 remove;
	struct ids	 ids;
};

static enum scim_err
member_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct member_op *m = ctx;

	if (m->remove)
		return store_member_remove(txn, m->gid, m->mid, err);
	return store_member_add(txn, m->gid, m->mid, err);
}

static enum scim_err
memberof_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct member_op *m = ctx;

	m->ids.n = 0;
	return store_memberof(txn, m->mid, collect, &m->ids, err);
}

static enum scim_err
count_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_count(txn, RT_USER, ctx, err);
}

/*
 * In a child process (LMDB: one environment per process), replaces each
 * named database in names by a plain key of the main database, as a
 * foreign writer could: a process that has the store open then gets
 * MDB_INCOMPATIBLE from LMDB on its next read of them.  0 on success.
 */
static int
break_dbs(const char *path, const char *const *names)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi main_db, d;
		MDB_val v = { 1, "x" };
		int rc;

		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 32) != 0 ||
		    mdb_env_open(env, path, 0, 0600) != 0 ||
		    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
		    mdb_dbi_open(txn, NULL, 0, &main_db) != 0)
			_exit(1);
		for (rc = 0; rc == 0 && *names != NULL; names++) {
			MDB_val k = { strlen(*names), (void *)*names };

			if ((rc = mdb_dbi_open(txn, *names, 0, &d)) == 0 &&
			    (rc = mdb_drop(txn, d, 1)) == 0)
				rc = mdb_put(txn, main_db, &k, &v, 0);
		}
		if (rc != 0 || mdb_txn_commit(txn) != 0)
			_exit(1);
		mdb_env_close(env);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct probe {
	const char	*id;
	bool		 found;
	unsigned char	 hash[STORE_HASH_LEN];
};

static enum scim_err
exists_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct probe *p = ctx;

	return store_exists(txn, RT_USER, p->id, &p->found, err);
}

static enum scim_err
token_find_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct probe *p = ctx;
	char name[64], expires[40];

	return store_token_find(txn, p->hash, &p->found, name, sizeof(name),
	    expires, sizeof(expires), err);
}

static enum scim_err
token_add_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct probe *p = ctx;

	return store_token_put(txn, "probe", p->hash, NULL, err);
}

static enum scim_err
version_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_next_version(txn, ctx, 32, err);
}

static json_t *
user(const char *id, const char *name, const char *email)
{
	return json_pack("{s:[s], s:s, s:s, s:[{s:s, s:s}]}", "schemas",
	    SCHEMA_URN_USER, "id", id, "userName", name, "emails", "value",
	    email, "type", "work");
}

/* Writes one audit entry with retention keep (a store_write callback). */
static enum scim_err
audit_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	return store_audit(t, "tok", "create", "User", "x", NULL,
	    *(size_t *)ctx, err);
}

struct trail {
	size_t			n;
	unsigned long long	first, last;
};

static bool
trail_entry(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	struct trail *tr = ctx;

	if (tr->n++ == 0)
		tr->first = seq;
	tr->last = seq;
	return true;
}

static enum scim_err
trail_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	return store_audit_list(t, 0, trail_entry, ctx, err);
}

int
main(void)
{
	struct store *s = NULL, *s2 = NULL;
	struct scim_error err;
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1], g[STORE_ID_LEN + 1];
	char version1[32], version2[32], longname[600];
	json_t *ua, *ua2, *ub, *grp;
	struct op o;
	struct member_op m;
	size_t n;

	schema_init(NULL, &err);
	strcpy(dir, "/tmp/t_store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;

	ok(store_open(dir, false, &s, &err) != SCIM_OK,
	    "opening a directory that is not a store fails");
	ok(store_open(dir, true, &s, &err) == SCIM_OK, "store created");

	store_new_id(a);
	store_new_id(b);
	store_new_id(g);
	ok(store_id_valid(a, strlen(a)) && strcmp(a, b) != 0,
	    "new ids are valid and distinct");
	ok(a[14] == '4', "ids are version 4 UUIDs");
	{
		/* Across several refills of the id pool: valid, distinct. */
		static char many[1000][STORE_ID_LEN + 1];
		int i, k, good = 1;

		for (i = 0; i < 1000; i++) {
			store_new_id(many[i]);
			if (!store_id_valid(many[i], strlen(many[i])) ||
			    many[i][14] != '4')
				good = 0;
			for (k = 0; k < i && good; k++)
				if (strcmp(many[k], many[i]) == 0)
					good = 0;
		}
		ok(good, "1000 new ids: valid version 4 UUIDs, all distinct");
	}

	ua = user(a, "\xc3\x84rger@x.example", "Alice@Example.COM");
	is_int(put(s, RT_USER, NULL, ua), SCIM_OK, "user created");
	is_int(lookup(s, IDX_USERNAME, "\xc3\xa4rger@X.example", a), 1,
	    "userName found with other case (Unicode folding)");
	is_int(lookup(s, IDX_USERNAME, "A\xcc\x88rger@x.example", a), 1,
	    "userName found with decomposed umlaut (NFC)");
	is_int(lookup(s, IDX_EMAIL, "alice@example.com", a), 1,
	    "email index folded");
	is_int(problems(s), 0, "verify: consistent after create");

	ub = user(b, "\xc3\xa4RGER@X.EXAMPLE", "bob@example.com");
	is_int(put(s, RT_USER, NULL, ub), SCIM_ERR_UNIQUENESS,
	    "second user with same folded userName: uniqueness");
	is_int(lookup(s, IDX_EMAIL, "bob@example.com", NULL), 0,
	    "failed create left no email index entry");
	json_object_set_new(ub, "userName", json_string("bob"));
	is_int(put(s, RT_USER, NULL, ub), SCIM_OK, "second user created");
	is_int(put(s, RT_USER, NULL, ub), SCIM_ERR_CONFLICT,
	    "same id created twice: conflict");

	/* Rename a: the old key goes, the new one comes. */
	ua2 = user(a, "alice", "alice@example.com");
	is_int(put(s, RT_USER, ua, ua2), SCIM_OK, "user renamed");
	is_int(lookup(s, IDX_USERNAME, "\xc3\xa4rger@x.example", NULL), 0,
	    "old userName key removed");
	is_int(lookup(s, IDX_USERNAME, "ALICE", a), 1, "new userName key");
	is_int(problems(s), 0, "verify: consistent after rename");

	/* Rename to bob's name: refused, nothing changed. */
	json_object_set_new(ua, "userName", json_string("BOB"));
	is_int(put(s, RT_USER, ua2, ua), SCIM_ERR_UNIQUENESS,
	    "rename onto another user's name: uniqueness");
	is_int(lookup(s, IDX_USERNAME, "alice", a), 1,
	    "failed rename kept the old key");

	/* An error after writing aborts everything. */
	json_object_set_new(ua, "userName", json_string("carol"));
	o = (struct op){ ua2, ua, RT_USER, false, true };
	ok(store_write(s, op_fn, &o, &err) == SCIM_ERR_INVALID_VALUE,
	    "callback error reported");
	is_int(lookup(s, IDX_USERNAME, "carol", NULL), 0,
	    "aborted write left no index entry");
	is_int(lookup(s, IDX_USERNAME, "alice", a), 1,
	    "aborted write kept the old entry");

	/* Keys over LMDB's limit are refused before writing. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	json_object_set_new(ua, "userName", json_string(longname));
	is_int(put(s, RT_USER, ua2, ua), SCIM_ERR_INVALID_VALUE,
	    "userName over 511 bytes: invalidValue");

	/* Membership both ways; deletion unlinks. */
	grp = json_pack("{s:[s], s:s, s:s}", "schemas", SCHEMA_URN_GROUP,
	    "id", g, "displayName", "Admins");
	is_int(put(s, RT_GROUP, NULL, grp), SCIM_OK, "group created");
	is_int(lookup(s, IDX_GROUP_NAME, "admins", g), 1, "group name index");
	memset(&m, 0, sizeof(m));
	m.gid = g;
	m.mid = a;
	ok(store_write(s, member_fn, &m, &err) == SCIM_OK, "member added");
	ok(store_write(s, member_fn, &m, &err) == SCIM_OK,
	    "member added twice: no-op");
	store_read(s, memberof_fn, &m, &err);
	ok(m.ids.n == 1 && strcmp(m.ids.list[0], g) == 0, "memberof index");

	o = (struct op){ ua2, NULL, RT_USER, true, false };
	ok(store_write(s, op_fn, &o, &err) == SCIM_OK, "user deleted");
	is_int(lookup(s, IDX_USERNAME, "alice", NULL), 0,
	    "deleted user's userName key gone");
	is_int(lookup(s, IDX_EMAIL, "alice@example.com", NULL), 0,
	    "deleted user's email key gone");
	store_read(s, memberof_fn, &m, &err);
	is_int(m.ids.n, 0, "deleted user's memberships gone");
	store_read(s, count_fn, &n, &err);
	is_int(n, 1, "one user left");
	is_int(problems(s), 0, "verify: consistent after delete");
	is_int(put(s, RT_USER, NULL, ua2), SCIM_OK,
	    "a deleted user's name can be used again");

	/* The audit trail keeps the newest `keep` entries, trimmed in
	 * batches: never fewer than keep, never more than keep + keep/64. */
	{
		size_t keep = 128, i, lo = (size_t)-1, hi = 0;
		struct trail tr;
		unsigned long long last = 0;

		for (i = 0; i < 1000; i++) {
			if (store_write(s, audit_fn, &keep, &err) != SCIM_OK)
				break;
			memset(&tr, 0, sizeof(tr));
			store_read(s, trail_fn, &tr, &err);
			if (i >= 200) {
				lo = tr.n < lo ? tr.n : lo;
				hi = tr.n > hi ? tr.n : hi;
			}
			last = tr.last;
		}
		is_int(i, 1000, "1000 audited writes");
		ok(lo >= keep, "the trail never held fewer than audit_keep");
		ok(hi <= keep + keep / 64, "nor more than audit_keep + 1/64");
		ok(lo < hi, "it was trimmed in batches");
		is_int(tr.last - tr.first + 1, tr.n,
		    "the entries kept are the newest, without gaps");
		ok(last == tr.last, "the newest entry is last");
	}

	/* Versions increase with every write. */
	ok(store_write(s, version_fn, version1, &err) == SCIM_OK &&
	    store_write(s, version_fn, version2, &err) == SCIM_OK,
	    "versions issued");
	ok(strncmp(version1, "W/\"", 3) == 0 &&
	    strtoull(version2 + 3, NULL, 10) ==
	    strtoull(version1 + 3, NULL, 10) + 1, "versions count up");

	/* A second handle on the same environment sees the data. */
	store_close(s);
	s = NULL;
	ok(store_open(dir, false, &s2, &err) == SCIM_OK, "store reopened");
	is_int(lookup(s2, IDX_USERNAME, "bob", b), 1, "data persisted");
	store_close(s2);
	s2 = NULL;

	/* A store written by a newer scimd is refused, naming both versions,
	 * and left as it was. */
	ok(set_layout(dir, "99") == 0, "layout set to 99 with LMDB directly");
	ok(store_open(dir, true, &s2, &err) == SCIM_ERR_UNAVAILABLE &&
	    s2 == NULL && strstr(err.detail, "layout version 99") != NULL,
	    "a store of a newer layout is refused with a clear message");
	snprintf(longname, sizeof(longname), "%d", STORE_LAYOUT_VERSION);
	ok(set_layout(dir, longname) == 0 && store_open(dir, false, &s2, &err) ==
	    SCIM_OK && lookup(s2, IDX_USERNAME, "bob", b) == 1,
	    "...and opens again, data intact, once the layout is back");
	store_close(s2);

	/* A store error is reported as one, never as "absent": with the
	 * users and token_hash databases broken under a process that has
	 * the store open, the lookups fail with 503 instead of answering
	 * "no such user" (404 or 400) and "no such token" (401). */
	{
		static const char *const broken[] = { "users", "token_hash",
		    NULL };
		struct probe p;
		enum scim_err e;

		memset(&p, 0, sizeof(p));
		p.id = b;
		memset(p.hash, 7, sizeof(p.hash));
		ok(store_open(dir, false, &s2, &err) == SCIM_OK &&
		    store_write(s2, token_add_fn, &p, &err) == SCIM_OK,
		    "store reopened, a token added");
		ok(store_read(s2, exists_fn, &p, &err) == SCIM_OK && p.found &&
		    store_read(s2, token_find_fn, &p, &err) == SCIM_OK &&
		    p.found, "the user and the token are found");
		ok(break_dbs(dir, broken) == 0,
		    "users and token_hash broken by another process");
		p.found = true;
		e = store_read(s2, exists_fn, &p, &err);
		ok(e == SCIM_ERR_UNAVAILABLE && !p.found &&
		    strstr(err.detail, "Store error") != NULL,
		    "store_exists: a store error, not \"no such user\"");
		p.found = true;
		e = store_read(s2, token_find_fn, &p, &err);
		ok(e == SCIM_ERR_UNAVAILABLE && !p.found,
		    "store_token_find: a store error, not \"no such token\"");
		store_close(s2);
	}

	json_decref(ua);
	json_decref(ua2);
	json_decref(ub);
	json_decref(grp);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
