/*
 * auth.h: bearer-token authentication.
 *
 * Tokens are 256-bit random secrets printed once by `scimctl token add`;
 * the store keeps only their SHA-256.  A request is authenticated when
 * its Authorization header is "Bearer <token>" (scheme in any case) and
 * the SHA-256 of <token> is a key of the token_hash database.  Looking up
 * a hash of a high-entropy secret leaks nothing useful through timing:
 * an attacker learns at most which hash prefixes exist, which does not
 * help find a preimage.
 */
#ifndef SCIMD_AUTH_H
#define SCIMD_AUTH_H

#include <stddef.h>

#include "error.h"
#include "store.h"

/*
 * Checks header (may be NULL).  SCIM_OK and the token's name copied to
 * name[namesz] (for logs), or SCIM_ERR_UNAUTHORIZED with a detail, or a
 * store error.
 */
enum scim_err	auth_check(struct store *s, const char *header, char *name,
		    size_t namesz, struct scim_error *err);

/* The SHA-256 of token[0..len) into hash. */
void		auth_hash(const char *token, size_t len,
		    unsigned char hash[STORE_HASH_LEN]);

/* A new token: 32 random bytes as 43 base64url characters + NUL. */
void		auth_new_token(char out[64]);

/*
 * Hashes a user's password with Argon2id (libsodium's interactive
 * limits) into *hash (caller owns, free()), for `password = argon2id`;
 * the clear text is wiped in every case.  SCIM_OK or SCIM_ERR_NOMEM
 * (*hash NULL).
 */
enum scim_err	auth_password_hash(char *password, char **hash,
		    struct scim_error *err);

#endif
