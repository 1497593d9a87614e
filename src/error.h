/*
 * error.h: the one error enum of scimd and its mapping to HTTP.
 *
 * Every fallible function returns enum scim_err (SCIM_OK is 0) and, when
 * it fails, fills a struct scim_error with a detail sentence.  error.c
 * holds the single table mapping each value to an HTTP status and the
 * scimType of RFC 7644 section 3.12.
 */
#ifndef SCIMD_ERROR_H
#define SCIMD_ERROR_H

#include <stddef.h>

enum scim_err {
	SCIM_OK = 0,
	/* 400 invalidSyntax: body is not valid JSON or not the message shape */
	SCIM_ERR_INVALID_SYNTAX,
	/* 400 invalidValue: missing required value, wrong type */
	SCIM_ERR_INVALID_VALUE,
	/* 400 invalidFilter: filter syntax or semantics */
	SCIM_ERR_INVALID_FILTER,
	/* 400 invalidPath: PATCH path malformed or unknown */
	SCIM_ERR_INVALID_PATH,
	/* 400 noTarget: PATCH path matched nothing */
	SCIM_ERR_NO_TARGET,
	/* 400 mutability: readOnly or immutable attribute changed */
	SCIM_ERR_MUTABILITY,
	/* 400 tooMany: query would return or scan too much */
	SCIM_ERR_TOO_MANY,
	/* 400 invalidVers: If-Match value malformed */
	SCIM_ERR_INVALID_VERS,
	/* 400 invalidCursor: cursor malformed or altered (RFC 9865) */
	SCIM_ERR_INVALID_CURSOR,
	/* 400 expiredCursor: cursor past its timeout (RFC 9865) */
	SCIM_ERR_EXPIRED_CURSOR,
	/* 400 without scimType: bad query parameter, bad encoding */
	SCIM_ERR_BAD_REQUEST,
	/* 401: no or unknown bearer token */
	SCIM_ERR_UNAUTHORIZED,
	/* 403: operation not permitted */
	SCIM_ERR_FORBIDDEN,
	/* 404: no such resource or route */
	SCIM_ERR_NOT_FOUND,
	/* 405: route exists, method does not */
	SCIM_ERR_METHOD,
	/* 409 uniqueness: userName taken */
	SCIM_ERR_UNIQUENESS,
	/* 409 without scimType: other conflict */
	SCIM_ERR_CONFLICT,
	/* 412: If-Match does not match */
	SCIM_ERR_PRECONDITION,
	/* 413: body over the limit */
	SCIM_ERR_TOO_LARGE,
	/* 415: body not JSON */
	SCIM_ERR_MEDIA_TYPE,
	/* 501: feature not supported */
	SCIM_ERR_NOT_IMPLEMENTED,
	/* 507: map or disk full, nothing written */
	SCIM_ERR_STORE_FULL,
	/* 503: store busy or read-only */
	SCIM_ERR_UNAVAILABLE,
	/* 500: allocation failed */
	SCIM_ERR_NOMEM,
	/* 500: anything else that is our fault */
	SCIM_ERR_INTERNAL,
	SCIM_ERR__COUNT
};

#define SCIM_ERROR_DETAIL_BYTES	256

/* The outcome of a failed call: the code and a sentence for `detail`. */
struct scim_error {
	enum scim_err	code;
	char		detail[SCIM_ERROR_DETAIL_BYTES];
};

/*
 * Records code and a printf-style detail in err (which may be NULL) and
 * returns code, so callers can write `return err_set(err, ...)`.
 * Request bytes put into the detail must be passed through %s only after
 * err_escape() or be bounded; the detail is truncated, never overflowed.
 */
enum scim_err	err_set(struct scim_error *err, enum scim_err code,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Gives a recorded error another code, keeping its detail (err_set with
 * "%s", err->detail would print the detail over itself); returns code. */
enum scim_err	err_recode(struct scim_error *err, enum scim_err code);

/* Clears err to SCIM_OK with an empty detail. */
void		err_clear(struct scim_error *err);

/* HTTP status of code (200 for SCIM_OK). */
int		err_http_status(enum scim_err code);

/* scimType of code, or NULL where RFC 7644 gives none. */
const char	*err_scim_type(enum scim_err code);

/* A default detail sentence for code, used when none was set. */
const char	*err_default_detail(enum scim_err code);

/*
 * Copies at most outsz-1 bytes of the untrusted bytes s[0..len) into out,
 * replacing control characters and non-ASCII bytes by '?', and cutting
 * with "..." when too long.  Always NUL-terminates.  For details and logs.
 */
void		err_escape(char *out, size_t outsz, const char *s, size_t len);

#endif
