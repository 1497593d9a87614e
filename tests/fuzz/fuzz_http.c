/*
 * fuzz_http.c: request parsing.  The input is lines "NAME=value" giving
 * CGI variables, a blank line, then the body; http_request_parse,
 * http_read_body and router_match run on it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "router.h"

struct input {
	char		*vars[64][2];
	int		 n;
	const char	*body;
	size_t		 len, off;
};

static const char *
in_getenv(void *ctx, const char *name)
{
	struct input *in = ctx;
	int i;

	for (i = 0; i < in->n; i++)
		if (strcmp(in->vars[i][0], name) == 0)
			return in->vars[i][1];
	return NULL;
}

static ssize_t
in_read(void *ctx, char *buf, size_t n)
{
	struct input *in = ctx;

	if (n > in->len - in->off)
		n = in->len - in->off;
	memcpy(buf, in->body + in->off, n);
	in->off += n;
	return (ssize_t)n;
}

static int
in_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct http_io io = { in_getenv, in_read, in_write, &in, NULL };
	struct http_request req;
	struct route_match m;
	struct scim_error err;
	char *text, *p, *nl, *eq, allow[128];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&in, 0, sizeof(in));
	for (p = text; in.n < 64 && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (*p == '\0') {
			p = nl + 1;
			break;
		}
		if ((eq = strchr(p, '=')) == NULL)
			continue;
		*eq = '\0';
		in.vars[in.n][0] = p;
		in.vars[in.n][1] = eq + 1;
		in.n++;
	}
	in.body = p;
	in.len = strlen(p);
	if (http_request_parse(&io, NULL, NULL, &req, &err) == SCIM_OK) {
		(void)http_param(&req, "filter");
		(void)http_read_body(&io, &req, &err);
		(void)router_match(req.method, req.path, &m, allow,
		    sizeof(allow), &err);
	}
	http_request_free(&req);
	free(text);
	return 0;
}

#include "fuzz_main.h"
