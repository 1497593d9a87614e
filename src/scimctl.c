/*
 * scimctl: administration of a scimd store (see scimctl(8)).
 *
 *	scimctl --db DIR init
 *	scimctl --db DIR token add NAME [--expires WHEN] | token list |
 *	    token revoke NAME
 *	scimctl --db DIR backup DEST-DIR
 *	scimctl --db DIR verify | reindex | stats
 *	scimctl --db DIR export [users|groups]
 *	scimctl --db DIR migrate | user rename ID NEW-NAME
 *
 * The store directory comes from --db, else $SCIMD_DB.  Exit status: 0
 * on success, 1 on failure (with one line on stderr naming the step),
 * 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "fold.h"
#include "jsonx.h"
#include "limits.h"
#include "sandbox.h"
#include "schema.h"
#include "store.h"
#include "verify.h"

/* Each command's synopsis, for the usage message and `CMD --help`. */
static const struct {
	const char	*cmd;
	const char	*text;
} synopses[] = {
	{ "init",
	    "  init                  create the store\n" },
	{ "token",
	    "  token add NAME [--expires WHEN]\n"
	    "                        make a bearer token; prints it last\n"
	    "                        (WHEN: 90d, 12h, 30m, 2027-01-31...)\n"
	    "  token list            list tokens: name, created, expires\n"
	    "  token revoke NAME     remove a token\n" },
	{ "backup",
	    "  backup DEST-DIR       consistent copy of a live store\n" },
	{ "verify",
	    "  verify                check indexes against records\n" },
	{ "reindex",
	    "  reindex               rebuild every index from the records\n" },
	{ "stats",
	    "  stats                 counts, file and map size, readers\n" },
	{ "export",
	    "  export [users|groups] [FILE]   NDJSON, one resource a line\n" },
	{ "import",
	    "  import [--atomic] [FILE]       NDJSON or a ListResponse\n" },
	{ "restore",
	    "  restore [--with-tokens] SRC-DIR\n"
	    "                        replace the content with a backup;\n"
	    "                        tokens kept unless --with-tokens\n" },
	{ "user",
	    "  user get ID | user find NAME-OR-EMAIL | user list\n"
	    "  user rename ID NEW-NAME   change a userName (also in a\n"
	    "                        store that does not migrate yet)\n" },
	{ "migrate",
	    "  migrate               bring the store to the current layout;\n"
	    "                        lists every problem that stops it\n" },
	{ "group",
	    "  group get ID | group list\n" },
	{ "audit",
	    "  audit [--after SEQ] [--since WHEN] [--id ID] [--follow]\n"
	    "                        the change trail, one JSON entry a line\n"
	    "                        (WHEN: 2h, 7d, 2026-11-01...: since)\n" },
};

/* Prints the usage of cmd (every command when cmd is NULL or unknown). */
static void
usage_to(FILE *out, const char *cmd)
{
	size_t i, n = sizeof(synopses) / sizeof(synopses[0]), shown = 0;

	fprintf(out, "usage: scimctl [--db DIR] command [args]\n"
	    "       scimctl --version\n");
	for (i = 0; cmd != NULL && i < n; i++)
		if (strcmp(synopses[i].cmd, cmd) == 0) {
			fputs(synopses[i].text, out);
			shown++;
		}
	if (shown > 0)
		return;
	fprintf(out, "commands:\n");
	for (i = 0; i < n; i++)
		fputs(synopses[i].text, out);
	fprintf(out, "Exit status: 0 done, 1 failed (the reason on stderr), "
	    "2 usage; see scimctl(8).\n");
}

static void
usage(void)
{
	usage_to(stderr, NULL);
}

/* Whether an argument asks for help. */
static bool
wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* ---- token ------------------------------------------------------------- */

struct token_ctx {
	const char	*name;
	unsigned char	 hash[STORE_HASH_LEN];
	const char	*expires;	/* RFC 3339 or NULL */
};

static enum scim_err
token_add_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct token_ctx *t = ctx;
	enum scim_err e;

	if ((e = store_token_put(txn, t->name, t->hash, t->expires, err)) !=
	    SCIM_OK)
		return e;
	return store_audit(txn, "scimctl", "token-add", "Token", t->name, NULL,
	    0, err);
}

static enum scim_err
token_revoke_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	const char *name = ((struct token_ctx *)ctx)->name;
	enum scim_err e;

	if ((e = store_token_delete(txn, name, err)) != SCIM_OK)
		return e;
	return store_audit(txn, "scimctl", "token-revoke", "Token", name, NULL,
	    0, err);
}

static void
token_print(const char *name, const char *created, const char *expires,
    void *ctx)
{
	(void)ctx;
	printf("%s\t%s\t%s\n", name, created ? created : "",
	    expires ? expires : "never");
}

/*
 * Turns WHEN (a duration "90d", "12h", "30m", "45s" counted from now
 * forward when sign is 1 or back when it is -1, a date "2027-01-31" or a
 * moment "2027-01-31T12:00:00Z") into an RFC 3339 UTC time in
 * store_now()'s form, and *at.  false if WHEN is none of these.
 */
