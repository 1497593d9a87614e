/*
 * store_token.c: tokens.
 *
 * Bearer tokens: their records, their hash keys, lookup and
 * listing.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include <lmdb.h>
#include <sodium.h>

#include "fold.h"
#include "limits.h"
#include "jsonx.h"
#include "store.h"
#include "store_impl.h"

/* The token record and its hash key, both with MDB_NOOVERWRITE (409
 * for a taken name). */
enum scim_err
store_token_put(struct store_txn *t, const char *name,
    const unsigned char hash[STORE_HASH_LEN], const char *expires,
    struct scim_error *err)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_val hk = { STORE_HASH_LEN, (void *)hash };
	char hex[STORE_HASH_LEN * 2 + 1], now[32];
	json_t *doc;
	char *text;
	int rc;

	if (k.mv_size == 0 || k.mv_size > LIMIT_TOKEN_NAME_BYTES)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Token names are 1 to %d bytes.", LIMIT_TOKEN_NAME_BYTES);
	sodium_bin2hex(hex, sizeof(hex), hash, STORE_HASH_LEN);
	store_now(now, sizeof(now));
	doc = json_pack("{s:s, s:s}", "sha256", hex, "created", now);
	if (doc != NULL && expires != NULL &&
	    json_object_set_new(doc, "expires", json_string(expires)) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	text = doc != NULL ? jsonx_dumps(doc) : NULL;
	json_decref(doc);
	if (text == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, dbi(t, DB_TOKENS), &k, &v, MDB_NOOVERWRITE);
	free(text);
	if (rc == MDB_KEYEXIST) {
		t->failed = true;
		return err_set(err, SCIM_ERR_CONFLICT,
		    "A token with that name exists.");
	}
	if (rc != 0)
		return mdb_error(t, rc, "token", err);
	rc = mdb_put(t->txn, dbi(t, DB_TOKEN_HASH), &hk, &k, 0);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "token", err);
}

/* Deletes the token record and its hash key. */
enum scim_err
store_token_delete(struct store_txn *t, const char *name,
    struct scim_error *err)
{
	MDB_val k = { strlen(name), (void *)name }, v, hk;
	unsigned char hash[STORE_HASH_LEN];
	json_t *doc;
	const char *hex;
	size_t n = 0;
	int rc;

	if (k.mv_size == 0 || k.mv_size > LIMIT_TOKEN_NAME_BYTES)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such token.");
	rc = mdb_get(t->txn, dbi(t, DB_TOKENS), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such token.");
	if (rc != 0)
		return mdb_error(t, rc, "token", err);
	doc = json_loadb(v.mv_data, v.mv_size, 0, NULL);
	hex = json_string_value(json_object_get(doc, "sha256"));
	if (hex != NULL && sodium_hex2bin(hash, sizeof(hash), hex, strlen(hex),
	    NULL, &n, NULL) == 0 && n == STORE_HASH_LEN) {
		hk.mv_size = STORE_HASH_LEN;
		hk.mv_data = hash;
		rc = mdb_del(t->txn, dbi(t, DB_TOKEN_HASH), &hk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			json_decref(doc);
			return mdb_error(t, rc, "token", err);
		}
	}
	json_decref(doc);
	rc = mdb_del(t->txn, dbi(t, DB_TOKENS), &k, NULL);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "token", err);
}

/* Looks the hash up in token_hash, then the name's record in tokens
 * for its expiry.  A name without a record, or a record whose expiry
 * cannot be read, denies the token (*found false); a failed read is
 * an error, never a denial. */
enum scim_err
store_token_find(struct store_txn *t, const unsigned char hash[STORE_HASH_LEN],
    bool *found, char *name, size_t namesz, char *expires, size_t expiressz,
    struct scim_error *err)
{
	MDB_val k = { STORE_HASH_LEN, (void *)hash }, v, doc;
	const char *e;
	size_t elen;
	int rc;

	*found = false;
	if (namesz > 0)
		name[0] = '\0';
	if (expiressz > 0)
		expires[0] = '\0';
	rc = mdb_get(t->txn, dbi(t, DB_TOKEN_HASH), &k, &v);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "token_hash", err);
	if (namesz > 0)
		snprintf(name, namesz, "%.*s", (int)(v.mv_size < namesz ?
		    v.mv_size : namesz - 1), (const char *)v.mv_data);
	rc = mdb_get(t->txn, dbi(t, DB_TOKENS), &v, &doc);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "tokens", err);
	if (jsonx_find_member(doc.mv_data, doc.mv_size, "expires", &e, &elen)) {
		if (elen < 2 || e[0] != '"' || elen - 1 > expiressz)
			return SCIM_OK;
		memcpy(expires, e + 1, elen - 2);
		expires[elen - 2] = '\0';
	}
	*found = true;
	return SCIM_OK;
}

/* Walks tokens in name order, reading each record's fields. */
enum scim_err
store_token_list(struct store_txn *t, store_token_fn fn, void *ctx,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	char name[LIMIT_TOKEN_NAME_BYTES + 1];
	json_t *doc;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_TOKENS), &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		snprintf(name, sizeof(name), "%.*s", (int)k.mv_size,
		    (const char *)k.mv_data);
		doc = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		fn(name, json_string_value(json_object_get(doc, "created")),
		    json_string_value(json_object_get(doc, "expires")), ctx);
		json_decref(doc);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(NULL, rc, "tokens",
	    err);
}
