/*
 * t_unique.c: attributes the schemas make unique ("uniqueness":
 * "server" on an extension's attribute) are enforced by the store's
 * unique index, in the record's write transaction: a second record with
 * the value gets SCIM_ERR_UNIQUENESS (409 uniqueness) and nothing
 * changes; case rules per caseExact, dateTimes as instants, each value
 * of a multi-valued attribute; a delete or a change frees the value.
 * The rebuild when the schemas' list changes: records sharing a value
 * are reported with both ids and nothing is merged; the list the store
 * holds is the one writes use.  verify and reindex see the entries.  A
 * layout 2 store is migrated.  Real LMDB files in a temp directory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "rtype.h"
#include "schema.h"
#include "store.h"
#include "tap.h"
#include "verify.h"

#define EXT	"urn:example:params:scim:schemas:extension:test:2.0:User"
#define GEXT	"urn:example:params:scim:schemas:extension:test:2.0:Group"

#define A	"11111111-1111-4111-8111-111111111111"
#define B	"22222222-2222-4222-8222-222222222222"
#define C	"33333333-3333-4333-8333-333333333333"
#define G1	"44444444-4444-4444-8444-444444444444"
#define G2	"55555555-5555-4555-8555-555555555555"

static char dir[64];

/* ---- writes as scimd makes them ----------------------------------------- */

struct put {
	enum rtype	 type;
	const char	*id;
	const char	*body;		/* a request body */
	bool		 replace;	/* PUT over the stored record */
	bool		 delete;
};

/* Validates the body like a POST or PUT and writes it (or deletes). */
static enum scim_err
put_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct put *p = ctx;
	json_t *in = NULL, *rec = NULL, *old = NULL;
	enum scim_err e;

	if (p->delete || p->replace) {
		if ((e = store_get(t, p->type, p->id, &old, err)) != SCIM_OK)
			return e;
		if (p->delete) {
			e = store_delete(t, p->type, old, err);
			json_decref(old);
			return e;
		}
	}
	if ((in = json_loads(p->body, 0, NULL)) == NULL) {
		json_decref(old);
		return err_set(err, SCIM_ERR_INTERNAL, "bad test body");
	}
	e = schema_validate(p->type, in, SCHEMA_CREATE, &rec, NULL, err);
	if (e == SCIM_OK && json_object_set_new(rec, "id",
	    json_string(p->id)) != 0)
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
	if (e == SCIM_OK)
		e = store_put(t, p->type, old, rec, err);
	json_decref(in);
	json_decref(rec);
	json_decref(old);
	return e;
}

static enum scim_err
write_user(struct store *s, const char *id, bool replace, const char *name,
    const char *ext, struct scim_error *err)
{
	char body[2048];
	struct put p = { RT_USER, id, body, replace, false };

	snprintf(body, sizeof(body), "{\"schemas\":[\"%s\",\"%s\"],"
	    "\"userName\":\"%s\",\"%s\":%s}", SCHEMA_URN_USER, EXT, name, EXT,
	    ext);
	err_clear(err);
	return store_write(s, put_fn, &p, err);
}

static enum scim_err
write_group(struct store *s, const char *id, bool replace, const char *name,
    const char *ext, struct scim_error *err)
{
	char body[1024];
	struct put p = { RT_GROUP, id, body, replace, false };

	snprintf(body, sizeof(body), "{\"schemas\":[\"%s\",\"%s\"],"
	    "\"displayName\":\"%s\",\"%s\":%s}", SCHEMA_URN_GROUP, GEXT, name,
	    GEXT, ext);
	err_clear(err);
	return store_write(s, put_fn, &p, err);
}

static enum scim_err
delete_one(struct store *s, enum rtype t, const char *id)
{
	struct put p = { t, id, NULL, false, true };
	struct scim_error err;

	err_clear(&err);
	return store_write(s, put_fn, &p, &err);
}

static enum scim_err
count_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	return store_count(t, RT_USER, ctx, err);
}

static size_t
users(struct store *s)
{
	struct scim_error err;
	size_t n = 0;

	store_read(s, count_fn, &n, &err);
	return n;
}

static enum scim_err
verify_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct verify_result *r = ctx;

	return verify_run(t, false, NULL, NULL, r, err);
}

