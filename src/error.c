/*
 * error.c: the table mapping enum scim_err to HTTP status and scimType.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

struct err_entry {
	int		 status;
	const char	*scim_type;
	const char	*detail;
};

/* Indexed by enum scim_err; the static assert below keeps them in step. */
static const struct err_entry err_table[] = {
	[SCIM_OK] = { 200, NULL, "OK" },
	[SCIM_ERR_INVALID_SYNTAX] = { 400, "invalidSyntax",
	    "The request body is not valid" },
	[SCIM_ERR_INVALID_VALUE] = { 400, "invalidValue",
	    "A value is missing or invalid" },
	[SCIM_ERR_INVALID_FILTER] = { 400, "invalidFilter",
	    "The filter is invalid" },
	[SCIM_ERR_INVALID_PATH] = { 400, "invalidPath", "The path is invalid" },
	[SCIM_ERR_NO_TARGET] = { 400, "noTarget", "The path matched no value" },
	[SCIM_ERR_MUTABILITY] = { 400, "mutability",
	    "The attribute cannot be modified" },
	[SCIM_ERR_TOO_MANY] = { 400, "tooMany",
	    "The query matches too many resources" },
	[SCIM_ERR_INVALID_VERS] = { 400, "invalidVers",
	    "The version is invalid" },
	[SCIM_ERR_INVALID_CURSOR] = { 400, "invalidCursor",
	    "The cursor is not valid" },
	[SCIM_ERR_EXPIRED_CURSOR] = { 400, "expiredCursor",
	    "The cursor has expired" },
	[SCIM_ERR_BAD_REQUEST] = { 400, NULL, "The request is invalid" },
	[SCIM_ERR_UNAUTHORIZED] = { 401, NULL,
	    "Authorization failure: a valid bearer token is required" },
	[SCIM_ERR_FORBIDDEN] = { 403, NULL, "The operation is not permitted" },
	[SCIM_ERR_NOT_FOUND] = { 404, NULL, "Resource not found" },
	[SCIM_ERR_METHOD] = { 405, NULL,
	    "Method not allowed on this endpoint" },
	[SCIM_ERR_UNIQUENESS] = { 409, "uniqueness",
	    "A unique attribute value is already in use" },
	[SCIM_ERR_CONFLICT] = { 409, NULL,
	    "The request conflicts with the resource" },
	[SCIM_ERR_PRECONDITION] = { 412, NULL,
	    "The resource version does not match If-Match" },
	[SCIM_ERR_TOO_LARGE] = { 413, NULL, "The request body is too large" },
	[SCIM_ERR_MEDIA_TYPE] = { 415, NULL,
	    "The request body must be application/scim+json or "
	    "application/json" },
	[SCIM_ERR_NOT_IMPLEMENTED] = { 501, NULL, "Not implemented" },
	[SCIM_ERR_STORE_FULL] = { 507, NULL,
	    "The store is full; nothing was written" },
	[SCIM_ERR_UNAVAILABLE] = { 503, NULL,
	    "The store is unavailable; try again" },
	[SCIM_ERR_NOMEM] = { 500, NULL, "Out of memory" },
	[SCIM_ERR_INTERNAL] = { 500, NULL, "Internal error" },
};

_Static_assert(sizeof(err_table) / sizeof(err_table[0]) == SCIM_ERR__COUNT,
    "err_table must have one entry per enum scim_err value");

static const struct err_entry *
err_entry(enum scim_err code)
{
	if ((unsigned)code >= SCIM_ERR__COUNT)
		code = SCIM_ERR_INTERNAL;
	return &err_table[code];
}

/* Formats the detail into err (truncated, never overflowed); NULL fmt
 * keeps the default detail of code. */
enum scim_err
err_set(struct scim_error *err, enum scim_err code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->detail[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Changes err's code, keeping its detail. */
enum scim_err
err_recode(struct scim_error *err, enum scim_err code)
{
	if (err != NULL)
		err->code = code;
	return code;
}

/* SCIM_OK and an empty detail. */
void
err_clear(struct scim_error *err)
{
	if (err == NULL)
		return;
	err->code = SCIM_OK;
	err->detail[0] = '\0';
}

/* From the table; out-of-range codes read as SCIM_ERR_INTERNAL. */
int
err_http_status(enum scim_err code)
{
	return err_entry(code)->status;
}

/* From the table; NULL where RFC 7644 3.12 defines no scimType. */
const char *
err_scim_type(enum scim_err code)
{
	return err_entry(code)->scim_type;
}

/* From the table: a sentence safe to send as it is. */
const char *
err_default_detail(enum scim_err code)
{
	return err_entry(code)->detail;
}

/* Copies untrusted bytes for a detail or a log: controls and non-ASCII
 * become '?', a long input ends in "...", the output is NUL-terminated. */
void
err_escape(char *out, size_t outsz, const char *s, size_t len)
{
	size_t i, o = 0;

	if (outsz == 0)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 1 >= outsz)
			break;
		out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
	if (i < len && outsz > 4) {
		o = outsz - 4 < o ? outsz - 4 : o;
		memcpy(out + o, "...", 4);
	}
}
