/*
 * buf.h: a growable byte buffer that cannot be created without a maximum.
 *
 * Appends fail (SCIM_ERR_TOO_LARGE, or SCIM_ERR_NOMEM) instead of growing
 * past `max`; after a failure the buffer keeps what it had.  The bytes
 * are always NUL-terminated (the NUL is not counted in len).
 */
#ifndef SCIMD_BUF_H
#define SCIMD_BUF_H

#include <stddef.h>

#include "error.h"

struct buf {
	char	*data;	/* owned; NULL until the first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* most bytes the buffer may hold */
};

/* Initialises b empty with the given maximum; allocates nothing. */
void		buf_init(struct buf *b, size_t max);

/* Frees b's bytes and leaves it empty; buf_free on an empty buf is a no-op. */
void		buf_free(struct buf *b);

/* Empties b, keeping its allocation. */
void		buf_reset(struct buf *b);

enum scim_err	buf_append(struct buf *b, const void *p, size_t n);
enum scim_err	buf_puts(struct buf *b, const char *s);
enum scim_err	buf_putc(struct buf *b, char c);
enum scim_err	buf_printf(struct buf *b, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Appends s[0..n) as the inside of a JSON string (quotes not added). */
enum scim_err	buf_json_escape(struct buf *b, const char *s, size_t n);

/* Takes the bytes out of b (caller owns, free()); b becomes empty. */
char		*buf_steal(struct buf *b, size_t *len);

#endif
