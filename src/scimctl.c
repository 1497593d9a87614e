/*
 * scimctl: administration of a scimd store (see scimctl(8)).
 *
 *	scimctl [-c SETTINGS] [--db DIR] init
 *	scimctl ... token add NAME [--expires WHEN] | token list |
 *	    token revoke NAME
 *	scimctl ... backup DEST-DIR | restore [--with-tokens] SRC-DIR
 *	scimctl ... verify | reindex | stats
 *	scimctl ... export [users|groups] [FILE] | import [--atomic] [FILE]
 *	scimctl ... user|group get|find|list [--json]
 *	scimctl ... audit [...] | watch [...] --exec PROGRAM [ARG...]
 *	scimctl ... migrate | user rename ID NEW-NAME
 *
 * This file holds main and the small commands; import (ctl_import.c),
 * the read commands (ctl_read.c), watch (ctl_watch.c) and private files
 * (ctl_files.c) live apart, verify and reindex in verify.c.  The store
 * directory comes from --db, else $SCIMD_DB, else the settings' db.
 * Exit status: 0 on success, 1 on failure (with one line on stderr
 * naming the step), 2 on a usage error, 3 not found (ctl.h).
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
#include "conf.h"
#include "ctl.h"
#include "fold.h"
#include "jsonx.h"
#include "sandbox.h"
#include "schema.h"
#include "store.h"
#include "verify.h"

/* From the site's settings (conf.c): audit entries kept, and what
 * becomes of a password in an imported record. */
static struct ctl_site site;

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
	    "                        (WHEN: 90d, 12h, 30m, 2027-01-31, ...)\n"
	    "  token list            list tokens: name, created, expires\n"
	    "  token revoke NAME     remove a token\n" },
	{ "backup",
	    "  backup DEST-DIR       consistent, compacted copy of a live "
	    "store\n" },
	{ "verify",
	    "  verify                indexes, memberships, tokens both ways\n"
	    "                        (each problem named; exit 1 if any)\n" },
	{ "reindex",
	    "  reindex               repair what verify finds, in one\n"
	    "                        transaction (records never changed)\n" },
	{ "stats",
	    "  stats                 counts, file and map size, readers\n" },
	{ "export",
	    "  export [users|groups] [FILE]   NDJSON, one resource per "
	    "line\n" },
	{ "import",
	    "  import [--atomic] [FILE]       NDJSON or a ListResponse\n" },
	{ "restore",
	    "  restore [--with-tokens] SRC-DIR\n"
	    "                        replace the content with a backup; the\n"
	    "                        current tokens stay unless "
	    "--with-tokens\n" },
	{ "user",
	    "  user get ID | user find NAME-OR-EMAIL | user list  [--json]\n"
	    "                        as stored; --json: with its groups\n"
	    "                        (exit 3: no such user)\n"
	    "  user rename ID NEW-NAME   change a userName (also in a\n"
	    "                        store that does not migrate yet)\n" },
	{ "migrate",
	    "  migrate               bring the store to the current layout;\n"
	    "                        lists every problem that stops it\n" },
	{ "group",
	    "  group get ID | group list  [--json]\n"
	    "                        as stored; --json: with its members\n"
	    "                        (exit 3: no such group)\n" },
	{ "audit",
	    "  audit [--after SEQ] [--since WHEN] [--id ID] [--follow]\n"
	    "                        the change trail, one JSON entry a line\n"
	    "                        (WHEN: 2h, 7d, 2026-11-01, ...: "
	    "ago/since)\n" },
	{ "watch",
	    "  watch [--state FILE] [--after SEQ] --exec PROGRAM [ARG...]\n"
	    "                        run PROGRAM for each committed change "
	    "(JSON\n"
	    "                        on stdin), at least once, in order; "
	    "resumes\n"
	    "                        after the seq saved in FILE\n" },
};

/* Prints the usage of cmd (every command when cmd is NULL or unknown). */
static void
usage_to(FILE *out, const char *cmd)
{
	size_t i, n = sizeof(synopses) / sizeof(synopses[0]), shown = 0;

	fprintf(out, "usage: scimctl [-c SETTINGS] [--db DIR] command [args]\n"
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
	fprintf(out, "Exit status: 0 done, 1 failed (the reason on stderr: "
	    "the store, a file), 2 usage, 3 not found (user/group get|find); "
	    "see scimctl(8).\n");
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
	    site.audit_keep, err);
}

