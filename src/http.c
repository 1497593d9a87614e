/*
 * http.c: CGI variables to a request; a response to bytes.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http.h"
#include "limits.h"

/* The first path segments of SCIM endpoints; the mount point ends where
 * one of these begins. */
static const char *const endpoint_names[] = {
	"Users", "Groups", "ServiceProviderConfig", "ServiceProviderConfigs",
	"ResourceTypes", "Schemas", "Bulk", ".search", "Me", NULL
};

/* The value of hex digit c, or -1 (http.h). */
int
http_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes into a new string; NULL for a bad escape or a NUL. */
char *
http_decode(const char *s, size_t len, bool plus)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len ||
			    (hi = http_hex_digit(s[i + 1])) < 0 ||
			    (lo = http_hex_digit(s[i + 2])) < 0)
				goto fail;
			if (hi == 0 && lo == 0)
				goto fail;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus)
			*o++ = ' ';
		else if (s[i] == '\0')
			goto fail;
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* A bounded copy of CGI variable name, or NULL when absent or too long. */
static char *
copy_var(const struct http_io *io, const char *name)
{
	const char *v = io->getenv(io->ctx, name);

	if (v == NULL || strlen(v) > LIMIT_HEADER_BYTES)
		return NULL;
	return strdup(v);
}

/* Splits the query string into decoded parameters. */
static enum scim_err
parse_query(const char *q, struct http_request *req, struct scim_error *err)
{
	const char *p = q, *amp, *eq;
	struct http_param *prm;

	if (strlen(q) > LIMIT_QUERY_BYTES)
		return err_set(err, SCIM_ERR_TOO_LARGE,
		    "The query string is longer than %d bytes.",
		    LIMIT_QUERY_BYTES);
	while (*p != '\0') {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p) {
			p++;
			continue;
		}
		if (req->nparams == LIMIT_QUERY_PARAMS)
			return err_set(err, SCIM_ERR_BAD_REQUEST,
			    "More than %d query parameters.",
			    LIMIT_QUERY_PARAMS);
		eq = memchr(p, '=', (size_t)(amp - p));
		prm = &req->params[req->nparams];
		prm->name = http_decode(p, (size_t)((eq ? eq : amp) - p), true);
		prm->value = eq ? http_decode(eq + 1,
		    (size_t)(amp - eq - 1), true) : strdup("");
		req->nparams++;
		if (prm->name == NULL || prm->value == NULL)
			return err_set(err, SCIM_ERR_BAD_REQUEST,
			    "The query string is not validly encoded.");
		p = *amp ? amp + 1 : amp;
	}
	return SCIM_OK;
}

/* Whether the segment s[0..n) names a SCIM endpoint. */
static bool
is_endpoint(const char *s, size_t n)
{
	size_t i;

	for (i = 0; endpoint_names[i] != NULL; i++)
		if (strlen(endpoint_names[i]) == n &&
		    strncasecmp(endpoint_names[i], s, n) == 0)
			return true;
	return false;
}

/*
 * Splits the decoded request path into mount point and route.  With a
 * configured mount the split is there; otherwise it is before the first
 * segment naming a SCIM endpoint, so the same binary works wherever the
 * web server mounts it (lighttpd, Apache and nginx set SCRIPT_NAME and
 * PATH_INFO differently; REQUEST_URI is the same everywhere).
 */