static bool
parse_when(const char *when, int sign, time_t *at_out, char *out,
    size_t outsz)
{
	struct tm tm;
	time_t now = time(NULL), at;
	char *end;
	const char *rest;
	unsigned long n;

	memset(&tm, 0, sizeof(tm));
	if (*when >= '0' && *when <= '9' && strchr(when, '-') == NULL) {
		errno = 0;
		n = strtoul(when, &end, 10);
		if (errno != 0 || end == when || end[0] == '\0' ||
		    end[1] != '\0' ||
		    n == 0 || n > 100UL * 366)
			return false;
		switch (*end) {
		case 'd': at = now + sign * (time_t)n * 86400; break;
		case 'h': at = now + sign * (time_t)n * 3600; break;
		case 'm': at = now + sign * (time_t)n * 60; break;
		case 's': at = now + sign * (time_t)n; break;
		default: return false;
		}
	} else {
		if ((rest = strptime(when, "%Y-%m-%d", &tm)) == NULL)
			return false;
		if (*rest == 'T' && (rest = strptime(rest + 1, "%H:%M:%S",
		    &tm)) ==
		    NULL)
			return false;
		if (*rest == 'Z')
			rest++;
		if (*rest != '\0')
			return false;
		if ((at = timegm(&tm)) == (time_t)-1)
			return false;
	}
	*at_out = at;
	if (gmtime_r(&at, &tm) == NULL)
		return false;
	return strftime(out, outsz, "%Y-%m-%dT%H:%M:%S.000Z", &tm) > 0;
}

/* An expiry: WHEN as parse_when() reads it, in the future. */
static bool
parse_expiry(const char *when, char *out, size_t outsz)
{
	time_t at;

	return parse_when(when, 1, &at, out, outsz) && at > time(NULL);
}

static enum scim_err
token_list_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_token_list(txn, token_print, ctx, err);
}

/* Token names: printable ASCII without spaces. */
static bool
token_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LIMIT_TOKEN_NAME_BYTES)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* token add | list | revoke: add prints the new token last, after the
 * write committed; the clear token is wiped. */
static int
cmd_token(struct store *s, int argc, char **argv, struct scim_error *err)
{
	struct token_ctx t;
	char token[64];

	char expires[40];

	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return store_read(s, token_list_fn, NULL, err) == SCIM_OK ?
		    0 : 1;
	memset(&t, 0, sizeof(t));
	if (argc == 4 && strcmp(argv[0], "add") == 0 &&
	    strcmp(argv[2], "--expires") == 0) {
		if (!parse_expiry(argv[3], expires, sizeof(expires))) {
			err_set(err, SCIM_ERR_INVALID_VALUE, "--expires "
			    "takes a lifetime (90d, 12h, 30m) or a future date "
			    "(2027-01-31 or 2027-01-31T12:00:00Z)");
			return 1;
		}
		t.expires = expires;
		argc = 2;
	}
	if (argc != 2) {
		usage();
		return 2;
	}
	t.name = argv[1];
	if (strcmp(argv[0], "add") == 0) {
		if (!token_name_ok(t.name)) {
			err_set(err, SCIM_ERR_INVALID_VALUE, "token names are "
			    "1 to %d printable characters without spaces",
			    LIMIT_TOKEN_NAME_BYTES);
			return 1;
		}
		auth_new_token(token);
		auth_hash(token, strlen(token), t.hash);
		if (store_write(s, token_add_fn, &t, err) != SCIM_OK)
			return 1;
		fprintf(stderr, "Token %s created%s%s. It is shown once; the "
		    "store keeps only its hash.\n", t.name,
		    t.expires ? ", valid until " : "",
		    t.expires ? t.expires : "");
		printf("%s\n", token);
		sodium_memzero(token, sizeof(token));
		return 0;
	}
	if (strcmp(argv[0], "revoke") == 0)
		return store_write(s, token_revoke_fn, &t, err) == SCIM_OK ?
		    0 : 1;
	usage();
	return 2;
}

/* ---- maintenance --------------------------------------------------------- */

/* Prints one problem of verify or reindex on stdout. */
static void
problem_print(const struct verify_problem *p, void *ctx)
{
	bool repair = *(bool *)ctx;

	printf("%s%s: %s: %s\n", !repair ? "" : p->repaired ? "repaired " :
	    "NOT repaired ", verify_kind_name(p->kind), p->db, p->what);
}

struct verify_ctx {
	bool			 repair;
	struct verify_result	 res;
};

static enum scim_err
verify_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct verify_ctx *v = ctx;

	return verify_run(txn, v->repair, problem_print, &v->repair, &v->res,
	    err);
}

/* verify, or (repair) reindex: each problem on a line, then the count;
 * exit 0 only when nothing is (left) wrong. */
static int
cmd_verify(struct store *s, bool repair, struct scim_error *err)
{
	struct verify_ctx v;
	enum scim_err e;

	memset(&v, 0, sizeof(v));
	v.repair = repair;
	if (repair)
		e = store_write(s, verify_fn, &v, err);
	else
		e = store_read(s, verify_fn, &v, err);
	if (e != SCIM_OK)
		return 1;
	if (repair) {
		printf("%zu problems found, %zu repaired\n", v.res.problems,
		    v.res.repaired);
		return v.res.repaired == v.res.problems ? 0 : 1;
	}
	printf("%zu problems found\n", v.res.problems);
	return v.res.problems == 0 ? 0 : 1;
}

