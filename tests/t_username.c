/*
 * t_username.c: userName rules (issue 16 item 1) against real LMDB files:
 * the refusals (empty, blank, Cc, Cf) in schema_validate, the RFC 8265
 * UsernameCaseMapped comparison (width mapping, case folding, NFC) in
 * fold.c, the filter and the index, and the layout 1 -> 2 migration of a
 * store written the way layout 1 wrote it (raw LMDB calls, old keys).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "filter.h"
#include "fold.h"
#include "schema.h"
#include "store.h"
#include "tap.h"

#define ID_A	"aaaaaaaa-0000-4000-8000-000000000001"
#define ID_B	"bbbbbbbb-0000-4000-8000-000000000002"
#define ID_C	"cccccccc-0000-4000-8000-000000000003"

/* "ＡＤＭＩＮ": FULLWIDTH LATIN CAPITAL LETTERS A D M I N. */
#define FW_ADMIN "\xef\xbc\xa1\xef\xbc\xa4\xef\xbc\xad\xef\xbc\xa9\xef\xbc\xae"

/* The RFC 8265 fold of s, as a NUL-terminated string ("" on error). */
static const char *
ufold(const char *s)
{
	static char out[512];
	size_t n;

	if (fold_username_into(s, strlen(s), out, sizeof(out) - 1, &n) !=
	    SCIM_OK)
		return "";
	out[n] = '\0';
	return out;
}

static void
test_fold(void)
{
	char *a = NULL;
	size_t n;

	is_str(ufold(FW_ADMIN), "admin", "width mapping: FULLWIDTH ADMIN is admin");
	is_str(ufold("Admin"), "admin", "ASCII folds");
	/* HALFWIDTH KATAKANA LETTER A (U+FF71) -> KATAKANA LETTER A (U+30A2). */
	is_str(ufold("\xef\xbd\xb1"), "\xe3\x82\xa2",
	    "width mapping: halfwidth katakana becomes its normal form");
	/* "A" + COMBINING DIAERESIS -> "ä" (NFC after folding). */
	is_str(ufold("A\xcc\x88rger"), "\xc3\xa4rger", "case folding, then NFC");
	/* FULLWIDTH A + COMBINING DIAERESIS: width first, then NFC. */
	is_str(ufold("\xef\xbc\xa1\xcc\x88"), "\xc3\xa4",
	    "width mapping happens before NFC composes");
	ok(fold_username(FW_ADMIN "@X.org", strlen(FW_ADMIN "@X.org"), &a,
	    &n) == SCIM_OK && strcmp(a, "admin@x.org") == 0 && n == 11,
	    "fold_username allocates the same form");
	free(a);
	ok(fold_username_equal(FW_ADMIN, strlen(FW_ADMIN), "admin", 5),
	    "fold_username_equal: FULLWIDTH ADMIN equals admin");
	ok(!fold_equal(FW_ADMIN, strlen(FW_ADMIN), "admin", 5),
	    "the case-only fold (emails, displayName) keeps them apart");
	{
		char buf[8];

		ok(fold_username_into("\xff", 1, buf, sizeof(buf), &n) ==
		    SCIM_ERR_INVALID_VALUE, "invalid UTF-8 refused");
	}
}

