/*
 * fuzz_request.c: a whole request, handled in process by app_serve()
 * against a temporary LMDB store made at the first input (a token, and a
 * user and a group to aim at).  The input is
 *
 *	METHOD\n
 *	PATH[?QUERY]\n
 *	Header: value\n ...	(optional; Content-Type, If-Match, ...)
 *	\n
 *	BODY
 *
 * and always carries the store's token, so the fuzzer reaches the
 * handlers.  Writes accumulate in the store across inputs.  Beyond the
 * sanitizers, two invariants abort: no answer is a 500, and every answer
 * starts with a Status line.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "memreq.h"
#include "store.h"

static struct app	app;
static char		auth_header[96];
static int		ready;

/* The store: a token, one user, one group; removed at exit. */
static char store_dir[] = "/tmp/scimd-fuzz-request.XXXXXX";

static void
remove_store(void)
{
	char path[sizeof(store_dir) + 16];

	app_close(&app);
	snprintf(path, sizeof(path), "%s/data.mdb", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/scimd.conf", store_dir);
	unlink(path);
	rmdir(store_dir);
}

static enum scim_err
token_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	unsigned char hash[STORE_HASH_LEN];

	auth_hash(ctx, strlen(ctx), hash);
	return store_token_put(txn, "fuzz", hash, NULL, err);
}

/* One request through the whole pipeline; the status it got. */
static int
serve(const char *method, const char *uri, const char *body)
{
	struct memreq r;
	struct http_io io = memreq_io(&r);
	char len[24];

	memreq_init(&r, body, strlen(body));
	snprintf(len, sizeof(len), "%zu", r.len);
	memreq_set(&r, "REQUEST_METHOD", method);
	memreq_set(&r, "REQUEST_URI", uri);
	memreq_set(&r, "SCRIPT_NAME", "/scim/v2");
	memreq_set(&r, "HTTP_HOST", "127.0.0.1");
	memreq_set(&r, "SERVER_NAME", "127.0.0.1");
	memreq_set(&r, "SERVER_PORT", "80");
	memreq_set(&r, "HTTP_AUTHORIZATION", auth_header);
	memreq_set(&r, "CONTENT_TYPE", "application/scim+json");
	memreq_set(&r, "CONTENT_LENGTH", len);
	app_serve(&app, &io);
	return r.status;
}

static int
setup(void)
{
	struct scim_error err;
	struct store *s;
	char token[64], conf[sizeof(store_dir) + 16];
	FILE *f;

	if (mkdtemp(store_dir) == NULL)
		return -1;
	err_clear(&err);
	if (store_open(store_dir, true, &s, &err) != SCIM_OK)
		return -1;
	auth_new_token(token);
	snprintf(auth_header, sizeof(auth_header), "Bearer %s", token);
	if (store_write(s, token_fn, token, &err) != SCIM_OK)
		return -1;
	store_close(s);
	/* Settings from a file: the store, and only errors logged (one
	 * line per request would be most of a fuzzing run's output), and
	 * allow_root: fuzzers and CI often run as root. */
	snprintf(conf, sizeof(conf), "%s/scimd.conf", store_dir);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "db = %s\nlog_level = error\nallow_root = yes\n",
	    store_dir);
	if (fclose(f) != 0 || app_open(&app, conf, "fuzz_request", &err) !=
	    SCIM_OK)
		return -1;
	atexit(remove_store);
	serve("POST", "/scim/v2/Users", "{\"schemas\":[\"urn:ietf:params:"
	    "scim:schemas:core:2.0:User\"],\"id\":\"2819c223-7f76-453a-919d-"
	    "413861904646\",\"userName\":\"fuzz@example.com\"}");
	serve("POST", "/scim/v2/Groups", "{\"schemas\":[\"urn:ietf:params:"
	    "scim:schemas:core:2.0:Group\"],\"displayName\":\"fuzzers\","
	    "\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\"}]}");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memreq r;
	struct http_io io = memreq_io(&r);
	char *text, *method, *uri, *p, *nl, *colon, len[24];
	char names[MEMREQ_VARS][64];
	int nh = 0;

	if (!ready) {
		if (setup() != 0)
			abort();
		ready = 1;
	}
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memreq_init(&r, NULL, 0);
	method = text;
	if ((nl = strchr(method, '\n')) == NULL)
		goto done;
	*nl = '\0';
	uri = nl + 1;
	if ((nl = strchr(uri, '\n')) == NULL)
		goto done;
	*nl = '\0';
	memreq_set(&r, "REQUEST_METHOD", method);
	memreq_set(&r, "SCRIPT_NAME", "/scim/v2");
	memreq_set(&r, "HTTP_HOST", "127.0.0.1");
	memreq_set(&r, "SERVER_NAME", "127.0.0.1");
	memreq_set(&r, "SERVER_PORT", "80");
	memreq_set(&r, "HTTP_AUTHORIZATION", auth_header);
	/* REQUEST_URI as the client sent it; QUERY_STRING as a server
	 * splits it. */
	memreq_set(&r, "REQUEST_URI", uri);
	if ((p = strchr(uri, '?')) != NULL)
		memreq_set(&r, "QUERY_STRING", p + 1);
	for (p = nl + 1; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (*p == '\0') {
			p = nl + 1;
			break;
		}
		if ((colon = strchr(p, ':')) == NULL || nh >= 8)
			continue;
		*colon = '\0';
		/* "Content-Type" -> HTTP_CONTENT_TYPE and CONTENT_TYPE */
		snprintf(names[nh], sizeof(names[nh]), "HTTP_%s", p);
		for (char *c = names[nh]; *c != '\0'; c++)
			*c = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ?
			    (char)(*c - 32) : *c;
		colon++;
		while (*colon == ' ')
			colon++;
		if (strcmp(names[nh], "HTTP_CONTENT_TYPE") == 0)
			memreq_set(&r, "CONTENT_TYPE", colon);
		memreq_set(&r, names[nh], colon);
		nh++;
	}
	r.body = p;
	r.len = (size_t)(text + size - p);
	snprintf(len, sizeof(len), "%zu", r.len);
	memreq_set(&r, "CONTENT_LENGTH", len);
	if (memreq_get(&r, "CONTENT_TYPE") == NULL)
		memreq_set(&r, "CONTENT_TYPE", "application/scim+json");
	app_serve(&app, &io);
	if (r.status == 500 || r.status == -1) {
		fprintf(stderr, "fuzz_request: %s %s answered %d:\n%s\n",
		    method, uri, r.status, r.head);
		abort();
	}
done:
	free(text);
	return 0;
}

#include "fuzz_main.h"