/* restore [--with-tokens] SRC-DIR: the backup's content, keeping the
 * live tokens unless told (then saying so loudly), then verify. */
static int
cmd_restore(struct store *s, int argc, char **argv, struct scim_error *err)
{
	bool tokens = argc == 2 && strcmp(argv[0], "--with-tokens") == 0;

	if (argc != 1 + tokens) {
		usage();
		return 2;
	}
	if (tokens)
		fprintf(stderr, "scimctl: restore: WARNING: --with-tokens: the "
		    "backup's tokens REPLACE the current ones. Tokens made "
		    "since "
		    "the backup stop working; tokens revoked since the backup "
		    "WORK AGAIN. Revoke what should stay revoked now.\n");
	if (store_restore(s, argv[tokens], tokens, err) != SCIM_OK)
		return 1;
	if (cmd_verify(s, false, err) != 0)
		return 1;
	printf("restored from %s (%s)\n", argv[tokens], tokens ?
	    "with the backup's tokens" : "current tokens kept");
	return 0;
}

static void
stat_print(const char *name, size_t entries, void *ctx)
{
	(void)ctx;
	printf("%-16s %zu\n", name, entries);
}

struct stats_ctx {
	struct store_txn	*txn;
	size_t			 active;
};

static bool
count_active(const char *id, void *ctx)
{
	struct stats_ctx *c = ctx;
	json_t *u = NULL;

	if (store_get(c->txn, RT_USER, id, &u, NULL) == SCIM_OK &&
	    json_is_true(json_object_get(u, "active")))
		c->active++;
	json_decref(u);
	return true;
}

/* Prints the counts of users, active users and groups, then the entries
 * of every database, from one snapshot. */
static enum scim_err
stats_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct stats_ctx *c = ctx;
	enum scim_err e;
	size_t users, groups;

	c->txn = txn;
	if ((e = store_scan(txn, RT_USER, NULL, count_active, c, err)) !=
	    SCIM_OK ||
	    (e = store_count(txn, RT_USER, &users, err)) != SCIM_OK ||
	    (e = store_count(txn, RT_GROUP, &groups, err)) != SCIM_OK)
		return e;
	printf("layout version   %d\n", STORE_LAYOUT_VERSION);
	printf("users            %zu\n", users);
	printf("active users     %zu\n", c->active);
	printf("groups           %zu\n", groups);
	printf("-- entries per database --\n");
	return store_stats(txn, stat_print, NULL, err);
}

/* stats: the environment's facts, then stats_fn's counts. */
static int
cmd_stats(struct store *s, struct scim_error *err)
{
	struct stats_ctx c = { NULL, 0 };
	struct store_info info;

	if (store_read(s, stats_fn, &c, err) != SCIM_OK)
		return 1;
	store_info(s, &info);
	printf("-- file --\n");
	printf("data.mdb bytes   %zu\n", info.file_size);
	printf("map size         %zu\n", info.map_size);
	printf("map used         %zu (%.1f%%)\n", info.used,
	    info.map_size ? 100.0 * (double)info.used / (double)info.map_size :
	    0.0);
	printf("readers          %u of %u\n", info.readers, info.max_readers);
	printf("stale readers    %d cleared\n", info.stale_readers);
	return 0;
}

struct export_ctx {
	struct store_txn	*txn;
	enum rtype		 type;
	FILE			*out;
	enum scim_err		 e;	/* first failure; stops the scan */
	struct scim_error	*err;
};

/* Appends {"value": id} to the members array of holder ctx; false (and
 * the walk stops) when out of memory. */
static bool
member_value(const char *id, void *ctx)
{
	json_t *list = ctx;

	return json_array_append_new(json_object_get(list, "members"),
	    json_pack("{s:s}", "value", id)) == 0;
}

/* Writes one resource as a line; groups carry their members. */
static bool
export_one(const char *id, void *vctx)
{
	struct export_ctx *x = vctx;
	const char *data;
	size_t len;
	json_t *rec, *holder;

	char *text;

	if ((x->e = store_get_raw(x->txn, x->type, id, &data, &len,
	    x->err)) != SCIM_OK)
		return false;
	if (x->type == RT_USER) {
		fwrite(data, 1, len, x->out);
		fputc('\n', x->out);
		return true;
	}
	rec = json_loadb(data, len, 0, NULL);
	holder = json_pack("{s:[]}", "members");
	if (rec == NULL || holder == NULL)
		x->e = err_set(x->err, rec == NULL && holder != NULL ?
		    SCIM_ERR_INTERNAL : SCIM_ERR_NOMEM, "Cannot export %s.",
		    id);
	else if ((x->e = store_members(x->txn, id, member_value, holder,
	    x->err)) == SCIM_OK) {
		if (json_array_size(json_object_get(holder, "members")) > 0) {
			json_t *meta = json_incref(json_object_get(rec,
			    "meta"));

			json_object_del(rec, "meta");
			json_object_set(rec, "members",
			    json_object_get(holder, "members"));
			json_object_set_new(rec, "meta", meta);
		}
		if ((text = jsonx_dumps(rec)) == NULL)
			x->e = err_set(x->err, SCIM_ERR_NOMEM, NULL);
		else {
			fputs(text, x->out);
			fputc('\n', x->out);
			free(text);
		}
	}
	json_decref(rec);
	json_decref(holder);
	return x->e == SCIM_OK;
}

