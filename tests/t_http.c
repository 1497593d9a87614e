/*
 * t_http.c: request parsing from CGI variables as lighttpd, Apache
 * mod_fcgid and nginx set them: mount point, path, base URL, query
 * decoding, Authorization variants, limits; and the router.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "router.h"
#include "tap.h"

/* A fake adapter: NULL-terminated name/value pairs and a body. */
struct fake {
	const char *const	*vars;
	const char		*body;
	size_t			 off;
};

static const char *
fake_getenv(void *ctx, const char *name)
{
	const struct fake *f = ctx;
	size_t i;

	for (i = 0; f->vars[i] != NULL; i += 2)
		if (strcmp(f->vars[i], name) == 0)
			return f->vars[i + 1];
	return NULL;
}

static ssize_t
fake_read(void *ctx, char *buf, size_t n)
{
	struct fake *f = ctx;
	size_t left = f->body ? strlen(f->body) - f->off : 0;

	if (n > left)
		n = left;
	memcpy(buf, f->body + f->off, n);
	f->off += n;
	return (ssize_t)n;
}

static int
fake_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

/* Wipes the named variable's value in the fake table (whose strings the
 * caller made writable), as the CGI adapter does in the environment. */
static void
fake_forget(void *ctx, const char *name)
{
	const struct fake *f = ctx;
	size_t i;

	for (i = 0; f->vars[i] != NULL; i += 2)
		if (strcmp(f->vars[i], name) == 0)
			memset((char *)f->vars[i + 1], 0,
			    strlen(f->vars[i + 1]));
}

static enum scim_err
parse(const char *const *vars, const char *mount, struct http_request *req)
{
	static struct fake f;
	struct http_io io = { fake_getenv, fake_read, fake_write, &f, NULL };
	struct scim_error err;

	f.vars = vars;
	f.body = NULL;
	f.off = 0;
	return http_request_parse(&io, mount, NULL, req, &err);
}

