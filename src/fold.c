/*
 * fold.c: Unicode case folding through libunistring.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>
#include <uninorm.h>

#include "fold.h"

/* True when s is plain ASCII, which folds with a byte table. */
static bool
fold_is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/*
 * Folds into out[outsz] without allocating when the result fits;
 * SCIM_ERR_TOO_LARGE when it does not, SCIM_ERR_INVALID_VALUE for bad
 * UTF-8.
 */
enum scim_err
fold_into(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
	uint8_t *r;
	size_t rlen = outsz, i;

	if (fold_is_ascii(s, len)) {
		if (len > outsz)
			return SCIM_ERR_TOO_LARGE;
		for (i = 0; i < len; i++) {
			char c = s[i];
			out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		*outlen = len;
		return SCIM_OK;
	}
	if (u8_check((const uint8_t *)s, len) != NULL)
		return SCIM_ERR_INVALID_VALUE;
	r = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFC,
	    (uint8_t *)out, &rlen);
	if (r == NULL)
		return SCIM_ERR_NOMEM;
	if (r != (uint8_t *)out) {
		/* libunistring allocated: the result did not fit. */
		free(r);
		return SCIM_ERR_TOO_LARGE;
	}
	*outlen = rlen;
	return SCIM_OK;
}

/* Full Unicode case folding with NFC normalisation (libunistring), into
 * a new NUL-terminated string. */
enum scim_err
fold_utf8(const char *s, size_t len, char **out, size_t *outlen)
{
	uint8_t *r;
	size_t rlen = 0;
	char *p;

	*out = NULL;
	if (u8_check((const uint8_t *)s, len) != NULL)
		return SCIM_ERR_INVALID_VALUE;
	r = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFC, NULL,
	    &rlen);
	if (r == NULL)
		return SCIM_ERR_NOMEM;
	if ((p = malloc(rlen + 1)) == NULL) {
		free(r);
		return SCIM_ERR_NOMEM;
	}
	memcpy(p, r, rlen);
	p[rlen] = '\0';
	free(r);
	*out = p;
	*outlen = rlen;
	return SCIM_OK;
}

/* Whether a and b fold (with fold) to the same bytes; false if either
 * fails to fold. */
static bool
equal_folded(enum scim_err (*fold)(const char *, size_t, char **, size_t *),
    const char *a, size_t alen, const char *b, size_t blen)
{
	char *fa = NULL, *fb = NULL;
	size_t la, lb;
	bool eq = false;

	if (fold(a, alen, &fa, &la) != SCIM_OK ||
	    fold(b, blen, &fb, &lb) != SCIM_OK)
		goto done;
	eq = la == lb && memcmp(fa, fb, la) == 0;
done:
	free(fa);
	free(fb);
	return eq;
}

/* fold_utf8() of both, compared byte for byte; false if either fails. */
bool
fold_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return equal_folded(fold_utf8, a, alen, b, blen);
}

/* ---- userName (RFC 8265 UsernameCaseMapped) ------------------------------ */

/* The width mapping of uc: its <wide> or <narrow> decomposition (one
 * code point for every such character), else uc itself. */