static void
test_refused(void)
{
	static const struct {
		const char	*name;
		bool		 refused;
		const char	*why;
	} cases[] = {
		{ "", true, "empty" },
		{ " ", true, "blank: a space" },
		{ " \t  ", true, "blank: spaces and a tab (tab is also Cc)" },
		{ "\xe3\x80\x80", true, "blank: IDEOGRAPHIC SPACE" },
		{ "a\x01" "b", true, "Cc: U+0001" },
		{ "a\x7f", true, "Cc: DEL" },
		{ "a\xc2\x85", true, "Cc: NEL (U+0085)" },
		{ "ad\xe2\x80\x8bmin", true, "Cf: ZERO WIDTH SPACE" },
		{ "\xe2\x80\xae" "nimda", true, "Cf: RIGHT-TO-LEFT OVERRIDE" },
		{ "a\xe2\x80\x8d" "b", true, "Cf: ZERO WIDTH JOINER" },
		{ "\xef\xbb\xbf" "admin", true, "Cf: BOM / ZWNBSP" },
		{ "a\xe2\x81\xa6" "b", true, "Cf: LEFT-TO-RIGHT ISOLATE" },
		{ "bjensen", false, "plain" },
		{ "Barbara Jensen", false, "inner space" },
		{ "\xc3\x84rger@example.com", false, "non-ASCII letters" },
		{ FW_ADMIN, false, "fullwidth letters (folded, not refused)" },
	};
	char why[96], label[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(label, sizeof(label), "fold_username_refused: %s: %s",
		    cases[i].why, cases[i].refused ? "refused" : "accepted");
		ok(fold_username_refused(cases[i].name, strlen(cases[i].name),
		    why, sizeof(why)) == cases[i].refused, label);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const enum schema_mode modes[] = { SCHEMA_CREATE,
		    SCHEMA_REPLACE, SCHEMA_CHECK };
		struct scim_error err;
		json_t *in, *out = NULL;
		size_t m;

		if (!cases[i].refused)
			continue;
		in = json_pack("{s:[s], s:s}", "schemas", SCHEMA_URN_USER,
		    "userName", cases[i].name);
		for (m = 0; m < 3; m++) {
			err_clear(&err);
			snprintf(label, sizeof(label), "schema_validate mode %zu: "
			    "%s: invalidValue naming userName", m, cases[i].why);
			ok(schema_validate(RT_USER, in, modes[m], &out, NULL,
			    &err) == SCIM_ERR_INVALID_VALUE && out == NULL &&
			    strstr(err.detail, "userName") != NULL, label);
			json_decref(out);
			out = NULL;
		}
		json_decref(in);
	}
	{
		struct scim_error err;
		json_t *in = json_pack("{s:[s], s:s}", "schemas",
		    SCHEMA_URN_USER, "userName", "ad\xe2\x80\x8bmin"), *out = NULL;

		schema_validate(RT_USER, in, SCHEMA_CREATE, &out, NULL, &err);
		ok(strstr(err.detail, "U+200B") != NULL,
		    "the detail names the code point");
		json_decref(in);
	}
}

/* Parses, checks and matches a filter against user u: 1, 0, or -1. */
static int
match(const char *text, const json_t *u)
{
	struct filter_node *n;
	struct scim_error err;
	int r;

	if (filter_parse(text, strlen(text), &n, &err) != SCIM_OK)
		return -1;
	r = filter_check(n, RT_USER, &err) == SCIM_OK ?
	    filter_match(n, RT_USER, u) : -1;
	filter_free(n);
	return r;
}

static void
test_filter(void)
{
	json_t *u = json_pack("{s:[s], s:s, s:s, s:s}", "schemas",
	    SCHEMA_URN_USER, "id", ID_A, "userName", "admin", "displayName",
	    "admin");

	is_int(match("userName eq \"" FW_ADMIN "\"", u), 1,
	    "filter: userName eq FULLWIDTH ADMIN matches admin");
	is_int(match("userName sw \"\xef\xbc\xa1\"", u), 1,
	    "filter: userName sw FULLWIDTH A");
	is_int(match("displayName eq \"" FW_ADMIN "\"", u), 0,
	    "filter: displayName keeps the case-only comparison");
	json_decref(u);
}

/* ---- a layout 1 store, written with LMDB directly ---------------------- */

static char dir[64];

struct raw_user {
	const char	*id;
	const char	*name;
};

/*
 * Makes a store as layout 1 left it: the databases (made by store_open),
 * then with LMDB directly the user records, idx_username keys folded the
 * layout 1 way (fold_utf8: case folding + NFC, no width mapping) and
 * meta "layout" = "1".  0 or an LMDB error.
 */