struct export_args {
	const char	*which;
	FILE		*out;
};

static enum scim_err
export_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct export_args *a = ctx;
	struct export_ctx x = { txn, RT_USER, a->out, SCIM_OK, err };
	enum scim_err e = SCIM_OK;

	if (a->which == NULL || strcmp(a->which, "users") == 0)
		e = store_scan(txn, RT_USER, NULL, export_one, &x, err);
	x.type = RT_GROUP;
	if (e == SCIM_OK && x.e == SCIM_OK &&
	    (a->which == NULL || strcmp(a->which, "groups") == 0))
		e = store_scan(txn, RT_GROUP, NULL, export_one, &x, err);
	return e != SCIM_OK ? e : x.e;
}

/* export [users|groups] [FILE]: one consistent snapshot as NDJSON. */
static int
cmd_export(struct store *s, int argc, char **argv, struct scim_error *err)
{
	struct export_args a = { NULL, stdout };
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "users") == 0 ||
		    strcmp(argv[i], "groups") == 0)
			a.which = argv[i];
		else if (a.out == stdout &&
		    (a.out = fopen(argv[i], "w")) == NULL) {
			err_set(err, SCIM_ERR_UNAVAILABLE,
			    "cannot write %s: %s", argv[i], strerror(errno));
			return 1;
		}
	}
	rc = store_read(s, export_fn, &a, err) == SCIM_OK ? 0 : 1;
	if (a.out != stdout && fclose(a.out) != 0)
		rc = 1;
	return rc;
}

/* ---- import -------------------------------------------------------------- */

struct import_item {
	enum rtype	 type;
	json_t		*rec;		/* validated record with id and meta */
	json_t		*members;	/* group members (ids), or NULL */
	size_t		 line;
};

/* Validates one resource from the input into item; false with a message
 * on stderr when rejected. */
static bool
import_prepare(json_t *in, size_t line, struct import_item *item)
{
	struct scim_error err;
	const json_t *schemas = json_object_get(in, "schemas"), *v;
	const char *id = json_string_value(json_object_get(in, "id"));
	const json_t *meta = json_object_get(in, "meta");
	json_t *valid = NULL, *rec, *m;
	char newid[STORE_ID_LEN + 1], now[32], lower[STORE_ID_LEN + 1];
	size_t i;
	bool group = false;

	json_array_foreach(schemas, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    SCHEMA_URN_GROUP) == 0)
			group = true;
	item->type = group ? RT_GROUP : RT_USER;
	item->line = line;
	err_clear(&err);
	if (schema_validate(item->type, in, SCHEMA_CREATE, &valid, NULL,
	    &err) != SCIM_OK) {
		fprintf(stderr, "scimctl: import: line %zu rejected: %s\n",
		    line, err.detail);
		return false;
	}
	if (id != NULL && !store_id_valid(id, strlen(id))) {
		fprintf(stderr, "scimctl: import: line %zu rejected: id is "
		    "not a UUID\n", line);
		json_decref(valid);
		return false;
	}
	if (id == NULL)
		store_new_id(newid);
	else {
		for (i = 0; i <= STORE_ID_LEN; i++)
			lower[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ?
			    id[i] - 'A' + 'a' : id[i]);
		memcpy(newid, lower, sizeof(newid));
	}
	store_now(now, sizeof(now));
	rec = json_object();
	json_object_set(rec, "schemas", json_object_get(valid, "schemas"));
	json_object_set_new(rec, "id", json_string(newid));
	item->members = NULL;
	{
		const char *k;

		json_object_foreach(valid, k, v) {
			if (strcmp(k, "schemas") == 0)
				continue;
			if (strcmp(k, "members") == 0) {
				item->members = json_incref((json_t *)v);
				continue;
			}
			json_object_set(rec, k, (json_t *)v);
		}
	}
	m = json_pack("{s:s, s:s, s:s, s:s}", "resourceType",
	    group ? "Group" : "User", "created",
	    json_string_value(json_object_get(meta, "created")) ?
	    json_string_value(json_object_get(meta, "created")) : now,
	    "lastModified", json_string_value(json_object_get(meta,
	    "lastModified")) ? json_string_value(json_object_get(meta,
	    "lastModified")) : now, "version", "");
	json_object_set_new(rec, "meta", m);
	json_decref(valid);
	item->rec = rec;
	return true;
}

/*
 * The import streams: records are read, validated and written a batch at
 * a time (LIMIT_IMPORT_BATCH per transaction), so memory stays bounded by a
 * batch whatever the size of the input.  Memberships are written after
 * every record, because a member may come later in the input than its
 * group; only the groups' member lists are kept until then.  With
 * --atomic everything is held and written in one transaction.
 */

struct import_batch {
	struct import_item	*items;		/* owned, with their records */
	size_t			 n, cap;
	bool			 records;	/* write the records */
	bool			 members;	/* write the memberships */
};

struct import_state {
	struct store		*store;
	bool			 atomic;
	struct import_batch	 batch;		/* records not yet written */
	/* groups with members, for later */
	struct import_batch	 groups;
	size_t			 imported, rejected;
};

