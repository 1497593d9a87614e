/*
 * http.h: the request and response model, independent of FastCGI or CGI.
 *
 * The adapter (fcgi.c) supplies a struct http_io: a way to read CGI
 * variables, the body stream and the output stream.  http_request_parse()
 * turns the variables into a struct http_request (bounded copies; nothing
 * points into the adapter's environment after it returns; the token's
 * own bytes there are wiped through io->forget, first thing) and
 * http_read_body() reads the body, which the caller does only after the
 * request is authenticated.  Responses are built in a struct
 * http_response and written with http_response_send().
 *
 * These functions are callable without any web server: tests and fuzz
 * harnesses drive them with a table of variables.
 */
#ifndef SCIMD_HTTP_H
#define SCIMD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"
#include "limits.h"

struct http_io {
	/* The CGI variable name, or NULL (borrowed until the next call). */
	const char	*(*getenv)(void *ctx, const char *name);
	/* Reads up to n body bytes; returns bytes read, 0 at end, -1 error. */
	ssize_t		 (*read)(void *ctx, char *buf, size_t n);
	/* Writes n bytes; returns 0 or -1. */
	int		 (*write)(void *ctx, const char *buf, size_t n);
	void		*ctx;
	/* Overwrites the value of CGI variable name where the adapter keeps
	 * it (the process environment under CGI: /proc/PID/environ); NULL
	 * when there is nothing to wipe.  Called for the Authorization
	 * variables once they are copied. */
	void		 (*forget)(void *ctx, const char *name);
};

struct http_param {
	char	*name;		/* percent-decoded, owned */
	char	*value;		/* percent-decoded, '+' as space, owned */
};

enum http_method {
	HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_HEAD,
	HTTP_OTHER
};

struct http_request {
	enum http_method	 method;
	char			 method_name[16];
	/* route path after the mount point, decoded, owned ("/Users/x") */
	char			*path;
	/* scheme://host/mount, no trailing slash, owned */
	char			*base_url;
	struct http_param	 params[LIMIT_QUERY_PARAMS];
	size_t			 nparams;
	char			*authorization;	/* owned or NULL */
	char			*content_type;	/* owned or NULL */
	char			*if_match;	/* owned or NULL */
	char			*if_none_match;	/* owned or NULL */
	long long		 content_length;	/* -1 when not given */
	/* owned, NUL-terminated, after http_read_body */
	char			*body;
	size_t			 body_len;
};

/*
 * Builds req from the CGI variables of io.  mount (may be NULL) is the
 * configured mount point; base_url (may be NULL) overrides the one built
 * from the request.  Returns SCIM_OK, SCIM_ERR_BAD_REQUEST (malformed
 * URI or query), SCIM_ERR_TOO_LARGE (query or path over its limit), or
 * SCIM_ERR_NOMEM.  req is always safe to pass to http_request_free().
 */
enum scim_err	http_request_parse(const struct http_io *io, const char *mount,
		    const char *base_url, struct http_request *req,
		    struct scim_error *err);

/* Reads the body (at most LIMIT_BODY_BYTES; SCIM_ERR_TOO_LARGE beyond). */
enum scim_err	http_read_body(const struct http_io *io,
		    struct http_request *req, struct scim_error *err);

void		http_request_free(struct http_request *req);

/* The value of query parameter name (case-insensitive), or NULL. */
const char	*http_param(const struct http_request *req, const char *name);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int		http_hex_digit(int c);

/* Percent-decodes s[0..len) into a new string; '+' becomes a space when
 * plus is true.  NULL on bad escapes or embedded NUL. */
char		*http_decode(const char *s, size_t len, bool plus);

struct http_response {
	int		 status;
	struct buf	 headers;	/* "Name: value\r\n" lines */
	struct buf	 body;
};

void		http_response_init(struct http_response *res);
void		http_response_free(struct http_response *res);

/* Adds a header; value must not hold CR or LF (checked: dropped if so). */
enum scim_err	http_response_header(struct http_response *res,
		    const char *name, const char *value);

/* Writes status, headers, and body (omitted for HEAD and 204/304). */
int		http_response_send(const struct http_io *io,
		    const struct http_response *res, bool head);

/* The reason phrase of status. */
const char	*http_reason(int status);

#endif
