/*
 * memreq.c: a request in memory for app_serve() (memreq.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memreq.h"

void
memreq_init(struct memreq *r, const char *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->len = len;
}

void
memreq_set(struct memreq *r, const char *name, const char *value)
{
	if (r->n < MEMREQ_VARS) {
		r->names[r->n] = name;
		r->values[r->n] = value;
		r->n++;
	}
}

const char *
memreq_get(const struct memreq *r, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

static const char *
memreq_getenv(void *ctx, const char *name)
{
	return memreq_get(ctx, name);
}

static ssize_t
memreq_read(void *ctx, char *buf, size_t n)
{
	struct memreq *r = ctx;

	if (n > r->len - r->off)
		n = r->len - r->off;
	if (n > 0)
		memcpy(buf, r->body + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

/* Keeps the status and the first MEMREQ_HEAD - 1 bytes. */
static int
memreq_write(void *ctx, const char *buf, size_t n)
{
	struct memreq *r = ctx;
	size_t room;

	if (r->written == 0)
		r->status = (n > 8 && strncmp(buf, "Status: ", 8) == 0) ?
		    atoi(buf + 8) : -1;
	if (r->written < sizeof(r->head) - 1) {
		room = sizeof(r->head) - 1 - r->written;
		memcpy(r->head + r->written, buf, n < room ? n : room);
	}
	r->written += n;
	return 0;
}

struct http_io
memreq_io(struct memreq *r)
{
	struct http_io io = { memreq_getenv, memreq_read, memreq_write, r, NULL };

	return io;
}

/* One SCIM request through app_serve() (memreq.h). */
int
memreq_serve(struct app *app, const char *auth, const char *method,
    const char *path, const char *body, char *id)
{
	struct memreq r;
	struct http_io io = memreq_io(&r);
	char len[24], uri[256], *p;

	body = body ? body : "";
	memreq_init(&r, body, strlen(body));
	snprintf(uri, sizeof(uri), "/scim/v2%s", path);
	snprintf(len, sizeof(len), "%zu", r.len);
	memreq_set(&r, "REQUEST_METHOD", method);
	memreq_set(&r, "REQUEST_URI", uri);
	memreq_set(&r, "SCRIPT_NAME", "/scim/v2");
	memreq_set(&r, "HTTP_HOST", "127.0.0.1");
	memreq_set(&r, "HTTP_AUTHORIZATION", auth);
	memreq_set(&r, "CONTENT_TYPE", "application/scim+json");
	memreq_set(&r, "CONTENT_LENGTH", len);
	app_serve(app, &io);
	if (id != NULL && (p = strstr(r.head, "\"id\":\"")) != NULL)
		snprintf(id, STORE_ID_LEN + 1, "%s", p + 6);
	return r.status;
}