static size_t
mount_length(const char *path, const char *mount)
{
	const char *p, *end;
	size_t n;

	if (mount != NULL) {
		n = strlen(mount);
		while (n > 0 && mount[n - 1] == '/')
			n--;
		if (strncmp(path, mount, n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			return n;
		return 0;
	}
	for (p = path; *p == '/'; ) {
		p++;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (is_endpoint(p, n))
			return (size_t)(p - 1 - path);
		if (end == NULL)
			break;
		p = end;
	}
	return (size_t)-1;
}

/* Whether host is a plausible Host header (no spaces, CR, LF, slashes). */
static bool
host_ok(const char *h)
{
	if (*h == '\0')
		return false;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr(".-:[]_", *h) == NULL)
			return false;
	return true;
}

/* Whether port (may be NULL) is a SERVER_PORT to put in a URL: digits
 * only, at most LIMIT_PORT_DIGITS of them. */
static bool
port_ok(const char *port)
{
	return port != NULL && *port != '\0' &&
	    strlen(port) <= LIMIT_PORT_DIGITS &&
	    strspn(port, "0123456789") == strlen(port);
}

/* scheme://host[:port]/mount from the request, Host checked and bounded,
 * the mount percent-encoded: the base of every URL in an answer. */
static enum scim_err
make_base_url(const struct http_io *io, const char *mount, size_t mlen,
    struct http_request *req, struct scim_error *err)
{
	const char *https = io->getenv(io->ctx, "HTTPS");
	const char *scheme = io->getenv(io->ctx, "REQUEST_SCHEME");
	const char *host = io->getenv(io->ctx, "HTTP_HOST");
	const char *port = io->getenv(io->ctx, "SERVER_PORT");
	struct buf b;
	enum scim_err e = SCIM_OK;

	if (https != NULL && strcasecmp(https, "on") == 0)
		scheme = "https";
	else if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0))
		scheme = "http";
	buf_init(&b, LIMIT_HEADER_BYTES * 2);
	if (host != NULL && strlen(host) <= LIMIT_HOST_BYTES && host_ok(host)) {
		/* nginx's stock fastcgi_params send $host, which drops the
		 * port the client used: take it from SERVER_PORT then. */
		const char *rb = strrchr(host, ']');

		if (strchr(rb ? rb : host, ':') == NULL && port_ok(port) &&
		    strcmp(port, strcmp(scheme, "https") == 0 ? "443" :
		    "80") != 0)
			buf_printf(&b, "%s://%s:%s", scheme, host, port);
		else
			buf_printf(&b, "%s://%s", scheme, host);
	} else {
		host = io->getenv(io->ctx, "SERVER_NAME");
		if (host == NULL || strlen(host) > LIMIT_HOST_BYTES ||
		    !host_ok(host))
			host = "localhost";
		if (port_ok(port) && strcmp(port, "80") != 0 &&
		    strcmp(port, "443") != 0)
			buf_printf(&b, "%s://%s:%s", scheme, host, port);
		else
			buf_printf(&b, "%s://%s", scheme, host);
	}
	/* The mount is the client's own bytes: whatever a URL may not
	 * carry as it is (controls, spaces, non-ASCII, quotes) is
	 * percent-encoded, so the base URL is ASCII and every JSON string
	 * built from it is valid. */
	for (size_t i = 0; i < mlen && e == SCIM_OK; i++) {
		unsigned char c = (unsigned char)mount[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' ||
		    c == '>' || c == '\\')
			e = buf_printf(&b, "%%%02X", c);
		else
			e = buf_putc(&b, (char)c);
	}
	if (e != SCIM_OK || b.data == NULL) {
		buf_free(&b);
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	req->base_url = buf_steal(&b, NULL);
	return SCIM_OK;
}

static enum http_method
method_of(const char *m)
{
	static const struct { const char *name; enum http_method m; } t[] = {
		{ "GET", HTTP_GET }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "PATCH", HTTP_PATCH }, { "DELETE", HTTP_DELETE },
		{ "HEAD", HTTP_HEAD },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].m;
	return HTTP_OTHER;
}

/*
 * Copies the Authorization header (HTTP_AUTHORIZATION, or after an
 * Apache rewrite REDIRECT_HTTP_AUTHORIZATION) into req and has the
 * adapter wipe both variables where it keeps them, so the token lives
 * on only in req (wiped by http_request_free).  A value over
 * LIMIT_HEADER_BYTES is not copied (the request is then unauthenticated)
 * but is wiped all the same.
 */
static void
take_authorization(const struct http_io *io, struct http_request *req)
{
	const char *auth;

	auth = io->getenv(io->ctx, "HTTP_AUTHORIZATION");
	if (auth == NULL)
		auth = io->getenv(io->ctx, "REDIRECT_HTTP_AUTHORIZATION");
	if (auth != NULL && strlen(auth) <= LIMIT_HEADER_BYTES)
		req->authorization = strdup(auth);
	if (io->forget != NULL) {
		io->forget(io->ctx, "HTTP_AUTHORIZATION");
		io->forget(io->ctx, "REDIRECT_HTTP_AUTHORIZATION");
	}
}

/* Copies and checks every CGI variable used, each bounded by
 * limits.h; reads no body byte. */
