/*
 * auth.c: bearer tokens, hashed with libsodium.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"

/* SHA-256 of the token's bytes: the only form a token is stored in. */
void
auth_hash(const char *token, size_t len, unsigned char hash[STORE_HASH_LEN])
{
	crypto_hash_sha256(hash, (const unsigned char *)token, len);
}

/* 32 bytes from the kernel's CSPRNG, base64url without padding; the
 * raw bytes are wiped. */
void
auth_new_token(char out[64])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, 64, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

struct lookup {
	unsigned char	 hash[STORE_HASH_LEN];
	char		*name;
	size_t		 namesz;
	char		 expires[40];	/* RFC 3339, "" = never */
	bool		 found;
};

static enum scim_err
lookup_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct lookup *l = ctx;

	return store_token_find(txn, l->hash, &l->found, l->name, l->namesz,
	    l->expires, sizeof(l->expires), err);
}

/*
 * Parses "Bearer <token>" (spaces trimmed), looks its hash up in a read
 * transaction and refuses expired tokens; a store error is returned as
 * one, never as 401.
 */
enum scim_err
auth_check(struct store *s, const char *header, char *name, size_t namesz,
    struct scim_error *err)
{
	struct lookup l;
	const char *tok;
	size_t len;
	enum scim_err e;

	if (header == NULL)
		return err_set(err, SCIM_ERR_UNAUTHORIZED,
		    "Authorization: Bearer <token> is required.");
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return err_set(err, SCIM_ERR_UNAUTHORIZED,
		    "Only the Bearer authorization scheme is accepted.");
	for (tok = header + 7; *tok == ' '; tok++)
		;
	len = strlen(tok);
	while (len > 0 && tok[len - 1] == ' ')
		len--;
	if (len == 0)
		return err_set(err, SCIM_ERR_UNAUTHORIZED,
		    "The bearer token is empty.");
	memset(&l, 0, sizeof(l));
	auth_hash(tok, len, l.hash);
	l.name = name;
	l.namesz = namesz;
	if ((e = store_read(s, lookup_fn, &l, err)) != SCIM_OK)
		return e;
	if (!l.found)
		return err_set(err, SCIM_ERR_UNAUTHORIZED,
		    "The bearer token is not valid.");
	if (l.expires[0] != '\0') {
		char now[40];

		store_now(now, sizeof(now));
		if (strcmp(now, l.expires) >= 0)
			return err_set(err, SCIM_ERR_UNAUTHORIZED,
			    "The bearer token has expired.");
	}
	return SCIM_OK;
}

/* auth.h: crypto_pwhash_str() with the interactive limits. */
enum scim_err
auth_password_hash(char *password, char **hash, struct scim_error *err)
{
	enum scim_err e = SCIM_OK;

	if ((*hash = malloc(crypto_pwhash_STRBYTES)) == NULL ||
	    crypto_pwhash_str(*hash, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		free(*hash);
		*hash = NULL;
		e = err_set(err, SCIM_ERR_NOMEM,
		    "Hashing the password failed.");
	}
	sodium_memzero(password, strlen(password));
	return e;
}