static ucs4_t
width_map(ucs4_t uc)
{
	ucs4_t d[UC_DECOMPOSITION_MAX_LENGTH];
	int tag;

	if (uc < 0x80)
		return uc;
	if (uc_decomposition(uc, &tag, d) == 1 &&
	    (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
		return d[0];
	return uc;
}

/*
 * s (valid UTF-8) after width mapping, in a new buffer *out of *outlen
 * bytes (caller frees), or *out NULL when nothing maps (use s as is).
 * A mapped code point never needs more bytes than its source (the
 * <wide>/<narrow> characters are 3-byte BMP code points), so len bytes
 * suffice; a longer result would be refused as TOO_LARGE, never cut.
 */
static enum scim_err
width_map_utf8(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	uint8_t *buf = NULL;
	size_t n = 0;
	ucs4_t uc, m;
	int k, w;

	*out = NULL;
	while (p < end) {
		k = u8_mbtouc(&uc, p, (size_t)(end - p));
		m = width_map(uc);
		if (m != uc && buf == NULL) {
			if ((buf = malloc(len)) == NULL)
				return SCIM_ERR_NOMEM;
			n = (size_t)(p - (const uint8_t *)s);
			memcpy(buf, s, n);
		}
		if (buf != NULL) {
			w = u8_uctomb(buf + n, m, (int)(len - n));
			if (w < 0) {
				free(buf);
				return SCIM_ERR_TOO_LARGE;
			}
			n += (size_t)w;
		}
		p += k;
	}
	*out = buf;
	*outlen = n;
	return SCIM_OK;
}

/* fold_username() into a caller's buffer, without allocating when the
 * result fits; SCIM_ERR_TOO_LARGE when it does not. */
enum scim_err
fold_username_into(const char *s, size_t len, char *out, size_t outsz,
    size_t *outlen)
{
	uint8_t *m;
	size_t mlen;
	enum scim_err e;

	if (fold_is_ascii(s, len))
		return fold_into(s, len, out, outsz, outlen);
	if (u8_check((const uint8_t *)s, len) != NULL)
		return SCIM_ERR_INVALID_VALUE;
	if ((e = width_map_utf8(s, len, &m, &mlen)) != SCIM_OK)
		return e;
	if (m == NULL)
		return fold_into(s, len, out, outsz, outlen);
	e = fold_into((const char *)m, mlen, out, outsz, outlen);
	free(m);
	return e;
}

/* Width mapping, then case folding with NFC (RFC 8265 3.4), into a new
 * NUL-terminated string. */
enum scim_err
fold_username(const char *s, size_t len, char **out, size_t *outlen)
{
	uint8_t *m;
	size_t mlen;
	enum scim_err e;

	*out = NULL;
	if (u8_check((const uint8_t *)s, len) != NULL)
		return SCIM_ERR_INVALID_VALUE;
	if ((e = width_map_utf8(s, len, &m, &mlen)) != SCIM_OK)
		return e;
	if (m == NULL)
		return fold_utf8(s, len, out, outlen);
	e = fold_utf8((const char *)m, mlen, out, outlen);
	free(m);
	return e;
}

/* fold_username() of both, compared byte for byte. */
bool
fold_username_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return equal_folded(fold_username, a, alen, b, blen);
}

/* Walks s as UTF-8 and names the first reason it cannot be a userName
 * (code points only, never request bytes); false when it can be one. */
bool
fold_username_refused(const char *s, size_t len, char *why, size_t whysz)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	bool blank = true;
	ucs4_t uc;
	int k;

	if (len == 0) {
		snprintf(why, whysz, "is empty");
		return true;
	}
	if (u8_check(p, len) != NULL) {
		snprintf(why, whysz, "is not valid UTF-8");
		return true;
	}
	while (p < end) {
		k = u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc_is_general_category(uc, UC_CATEGORY_Cc) ||
		    uc_is_general_category(uc, UC_CATEGORY_Cf)) {
			snprintf(why, whysz, "holds the %s character U+%04X at "
			    "byte %zu",
			    uc_is_general_category(uc, UC_CATEGORY_Cc) ?
			    "control" : "invisible format",
			    (unsigned)uc, (size_t)(p - (const uint8_t *)s));
			return true;
		}
		if (!uc_is_property_white_space(width_map(uc)))
			blank = false;
		p += k;
	}
	if (blank) {
		snprintf(why, whysz, "is only white space");
		return true;
	}
	return false;
}

/* Copies s for an administrator's message: valid UTF-8 kept, controls,
 * format characters and bad bytes as '?', cut at a character boundary. */
void
fold_printable(char *out, size_t outsz, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t n = 0;
	ucs4_t uc;
	int k;

	if (outsz == 0)
		return;
	while (p < end) {
		k = u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc == 0xFFFD ||
		    uc_is_general_category(uc, UC_CATEGORY_Cc) ||
		    uc_is_general_category(uc, UC_CATEGORY_Cf)) {
			if (n + 1 >= outsz)
				break;
			out[n++] = '?';
		} else {
			if (n + (size_t)k >= outsz)
				break;
			memcpy(out + n, p, (size_t)k);
			n += (size_t)k;
		}
		p += k;
	}
	out[n] = '\0';
}
