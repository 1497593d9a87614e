/*
 * buf.c: bounded growable buffer.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* An empty buffer that may grow to max bytes; allocates nothing yet. */
void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

/* Frees the bytes; the buffer is empty and reusable afterwards. */
void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Drops the content, keeps the allocation and the maximum. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static enum scim_err
buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return SCIM_ERR_TOO_LARGE;
	need = b->len + n + 1;
	if (need <= b->cap)
		return SCIM_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return SCIM_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return SCIM_OK;
}

/* Appends n bytes, growing within the maximum: SCIM_ERR_TOO_LARGE past
 * it, SCIM_ERR_NOMEM when the allocation fails; b unchanged on failure. */
enum scim_err
buf_append(struct buf *b, const void *p, size_t n)
{
	enum scim_err rc;

	if ((rc = buf_reserve(b, n)) != SCIM_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SCIM_OK;
}

/* Appends a NUL-terminated string (buf_append's outcomes). */
enum scim_err
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* Appends one byte (buf_append's outcomes). */
enum scim_err
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

/* Appends printf output, measured first so it is never truncated;
 * buf_append's outcomes. */
enum scim_err
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum scim_err rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SCIM_ERR_INTERNAL;
	if ((rc = buf_reserve(b, (size_t)n)) != SCIM_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return SCIM_OK;
}

/* Appends s[0..n) escaped for the inside of a JSON string: quotes,
 * backslashes and control characters as escapes. */
enum scim_err
buf_json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	enum scim_err rc;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = buf_append(b, s + start, i - start)) != SCIM_OK)
			return rc;
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; elen = 2; break;
		case '\\': esc[1] = '\\'; elen = 2; break;
		case '\n': esc[1] = 'n'; elen = 2; break;
		case '\r': esc[1] = 'r'; elen = 2; break;
		case '\t': esc[1] = 't'; elen = 2; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			elen = 6;
		}
		if ((rc = buf_append(b, esc, elen)) != SCIM_OK)
			return rc;
	}
	return buf_append(b, s + start, n - start);
}

/* Hands the bytes to the caller (a new "" when b is empty); b is left
 * empty. */
char *
buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
