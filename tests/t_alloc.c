/*
 * t_alloc.c: allocation-failure injection.  Create, replace, PATCH and
 * delete run through the whole pipeline (app_serve, in process, against
 * a temporary store) once for every allocation they make, with that one
 * allocation failing.  Each run must answer (a Status line, never a
 * crash), must leave the store exactly as it was unless it answered 2xx,
 * and must leave the indexes consistent.  Leaks are the sanitizers' and
 * valgrind's to find: `make check` runs this under ASan in CI, and
 * tests/valgrind.sh under memcheck.
 *
 * The allocations counted are scimd's own (malloc, calloc, realloc,
 * strdup, strndup, wrapped at link time with ld --wrap) and jansson's
 * (json_set_alloc_funcs).  LMDB's and libc's internal ones are not.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "app.h"
#include "auth.h"
#include "buf.h"
#include "memreq.h"
#include "store.h"
#include "tap.h"

/* ---- the failing allocator ------------------------------------------ */

static long	alloc_count;	/* allocations since the count was reset */
static long	fail_at;	/* this one fails (0: none) */
static int	failed;		/* whether it did */

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
char	*__real_strdup(const char *);
char	*__real_strndup(const char *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
char	*__wrap_strdup(const char *);
char	*__wrap_strndup(const char *, size_t);

static int
inject(void)
{
	if (fail_at > 0 && ++alloc_count == fail_at) {
		failed = 1;
		/* T_ALLOC_ABORT=N: abort at the Nth injected failure, for a
		 * debugger's backtrace of where it happens. */
		if (getenv("T_ALLOC_ABORT") != NULL &&
		    atol(getenv("T_ALLOC_ABORT")) == fail_at)
			abort();
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n) { return inject() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return inject() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return inject() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return inject() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return inject() ? NULL : __real_strndup(s, n); }

static void *json_alloc(size_t n) { return inject() ? NULL : __real_malloc(n); }
static void json_release(void *p) { free(p); }

/* ---- one request in process ------------------------------------------- */

static struct app	app;
static char		auth_header[96];
static char		dir[] = "/tmp/t_alloc.XXXXXX";

/* Serves METHOD PATH with BODY through the test's app (memreq.h). */
static int
serve(const char *method, const char *path, const char *body, char *id)
{
	return memreq_serve(&app, auth_header, method, path, body, id);
}

/* ---- the store's content, to compare ----------------------------------- */

struct snap {
	struct buf	 b;
	struct store_txn *txn;
	enum rtype	 type;
};

static bool
snap_link(const char *id, void *ctx)
{
	struct snap *s = ctx;

	buf_printf(&s->b, " %s", id);
	return true;
}

static bool
snap_one(const char *id, void *ctx)
{
	struct snap *s = ctx;
	const char *raw;
	size_t len;

	if (store_get_raw(s->txn, s->type, id, &raw, &len, NULL) == SCIM_OK) {
		buf_printf(&s->b, "%s ", id);
		buf_append(&s->b, raw, len);
	}
	buf_puts(&s->b, "\n links:");
	if (s->type == RT_GROUP)
		store_members(s->txn, id, snap_link, s, NULL);
	else
		store_memberof(s->txn, id, snap_link, s, NULL);
	buf_putc(&s->b, '\n');
	return true;
}

static enum scim_err
snap_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct snap *s = ctx;
	size_t problems = 0;

	s->txn = txn;
	for (s->type = RT_USER; (int)s->type <= (int)RT_GROUP; s->type++)
		store_scan(txn, s->type, NULL, snap_one, s, err);
	if (store_verify(txn, false, &problems, err) != SCIM_OK || problems)
		buf_printf(&s->b, "VERIFY: %zu problems\n", problems);
	return SCIM_OK;
}

/* The store's records, links and index check as text (caller frees). */
static char *
snapshot(void)
{
	struct snap s;
	struct scim_error err;

	memset(&s, 0, sizeof(s));
	buf_init(&s.b, 64 * 1024 * 1024);
	store_read(app.store, snap_fn, &s, &err);
	buf_putc(&s.b, '\0');
	return buf_steal(&s.b, NULL);
}

/* ---- the runs ------------------------------------------------------------ */

/*
 * Runs the request made by make(i, ...) with allocation 1, 2, ... failing
 * until one run makes fewer allocations than the failing one.  prepare
 * (optional) runs before each, with no failure injected.
 */
static void
sweep(const char *name,
    void (*prepare)(long i),
    void (*make)(long i, const char **method, char *path, char *body))
{
	char path[256], body[1024], *before, *after;
	const char *method;
	long i, injected = 0, refused = 0, answered_ok = 0, bad = 0;
	int status;

	for (i = 1; i < 20000; i++) {
		if (prepare)
			prepare(i);
		make(i, &method, path, body);
		before = snapshot();
		alloc_count = 0;
		failed = 0;
		fail_at = i;
		status = serve(method, path, body, NULL);
		fail_at = 0;
		after = snapshot();
		if (!failed) {
			ok(status >= 200 && status < 300,
			    "without an injected failure the request succeeds");
			free(before);
			free(after);
			break;
		}
		injected++;
		if (status >= 200 && status < 300)
			answered_ok++;	/* the failure was tolerated */
		else
			refused++;
		if (status < 100 || (status >= 400 && strcmp(before, after) != 0) ||
		    strstr(after, "VERIFY:") != NULL) {
			if (bad++ < 5)
				printf("# %s, allocation %ld failing: status %d, "
				    "store %s%s\n", name, i, status,
				    strcmp(before, after) ? "changed" : "same",
				    strstr(after, "VERIFY:") ? ", indexes "
				    "inconsistent" : "");
			if (bad == 1 && getenv("T_ALLOC_DUMP") != NULL)
				printf("# before:\n%s\n# after:\n%s\n", before,
				    after);
		}
		free(before);
		free(after);
	}
	printf("# %s: %ld runs with one allocation failing: %ld refused, "
	    "%ld succeeded anyway\n", name, injected, refused, answered_ok);
	ok(injected > 10 && bad == 0, name);
}

static char	uid[STORE_ID_LEN + 1], gid[STORE_ID_LEN + 1];
static char	victim[STORE_ID_LEN + 1];

static void
make_create(long i, const char **method, char *path, char *body)
{
	*method = "POST";
	strcpy(path, "/Users");
	snprintf(body, 1024, "{\"schemas\":[\"urn:ietf:params:scim:schemas:"
	    "core:2.0:User\"],\"userName\":\"new%ld@example.com\",\"name\":"
	    "{\"givenName\":\"N\",\"familyName\":\"U\"},\"emails\":[{\"value\":"
	    "\"new%ld@example.com\",\"type\":\"work\",\"primary\":true}],"
	    "\"externalId\":\"x%ld\",\"active\":true}", i, i, i);
}

static void
make_replace(long i, const char **method, char *path, char *body)
{
	*method = "PUT";
	snprintf(path, 256, "/Users/%s", uid);
	snprintf(body, 1024, "{\"schemas\":[\"urn:ietf:params:scim:schemas:"
	    "core:2.0:User\"],\"userName\":\"alice@example.com\",\"title\":"
	    "\"t%ld\",\"emails\":[{\"value\":\"a%ld@example.com\"}],"
	    "\"active\":%s}", i, i, i % 2 ? "true" : "false");
}

static void
make_patch_user(long i, const char **method, char *path, char *body)
{
	*method = "PATCH";
	snprintf(path, 256, "/Users/%s", uid);
	snprintf(body, 1024, "{\"schemas\":[\"urn:ietf:params:scim:api:"
	    "messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\","
	    "\"value\":{\"active\":%s,\"title\":\"p%ld\"}},{\"op\":\"replace\","
	    "\"path\":\"emails\",\"value\":[{\"value\":\"p%ld@example.com\","
	    "\"type\":\"home\"}]}]}", i % 2 ? "false" : "true", i, i);
}

static void
make_patch_group(long i, const char **method, char *path, char *body)
{
	*method = "PATCH";
	snprintf(path, 256, "/Groups/%s", gid);
	snprintf(body, 1024, "{\"schemas\":[\"urn:ietf:params:scim:api:"
	    "messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"%s\",\"path\":"
	    "\"members\",\"value\":[{\"value\":\"%s\"}]},{\"op\":\"replace\","
	    "\"path\":\"displayName\",\"value\":\"g%ld\"}]}",
	    i % 2 ? "remove" : "add", uid, i);
}

static void
prepare_victim(long i)
{
	char body[512];

	snprintf(body, sizeof(body), "/Users/%s", victim);
	if (victim[0] != '\0' && serve("GET", body, NULL, NULL) != 200)
		victim[0] = '\0';	/* a run deleted it after all */
	snprintf(body, sizeof(body), "{\"schemas\":[\"urn:ietf:params:scim:"
	    "schemas:core:2.0:User\"],\"userName\":\"victim%ld\"}", i);
	if (victim[0] == '\0' && serve("POST", "/Users", body, victim) == 201) {
		char patch[512];

		snprintf(patch, sizeof(patch), "{\"schemas\":[\"urn:ietf:"
		    "params:scim:api:messages:2.0:PatchOp\"],\"Operations\":"
		    "[{\"op\":\"add\",\"path\":\"members\",\"value\":"
		    "[{\"value\":\"%s\"}]}]}", victim);
		snprintf(body, sizeof(body), "/Groups/%s", gid);
		serve("PATCH", body, patch, NULL);
	}
}

static void
make_delete(long i, const char **method, char *path, char *body)
{
	(void)i;
	*method = "DELETE";
	snprintf(path, 256, "/Users/%s", victim);
	body[0] = '\0';
}

static enum scim_err
token_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	unsigned char hash[STORE_HASH_LEN];

	auth_hash(ctx, strlen(ctx), hash);
	return store_token_put(txn, "alloc", hash, NULL, err);
}