/* Writes b's records and/or memberships in the caller's transaction. */
static enum scim_err
import_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct import_batch *b = ctx;
	struct import_item *it;
	const json_t *mv;
	char version[32];
	enum scim_err e;
	size_t i, j;

	for (i = 0; b->records && i < b->n; i++) {
		it = &b->items[i];
		if ((e = store_next_version(txn, version, sizeof(version),
		    err)) != SCIM_OK)
			return e;
		json_object_set_new(json_object_get(it->rec, "meta"), "version",
		    json_string(version));
		if ((e = store_put(txn, it->type, NULL, it->rec,
		    err)) != SCIM_OK) {
			char line[64];

			snprintf(line, sizeof(line), "line %zu: ", it->line);
			return err_set(err, e, "%s%s", line, err->detail);
		}
		if ((e = store_audit(txn, "scimctl", "import",
		    it->type == RT_USER ?
		    "User" : "Group", json_string_value(json_object_get(it->rec,
		    "id")), version, 0, err)) != SCIM_OK)
			return e;
	}
	for (i = 0; b->members && i < b->n; i++) {
		it = &b->items[i];
		json_array_foreach(it->members, j, mv) {
			const char *mid = json_string_value(
			    json_object_get(mv, "value"));
			bool user = false, group = false;

			if (mid != NULL && ((e = store_exists(txn, RT_USER,
			    mid, &user, err)) != SCIM_OK || (!user &&
			    (e = store_exists(txn, RT_GROUP, mid, &group,
			    err)) != SCIM_OK)))
				return e;
			if (!user && !group) {
				fprintf(stderr, "scimctl: import: line %zu: "
				    "member %.40s unknown, skipped\n",
				    it->line, mid ? mid : "?");
				continue;
			}
			if ((e = store_member_add(txn, json_string_value(
			    json_object_get(it->rec, "id")), mid, err)) !=
			    SCIM_OK)
				return e;
		}
		/* Written after the record (an earlier transaction): the
		 * group's version must change with its members. */
		if (!b->records && json_array_size(it->members) > 0 &&
		    (e = store_touch(txn, RT_GROUP, json_string_value(
		    json_object_get(it->rec, "id")), false, err)) != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* Appends item to b (taking its references); false when out of memory. */
static bool
import_push(struct import_batch *b, const struct import_item *item)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct import_item *p = realloc(b->items, cap * sizeof(*p));

		if (p == NULL)
			return false;
		b->items = p;
		b->cap = cap;
	}
	b->items[b->n++] = *item;
	return true;
}

/* Drops b's items and their references; keeps its allocation. */
static void
import_clear(struct import_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		json_decref(b->items[i].rec);
		json_decref(b->items[i].members);
	}
	b->n = 0;
}

/* Writes the pending records in one transaction, then keeps the groups
 * that have members for the membership pass. */
static enum scim_err
import_flush(struct import_state *st, struct scim_error *err)
{
	struct import_batch *b = &st->batch;
	enum scim_err e;
	size_t i;

	if (b->n == 0)
		return SCIM_OK;
	b->records = true;
	b->members = st->atomic;
	if ((e = store_write(st->store, import_fn, b, err)) != SCIM_OK)
		return e;
	st->imported += b->n;
	for (i = 0; !st->atomic && i < b->n; i++) {
		struct import_item *it = &b->items[i];

		if (json_array_size(it->members) == 0)
			continue;
		if (!import_push(&st->groups, it))
			return err_set(err, SCIM_ERR_NOMEM, "out of memory");
		it->rec = NULL;		/* now owned by st->groups */
		it->members = NULL;
	}
	import_clear(b);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rrecords %zu", st->imported);
	return SCIM_OK;
}

/* Validates one input resource into the pending batch, writing the batch
 * when it is full. */
static enum scim_err
import_one(struct import_state *st, json_t *doc, size_t line,
    struct scim_error *err)
{
	struct import_item item;

	if (!import_prepare(doc, line, &item)) {
		st->rejected++;
		return SCIM_OK;
	}
	if (!import_push(&st->batch, &item)) {
		json_decref(item.rec);
		json_decref(item.members);
		return err_set(err, SCIM_ERR_NOMEM, "out of memory");
	}
	if (!st->atomic && st->batch.n >= LIMIT_IMPORT_BATCH)
		return import_flush(st, err);
	return SCIM_OK;
}

