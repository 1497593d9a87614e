/*
 * jsonx.c: bounded JSON parsing.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <unistr.h>

#include "jsonx.h"
#include "limits.h"

/* Checks depth, member counts and string lengths of j. */
static enum scim_err
check(const json_t *j, int depth, struct scim_error *err)
{
	const char *key;
	json_t *v;
	size_t i;
	enum scim_err e;

	if (depth > LIMIT_JSON_DEPTH)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "JSON nested deeper than %d levels.", LIMIT_JSON_DEPTH);
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (json_object_size(j) > LIMIT_JSON_MEMBERS)
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "A JSON object has more than %d members.",
			    LIMIT_JSON_MEMBERS);
		json_object_foreach((json_t *)j, key, v)
			if ((e = check(v, depth + 1, err)) != SCIM_OK)
				return e;
		return SCIM_OK;
	case JSON_ARRAY:
		if (json_array_size(j) > LIMIT_JSON_MEMBERS)
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "A JSON array has more than %d elements.",
			    LIMIT_JSON_MEMBERS);
		json_array_foreach(j, i, v)
			if ((e = check(v, depth + 1, err)) != SCIM_OK)
				return e;
		return SCIM_OK;
	case JSON_STRING:
		if (json_string_length(j) > LIMIT_STRING_BYTES)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "A string is longer than %d bytes.",
			    LIMIT_STRING_BYTES);
		return SCIM_OK;
	default:
		return SCIM_OK;
	}
}

/* jansson's parse with duplicate keys refused, then the depth, member
 * and string limits checked over the whole tree. */
enum scim_err
jsonx_parse(const char *text, size_t len, json_t **out, struct scim_error *err)
{
	json_error_t je;
	json_t *j;
	enum scim_err e;

	*out = NULL;
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "The body is not valid JSON (line %d, column %d): %.120s",
		    je.line, je.column, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "The body must be a JSON object.");
	}
	if ((e = check(j, 1, err)) != SCIM_OK) {
		json_decref(j);
		return e;
	}
	*out = j;
	return SCIM_OK;
}

/* Copies s to out (outsz > 3), replacing each byte that does not start
 * a valid UTF-8 sequence with U+FFFD; truncates on a character boundary. */