static enum scim_err
reindex_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct verify_result *r = ctx;

	return verify_run(t, true, NULL, NULL, r, err);
}

/* Problems verify finds (-1 when it fails). */
static long
problems(struct store *s)
{
	struct verify_result r;
	struct scim_error err;

	if (store_read(s, verify_fn, &r, &err) != SCIM_OK)
		return -1;
	return (long)r.problems;
}

/* What the unique index says about one value. */
struct look {
	const char	*path;
	json_t		*value;
	bool		 indexed;
	char		 id[40];
};

static bool
look_one(const char *id, void *ctx)
{
	struct look *l = ctx;

	snprintf(l->id, sizeof(l->id), "%s", id);
	return true;
}

static enum scim_err
look_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct look *l = ctx;

	l->id[0] = '\0';
	l->indexed = store_unique_indexed(t, RT_USER, l->path);
	return store_lookup_unique(t, RT_USER, l->path, l->value, look_one, l,
	    err);
}

/* The id holding value (JSON text) of EXT:attr, "" for none, "-" when
 * the index does not hold the attribute. */
static const char *
look(struct store *s, const char *attr, const char *value)
{
	static struct look l;
	static char path[256];
	struct scim_error err;

	snprintf(path, sizeof(path), "%s:%s", EXT, attr);
	l.path = path;
	l.value = json_loads(value, JSON_DECODE_ANY, NULL);
	if (store_read(s, look_fn, &l, &err) != SCIM_OK)
		snprintf(l.id, sizeof(l.id), "error");
	json_decref(l.value);
	return l.indexed ? l.id : "-";
}

/* ---- the store with LMDB directly ----------------------------------------- */

/*
 * Opens the store's environment with LMDB, as another program would,
 * and does `what`: "meta" reads meta "unique" into buf, "forget" deletes one
 * idx_user_unique entry, "setmeta" writes buf as meta "unique",
 * "layout2" makes it a layout 2 store (no unique databases, no list).
 */