/* Writes the kept groups' memberships, LIMIT_IMPORT_BATCH groups at a time. */
static enum scim_err
import_memberships(struct import_state *st, struct scim_error *err)
{
	struct import_batch part;
	size_t start;
	enum scim_err e;

	for (start = 0; start < st->groups.n; start += LIMIT_IMPORT_BATCH) {
		part = st->groups;
		part.items = st->groups.items + start;
		part.n = st->groups.n - start < LIMIT_IMPORT_BATCH ?
		    st->groups.n - start : LIMIT_IMPORT_BATCH;
		part.records = false;
		part.members = true;
		if ((e = store_write(st->store, import_fn, &part,
		    err)) != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* import [--atomic] [FILE]: NDJSON, or one ListResponse document. */
static int
cmd_import(struct store *s, int argc, char **argv, struct scim_error *err)
{
	struct import_state st;
	size_t line = 0, i;
	FILE *in = stdin;
	char *buf = NULL;
	size_t bufsz = 0;
	ssize_t n;
	json_t *list = NULL, *r;
	int rc = 0, a;

	memset(&st, 0, sizeof(st));
	st.store = s;
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--atomic") == 0)
			st.atomic = true;
		else if ((in = fopen(argv[a], "r")) == NULL) {
			err_set(err, SCIM_ERR_UNAVAILABLE, "cannot read %s: %s",
			    argv[a], strerror(errno));
			return 1;
		}
	}
	while ((n = getline(&buf, &bufsz, in)) > 0) {
		json_t *doc;
		json_error_t je;

		line++;
		if (strspn(buf, " \t\r\n") == (size_t)n)
			continue;
		doc = json_loadb(buf, (size_t)n, 0, &je);
		if (doc == NULL &&
		    st.imported + st.batch.n + st.rejected == 0) {
			/* Maybe a multi-line ListResponse: read it whole. */
			rewind(in);
			if ((list = json_loadf(in, 0, &je)) == NULL) {
				fprintf(stderr,
				    "scimctl: import: line %d: %s\n",
				    je.line, je.text);
				rc = 1;
				goto done;
			}
			break;
		}
		if (doc == NULL) {
			fprintf(stderr, "scimctl: import: line %zu rejected: "
			    "not JSON\n", line);
			st.rejected++;
			continue;
		}
		if (json_is_array(json_object_get(doc, "Resources"))) {
			list = doc;
			break;
		}
		if (import_one(&st, doc, line, err) != SCIM_OK) {
			json_decref(doc);
			rc = 1;
			goto done;
		}
		json_decref(doc);
	}
	json_array_foreach(json_object_get(list, "Resources"), i, r)
		if (import_one(&st, r, i + 1, err) != SCIM_OK) {
			rc = 1;
			goto done;
		}
	if (st.atomic && st.rejected > 0) {
		err_set(err, SCIM_ERR_INVALID_VALUE, "%zu records rejected; "
		    "nothing imported (--atomic)", st.rejected);
		rc = 1;
		goto done;
	}
	if (import_flush(&st, err) != SCIM_OK ||
	    import_memberships(&st, err) != SCIM_OK) {
		rc = 1;
		goto done;
	}
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	printf("%zu imported, %zu rejected\n", st.imported, st.rejected);
	if (st.rejected > 0)
		rc = 1;
done:
	if (rc != 0 && st.imported > 0 && !st.atomic)
		fprintf(stderr, "scimctl: import: %zu records were stored "
		    "before the failure\n", st.imported);
	import_clear(&st.batch);
	import_clear(&st.groups);
	free(st.batch.items);
	free(st.groups.items);
	free(buf);
	json_decref(list);
	if (in != stdin)
		fclose(in);
	return rc;
}

/* ---- read access --------------------------------------------------------- */

struct show_ctx {
	enum rtype	 type;
	const char	*key;
	bool		 found;
	struct store_txn *txn;
};

static bool
show_one(const char *id, void *ctx)
{
	struct show_ctx *c = ctx;
	const char *data;
	size_t len;

	if (store_get_raw(c->txn, c->type, id, &data, &len, NULL) == SCIM_OK) {
		fwrite(data, 1, len, stdout);
		putchar('\n');
		c->found = true;
	}
	return true;
}

static enum scim_err
show_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct show_ctx *c = ctx;

	c->txn = txn;
	if (c->key == NULL)
		return store_scan(txn, c->type, NULL, show_one, c, err);
	show_one(c->key, c);
	return SCIM_OK;
}

static enum scim_err
find_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct show_ctx *c = ctx;
	enum scim_err e;

	c->txn = txn;
	if ((e = store_lookup(txn, IDX_USERNAME, c->key, strlen(c->key),
	    show_one, c, err)) != SCIM_OK || c->found)
		return e;
	return store_lookup(txn, IDX_EMAIL, c->key, strlen(c->key), show_one,
	    c, err);
}

/* user/group get, find and list: stored records as JSON lines. */
static int
cmd_show(struct store *s, enum rtype t, int argc, char **argv,
    struct scim_error *err)
{
	struct show_ctx c = { t, NULL, false, NULL };

	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return store_read(s, show_fn, &c, err) == SCIM_OK ? 0 : 1;
	if (argc == 2 && strcmp(argv[0], "get") == 0) {
		c.key = argv[1];
		if (store_read(s, show_fn, &c, err) != SCIM_OK)
			return 1;
	} else if (argc == 2 && t == RT_USER && strcmp(argv[0], "find") == 0) {
		c.key = argv[1];
		if (store_read(s, find_fn, &c, err) != SCIM_OK)
			return 1;
	} else {
		usage();
		return 2;
	}
	if (!c.found)
		err_set(err, SCIM_ERR_NOT_FOUND, "no such %s",
		    t == RT_USER ? "user" : "group");
	return c.found ? 0 : 1;
}

/* ---- migrate and rename
 * ------------------------------------------------------ */

/* Prints one problem the migration found. */
static void
migrate_line(const char *line, void *ctx)
{
	(*(size_t *)ctx)++;
	printf("problem: %s\n", line);
}

