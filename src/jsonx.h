/*
 * jsonx.h: the only entry for untrusted JSON.
 *
 * jsonx_parse() loads a request body with jansson, refusing duplicate
 * keys, NUL characters, nesting deeper than LIMIT_JSON_DEPTH, objects or
 * arrays with more than LIMIT_JSON_MEMBERS members and strings longer
 * than LIMIT_STRING_BYTES.  jsonx_dump() is the one serialiser for
 * responses.
 */
#ifndef SCIMD_JSONX_H
#define SCIMD_JSONX_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"

/*
 * Parses text[0..len).  SCIM_OK and *out (caller owns, json_decref), or
 * SCIM_ERR_INVALID_SYNTAX with the line and column, or
 * SCIM_ERR_TOO_LARGE / SCIM_ERR_INVALID_VALUE for a limit.  The top level
 * must be an object.
 */
enum scim_err	jsonx_parse(const char *text, size_t len, json_t **out,
		    struct scim_error *err);

/*
 * The SCIM Error message for err (RFC 7644 3.12): schemas, status as a
 * string, scimType where the RFC gives one, detail.  New reference, or
 * NULL when out of memory.
 */
json_t		*jsonx_error(const struct scim_error *err);

/*
 * Finds the member `name` at the top level of the JSON object text
 * text[0..len) (a stored record: our own output, but every byte is
 * bounds-checked and anything malformed is simply "not found").  On
 * success *val and *vlen span the raw bytes of its value, which are
 * themselves valid JSON (a string keeps its quotes and escapes) and can
 * be copied into a response as they are.  Keys are compared as written,
 * without decoding escapes.  Nothing is allocated.
 */
bool		jsonx_find_member(const char *text, size_t len,
		    const char *name, const char **val, size_t *vlen);

/*
 * jsonx_find_member() for n names in one pass over text: vals[i] and
 * vlens[i] span the value of names[i], or vals[i] is NULL when it is
 * absent (or the text is malformed before it).  Returns how many were
 * found.  Nothing is allocated.
 */
size_t		jsonx_find_members(const char *text, size_t len,
		    const char *const *names, size_t n, const char **vals,
		    size_t *vlens);

/*
 * Steps through the elements of the JSON array text[0..len) (a value
 * found by jsonx_find_member, bounds-checked the same way): *pos is 0
 * for the first call and is advanced by each; true with *val and *vlen
 * spanning the next element's raw bytes, false at the end of the array
 * or at anything malformed.  Nothing is allocated.
 */
bool		jsonx_next_element(const char *text, size_t len, size_t *pos,
		    const char **val, size_t *vlen);

/* Appends the compact form of j to b; on failure b is as it was.  Use
 * these, never json_dumps(): see dump_cb() in jsonx.c. */
enum scim_err	jsonx_dump(const json_t *j, struct buf *b);

/* The compact form of j (any JSON value) as a NUL-terminated string the
 * caller frees, or NULL when out of memory. */
char		*jsonx_dumps(const json_t *j);

/*
 * Has jansson wipe every block it frees (values, keys, strings, the
 * parser's buffers), so that a password in a request body does not stay
 * in the heap after the request.  Process-wide; call before the first
 * jansson call (scimd's main does).  Every jansson value allocated
 * before it must be gone.
 */
void		jsonx_wipe_freed(void);

#endif
