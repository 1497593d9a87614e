/*
 * fold.c: Unicode case folding through libunistring.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
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