static void
utf8_repair(const char *s, char *out, size_t outsz)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
	size_t o = 0;
	ucs4_t uc;
	int n;

	while (p < end) {
		n = u8_mbtoucr(&uc, p, (size_t)(end - p));
		if (n < 0) {
			if (o + 3 >= outsz)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		if (o + (size_t)n >= outsz)
			break;
		memcpy(out + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	out[o] = '\0';
}

/* The RFC 7644 Error message of err: status as a string, scimType when
 * there is one, the detail (or the default one). */
json_t *
jsonx_error(const struct scim_error *err)
{
	const char *type = err_scim_type(err->code);
	char status[8], detail[3 * SCIM_ERROR_DETAIL_BYTES];
	json_t *j;

	snprintf(status, sizeof(status), "%d", err_http_status(err->code));
	/* A detail may quote the request (a path, a value): JSON strings
	 * must be UTF-8, so invalid bytes become U+FFFD. */
	utf8_repair(err->detail[0] ? err->detail :
	    err_default_detail(err->code), detail, sizeof(detail));
	j = json_pack("{s:[s], s:s, s:s}", "schemas",
	    "urn:ietf:params:scim:api:messages:2.0:Error", "detail", detail,
	    "status", status);
	if (j != NULL && type != NULL &&
	    json_object_set_new(j, "scimType", json_string(type)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/*
 * jansson's dump callback appending to a struct buf.  A failure is
 * sticky: jansson 2.14 ignores the callback's error while writing an
 * object's key, so after a failed append it would go on and produce text
 * with a byte missing (seen under allocation-failure injection:
 * `"userName:"x"` stored as a record).  Every later append fails too,
 * and the caller checks the flag.
 */
struct dump_ctx {
	struct buf	*b;
	bool		 failed;
};

static int
dump_cb(const char *p, size_t n, void *data)
{
	struct dump_ctx *d = data;

	if (d->failed || buf_append(d->b, p, n) != SCIM_OK) {
		d->failed = true;
		return -1;
	}
	return 0;
}

static enum scim_err
dump_flags(const json_t *j, struct buf *b, size_t flags)
{
	struct dump_ctx d = { b, false };
	size_t start = b->len;

	if (json_dump_callback(j, dump_cb, &d, flags) != 0 || d.failed) {
		b->len = start;
		if (b->data != NULL)
			b->data[start] = '\0';
		return SCIM_ERR_NOMEM;
	}
	return SCIM_OK;
}

/* Serialises j into b through dump_cb, which records any allocation
 * failure; b is as it was on failure. */
enum scim_err
jsonx_dump(const json_t *j, struct buf *b)
{
	return dump_flags(j, b, JSON_COMPACT);
}

/* The stack buffer of jsonx_dumps(): a user record or an audit entry
 * fits. */
#define JSONX_DUMPS_STACK	4096

/* jsonx_dump into a new NUL-terminated string.  Text that fits in
 * JSONX_DUMPS_STACK bytes (a user record, an audit entry) is first
 * written by json_dumpb() into the stack, whose writer cannot fail
 * half-way (it only counts past the end), and copied once: a dump of a
 * record cost a callback and a bounds check per token
 * (docs/performance.md, import).  Anything larger, or any failure, takes
 * the dump_cb path. */
char *
jsonx_dumps(const json_t *j)
{
	char stack[JSONX_DUMPS_STACK], *s;
	struct buf b;
	size_t n;

	n = json_dumpb(j, stack, sizeof(stack), JSON_COMPACT |
	    JSON_ENCODE_ANY);
	if (n > 0 && n < sizeof(stack)) {
		if ((s = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(s, stack, n);
		s[n] = '\0';
		return s;
	}
	buf_init(&b, (size_t)-1 / 2);
	if (dump_flags(j, &b, JSON_COMPACT | JSON_ENCODE_ANY) != SCIM_OK ||
	    buf_putc(&b, '\0') != SCIM_OK) {
		buf_free(&b);
		return NULL;
	}
	b.len--;	/* the NUL is the string's end, not a byte of it */
	return buf_steal(&b, NULL);
}

/* ---- raw scanning of stored records ------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at an opening quote: the byte after the closing one, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* p at the start of a value: the byte after it, or NULL.  Nested
 * objects and arrays are skipped by counting brackets outside strings,
 * up to LIMIT_JSON_DEPTH deep. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			if (++depth > LIMIT_JSON_DEPTH)
				return NULL;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

/* Walks the top-level members of a stored object without parsing it,
 * every step bounds-checked; malformed input is "not found". */
bool
jsonx_find_member(const char *text, size_t len, const char *name,
    const char **val, size_t *vlen)
{
	const char *p = text, *end = text + len, *k, *v;
	size_t nlen = strlen(name), klen;

	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return false;
	for (;;) {
		p = skip_ws(p, end);
		if (p >= end || *p != '"')
			return false;
		k = p + 1;
		if ((p = skip_string(p, end)) == NULL)
			return false;
		klen = (size_t)(p - 1 - k);
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return false;
		v = p = skip_ws(p, end);
		if ((p = skip_value(p, end)) == NULL || p == v)
			return false;
		if (klen == nlen && memcmp(k, name, nlen) == 0) {
			*val = v;
			*vlen = (size_t)(p - v);
			return true;
		}
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			return false;
		p++;
	}
}

/* Steps over one array element from *pos, bounds-checked; false at the
 * end or at anything malformed. */
bool
jsonx_next_element(const char *text, size_t len, size_t *pos,
    const char **val, size_t *vlen)
{
	const char *p = text + *pos, *end = text + len, *v;

	if (*pos == 0) {
		p = skip_ws(p, end);
		if (p >= end || *p++ != '[')
			return false;
	} else {
		p = skip_ws(p, end);
		if (p >= end || *p++ != ',')
			return false;
	}
	v = p = skip_ws(p, end);
	if ((p = skip_value(p, end)) == NULL || p == v)
		return false;
	*val = v;
	*vlen = (size_t)(p - v);
	*pos = (size_t)(p - text);
	return true;
}

/* One bounds-checked pass over the top-level members, filling the value
 * of each name asked for; returns how many were found. */
size_t
jsonx_find_members(const char *text, size_t len, const char *const *names,
    size_t n, const char **vals, size_t *vlens)
{
	const char *p = text, *end = text + len, *k, *v;
	size_t klen, i, found = 0;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return 0;
	while (found < n) {
		p = skip_ws(p, end);
		if (p >= end || *p != '"')
			break;
		k = p + 1;
		if ((p = skip_string(p, end)) == NULL)
			break;
		klen = (size_t)(p - 1 - k);
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			break;
		v = p = skip_ws(p, end);
		if ((p = skip_value(p, end)) == NULL || p == v)
			break;
		for (i = 0; i < n; i++)
			if (vals[i] == NULL &&
			    strncmp(k, names[i], klen) == 0 &&
			    names[i][klen] == '\0') {
				vals[i] = v;
				vlens[i] = (size_t)(p - v);
				found++;
				break;
			}
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			break;
		p++;
	}
	return found;
}

/* ---- wiping what jansson frees ----------------------------------------- */

/* Each block starts with its size, padded to keep the user's part
 * aligned as malloc() aligns. */
#define WIPE_HEADER	_Alignof(max_align_t)
_Static_assert(WIPE_HEADER >= sizeof(size_t), "the header holds a size_t");

static void *
wiping_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - WIPE_HEADER ||
	    (p = malloc(WIPE_HEADER + n)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WIPE_HEADER;
}

static void
wiping_free(void *q)
{
	unsigned char *p;
	size_t n;

	if (q == NULL)
		return;
	p = (unsigned char *)q - WIPE_HEADER;
	memcpy(&n, p, sizeof(n));
	sodium_memzero(p, WIPE_HEADER + n);
	free(p);
}

/* Installs the wiping allocator (jsonx.h). */
void
jsonx_wipe_freed(void)
{
	json_set_alloc_funcs(wiping_malloc, wiping_free);
}