static int
layout1_store(const struct raw_user *u, size_t n)
{
	struct store *s = NULL;
	struct scim_error err;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, users, idx;
	MDB_val k, v;
	char *key, rec[512];
	size_t i, klen;
	int rc;

	if (store_open(dir, true, &s, &err) != SCIM_OK)
		return -1;
	store_close(s);
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto done;
	if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "users", 0, &users)) != 0 ||
	    (rc = mdb_dbi_open(txn, "idx_username", 0, &idx)) != 0)
		goto abort;
	for (i = 0; i < n; i++) {
		snprintf(rec, sizeof(rec), "{\"schemas\":[\"%s\"],\"id\":\"%s\","
		    "\"userName\":\"%s\",\"meta\":{\"resourceType\":\"User\","
		    "\"created\":\"2026-01-01T00:00:00.000Z\",\"lastModified\":"
		    "\"2026-01-01T00:00:00.000Z\",\"version\":\"W/\\\"%zu\\\"\"}}",
		    SCHEMA_URN_USER, u[i].id, u[i].name, i + 1);
		k.mv_size = STORE_ID_LEN;
		k.mv_data = (void *)u[i].id;
		v.mv_size = strlen(rec);
		v.mv_data = rec;
		if ((rc = mdb_put(txn, users, &k, &v, 0)) != 0)
			goto abort;
		if (fold_utf8(u[i].name, strlen(u[i].name), &key, &klen) !=
		    SCIM_OK) {
			rc = -1;
			goto abort;
		}
		k.mv_size = klen;
		k.mv_data = key;
		v.mv_size = STORE_ID_LEN;
		v.mv_data = (void *)u[i].id;
		rc = mdb_put(txn, idx, &k, &v, MDB_NOOVERWRITE);
		free(key);
		if (rc != 0)
			goto abort;
	}
	k.mv_size = 6;
	k.mv_data = "layout";
	v.mv_size = 1;
	v.mv_data = "1";
	if ((rc = mdb_put(txn, meta, &k, &v, 0)) != 0)
		goto abort;
	rc = mdb_txn_commit(txn);
	goto done;
abort:
	mdb_txn_abort(txn);
done:
	mdb_env_close(env);
	return rc;
}

/*
 * Reads with LMDB directly: the layout (into layout[8]) and the number of
 * idx_username entries; *key_id gets the id under key (or "").
 */
static int
raw_read(char layout[8], size_t *entries, const char *key, char id[40])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, idx;
	MDB_val k = { 6, "layout" }, v;
	MDB_stat st;
	int rc;

	layout[0] = id[0] = '\0';
	*entries = 0;
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 32)) == 0 &&
	    (rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) == 0 &&
		    (rc = mdb_dbi_open(txn, "idx_username", 0, &idx)) == 0 &&
		    (rc = mdb_get(txn, meta, &k, &v)) == 0) {
			snprintf(layout, 8, "%.*s", (int)v.mv_size,
			    (const char *)v.mv_data);
			if (mdb_stat(txn, idx, &st) == 0)
				*entries = st.ms_entries;
			k.mv_size = strlen(key);
			k.mv_data = (void *)key;
			if (mdb_get(txn, idx, &k, &v) == 0)
				snprintf(id, 40, "%.*s", (int)v.mv_size,
				    (const char *)v.mv_data);
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

static void
wipe(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
}

struct find {
	const char	*key;
	char		 id[STORE_ID_LEN + 1];
};

static bool
first_id(const char *id, void *ctx)
{
	snprintf(((struct find *)ctx)->id, STORE_ID_LEN + 1, "%s", id);
	return false;
}

static enum scim_err
find_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct find *f = ctx;

	f->id[0] = '\0';
	return store_lookup(txn, IDX_USERNAME, f->key, strlen(f->key),
	    first_id, f, err);
}

/* The id the store's index gives for userName name ("" for none). */
static const char *
find(struct store *s, const char *name)
{
	static struct find f;
	struct scim_error err;

	f.key = name;
	store_read(s, find_fn, &f, &err);
	return f.id;
}

static void
report_line(const char *line, void *ctx)
{
	int *n = ctx;

	(*n)++;
	printf("# reported: %s\n", line);
	ok(strstr(line, ID_A) != NULL && strstr(line, ID_B) != NULL,
	    "the report names both ids");
}

/* A rename at layout 1 (STORE_NO_MIGRATE), as `scimctl user rename`. */
static enum scim_err
rename_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	json_t *old = NULL, *rec;
	enum scim_err e;

	if ((e = store_get(txn, RT_USER, ID_B, &old, err)) != SCIM_OK)
		return e;
	rec = json_deep_copy(old);
	json_object_set_new(rec, "userName", json_string((const char *)ctx));
	e = store_put(txn, RT_USER, old, rec, err);
	json_decref(old);
	json_decref(rec);
	return e;
}