struct refused_ctx {
	struct store_txn	*txn;
	size_t			 n;
};

/* Prints a note for a user whose stored userName the API now refuses
 * (an older scimd accepted it): a write to it fails until renamed. */
static bool
refused_one(const char *id, void *ctx)
{
	struct refused_ctx *r = ctx;
	json_t *rec = NULL;
	const char *name;
	char why[96];

	if (store_get(r->txn, RT_USER, id, &rec, NULL) == SCIM_OK &&
	    (name = json_string_value(json_object_get(rec, "userName"))) !=
	    NULL && fold_username_refused(name, strlen(name), why,
	    sizeof(why))) {
		printf("note: user %s: its userName %s; PUT and PATCH of it "
		    "fail until it is renamed (scimctl --db DIR user rename "
		    "%s NEW-NAME)\n", id, why, id);
		r->n++;
	}
	json_decref(rec);
	return true;
}

static enum scim_err
refused_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	((struct refused_ctx *)ctx)->txn = txn;
	return store_scan(txn, RT_USER, NULL, refused_one, ctx, err);
}

/*
 * migrate: the store was opened as it is (STORE_NO_MIGRATE); brings it
 * to the current layout, or lists every problem that prevents it and
 * changes nothing.  Also notes the users whose stored userName the API
 * refuses today.
 */
static int
cmd_migrate(struct store *s, struct scim_error *err)
{
	struct refused_ctx r = { NULL, 0 };
	int from = store_layout(s);
	size_t problems = 0;

	if (store_read(s, refused_fn, &r, err) != SCIM_OK)
		return 1;
	if (from == STORE_LAYOUT_VERSION) {
		printf("store at layout %d: nothing to migrate\n", from);
		return 0;
	}
	if (store_migrate(s, migrate_line, &problems, err) != SCIM_OK) {
		if (problems > 0)
			printf("%zu problem%s; nothing changed.  Rename users "
			    "with "
			    "`scimctl --db DIR user rename ID NEW-NAME`, then "
			    "run "
			    "migrate again.\n", problems,
			    problems == 1 ? "" : "s");
		return 1;
	}
	printf("store migrated from layout %d to %d\n", from,
	    STORE_LAYOUT_VERSION);
	return 0;
}

struct rename_ctx {
	const char	*id;
	const char	*name;
};

/* Sets the userName of one user, with a new version, and audits it. */
static enum scim_err
rename_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct rename_ctx *r = ctx;
	json_t *old = NULL, *rec = NULL, *meta;
	char version[32], now[32];
	enum scim_err e;

	if ((e = store_get(txn, RT_USER, r->id, &old, err)) != SCIM_OK)
		return e;
	if ((e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	store_now(now, sizeof(now));
	if ((rec = json_deep_copy(old)) == NULL ||
	    !json_is_object(meta = json_object_get(rec, "meta")) ||
	    json_object_set_new(rec, "userName", json_string(r->name)) != 0 ||
	    json_object_set_new(meta, "lastModified", json_string(now)) != 0 ||
	    json_object_set_new(meta, "version", json_string(version)) != 0) {
		e = err_set(err, SCIM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* meta stays the last member: store.h's record shape. */
	if ((e = store_put(txn, RT_USER, old, rec, err)) != SCIM_OK)
		goto fail;
	e = store_audit(txn, "scimctl", "rename", "User", r->id, version, 0,
	    err);
fail:
	json_decref(old);
	json_decref(rec);
	return e;
}

/* user rename ID NEW-NAME: refused names as the API refuses them. */
static int
cmd_rename(struct store *s, const char *id, const char *name,
    struct scim_error *err)
{
	struct rename_ctx r = { id, name };
	char why[96];

	if (fold_username_refused(name, strlen(name), why, sizeof(why))) {
		err_set(err, SCIM_ERR_INVALID_VALUE, "the new userName %s",
		    why);
		return 1;
	}
	if (store_write(s, rename_fn, &r, err) != SCIM_OK)
		return 1;
	printf("user %s renamed\n", id);
	return 0;
}

/* ---- audit --------------------------------------------------------------- */

struct audit_ctx {
	unsigned long long	 after;
	const char		*id;
	/* RFC 3339 in store_now()'s form, or NULL */
	const char		*since;
};

/* Prints one audit entry that passes the --id and --since filters and
 * remembers its sequence number for --follow. */
static bool
audit_print(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	struct audit_ctx *a = ctx;

	a->after = seq;
	if (a->id != NULL || a->since != NULL) {
		json_t *e = json_loadb(json, len, 0, NULL);
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *t = json_string_value(json_object_get(e, "time"));
		/* Same fixed-width UTC form: text order is time order. */
		bool want = (a->id == NULL || (id != NULL &&
		    strcmp(id, a->id) == 0)) && (a->since == NULL ||
		    (t != NULL && strcmp(t, a->since) >= 0));

		json_decref(e);
		if (!want)
			return true;
	}
	fwrite(json, 1, len, stdout);
	putchar('\n');
	return true;
}

static enum scim_err
audit_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct audit_ctx *a = ctx;

	return store_audit_list(txn, a->after, audit_print, a, err);
}

/* audit [--after SEQ] [--since WHEN] [--id ID] [--follow]: the trail,
 * polled five times a second with --follow. */
static int
cmd_audit(struct store *s, int argc, char **argv, struct scim_error *err)
{
	struct audit_ctx a = { 0, NULL, NULL };
	char since[40];
	time_t at;
	bool follow = false;
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0)
			follow = true;
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			char *end;

			errno = 0;
			a.after = strtoull(argv[++i], &end, 10);
			if (errno != 0 || end == argv[i] || *end != '\0' ||
			    argv[i][0] == '-') {
				err_set(err, SCIM_ERR_INVALID_VALUE, "--after "
				    "takes a sequence number (scimctl audit "
				    "prints them)");
				return 1;
			}
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			a.id = argv[++i];
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (!parse_when(argv[++i], -1, &at, since,
			    sizeof(since))) {
				err_set(err, SCIM_ERR_INVALID_VALUE, "--since "
				    "takes a time ago (2h, 7d) or a date "
				    "(2026-11-01 or 2026-11-01T12:00:00Z)");
				return 1;
			}
			a.since = since;
		} else {
			usage();
			return 2;
		}
	}
	do {
		if (store_read(s, audit_fn, &a, err) != SCIM_OK)
			return 1;
		fflush(stdout);
		if (follow)
			usleep(200000);
	} while (follow);
	return 0;
}

