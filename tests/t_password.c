/*
 * t_password.c: with `password = argon2id`, the hash (about 100 ms of
 * Argon2id by design) is made while no write transaction is open, so it
 * never holds LMDB's one write lock.  Requests run through app_serve()
 * in process against a temporary store; crypto_pwhash_str is wrapped at
 * link time (ld --wrap) to ask, each time it is called, whether another
 * process could begin a write transaction now.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "app.h"
#include "auth.h"
#include "memreq.h"
#include "store.h"
#include "tap.h"

static struct app	app;
static char		auth_header[96];
static char		dir[] = "/tmp/t_password.XXXXXX";
static int		hashes;		/* crypto_pwhash_str calls */
static int		locked;		/* of which with the write lock held */

/*
 * Whether the store's write lock is free: a child process opens its own
 * environment (never the parent's, LMDB forbids it across fork) and
 * begins a write transaction; if the lock is held it waits, and the
 * alarm ends it.  true when it got the lock.
 */
static bool
write_lock_free(void)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return false;
	if (pid == 0) {
		MDB_env *env;
		MDB_txn *txn;

		alarm(2);
		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 32) != 0 ||
		    mdb_env_open(env, dir, 0, 0600) != 0 ||
		    mdb_txn_begin(env, NULL, 0, &txn) != 0)
			_exit(1);
		mdb_txn_abort(txn);
		mdb_env_close(env);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int	__real_crypto_pwhash_str(char *, const char *, unsigned long long,
	    unsigned long long, size_t);
int	__wrap_crypto_pwhash_str(char *, const char *, unsigned long long,
	    unsigned long long, size_t);

/* Counts the hash and whether it runs under the write lock. */
int
__wrap_crypto_pwhash_str(char *out, const char *pw, unsigned long long len,
    unsigned long long ops, size_t mem)
{
	hashes++;
	if (!write_lock_free())
		locked++;
	return __real_crypto_pwhash_str(out, pw, len, ops, mem);
}

/* Serves METHOD PATH with BODY through the test's app (memreq.h). */
static int
serve(const char *method, const char *path, const char *body, char *id)
{
	return memreq_serve(&app, auth_header, method, path, body, id);
}

static enum scim_err
token_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	unsigned char hash[STORE_HASH_LEN];

	auth_hash(ctx, strlen(ctx), hash);
	return store_token_put(txn, "password", hash, NULL, err);
}

/* Records whether the probe got the lock inside a write transaction. */
static enum scim_err
probe_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	*(bool *)ctx = write_lock_free();
	return SCIM_OK;
}

/* Runs one request; checks its status, how many hashes it made and
 * that none of them ran under the write lock. */
static void
check(const char *method, const char *path, const char *body, int status,
    int want_hashes, const char *name)
{
	char what[160];
	int got;

	hashes = locked = 0;
	got = serve(method, path, body, NULL);
	snprintf(what, sizeof(what), "%s: %d", name, status);
	is_int(got, status, what);
	snprintf(what, sizeof(what), "...%d hash%s made", want_hashes,
	    want_hashes == 1 ? "" : "es");
	is_int(hashes, want_hashes, what);
	is_int(locked, 0, "...none of them holding the write lock");
}

#define U	"\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define P	"\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"

int
main(void)
{
	struct scim_error err;
	struct store *s;
	char token[64], conf[sizeof(dir) + 16], uid[STORE_ID_LEN + 1];
	char path[64], cmd[64];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 1;
	err_clear(&err);
	auth_new_token(token);
	snprintf(auth_header, sizeof(auth_header), "Bearer %s", token);
	snprintf(conf, sizeof(conf), "%s/scimd.conf", dir);
	if (store_open(dir, true, &s, &err) != SCIM_OK ||
	    store_write(s, token_fn, token, &err) != SCIM_OK)
		return 1;
	store_close(s);
	if ((f = fopen(conf, "w")) == NULL)
		return 1;
	fprintf(f, "db = %s\nlog_level = error\nallow_root = yes\n"
	    "password = argon2id\n", dir);
	fclose(f);
	if (app_open(&app, conf, "t_password", &err) != SCIM_OK) {
		printf("Bail out! %s\n", err.detail);
		return 1;
	}

	{
		bool got = true;

		ok(write_lock_free(),
		    "the probe gets the write lock when it is free");
		ok(store_write(app.store, probe_fn, &got, &err) == SCIM_OK &&
		    !got, "...and not while a write transaction holds it");
	}

	hashes = locked = 0;
	ok(serve("POST", "/Users", "{" U ",\"userName\":\"pw\","
	    "\"password\":\"Clear-1\"}", uid) == 201 && hashes == 1 &&
	    locked == 0, "create with a password: one hash, lock free");
	snprintf(path, sizeof(path), "/Users/%s", uid);
	check("PUT", path, "{" U ",\"userName\":\"pw\",\"password\":"
	    "\"Clear-2\"}", 200, 1, "replace with a password");
	check("PATCH", path, "{" P ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"password\",\"value\":\"Clear-3\"}]}", 200, 1,
	    "PATCH replace password");
	check("PATCH", path, "{" P ",\"Operations\":[{\"op\":\"Replace\","
	    "\"value\":{\"Password\":\"Clear-4\",\"title\":\"x\"}}]}", 200, 1,
	    "PATCH with no path, the password in the value");
	check("PATCH", path, "{" P ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"urn:ietf:params:scim:schemas:core:2.0:User:password\","
	    "\"value\":\"Clear-5\"}]}", 200, 1,
	    "PATCH by the URN-qualified path");
	check("PATCH", path, "{" P ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"no password here\"}]}", 200, 0,
	    "PATCH that sets no password");
	check("PATCH", path, "{" P ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"password\",\"value\":42}]}", 400, 0,
	    "PATCH with a password that is not a string");
	check("PATCH", "/Users/00000000-0000-4000-8000-000000000000",
	    "{" P ",\"Operations\":[{\"op\":\"replace\",\"path\":\"password\","
	    "\"value\":\"Clear-6\"}]}", 404, 0,
	    "PATCH of a user that does not exist");

	app_close(&app);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
