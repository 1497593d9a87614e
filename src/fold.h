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

/*
 * Folds into a caller's buffer: fills out[0..*outlen) when the folded form
 * fits in outsz bytes (no NUL written).  SCIM_ERR_TOO_LARGE when it does
 * not fit.  Avoids allocation on hot paths (index keys).
 */
enum scim_err	fold_into(const char *s, size_t len, char *out, size_t outsz,
		    size_t *outlen);

#endif
