/*
 * inproc.c: drives scimd's pipeline in one process, with no web server,
 * for counting instructions per request under callgrind.
 *
 *	inproc DB TOKEN get ID N	N x GET /Users/ID
 *	inproc DB TOKEN post PREFIX N	N x POST /Users (userName PREFIX-i)
 *	inproc DB TOKEN filter NAME N	N x GET /Users?filter=userName eq NAME
 *	inproc DB TOKEN list QUERY N	N x GET /Users?QUERY (startIndex=...)
 *	inproc DB TOKEN active ID N	N x PATCH /Users/ID active false|true
 *	inproc DB TOKEN member GID:MID N	N x PATCH /Groups/GID add|remove MID
 *	inproc DB - authz USER N	N x an authorizer decision for
 *					REMOTE_USER=USER on /site/index.html
 *	inproc DB - cursor ID 0		prints the cursor of GET /Users?cursor
 *					that resumes after user ID (the bench
 *					uses it to reach the last page of a
 *					large store without walking to it)
 *
 * N = 0 runs only the start-up, so (Ir(N) - Ir(0)) / N is the cost of
 * one request.  Every answer's status is checked: a run whose requests
 * fail exits 1 rather than reporting the cost of an error path.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cursor.h"
#include "memreq.h"

#define PATCHOP	"urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* Sets up f as PATCH path with body (len[lensz] holds its length). */
static void
patch(struct memreq *f, const char *path, const char *body, char *len,
    size_t lensz)
{
	snprintf(len, lensz, "%zu", strlen(body));
	f->body = body;
	f->len = strlen(body);
	memreq_set(f, "REQUEST_METHOD", "PATCH");
	memreq_set(f, "PATH_INFO", path);
	memreq_set(f, "CONTENT_TYPE", "application/scim+json");
	memreq_set(f, "CONTENT_LENGTH", len);
}