/* A linear main: options, the store, one command, the store closed on
 * every path; exit 0 done, 1 failed, 2 usage. */
int
main(int argc, char *argv[])
{
	const char *db = getenv("SCIMD_DB"), *cmd, *step = "open";
	struct store *s = NULL;
	struct scim_error err;
	int i = 1, rc = 1;
	bool create, as_is;

	err_clear(&err);
	/* it prints new tokens, reads the store */
	sandbox_no_core_dumps();
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-V") == 0)) {
		printf("scimctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		usage_to(stdout, argc > 2 ? argv[2] : NULL);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--db") == 0) {
		db = argv[2];
		i = 3;
	} else if (argc > 1 && strncmp(argv[1], "--db=", 5) == 0) {
		db = argv[1] + 5;
		i = 2;
	}
	/* `scimctl [--db DIR] CMD ... --help`: that command's usage, without
	 * touching (or needing) a store. */
	if (i < argc && (strcmp(argv[i], "help") == 0 ||
	    wants_help(argc - i, argv + i))) {
		cmd = strcmp(argv[i], "help") == 0 ? (i + 1 < argc ?
		    argv[i + 1] : NULL) : argv[i];
		usage_to(stdout, cmd);
		return 0;
	}
	if (i >= argc || db == NULL || *db == '\0') {
		usage();
		return 2;
	}
	cmd = argv[i++];
	if (schema_init(NULL, &err) != SCIM_OK)
		goto fail;
	create = strcmp(cmd, "init") == 0 || strcmp(cmd, "token") == 0 ||
	    strcmp(cmd, "import") == 0;
	/* migrate and user rename work on a store of an older layout as it
	 * is: they are how a migration that found a problem gets done. */
	as_is = strcmp(cmd, "migrate") == 0 || (strcmp(cmd, "user") == 0 &&
	    i < argc && strcmp(argv[i], "rename") == 0);
	if (store_open_flags(db, (create ? STORE_CREATE : 0) |
	    (as_is ? STORE_NO_MIGRATE : 0), &s, &err) != SCIM_OK)
		goto fail;
	step = cmd;
	if (strcmp(cmd, "init") == 0) {
		printf("store ready at %s\n", db);
		rc = 0;
	} else if (strcmp(cmd, "token") == 0)
		rc = cmd_token(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "backup") == 0 && argc - i == 1) {
		if (mkdir(argv[i], 0700) != 0 && errno != EEXIST)
			err_set(&err, SCIM_ERR_UNAVAILABLE, "cannot create %s: "
			    "%s", argv[i], strerror(errno));
		else if (store_backup(s, argv[i], &err) == SCIM_OK) {
			printf("backup written to %s/data.mdb\n", argv[i]);
			rc = 0;
		}
	} else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(s, false, &err);
	else if (strcmp(cmd, "reindex") == 0)
		rc = cmd_verify(s, true, &err);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(s, &err);
	else if (strcmp(cmd, "export") == 0)
		rc = cmd_export(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "restore") == 0)
		rc = cmd_restore(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "migrate") == 0 && argc == i)
		rc = cmd_migrate(s, &err);
	else if (strcmp(cmd, "user") == 0 && argc - i == 3 &&
	    strcmp(argv[i], "rename") == 0)
		rc = cmd_rename(s, argv[i + 1], argv[i + 2], &err);
	else if (strcmp(cmd, "user") == 0)
		rc = cmd_show(s, RT_USER, argc - i, argv + i, &err);
	else if (strcmp(cmd, "group") == 0)
		rc = cmd_show(s, RT_GROUP, argc - i, argv + i, &err);
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(s, argc - i, argv + i, &err);
	else {
		usage();
		rc = 2;
	}
fail:
	if (rc == 1 && err.code != SCIM_OK)
		fprintf(stderr, "scimctl: %s: %s\n", step, err.detail[0] ?
		    err.detail : err_default_detail(err.code));
	store_close(s);
	return rc;
}
