/*
 * fold.h: Unicode case folding for case-insensitive SCIM values.
 *
 * RFC 7643 caseExact=false values (userName, emails.value, displayName)
 * compare after full Unicode case folding and NFC normalisation
 * (libunistring's u8_casefold), so "Ärger@x" and "ärger@X" are equal,
 * also when one spells Ä decomposed.
 */
#ifndef SCIMD_FOLD_H
#define SCIMD_FOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * Folds the UTF-8 string s[0..len) into a new NUL-terminated string in
 * *out (caller owns, free()) of length *outlen.  SCIM_OK, SCIM_ERR_NOMEM,
 * or SCIM_ERR_INVALID_VALUE when s is not valid UTF-8.
 */
enum scim_err	fold_utf8(const char *s, size_t len, char **out,
    size_t *outlen);

/* Whether a and b are equal after folding (false if either is invalid). */
bool		fold_equal(const char *a, size_t alen, const char *b,
    size_t blen);

/*
 * Folds into a caller's buffer: fills out[0..*outlen) when the folded form
 * fits in outsz bytes (no NUL written).  SCIM_ERR_TOO_LARGE when it does
 * not fit.  Avoids allocation on hot paths (index keys).
 */
enum scim_err	fold_into(const char *s, size_t len, char *out, size_t outsz,
		    size_t *outlen);

/*
 * userName, compared as RFC 8265's UsernameCaseMapped profile (section
 * 3.4) prepares it, in RFC 8264's order: width mapping (each code point
 * with a <wide> or <narrow> compatibility decomposition becomes that
 * decomposition, so U+FF21 FULLWIDTH A is "A" and U+3000 a space), then
 * full Unicode case folding, then NFC (u8_casefold with UNINORM_NFC, as
 * fold_utf8 does).  RFC 8265 names toLowerCase for the case step; the
 * full case folding scimd has always used also equates "ß" with "ss"
 * and final sigma with sigma: stricter for uniqueness, and unchanged
 * from layout 1 (docs/storage.md).
 *
 * fold_username_into: the folded form into out[0..outsz), *outlen
 * bytes, no NUL.  SCIM_OK, SCIM_ERR_TOO_LARGE (does not fit),
 * SCIM_ERR_INVALID_VALUE (not UTF-8), SCIM_ERR_NOMEM.
 * fold_username: the same into a new NUL-terminated string in *out
 * (caller owns, free()).
 */
enum scim_err	fold_username_into(const char *s, size_t len, char *out,
		    size_t outsz, size_t *outlen);
enum scim_err	fold_username(const char *s, size_t len, char **out,
		    size_t *outlen);

/* Whether a and b are the same userName (false if either is invalid). */
bool		fold_username_equal(const char *a, size_t alen, const char *b,
		    size_t blen);

/*
 * Why s[0..len) cannot be a userName, written into why[whysz] (no
 * request bytes, only code point numbers), or false when it can: empty,
 * white space only (after width mapping), not UTF-8, or holding a
 * control (Cc) or format (Cf: zero-width, bidi controls) character.
 */
bool		fold_username_refused(const char *s, size_t len, char *why,
		    size_t whysz);

/*
 * Copies s[0..len) into out[outsz] for a message to the administrator:
 * UTF-8 kept, control and format characters and invalid bytes replaced
 * by '?', cut at a character boundary; always NUL-terminated.
 */
void		fold_printable(char *out, size_t outsz, const char *s,
		    size_t len);

#endif