static void
cleanup(void)
{
	char path[sizeof(dir) + 16];

	app_close(&app);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/scimd.conf", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	struct scim_error err;
	struct store *s;
	char token[64], conf[sizeof(dir) + 16];
	FILE *f;

	json_set_alloc_funcs(json_alloc, json_release);
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
	/* allow_root: CI runs the tests as root. */
	fprintf(f, "db = %s\nlog_level = error\nallow_root = yes\n", dir);
	fclose(f);
	if (app_open(&app, conf, "t_alloc", &err) != SCIM_OK) {
		printf("Bail out! %s\n", err.detail);
		return 1;
	}
	ok(serve("POST", "/Users", "{\"schemas\":[\"urn:ietf:params:scim:"
	    "schemas:core:2.0:User\"],\"userName\":\"alice@example.com\"}",
	    uid) == 201, "a user to work on");
	ok(serve("POST", "/Groups", "{\"schemas\":[\"urn:ietf:params:scim:"
	    "schemas:core:2.0:Group\"],\"displayName\":\"g\"}", gid) == 201,
	    "a group to work on");

	sweep("create (POST /Users)", NULL, make_create);
	sweep("replace (PUT /Users/{id})", NULL, make_replace);
	sweep("PATCH /Users/{id}", NULL, make_patch_user);
	sweep("PATCH /Groups/{id} members", NULL, make_patch_group);
	sweep("delete (DELETE /Users/{id} of a group member)", prepare_victim,
	    make_delete);
	cleanup();
	return tap_done();
}