static enum scim_err
token_revoke_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	const char *name = ((struct token_ctx *)ctx)->name;
	enum scim_err e;

	if ((e = store_token_delete(txn, name, err)) != SCIM_OK)
		return e;
	return store_audit(txn, "scimctl", "token-revoke", "Token", name, NULL,
	    site.audit_keep, err);
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
		    end[1] != '\0' || n == 0 || n > 100UL * 366)
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
		if (*rest == 'T' &&
		    (rest = strptime(rest + 1, "%H:%M:%S", &tm)) == NULL)
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

/* token add NAME [--expires WHEN] | list | revoke NAME. */
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
			err_set(err, SCIM_ERR_INVALID_VALUE, "--expires takes "
			    "a lifetime (90d, 12h, 30m) or a future date "
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

/* ---- maintenance ---------------------------------------------------- */

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

/* Prints one pair of records the unique indexes' rebuild found. */
static void
unique_problem(const char *line, void *ctx)
{
	fprintf(ctx, "%s%s\n", ctx == stdout ? "NOT repaired duplicate "
	    "unique value: " : "scimctl: unique attribute: ", line);
}

/*
 * With the site's settings read, the store's unique indexes are built
 * for the unique attributes of its schemas (store.h) before an import
 * or a reindex, as scimd's start builds them, so that an import into a
 * store scimd has not served yet is checked too.  0, or 1 when records
 * share a value of a newly unique attribute (each pair printed on out;
 * nothing changed) or the store fails.
 */
static int
unique_sync(struct store *s, FILE *out, struct scim_error *err)
{
	bool rebuilt;

	if (store_unique_sync(s, unique_problem, out, &rebuilt, err) !=
	    SCIM_OK)
		return 1;
	if (rebuilt)
		fprintf(stderr, "scimctl: the schemas' unique attributes "
		    "changed: their indexes were rebuilt\n");
	return 0;
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
		fprintf(stderr, "scimctl: restore: WARNING: --with-tokens: "
		    "the backup's tokens REPLACE the current ones. Tokens made "
		    "since the backup stop working; tokens revoked since the "
		    "backup WORK AGAIN. Revoke what should stay revoked "
		    "now.\n");
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

/* The counts and the entries of each database, in one snapshot. */
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

/* stats: counts, then the file, the map and the readers. */
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
	if (e == SCIM_OK &&
	    (a->which == NULL || strcmp(a->which, "groups") == 0))
		e = store_scan(txn, RT_GROUP, NULL, export_one, &x, err);
	return e != SCIM_OK ? e : x.e;
}

/* export [users|groups] [FILE]: FILE is written 0600. */
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
		    (a.out = ctl_private_fopen(argv[i], err)) == NULL)
			return 1;
	}
	rc = store_read(s, export_fn, &a, err) == SCIM_OK ? 0 : 1;
	if (a.out != stdout && fclose(a.out) != 0)
		rc = 1;
	return rc;
}

/* ---- migrate and rename ---------------------------------------------- */

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
			    "with `scimctl --db DIR user rename ID NEW-NAME`, "
			    "then run migrate again.\n", problems,
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
	e = store_audit(txn, "scimctl", "rename", "User", r->id, version,
	    site.audit_keep, err);
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
	const char		*since;	/* RFC 3339 (store_now()) or NULL */
};

/* Prints one trail entry that passes the --id and --since filters. */
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

/* A sequence number: decimal digits only, in range. */
static bool
parse_seq(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *s >= '0' && *s <= '9';
}

