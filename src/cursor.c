/*
 * cursor.c: cursor text = base64url(version type id expiry query mac).
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "cursor.h"

#define CURSOR_VERSION	1
/* version(1) type(1) id(36) expiry(8) query(8) */
#define PAYLOAD_BYTES	(1 + 1 + STORE_ID_LEN + 8 + 8)
#define MAC_BYTES	crypto_auth_hmacsha256_BYTES

_Static_assert(PAYLOAD_BYTES + MAC_BYTES <= 96, "cursor fits its text");

/* Eight bytes of SHA-256 over what defines the query, so a cursor is
 * refused by any other query. */
void
cursor_query_hash(const char *filter, size_t len, unsigned types,
    unsigned char out[8])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES], t = (unsigned char)types;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &t, 1);
	if (filter != NULL)
		crypto_hash_sha256_update(&st, (const unsigned char *)filter,
		    len);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 8);
}

/* Version, type, id, expiry and query hash, signed with HMAC-SHA-256 and
 * written base64url. */
void
cursor_encode(const struct cursor *c, const unsigned char query[8],
    const unsigned char key[32], time_t now, char out[CURSOR_TEXT_BYTES])
{
	unsigned char raw[PAYLOAD_BYTES + MAC_BYTES];
	unsigned long long exp = (unsigned long long)now +
	    CURSOR_TIMEOUT_SECONDS;
	int i;

	raw[0] = CURSOR_VERSION;
	raw[1] = (unsigned char)c->type;
	memcpy(raw + 2, c->id, STORE_ID_LEN);
	for (i = 0; i < 8; i++)
		raw[2 + STORE_ID_LEN + i] =
		    (unsigned char)(exp >> (56 - 8 * i));
	memcpy(raw + 2 + STORE_ID_LEN + 8, query, 8);
	crypto_auth_hmacsha256(raw + PAYLOAD_BYTES, raw, PAYLOAD_BYTES, key);
	sodium_bin2base64(out, CURSOR_TEXT_BYTES, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Checks length, version and signature (in constant time) before using
 * any field, then the query hash and the expiry. */
enum scim_err
cursor_decode(const char *text, const unsigned char query[8],
    const unsigned char key[32], time_t now, struct cursor *c,
    struct scim_error *err)
{
	unsigned char raw[PAYLOAD_BYTES + MAC_BYTES];
	unsigned long long exp = 0;
	size_t n = 0;
	int i;

	if (strlen(text) >= CURSOR_TEXT_BYTES ||
	    sodium_base642bin(raw, sizeof(raw), text, strlen(text), NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw) ||
	    crypto_auth_hmacsha256_verify(raw + PAYLOAD_BYTES, raw,
	    PAYLOAD_BYTES, key) != 0 || raw[0] != CURSOR_VERSION ||
	    raw[1] >= RT__COUNT)
		return err_set(err, SCIM_ERR_INVALID_CURSOR,
		    "The cursor is not one this server issued.");
	if (memcmp(raw + 2 + STORE_ID_LEN + 8, query, 8) != 0)
		return err_set(err, SCIM_ERR_INVALID_CURSOR,
		    "The cursor belongs to another query.");
	for (i = 0; i < 8; i++)
		exp = exp << 8 | raw[2 + STORE_ID_LEN + i];
	if ((unsigned long long)now > exp)
		return err_set(err, SCIM_ERR_EXPIRED_CURSOR,
		    "The cursor expired; start again without it.");
	c->type = (enum rtype)raw[1];
	memcpy(c->id, raw + 2, STORE_ID_LEN);
	c->id[STORE_ID_LEN] = '\0';
	return SCIM_OK;
}