int
main(void)
{
	struct http_request req;
	struct route_match m;
	struct scim_error err;
	char allow[128], longq[9000];

	/* lighttpd: prefix "/scim/v2", the whole URI in REQUEST_URI. */
	{
		const char *v[] = { "REQUEST_METHOD", "GET",
		    "REQUEST_URI", "/scim/v2/Users?filter=userName%20eq%20%22a%2Bb%40x%22&count=5",
		    "QUERY_STRING", "filter=userName%20eq%20%22a%2Bb%40x%22&count=5",
		    "HTTP_HOST", "127.0.0.1:8080", "SCRIPT_NAME", "/scim/v2",
		    "PATH_INFO", "/Users", "HTTP_AUTHORIZATION", "Bearer abc",
		    NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "lighttpd request parsed");
		is_str(req.path, "/Users", "lighttpd: route path");
		is_str(req.base_url, "http://127.0.0.1:8080/scim/v2",
		    "lighttpd: base URL from Host and mount");
		is_str(http_param(&req, "filter"), "userName eq \"a+b@x\"",
		    "query: percent-decoding, %2B is a plus");
		is_str(http_param(&req, "COUNT"), "5",
		    "query: parameter names case-insensitive");
		is_str(req.authorization, "Bearer abc", "Authorization passed");
		ok(req.method == HTTP_GET, "method GET");
		http_request_free(&req);
	}
	/* Apache mod_fcgid, a script under cgi-bin, an id in the path,
	 * Authorization after a rewrite, https. */
	{
		const char *v[] = { "REQUEST_METHOD", "PATCH",
		    "REQUEST_URI", "/cgi-bin/scimd.fcgi/Users/2819c223-7f76-453a-919d-413861904646",
		    "SCRIPT_NAME", "/cgi-bin/scimd.fcgi",
		    "PATH_INFO", "/Users/2819c223-7f76-453a-919d-413861904646",
		    "HTTPS", "on", "HTTP_HOST", "sso.example.com",
		    "REDIRECT_HTTP_AUTHORIZATION", "Bearer t",
		    "CONTENT_LENGTH", "12", "HTTP_IF_MATCH", "W/\"3\"", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "Apache request parsed");
		is_str(req.path, "/Users/2819c223-7f76-453a-919d-413861904646",
		    "Apache: route path");
		is_str(req.base_url, "https://sso.example.com/cgi-bin/scimd.fcgi",
		    "Apache: https base URL with the script as mount");
		is_str(req.authorization, "Bearer t",
		    "REDIRECT_HTTP_AUTHORIZATION accepted");
		is_int(req.content_length, 12, "Content-Length read");
		is_str(req.if_match, "W/\"3\"", "If-Match read");
		ok(req.method == HTTP_PATCH, "method PATCH");
		http_request_free(&req);
	}
	/* The token is wiped where the adapter keeps it once copied (plain
	 * CGI: the environment, readable in /proc/PID/environ), both
	 * variables, even when the request is refused before routing. */
	{
		char a[] = "Bearer s3cret", r[] = "Bearer other";
		const char *v[] = { "REQUEST_URI", "/Users?bad=%zz",
		    "QUERY_STRING", "bad=%zz",
		    "HTTP_AUTHORIZATION", a, "REDIRECT_HTTP_AUTHORIZATION", r,
		    NULL };
		struct fake f = { v, NULL, 0 };
		struct http_io io = { fake_getenv, fake_read, fake_write, &f,
		    fake_forget };
		struct scim_error err;
		static const char zero[sizeof(a)];

		ok(http_request_parse(&io, NULL, NULL, &req, &err) != SCIM_OK,
		    "a malformed query is refused...");
		is_str(req.authorization, "Bearer s3cret",
		    "...after the token was copied");
		ok(memcmp(a, zero, sizeof(a) - 1) == 0,
		    "HTTP_AUTHORIZATION's bytes wiped in the adapter");
		ok(memcmp(r, zero, sizeof(r) - 1) == 0,
		    "REDIRECT_HTTP_AUTHORIZATION's bytes wiped too");
		http_request_free(&req);
	}
	/* Entra: '+' for spaces. A configured mount. */
	{
		const char *v[] = { "REQUEST_URI", "/api/scim/Users?filter=userName+eq+%22x%22",
		    "QUERY_STRING", "filter=userName+eq+%22x%22",
		    "SERVER_NAME", "example.org", "SERVER_PORT", "8443", NULL };

		is_int(parse(v, "/api/scim", &req), SCIM_OK, "mounted request");
		is_str(http_param(&req, "filter"), "userName eq \"x\"",
		    "plus decodes to space");
		is_str(req.base_url, "http://example.org:8443/api/scim",
		    "base URL from SERVER_NAME and port without Host");
		http_request_free(&req);
	}
	/* No endpoint segment: SCRIPT_NAME is the mount (lighttpd). */
	{
		const char *v[] = { "REQUEST_URI", "/scim/v2/Nowhere",
		    "SCRIPT_NAME", "/scim/v2", "PATH_INFO", "/Nowhere", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "unknown path parsed");
		is_str(req.path, "/Nowhere", "unknown path kept for a 404");
		http_request_free(&req);
	}
	{
		const char *v[] = { "REQUEST_URI", "/scim/v2/?filter=x",
		    "SCRIPT_NAME", "/scim/v2", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "root parsed");
		is_str(req.path, "/", "the mount itself is the root");
		http_request_free(&req);
	}
	/* nginx: HTTP_HOST without the port; SERVER_PORT supplies it. */
	{
		const char *v[] = { "REQUEST_URI", "/scim/v2/Users",
		    "HTTP_HOST", "127.0.0.1", "SERVER_PORT", "8080", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "nginx request parsed");
		is_str(req.base_url, "http://127.0.0.1:8080/scim/v2",
		    "port restored from SERVER_PORT");
		http_request_free(&req);
	}
	/* .htaccess rewrite to script/PATH_INFO: the clean URL is the mount. */
	{
		const char *v[] = { "REQUEST_URI", "/site/Nowhere",
		    "SCRIPT_NAME", "/site/scimd.fcgi", "PATH_INFO", "/Nowhere",
		    NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "rewritten request parsed");
		is_str(req.path, "/Nowhere", "PATH_INFO kept after a rewrite");
		http_request_free(&req);
	}
	/* A hostile Host is not used in URLs. */
	{
		const char *v[] = { "REQUEST_URI", "/Users",
		    "HTTP_HOST", "evil.example\r\nX-Injected: 1", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "bad Host parsed");
		is_str(req.base_url, "http://localhost", "bad Host ignored");
		http_request_free(&req);
	}
	/* A mount with bytes a URL cannot carry is percent-encoded (the
	 * base URL goes into JSON strings, which must be UTF-8). */
	{
		const char *v[] = { "REQUEST_URI", "/sc\xdb\"m/v2/Users",
		    "SCRIPT_NAME", "/sc\xdb\"m/v2", "HTTP_HOST", "h", NULL };

		is_int(parse(v, NULL, &req), SCIM_OK, "non-ASCII mount parsed");
		is_str(req.base_url, "http://h/sc%DB%22m/v2",
		    "non-ASCII and quote in the mount percent-encoded");
		http_request_free(&req);
	}
	/* Bad encodings and limits. */
	{
		const char *v[] = { "REQUEST_URI", "/Users?filter=%zz",
		    "QUERY_STRING", "filter=%zz", NULL };

		is_int(parse(v, NULL, &req), SCIM_ERR_BAD_REQUEST,
		    "bad percent escape: 400");
		http_request_free(&req);
	}
	{
		const char *v[] = { "REQUEST_URI", "/Users?a=%00",
		    "QUERY_STRING", "a=%00", NULL };

		is_int(parse(v, NULL, &req), SCIM_ERR_BAD_REQUEST,
		    "encoded NUL: 400");
		http_request_free(&req);
	}
	{
		memset(longq, 'a', sizeof(longq) - 1);
		longq[sizeof(longq) - 1] = '\0';
		const char *v[] = { "REQUEST_URI", "/Users", "QUERY_STRING",
		    longq, NULL };

		is_int(parse(v, NULL, &req), SCIM_ERR_TOO_LARGE,
		    "query over the limit: 413");
		http_request_free(&req);
	}
	{
		const char *v[] = { "REQUEST_URI", "/Users",
		    "CONTENT_LENGTH", "-5", NULL };

		is_int(parse(v, NULL, &req), SCIM_ERR_BAD_REQUEST,
		    "negative Content-Length: 400");
		http_request_free(&req);
	}
	{
		const char *v[] = { "REQUEST_URI", "/Users", NULL };
		struct fake f = { v, "{\"a\":1}", 0 };
		struct http_io io = { fake_getenv, fake_read, fake_write, &f, NULL };

		http_request_parse(&io, NULL, NULL, &req, &err);
		is_int(http_read_body(&io, &req, &err), SCIM_OK,
		    "body without Content-Length read to EOF");
		is_str(req.body, "{\"a\":1}", "body bytes");
		http_request_free(&req);
	}
	{
		const char *v[] = { "REQUEST_URI", "/Users",
		    "CONTENT_LENGTH", "2000000", NULL };
		struct fake f = { v, "", 0 };
		struct http_io io = { fake_getenv, fake_read, fake_write, &f, NULL };

		http_request_parse(&io, NULL, NULL, &req, &err);
		is_int(http_read_body(&io, &req, &err), SCIM_ERR_TOO_LARGE,
		    "Content-Length over the limit refused before reading");
		http_request_free(&req);
	}

	/* Router. */
	is_int(router_match(HTTP_GET, "/Users", &m, allow, sizeof(allow),
	    &err), SCIM_OK, "GET /Users routed");
	ok(m.type == RT_USER && !m.has_body, "GET /Users: users, no body");
	is_int(router_match(HTTP_PUT, "/Groups/abc", &m, allow, sizeof(allow),
	    &err), SCIM_OK, "PUT /Groups/{id} routed");
	is_str(m.arg, "abc", "route argument");
	ok(m.type == RT_GROUP && m.has_body, "PUT /Groups/{id}: groups, body");
	is_int(router_match(HTTP_DELETE, "/Users", &m, allow, sizeof(allow),
	    &err), SCIM_ERR_METHOD, "DELETE /Users: 405");
	is_str(allow, "GET, POST", "Allow lists the methods");
	is_int(router_match(HTTP_GET, "/Users/.search", &m, allow,
	    sizeof(allow), &err), SCIM_ERR_METHOD, "GET .search: 405");
	is_int(router_match(HTTP_POST, "/Users/.search", &m, allow,
	    sizeof(allow), &err), SCIM_OK, "POST /Users/.search routed");
	is_int(router_match(HTTP_GET, "/Users/a/b", &m, allow, sizeof(allow),
	    &err), SCIM_ERR_NOT_FOUND, "deeper path: 404");
	is_int(router_match(HTTP_GET, "/", &m, allow, sizeof(allow), &err),
	    SCIM_OK, "GET / (query across types) routed");
	is_int(router_match(HTTP_DELETE, "/", &m, allow, sizeof(allow), &err),
	    SCIM_ERR_METHOD, "DELETE /: 405");
	is_int(router_match(HTTP_GET, "/Nothing", &m, allow, sizeof(allow),
	    &err), SCIM_ERR_NOT_FOUND, "unknown endpoint: 404");
	is_int(router_match(HTTP_GET, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
	    &m, allow, sizeof(allow), &err), SCIM_OK, "GET /Schemas/{urn}");
	is_int(router_match(HTTP_HEAD, "/ServiceProviderConfig", &m, allow,
	    sizeof(allow), &err), SCIM_OK, "HEAD routed as GET");
	return tap_done();
}