/* audit [--after SEQ] [--since WHEN] [--id ID] [--follow]. */
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
			if (!parse_seq(argv[++i], &a.after)) {
				usage();
				return 2;
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

/* Options, the settings, the store, then the command; one exit path. */
int
main(int argc, char *argv[])
{
	const char *db = NULL, *conf_path = NULL, *cmd, *step = "settings";
	struct store *s = NULL;
	struct scim_error err;
	struct conf conf;
	int i = 1, rc = 1;
	bool create, as_is;

	err_clear(&err);
	memset(&conf, 0, sizeof(conf));
	umask(077);		/* stores, backups, exports: 0600 in 0700 */
	sandbox_no_core_dumps();	/* it prints tokens, reads the store */
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
	for (;;) {
		if (i + 1 < argc && strcmp(argv[i], "--db") == 0) {
			db = argv[i + 1];
			i += 2;
		} else if (i < argc && strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i++] + 5;
		else if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
			conf_path = argv[i + 1];
			i += 2;
		} else
			break;
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
	if (i >= argc) {
		usage();
		return 2;
	}
	cmd = argv[i++];
	/* The site's settings, found as scimd finds them (-c, $SCIMD_CONF,
	 * scimd.conf beside the binary); --db, then $SCIMD_DB, override
	 * their store. */
	if (conf_load(&conf, conf_path, argv[0], &err) != SCIM_OK)
		goto fail;
	if (db == NULL)
		db = conf.db;
	if (db == NULL || *db == '\0') {
		conf_free(&conf);
		usage();
		return 2;
	}
	site.audit_keep = conf.audit_keep;
	site.password = conf.password;
	if (schema_init(conf.schemas, &err) != SCIM_OK)
		goto fail;
	step = "open";
	create = strcmp(cmd, "init") == 0 || strcmp(cmd, "token") == 0 ||
	    strcmp(cmd, "import") == 0;
	/* migrate and user rename work on a store of an older layout as it
	 * is: they are how a migration that found a problem gets done. */
	as_is = strcmp(cmd, "migrate") == 0 || (strcmp(cmd, "user") == 0 &&
	    i < argc && strcmp(argv[i], "rename") == 0);
	if (create && ctl_private_dir(db, true, cmd, &err) != 0)
		goto fail;
	if (store_open_flags(db, (create ? STORE_CREATE : 0) |
	    (as_is ? STORE_NO_MIGRATE : 0), &s, &err) != SCIM_OK)
		goto fail;
	step = cmd;
	if (strcmp(cmd, "init") == 0) {
		rc = conf.file != NULL ? unique_sync(s, stderr, &err) : 0;
		if (rc == 0)
			printf("store ready at %s\n", db);
	} else if (strcmp(cmd, "token") == 0)
		rc = cmd_token(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "backup") == 0 && argc - i == 1) {
		if (ctl_private_dir(argv[i], false, "backup", &err) == 0 &&
		    store_backup(s, argv[i], &err) == SCIM_OK) {
			printf("backup written to %s/data.mdb\n", argv[i]);
			rc = 0;
		}
	} else if (strcmp(cmd, "verify") == 0) {
		rc = cmd_verify(s, false, &err);
		if (conf.file != NULL && !store_unique_current(s)) {
			printf("unique attributes: the store's indexes hold "
			    "another list than the schemas declare; scimd's "
			    "next start or scimctl reindex rebuilds them\n");
			rc = 1;
		}
	} else if (strcmp(cmd, "reindex") == 0) {
		rc = conf.file != NULL ? unique_sync(s, stdout, &err) : 0;
		if (rc == 0)
			rc = cmd_verify(s, true, &err);
	}
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(s, &err);
	else if (strcmp(cmd, "export") == 0)
		rc = cmd_export(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "import") == 0)
		rc = conf.file != NULL && unique_sync(s, stderr, &err) != 0 ?
		    1 : ctl_import(s, &site, argc - i, argv + i, &err);
	else if (strcmp(cmd, "restore") == 0)
		rc = cmd_restore(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "migrate") == 0 && argc == i)
		rc = cmd_migrate(s, &err);
	else if (strcmp(cmd, "user") == 0 && argc - i == 3 &&
	    strcmp(argv[i], "rename") == 0)
		rc = cmd_rename(s, argv[i + 1], argv[i + 2], &err);
	else if (strcmp(cmd, "user") == 0)
		rc = ctl_show(s, RT_USER, argc - i, argv + i, &err);
	else if (strcmp(cmd, "group") == 0)
		rc = ctl_show(s, RT_GROUP, argc - i, argv + i, &err);
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(s, argc - i, argv + i, &err);
	else if (strcmp(cmd, "watch") == 0)
		rc = ctl_watch(s, db, argc - i, argv + i, &err);
	else {
		usage();
		rc = 2;
	}
	if (rc == CTL_USAGE && (strcmp(cmd, "user") == 0 ||
	    strcmp(cmd, "group") == 0 || strcmp(cmd, "watch") == 0))
		usage_to(stderr, cmd);
fail:
	if ((rc == CTL_FAILED || rc == CTL_NOT_FOUND) && err.code != SCIM_OK)
		fprintf(stderr, "scimctl: %s: %s\n", step, err.detail[0] ?
		    err.detail : err_default_detail(err.code));
	store_close(s);
	conf_free(&conf);
	return rc;
}