enum scim_err
http_request_parse(const struct http_io *io, const char *mount,
    const char *base_url, struct http_request *req, struct scim_error *err)
{
	const char *uri, *q, *m, *cl;
	char *raw = NULL, *path = NULL;
	size_t mlen, rawlen;
	enum scim_err e;
	char *end;
	long long n;

	memset(req, 0, sizeof(*req));
	req->content_length = -1;
	take_authorization(io, req);	/* first: every other exit is later */
	m = io->getenv(io->ctx, "REQUEST_METHOD");
	if (m == NULL)
		m = "GET";
	snprintf(req->method_name, sizeof(req->method_name), "%s", m);
	req->method = method_of(m);

	/* The path: REQUEST_URI without its query, or SCRIPT_NAME+PATH_INFO. */
	uri = io->getenv(io->ctx, "REQUEST_URI");
	if (uri != NULL) {
		q = strchr(uri, '?');
		rawlen = q ? (size_t)(q - uri) : strlen(uri);
		if (rawlen > LIMIT_PATH_BYTES * 2)
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "The request path is too long.");
		raw = http_decode(uri, rawlen, false);
	} else {
		const char *sn = io->getenv(io->ctx, "SCRIPT_NAME");
		const char *pi = io->getenv(io->ctx, "PATH_INFO");
		struct buf b;

		buf_init(&b, LIMIT_PATH_BYTES * 2);
		if (buf_puts(&b, sn ? sn : "") != SCIM_OK ||
		    buf_puts(&b, pi ? pi : "") != SCIM_OK) {
			buf_free(&b);
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "The request path is too long.");
		}
		raw = b.data ? buf_steal(&b, NULL) : strdup("");
	}
	if (raw == NULL)
		return err_set(err, SCIM_ERR_BAD_REQUEST,
		    "The request path is not validly encoded.");
	mlen = mount_length(raw, mount);
	if (mlen == (size_t)-1) {
		/*
		 * No endpoint in the path: the root itself, or an unknown
		 * path below the script (SCRIPT_NAME is the mount point
		 * under lighttpd and Apache; nginx users set `mount`).
		 */
		const char *sn = io->getenv(io->ctx, "SCRIPT_NAME");
		size_t sl = sn != NULL ? strlen(sn) : 0;

		while (sl > 0 && sn[sl - 1] == '/')
			sl--;
		const char *pi = io->getenv(io->ctx, "PATH_INFO");
		size_t pl = pi != NULL ? strlen(pi) : 0;

		if (sl > 0 && strncmp(raw, sn, sl) == 0 && raw[sl] == '/' &&
		    raw[sl + 1] != '\0')
			mlen = sl;
		else if (pl > 1 && pi[0] == '/' && pl < strlen(raw) &&
		    strcmp(raw + strlen(raw) - pl, pi) == 0)
			/* A rewrite to script/PATH_INFO (.htaccess). */
			mlen = strlen(raw) - pl;
		else {
			mlen = strlen(raw);
			while (mlen > 0 && raw[mlen - 1] == '/')
				mlen--;
		}
	}
	path = strdup(raw[mlen] != '\0' ? raw + mlen : "/");
	if (path == NULL) {
		free(raw);
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	req->path = path;
	if (strlen(path) > LIMIT_PATH_BYTES) {
		free(raw);
		return err_set(err, SCIM_ERR_TOO_LARGE,
		    "The request path is too long.");
	}
	if (base_url != NULL) {
		size_t bl = strlen(base_url);

		while (bl > 0 && base_url[bl - 1] == '/')
			bl--;
		req->base_url = strndup(base_url, bl);
		e = req->base_url ? SCIM_OK :
		    err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	} else
		e = make_base_url(io, raw, mlen, req, err);
	free(raw);
	if (e != SCIM_OK)
		return e;

	q = io->getenv(io->ctx, "QUERY_STRING");
	if (q != NULL && (e = parse_query(q, req, err)) != SCIM_OK)
		return e;

	req->content_type = copy_var(io, "CONTENT_TYPE");
	req->if_match = copy_var(io, "HTTP_IF_MATCH");
	req->if_none_match = copy_var(io, "HTTP_IF_NONE_MATCH");

	cl = io->getenv(io->ctx, "CONTENT_LENGTH");
	if (cl != NULL && *cl != '\0') {
		errno = 0;
		n = strtoll(cl, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0)
			return err_set(err, SCIM_ERR_BAD_REQUEST,
			    "Content-Length is not a number.");
		req->content_length = n;
	}
	return SCIM_OK;
}

/*
 * Moves the len bytes of *data into a new buffer of at least need bytes
 * (at most LIMIT_BODY_BYTES + 2), wiping and freeing the old one: a body
 * may hold a password, and realloc() would leave its bytes behind.
 */
static enum scim_err
body_grow(char **data, size_t len, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap * 2 : 16384;
	char *p;

	if (ncap < need)
		ncap = need;
	if (ncap > LIMIT_BODY_BYTES + 2)
		ncap = LIMIT_BODY_BYTES + 2;
	if (ncap < need)
		return SCIM_ERR_TOO_LARGE;
	if ((p = malloc(ncap)) == NULL)
		return SCIM_ERR_NOMEM;
	if (*data != NULL) {
		memcpy(p, *data, len);
		sodium_memzero(*data, len);
		free(*data);
	}
	*data = p;
	*cap = ncap;
	return SCIM_OK;
}