static void
test_migration(void)
{
	static const struct raw_user one[] = {
		{ ID_A, FW_ADMIN }, { ID_C, "carol" },
	};
	static const struct raw_user clash[] = {
		{ ID_A, FW_ADMIN }, { ID_B, "Admin" }, { ID_C, "carol" },
	};
	struct store *s = NULL;
	struct scim_error err;
	char layout[8], want_layout[16], id[40];
	size_t entries;
	int reported = 0;

	/* A layout 1 store: the old key of FULLWIDTH ADMIN is its
	 * fullwidth lower case, so "admin" does not find it. */
	ok(layout1_store(one, 2) == 0, "layout 1 store written with LMDB");
	raw_read(layout, &entries, "admin", id);
	ok(strcmp(layout, "1") == 0 && entries == 2 && id[0] == '\0',
	    "layout 1: old keys (no width mapping)");
	ok(store_open_flags(dir, STORE_READ_ONLY, &s, &err) ==
	    SCIM_ERR_UNAVAILABLE && s == NULL &&
	    strstr(err.detail, "scimctl --db DIR migrate") != NULL,
	    "a read-only opener refuses layout 1, naming scimctl migrate");
	raw_read(layout, &entries, "admin", id);
	is_str(layout, "1", "...and changed nothing");
	ok(store_open_flags(dir, STORE_NO_MIGRATE, &s, &err) == SCIM_OK &&
	    store_layout(s) == 1, "STORE_NO_MIGRATE opens it as it is");
	store_close(s);
	s = NULL;
	ok(store_open(dir, false, &s, &err) == SCIM_OK &&
	    store_layout(s) == STORE_LAYOUT_VERSION,
	    "store_open migrates layout 1");
	if (s == NULL)
		printf("# %s\n", err.detail);
	is_str(find(s, "admin"), ID_A, "after migration admin finds FULLWIDTH ADMIN");
	is_str(find(s, FW_ADMIN), ID_A, "...and so does FULLWIDTH ADMIN");
	is_str(find(s, "CAROL"), ID_C, "other users still found");
	store_close(s);
	s = NULL;
	raw_read(layout, &entries, "admin", id);
	snprintf(want_layout, sizeof(want_layout), "%d", STORE_LAYOUT_VERSION);
	ok(strcmp(layout, want_layout) == 0 && entries == 2 &&
	    strcmp(id, ID_A) == 0,
	    "the current layout written; the index holds the new keys only");
	ok(store_open_flags(dir, STORE_READ_ONLY, &s, &err) == SCIM_OK,
	    "a read-only opener opens the migrated store");
	store_close(s);
	s = NULL;
	wipe();

	/* A collision the new folding reveals: reported, never merged. */
	ok(layout1_store(clash, 3) == 0,
	    "layout 1 store with FULLWIDTH ADMIN and Admin (distinct then)");
	err_clear(&err);
	ok(store_open(dir, false, &s, &err) == SCIM_ERR_UNAVAILABLE &&
	    s == NULL, "store_open refuses: the migration finds a collision");
	printf("# %s\n", err.detail);
	ok(strstr(err.detail, ID_A) != NULL && strstr(err.detail, ID_B) !=
	    NULL, "the detail names both ids");
	ok(strstr(err.detail, "scimctl user rename") != NULL,
	    "the detail names the command that resolves it");
	raw_read(layout, &entries, "admin", id);
	ok(strcmp(layout, "1") == 0 && entries == 3 && strcmp(id, ID_B) == 0,
	    "nothing changed: layout 1, the three old keys");
	ok(store_open_flags(dir, STORE_NO_MIGRATE, &s, &err) == SCIM_OK,
	    "opened as it is");
	ok(store_migrate(s, report_line, &reported, &err) ==
	    SCIM_ERR_UNAVAILABLE && reported == 1,
	    "store_migrate reports the one collision and fails");
	ok(store_write(s, rename_fn, (void *)"admin2", &err) == SCIM_OK,
	    "one of them renamed at layout 1");
	store_close(s);
	s = NULL;
	ok(store_open(dir, false, &s, &err) == SCIM_OK, "then it migrates");
	is_str(find(s, "admin"), ID_A, "admin is FULLWIDTH ADMIN");
	is_str(find(s, "ADMIN2"), ID_B, "admin2 is the renamed user");
	store_close(s);
	wipe();
}

int
main(void)
{
	struct scim_error err;
	char cmd[128];

	schema_init(NULL, &err);
	snprintf(dir, sizeof(dir), "/tmp/t_username.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_fold();
	test_refused();
	test_filter();
	test_migration();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