static int
raw(const char *what, char *buf, size_t bufsz)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi d, meta;
	MDB_cursor *c;
	MDB_val k = { 6, "unique" }, v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 32)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "idx_user_unique", 0, &d)) != 0)
		goto done;
	if (strcmp(what, "meta") == 0) {
		buf[0] = '\0';
		if ((rc = mdb_get(txn, meta, &k, &v)) == 0)
			snprintf(buf, bufsz, "%.*s", (int)v.mv_size,
			    (char *)v.mv_data);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	} else if (strcmp(what, "forget") == 0) {
		if ((rc = mdb_cursor_open(txn, d, &c)) == 0) {
			if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0)
				rc = mdb_cursor_del(c, 0);
			mdb_cursor_close(c);
		}
	} else if (strcmp(what, "setmeta") == 0) {
		v.mv_size = strlen(buf);
		v.mv_data = buf;
		rc = mdb_put(txn, meta, &k, &v, 0);
	} else if (strcmp(what, "layout2") == 0) {
		MDB_val lk = { 6, "layout" }, lv = { 1, "2" };
		MDB_dbi g;

		if ((rc = mdb_drop(txn, d, 1)) == 0 &&
		    (rc = mdb_dbi_open(txn, "idx_group_unique", 0, &g)) == 0 &&
		    (rc = mdb_drop(txn, g, 1)) == 0 &&
		    (rc = mdb_put(txn, meta, &lk, &lv, 0)) == 0) {
			rc = mdb_del(txn, meta, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		}
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
done:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return rc;
}

/* Collects the report lines of a rebuild. */
struct lines {
	int	n;
	char	all[4096];
};

static void
collect(const char *line, void *ctx)
{
	struct lines *l = ctx;
	size_t len = strlen(l->all);

	l->n++;
	snprintf(l->all + len, sizeof(l->all) - len, "%s\n", line);
}

/* ---- the tests -------------------------------------------------------- */

/* The list derived from the schema file. */
static void
test_derived(void)
{
	const struct resource_type *u = rtype_get(RT_USER);
	const struct resource_type *g = rtype_get(RT_GROUP);
	size_t i;
	bool badge = false, acct = false, since = false, code = false;

	is_int(u->nunique, 6, "six unique attributes of User: badge, code, "
	    "seat, since, aliases, accounts.id (userName has its own index)");
	for (i = 0; i < u->nunique; i++) {
		if (strcmp(u->unique[i].path, EXT ":badge") == 0)
			badge = u->unique[i].fold == FOLD_CASE;
		if (strcmp(u->unique[i].path, EXT ":code") == 0)
			code = u->unique[i].fold == FOLD_EXACT;
		if (strcmp(u->unique[i].path, EXT ":accounts.id") == 0)
			acct = u->unique[i].sub != NULL &&
			    strcmp(u->unique[i].sub, "id") == 0;
		if (strcmp(u->unique[i].path, EXT ":since") == 0)
			since = u->unique[i].datetime;
	}
	ok(badge && code, "caseExact false folds, caseExact true does not");
	ok(acct, "a sub-attribute of a multi-valued complex one");
	ok(since, "uniqueness global counts (as server); a dateTime");
	ok(g->nunique == 1 && strcmp(g->unique[0].path, GEXT ":mailbox") == 0,
	    "Group: mailbox");
}

int
main(void)
{
	struct scim_error err;
	struct store *s = NULL;
	struct lines lines;
	char path[1024], meta[2048];
	const char *top = getenv("top_srcdir");
	bool rebuilt;
	enum scim_err e;

	snprintf(path, sizeof(path), "%s/tests/data/unique-schema.json",
	    top != NULL ? top : ".");
	err_clear(&err);
	is_int(schema_init(path, &err), SCIM_OK, "the test schema loads");
	if (err.detail[0])
		printf("# %s\n", err.detail);
	test_derived();

	snprintf(dir, sizeof(dir), "/tmp/t_unique.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	ok(store_open(dir, true, &s, &err) == SCIM_OK, "store created");
	ok(!store_unique_current(s), "a new store holds no unique attributes");
	ok(store_unique_sync(s, NULL, NULL, &rebuilt, &err) == SCIM_OK &&
	    rebuilt && store_unique_current(s),
	    "store_unique_sync builds the indexes for the schemas' list");
	ok(store_unique_sync(s, NULL, NULL, &rebuilt, &err) == SCIM_OK &&
	    !rebuilt, "...and a second call has nothing to do");

	/* One user with a value of each. */
	is_int(write_user(s, A, false, "alice", "{\"badge\":\"B-1\","
	    "\"code\":\"X\",\"seat\":5,\"since\":\"2020-01-01T00:00:00Z\","
	    "\"aliases\":[\"al\",\"ally\"],\"accounts\":[{\"id\":\"acc-1\","
	    "\"kind\":\"k\"}],\"note\":\"n\"}", &err), SCIM_OK,
	    "alice created with a value of each");

	/* A second user taking one of them: 409, nothing written. */
	e = write_user(s, B, false, "bob", "{\"badge\":\"b-1\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":badge") !=
	    NULL, "badge b-1 (caseExact false): uniqueness naming the "
	    "attribute");
	is_int(users(s), 1, "...and nothing written");
	is_int(write_user(s, B, false, "bob", "{\"code\":\"x\","
	    "\"note\":\"n\"}", &err), SCIM_OK,
	    "code x is not X (caseExact true); a shared non-unique note");
	e = write_user(s, B, true, "bob", "{\"code\":\"X\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":code"),
	    "replacing bob with code X: uniqueness");
	e = write_user(s, B, true, "bob", "{\"seat\":5}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":seat"),
	    "seat 5 (integer): uniqueness");
	e = write_user(s, B, true, "bob",
	    "{\"since\":\"2020-01-01T01:00:00+01:00\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":since"),
	    "the same instant at another offset: uniqueness");
	e = write_user(s, B, true, "bob", "{\"aliases\":[\"bee\",\"ALLY\"]}",
	    &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":aliases"),
	    "one alias of several taken: uniqueness");
	e = write_user(s, B, true, "bob", "{\"accounts\":[{\"id\":\"x\"},"
	    "{\"id\":\"ACC-1\",\"kind\":\"k\"}]}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, EXT ":accounts.id"),
	    "an account id of another element: uniqueness");
	is_int(write_user(s, B, true, "bob", "{\"code\":\"x\","
	    "\"aliases\":[\"bee\",\"BEE\"],\"seat\":6,\"since\":"
	    "\"2020-01-01T00:00:01Z\",\"accounts\":[{\"id\":\"kind-k\","
	    "\"kind\":\"k\"}]}", &err), SCIM_OK,
	    "bob with his own values (the same alias twice is his own)");
	is_int(problems(s), 0, "verify: the store agrees with itself");
	is_str(look(s, "badge", "\"b-1\""), A, "lookup: badge b-1 is alice's");
	is_str(look(s, "since", "\"2020-01-01T02:00:00+02:00\""), A,
	    "lookup: a dateTime at another offset");
	is_str(look(s, "seat", "6"), B, "lookup: seat 6 is bob's");
	is_str(look(s, "accounts.id", "\"KIND-K\""), B,
	    "lookup: a sub-attribute");
	is_str(look(s, "seat", "7"), "", "lookup: seat 7 is no one's");

	/* A delete frees the values; a change frees the old one. */
	ok(delete_one(s, RT_USER, A) == SCIM_OK, "alice deleted");
	is_int(write_user(s, C, false, "carol", "{\"badge\":\"B-1\","
	    "\"seat\":5,\"aliases\":[\"ally\"]}", &err), SCIM_OK,
	    "carol takes alice's badge, seat and alias");
	is_int(write_user(s, C, true, "carol", "{\"badge\":\"B-2\"}", &err),
	    SCIM_OK, "carol changes her badge (and drops seat and alias)");
	is_int(write_user(s, B, true, "bob", "{\"badge\":\"b-1\","
	    "\"seat\":5,\"aliases\":[\"bee\",\"Ally\"]}", &err), SCIM_OK,
	    "...and bob can take the old ones");
	e = write_user(s, B, true, "bob", "{\"badge\":\"B-2\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS, "while carol's new badge is hers");

	/* Groups have their own. */
	is_int(write_group(s, G1, false, "one", "{\"mailbox\":\"list@x\"}",
	    &err), SCIM_OK, "a group with a mailbox");
	e = write_group(s, G2, false, "two", "{\"mailbox\":\"LIST@x\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS && strstr(err.detail, GEXT ":mailbox"),
	    "another group with that mailbox: uniqueness");
	is_int(write_group(s, G2, false, "two", "{\"mailbox\":\"b@x\"}",
	    &err), SCIM_OK, "...another mailbox is fine");
	is_int(write_user(s, A, false, "alice", "{\"badge\":\"list@x\"}",
	    &err), SCIM_OK, "a user badge equal to a group's mailbox is "
	    "another attribute");
	is_int(problems(s), 0, "verify: clean");

	/* verify and reindex cover the unique index. */
	store_close(s);
	s = NULL;
	ok(raw("forget", NULL, 0) == 0,
	    "one idx_user_unique entry deleted with LMDB");
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "store reopened");
	is_int(problems(s), 1, "verify reports the missing entry");
	{
		struct verify_result r;

		ok(store_write(s, reindex_fn, &r, &err) == SCIM_OK &&
		    r.repaired == 1, "reindex puts it back");
	}
	is_int(problems(s), 0, "verify: clean again");

	/* The list the store holds is the one writes use: a store whose
	 * list has badge only (another program's, an older schema file)
	 * enforces badge only until the rebuild. */
	store_close(s);
	s = NULL;
	snprintf(meta, sizeof(meta), "[{\"type\":\"User\",\"path\":\"%s:badge\","
	    "\"attribute\":\"badge\",\"fold\":\"case\",\"schema\":\"%s\"}]",
	    EXT, EXT);
	ok(raw("setmeta", meta, 0) == 0,
	    "meta unique set to badge only with LMDB");
	ok(store_open(dir, false, &s, &err) == SCIM_OK &&
	    !store_unique_current(s), "reopened: not the schemas' list");
	ok(problems(s) > 0, "verify: the entries of the other attributes are "
	    "stale for this list");
	{
		struct verify_result r;

		ok(store_write(s, reindex_fn, &r, &err) == SCIM_OK &&
		    problems(s) == 0, "reindex removes them");
	}
	e = write_user(s, A, true, "alice", "{\"badge\":\"B-1\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS, "badge still enforced");
	ok(strcmp(look(s, "seat", "5"), "-") == 0 &&
	    strcmp(look(s, "badge", "\"b-1\""), "-") != 0,
	    "the index holds badge, not seat (the planner scans for seat)");
	is_int(write_user(s, A, true, "alice", "{\"seat\":5}", &err), SCIM_OK,
	    "seat is not (the store's list does not have it)");
	memset(&lines, 0, sizeof(lines));
	e = store_unique_sync(s, collect, &lines, &rebuilt, &err);
	ok(e == SCIM_ERR_UNAVAILABLE && !rebuilt && lines.n == 1 &&
	    strstr(lines.all, A) != NULL && strstr(lines.all, B) != NULL &&
	    strstr(lines.all, EXT ":seat \"5\"") != NULL,
	    "the rebuild finds alice and bob sharing seat 5: reported with "
	    "both ids and the value");
	ok(strstr(err.detail, A) != NULL && strstr(err.detail, "5") == NULL,
	    "...the detail names the ids, not the value");
	err_clear(&err);
	e = store_unique_sync(s, collect, &lines, &rebuilt, &err);
	ok(e == SCIM_ERR_UNAVAILABLE && lines.n == 1 && strstr(err.detail, A)
	    != NULL, "asked again with nothing written since: the same "
	    "answer, without reading the records again");
	ok(!store_unique_current(s) && problems(s) == 0,
	    "...and nothing changed: the old list, its index whole");
	e = write_user(s, C, true, "carol", "{\"badge\":\"B-2\","
	    "\"seat\":9}", &err);
	is_int(e, SCIM_OK, "(seat still free to share: carol takes 9)");
	is_int(write_user(s, A, true, "alice", "{\"seat\":7}", &err), SCIM_OK,
	    "alice takes another seat");
	ok(store_unique_sync(s, collect, &lines, &rebuilt, &err) == SCIM_OK &&
	    rebuilt && store_unique_current(s), "now the rebuild succeeds");
	e = write_user(s, A, true, "alice", "{\"seat\":5}", &err);
	ok(e == SCIM_ERR_UNIQUENESS, "...and seat is enforced");
	is_int(problems(s), 0, "verify: clean");

	/* A layout 2 store: migrated, then built. */
	store_close(s);
	s = NULL;
	ok(raw("layout2", NULL, 0) == 0,
	    "made a layout 2 store with LMDB (no unique databases)");
	ok(store_open(dir, false, &s, &err) == SCIM_OK &&
	    store_layout(s) == STORE_LAYOUT_VERSION,
	    "store_open migrates it to the current layout");
	ok(!store_unique_current(s) && store_unique_sync(s, NULL, NULL,
	    &rebuilt, &err) == SCIM_OK && rebuilt, "...and the indexes build");
	e = write_user(s, C, true, "carol", "{\"badge\":\"b-1\"}", &err);
	ok(e == SCIM_ERR_UNIQUENESS, "bob's badge is enforced again");
	is_int(problems(s), 0, "verify: clean");
	store_close(s);
	ok(raw("meta", meta, sizeof(meta)) == 0 && strstr(meta,
	    "\"path\":\"" EXT ":accounts.id\"") != NULL && strstr(meta,
	    "\"subAttribute\":\"id\"") != NULL,
	    "meta unique lists the attributes for other programs");

	/* Uniqueness on a complex attribute: refused at start. */
	snprintf(path, sizeof(path), "%s/complex.json", dir);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			fputs("{\"id\":\"urn:example:x:2.0:User\",\"attributes\":"
			    "[{\"name\":\"pair\",\"type\":\"complex\","
			    "\"uniqueness\":\"server\",\"subAttributes\":[{"
			    "\"name\":\"a\",\"type\":\"string\"}]}]}", f);
			fclose(f);
		}
	}
	err_clear(&err);
	e = schema_init(path, &err);
	ok(e == SCIM_ERR_INVALID_VALUE && strstr(err.detail,
	    "urn:example:x:2.0:User:pair") != NULL && strstr(err.detail,
	    "sub-attributes") != NULL, "a complex attribute marked unique is "
	    "refused, naming it and what to do");
	is_int(rtype_get(RT_USER)->nunique, 6, "...and the list is unchanged");
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