/* Reads CONTENT_LENGTH bytes, or to EOF when none was given, into one
 * buffer that is wiped when replaced; more than LIMIT_BODY_BYTES is
 * SCIM_ERR_TOO_LARGE. */
enum scim_err
http_read_body(const struct http_io *io, struct http_request *req,
    struct scim_error *err)
{
	char *data = NULL;
	size_t len = 0, cap = 0, want, need;
	enum scim_err e = SCIM_OK;
	ssize_t n;

	if (req->content_length > LIMIT_BODY_BYTES)
		return err_set(err, SCIM_ERR_TOO_LARGE,
		    "The body is larger than %d bytes.", LIMIT_BODY_BYTES);
	/* Read to the given length (into one buffer of that size), or to
	 * EOF when none was given; straight into the buffer, no copies. */
	for (;;) {
		if (req->content_length >= 0 &&
		    (long long)len >= req->content_length)
			break;
		if (len + 1 >= cap) {
			need = req->content_length >= 0 ?
			    (size_t)req->content_length + 1 : len + 2;
			if ((e = body_grow(&data, len, &cap, need)) != SCIM_OK)
				goto fail;
		}
		want = cap - 1 - len;
		if (req->content_length >= 0 &&
		    (long long)want > req->content_length - (long long)len)
			want = (size_t)(req->content_length - (long long)len);
		if ((n = io->read(io->ctx, data + len, want)) < 0) {
			e = SCIM_ERR_BAD_REQUEST;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIMIT_BODY_BYTES) {
			e = SCIM_ERR_TOO_LARGE;
			goto fail;
		}
	}
	if (data == NULL && (e = body_grow(&data, 0, &cap, 1)) != SCIM_OK)
		goto fail;
	data[len] = '\0';
	req->body = data;
	req->body_len = len;
	return SCIM_OK;
fail:
	if (data != NULL) {
		sodium_memzero(data, len);
		free(data);
	}
	if (e == SCIM_ERR_BAD_REQUEST)
		return err_set(err, e, "Reading the body failed.");
	if (e == SCIM_ERR_TOO_LARGE)
		return err_set(err, e, "The body is larger than %d bytes.",
		    LIMIT_BODY_BYTES);
	return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
}

/* Frees what req owns; req is zeroed. */
void
http_request_free(struct http_request *req)
{
	size_t i;

	for (i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	free(req->path);
	free(req->base_url);
	if (req->authorization != NULL)
		sodium_memzero(req->authorization, strlen(req->authorization));
	free(req->authorization);
	free(req->content_type);
	free(req->if_match);
	free(req->if_none_match);
	if (req->body != NULL)		/* it may hold a password */
		sodium_memzero(req->body, req->body_len);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

/* Looks a query parameter up by name, case-insensitively. */
const char *
http_param(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nparams; i++)
		if (req->params[i].name != NULL &&
		    strcasecmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

/* An empty 200 response with bounded header and body buffers. */
void
http_response_init(struct http_response *res)
{
	res->status = 200;
	buf_init(&res->headers, 16 * 1024);
	buf_init(&res->body, 256 * 1024 * 1024);
}

/* Frees the response's buffers. */
void
http_response_free(struct http_response *res)
{
	buf_free(&res->headers);
	buf_free(&res->body);
}

/* Appends "name: value"; a value holding CR or LF is dropped, so a
 * header can never be injected. */
enum scim_err
http_response_header(struct http_response *res, const char *name,
    const char *value)
{
	if (strpbrk(value, "\r\n") != NULL)
		return SCIM_OK;		/* never a header split: dropped */
	return buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

/* The reason phrase of the statuses scimd sends; that of 500 otherwise. */
const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

/* Writes the Status line, the headers and the body (none for HEAD, 204
 * and 304) to io. */
int
http_response_send(const struct http_io *io, const struct http_response *res,
    bool head)
{
	char line[128];
	bool nobody = head || res->status == 204 || res->status == 304;
	int n;

	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", res->status,
	    http_reason(res->status));
	if (io->write(io->ctx, line, (size_t)n) != 0)
		return -1;
	if (res->headers.len > 0 &&
	    io->write(io->ctx, res->headers.data, res->headers.len) != 0)
		return -1;
	if (!nobody) {
		n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
		    res->body.len);
		if (io->write(io->ctx, line, (size_t)n) != 0)
			return -1;
	}
	if (io->write(io->ctx, "\r\n", 2) != 0)
		return -1;
	if (!nobody && res->body.len > 0 &&
	    io->write(io->ctx, res->body.data, res->body.len) != 0)
		return -1;
	return 0;
}