int
main(int argc, char *argv[])
{
	struct app app;
	struct scim_error err;
	struct http_io io;
	struct memreq f;
	char auth[256], path[256], query[256], body[512], len[24];
	const char *op;
	long i, n;
	int want;

	if (argc != 6) {
		fprintf(stderr, "usage: inproc DB TOKEN get|post|filter|list|active|member ARG N\n");
		return 2;
	}
	op = argv[3];
	n = atol(argv[5]);
	/* A measuring harness, not a server: root may run it. */
	if (setenv("SCIMD_DB", argv[1], 1) != 0 ||
	    setenv("SCIMD_ALLOW_ROOT", "yes", 1) != 0)
		return 1;
	err_clear(&err);
	if (app_open(&app, NULL, argv[0], &err) != SCIM_OK) {
		fprintf(stderr, "inproc: %s\n", err.detail);
		app_close(&app);
		return 1;
	}
	if (strcmp(op, "cursor") == 0) {
		unsigned char key[32], query[8];
		char text[CURSOR_TEXT_BYTES];
		struct cursor c;

		c.type = RT_USER;
		snprintf(c.id, sizeof(c.id), "%s", argv[4]);
		cursor_query_hash(NULL, 0, 1u << RT_USER, query);
		if (store_cursor_key(app.store, key, &err) != SCIM_OK) {
			fprintf(stderr, "inproc: %s\n", err.detail);
			app_close(&app);
			return 1;
		}
		cursor_encode(&c, query, key, time(NULL), text);
		printf("%s\n", text);
		app_close(&app);
		return 0;
	}
	snprintf(auth, sizeof(auth), "Bearer %s", argv[2]);
	io = memreq_io(&f);
	for (i = 0; i < n; i++) {
		memreq_init(&f, NULL, 0);
		memreq_set(&f, "SCRIPT_NAME", "/scim/v2");
		memreq_set(&f, "HTTP_HOST", "127.0.0.1:8080");
		memreq_set(&f, "SERVER_NAME", "127.0.0.1");
		memreq_set(&f, "SERVER_PORT", "8080");
		memreq_set(&f, "HTTP_AUTHORIZATION", auth);
		if (strcmp(op, "get") == 0) {
			snprintf(path, sizeof(path), "/Users/%s", argv[4]);
			memreq_set(&f, "REQUEST_METHOD", "GET");
			memreq_set(&f, "PATH_INFO", path);
			want = 200;
		} else if (strcmp(op, "filter") == 0) {
			snprintf(query, sizeof(query),
			    "filter=userName%%20eq%%20%%22%s%%22", argv[4]);
			memreq_set(&f, "REQUEST_METHOD", "GET");
			memreq_set(&f, "PATH_INFO", "/Users");
			memreq_set(&f, "QUERY_STRING", query);
			want = 200;
		} else if (strcmp(op, "list") == 0) {
			memreq_set(&f, "REQUEST_METHOD", "GET");
			memreq_set(&f, "PATH_INFO", "/Users");
			memreq_set(&f, "QUERY_STRING", argv[4]);
			want = 200;
		} else if (strcmp(op, "active") == 0) {
			snprintf(path, sizeof(path), "/Users/%s", argv[4]);
			snprintf(body, sizeof(body), "{\"schemas\":[\"%s\"],"
			    "\"Operations\":[{\"op\":\"replace\",\"value\":"
			    "{\"active\":%s}}]}", PATCHOP, i % 2 ? "true" :
			    "false");
			patch(&f, path, body, len, sizeof(len));
			want = 200;
		} else if (strcmp(op, "member") == 0) {
			const char *colon = strchr(argv[4], ':');

			if (colon == NULL)
				return 2;
			snprintf(path, sizeof(path), "/Groups/%.*s",
			    (int)(colon - argv[4]), argv[4]);
			if (i % 2 == 0)
				snprintf(body, sizeof(body), "{\"schemas\":[\"%s\"],"
				    "\"Operations\":[{\"op\":\"add\",\"path\":"
				    "\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
				    PATCHOP, colon + 1);
			else
				snprintf(body, sizeof(body), "{\"schemas\":[\"%s\"],"
				    "\"Operations\":[{\"op\":\"remove\",\"path\":"
				    "\"members[value eq \\\"%s\\\"]\"}]}", PATCHOP,
				    colon + 1);
			patch(&f, path, body, len, sizeof(len));
			memreq_set(&f, "QUERY_STRING", "excludedAttributes=members");
			want = 200;
		} else if (strcmp(op, "authz") == 0) {
			memreq_set(&f, "FCGI_ROLE", "AUTHORIZER");
			memreq_set(&f, "REQUEST_METHOD", "GET");
			memreq_set(&f, "REQUEST_URI", "/site/index.html");
			memreq_set(&f, "REMOTE_USER", argv[4]);
			want = 200;
		} else if (strcmp(op, "post") == 0) {
			snprintf(body, sizeof(body), "{\"schemas\":["
			    "\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
			    "\"userName\":\"%s-%ld@example.com\","
			    "\"name\":{\"givenName\":\"G\",\"familyName\":\"F\"},"
			    "\"emails\":[{\"value\":\"%s-%ld@example.com\","
			    "\"type\":\"work\",\"primary\":true}],"
			    "\"active\":true}", argv[4], i, argv[4], i);
			snprintf(len, sizeof(len), "%zu", strlen(body));
			f.body = body;
			f.len = strlen(body);
			memreq_set(&f, "REQUEST_METHOD", "POST");
			memreq_set(&f, "PATH_INFO", "/Users");
			memreq_set(&f, "CONTENT_TYPE", "application/scim+json");
			memreq_set(&f, "CONTENT_LENGTH", len);
			want = 201;
		} else {
			fprintf(stderr, "inproc: unknown operation %s\n", op);
			app_close(&app);
			return 2;
		}
		app_serve(&app, &io);
		if (f.status != want) {
			fprintf(stderr, "inproc: request %ld answered %d, not %d\n",
			    i, f.status, want);
			app_close(&app);
			return 1;
		}
	}
	app_close(&app);
	return 0;
}
