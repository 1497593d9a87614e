/*
 * scimctl: administration of a scimd store (see scimctl(8)).
 *
 *	scimctl --db DIR init
 *	scimctl --db DIR token add NAME | token list | token revoke NAME
 *	scimctl --db DIR backup DEST-DIR
 *	scimctl --db DIR verify | reindex | stats
 *	scimctl --db DIR export [users|groups]
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

#include <sodium.h>

#include "auth.h"
#include "schema.h"
#include "store.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: scimctl [--db DIR] command [args]\n"
	    "commands:\n"
	    "  init                  create the store\n"
	    "  token add NAME        make a bearer token; prints it last\n"
	    "  token list            list token names\n"
	    "  token revoke NAME     remove a token\n"
	    "  backup DEST-DIR       consistent, compacted copy of a live store\n"
	    "  verify                check indexes against records\n"
	    "  reindex               rebuild every index from the records\n"
	    "  stats                 entries per database\n"
	    "  export [users|groups] one stored record per line (JSON)\n");
}

/* ---- token ------------------------------------------------------------- */

struct token_ctx {
	const char	*name;
	unsigned char	 hash[STORE_HASH_LEN];
};

static enum scim_err
token_add_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct token_ctx *t = ctx;

	return store_token_put(txn, t->name, t->hash, err);
}

static enum scim_err
token_revoke_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_token_delete(txn, ((struct token_ctx *)ctx)->name, err);
}

static void
token_print(const char *name, const char *created, void *ctx)
{
	(void)ctx;
	printf("%s\t%s\n", name, created ? created : "");
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

static int
cmd_token(struct store *s, int argc, char **argv, struct scim_error *err)
{
	struct token_ctx t;
	char token[64];

	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return store_read(s, token_list_fn, NULL, err) == SCIM_OK ? 0 : 1;
	if (argc != 2) {
		usage();
		return 2;
	}
	memset(&t, 0, sizeof(t));
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
		fprintf(stderr, "Token %s created. It is shown once; the store "
		    "keeps only its hash.\n", t.name);
		printf("%s\n", token);
		sodium_memzero(token, sizeof(token));
		return 0;
	}
	if (strcmp(argv[0], "revoke") == 0)
		return store_write(s, token_revoke_fn, &t, err) == SCIM_OK ? 0 : 1;
	usage();
	return 2;
}

/* ---- maintenance ---------------------------------------------------------- */

struct verify_ctx {
	bool	 repair;
	size_t	 problems;
};

static enum scim_err
verify_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct verify_ctx *v = ctx;

	return store_verify(txn, v->repair, &v->problems, err);
}

static int
cmd_verify(struct store *s, bool repair, struct scim_error *err)
{
	struct verify_ctx v = { repair, 0 };
	enum scim_err e;

	if (repair)
		e = store_write(s, verify_fn, &v, err);
	else
		e = store_read(s, verify_fn, &v, err);
	if (e != SCIM_OK)
		return 1;
	if (repair) {
		printf("indexes rebuilt; %zu stale entries dropped\n", v.problems);
		return 0;
	}
	printf("%zu problems found\n", v.problems);
	return v.problems == 0 ? 0 : 1;
}

static void
stat_print(const char *name, size_t entries, void *ctx)
{
	(void)ctx;
	printf("%-16s %zu\n", name, entries);
}

static enum scim_err
stats_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_stats(txn, stat_print, ctx, err);
}

struct export_ctx {
	struct store_txn	*txn;
	enum rtype		 type;
};

static bool
export_one(const char *id, void *vctx)
{
	struct export_ctx *x = vctx;
	const char *data;
	size_t len;

	if (store_get_raw(x->txn, x->type, id, &data, &len, NULL) == SCIM_OK) {
		fwrite(data, 1, len, stdout);
		putchar('\n');
	}
	return true;
}

static enum scim_err
export_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	const char *which = ctx;
	struct export_ctx x = { txn, RT_USER };
	enum scim_err e = SCIM_OK;

	if (which == NULL || strcmp(which, "users") == 0)
		e = store_scan(txn, RT_USER, NULL, export_one, &x, err);
	x.type = RT_GROUP;
	if (e == SCIM_OK && (which == NULL || strcmp(which, "groups") == 0))
		e = store_scan(txn, RT_GROUP, NULL, export_one, &x, err);
	return e;
}

int
main(int argc, char *argv[])
{
	const char *db = getenv("SCIMD_DB"), *cmd, *step = "open";
	struct store *s = NULL;
	struct scim_error err;
	int i = 1, rc = 1;
	bool create;

	err_clear(&err);
	if (argc > 2 && strcmp(argv[1], "--db") == 0) {
		db = argv[2];
		i = 3;
	} else if (argc > 1 && strncmp(argv[1], "--db=", 5) == 0) {
		db = argv[1] + 5;
		i = 2;
	}
	if (i >= argc || db == NULL || *db == '\0') {
		usage();
		return 2;
	}
	cmd = argv[i++];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage();
		return 0;
	}
	if (schema_init(NULL, &err) != SCIM_OK)
		goto fail;
	create = strcmp(cmd, "init") == 0 || strcmp(cmd, "token") == 0;
	if (store_open(db, create, &s, &err) != SCIM_OK)
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
		rc = store_read(s, stats_fn, NULL, &err) == SCIM_OK ? 0 : 1;
	else if (strcmp(cmd, "export") == 0 && argc - i <= 1)
		rc = store_read(s, export_fn, argc > i ? argv[i] : NULL,
		    &err) == SCIM_OK ? 0 : 1;
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
