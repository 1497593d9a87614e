/*
 * store_index.c: index keys and lookups.
 *
 * Index key derivation (folding per index), adding, removing
 * and re-keying a record's entries, lookups by key and by prefix,
 * and the index table's facts for other modules.
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

/* The database name from the index table. */
const char *
store_index_name(enum store_index idx)
{
	return rtype_index_get(idx, NULL)->db;
}

/* ---- index keys ---------------------------------------------------------- */

/*
 * Makes the key of value s[len] by rule fold in out[outsz] (*outlen
 * bytes): SCIM_OK, or SCIM_ERR_INVALID_VALUE naming attr (too long for
 * the key, with limit the bytes it may take; not UTF-8), or NOMEM.
 */
enum scim_err
st_fold_key(enum index_fold fold, const char *attr, const char *s, size_t len,
    char *out, size_t outsz, size_t *outlen, size_t limit,
    struct scim_error *err)
{
	enum scim_err e = SCIM_OK;

	if (fold == FOLD_USERNAME)
		e = fold_username_into(s, len, out, outsz, outlen);
	else if (fold == FOLD_CASE)
		e = fold_into(s, len, out, outsz, outlen);
	else if (len > outsz)
		e = SCIM_ERR_TOO_LARGE;
	else {
		memcpy(out, s, len);
		*outlen = len;
	}
	if (e == SCIM_OK)
		return SCIM_OK;
	if (e == SCIM_ERR_NOMEM)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	if (e == SCIM_ERR_TOO_LARGE)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "%s is longer than %zu bytes.", attr, limit);
	return err_set(err, SCIM_ERR_INVALID_VALUE, "%s is not valid UTF-8.",
	    attr);
}

/* Calls fn for the key of v when it is a non-empty string. */
static enum scim_err
each_string_key(struct store_txn *t, enum store_index idx, const json_t *v,
    const char *id, key_fn fn, void *ctx, struct scim_error *err)
{
	struct index_key k;
	enum scim_err e;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return SCIM_OK;
	if ((e = make_key(idx, json_string_value(v), json_string_length(v),
	    &k, err)) != SCIM_OK)
		return e;
	return fn(t, &k, id, ctx, err);
}

/*
 * Calls fn for the key of each string value that index ix's attribute
 * has in rec: the attribute itself, each element when it is
 * multi-valued, the sub-attribute of it (of each element) with a sub.
 */
static enum scim_err
index_keys(struct store_txn *t, const struct rtype_index *ix,
    const json_t *rec, const char *id, key_fn fn, void *ctx,
    struct scim_error *err)
{
	const json_t *v = json_object_get(rec, ix->attr), *el;
	enum scim_err e;
	size_t i;

	if (!json_is_array(v))
		return each_string_key(t, ix->idx, ix->sub != NULL ?
		    json_object_get(v, ix->sub) : v, id, fn, ctx, err);
	json_array_foreach(v, i, el)
		if ((e = each_string_key(t, ix->idx, ix->sub != NULL ?
		    json_object_get(el, ix->sub) : el, id, fn, ctx, err)) !=
		    SCIM_OK)
			return e;
	return SCIM_OK;
}

/*
 * Calls fn for every index key of record rec of type type, index by
 * index in the order of the type's table (rtype.c).  The unique index's
 * keys come from the unique attributes the store holds (t's store; none
 * without t).
 */
enum scim_err
st_each_key(struct store_txn *t, enum rtype type, const json_t *rec, key_fn fn,
    void *ctx, struct scim_error *err)
{
	const struct resource_type *r = rtype_get(type);
	const char *id = json_string_value(json_object_get(rec, "id"));
	enum scim_err e;
	size_t i;

	if (id == NULL)
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	for (i = 0; i < r->nindexes; i++) {
		if (r->indexes[i].attr != NULL)
			e = index_keys(t, &r->indexes[i], rec, id, fn, ctx,
			    err);
		else
			e = t != NULL ? unique_keys(t, type, rec, id, fn, ctx,
			    err) : SCIM_OK;
		if (e != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* Removes one index entry (only the one pointing at id). */
enum scim_err
st_key_del(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id }, cur;
	MDB_dbi d = index_db(t, k->idx);
	int rc;

	(void)ctx;
	if (rtype_index_get(k->idx, NULL)->unique) {
		rc = mdb_get(t->txn, d, &key, &cur);
		if (rc == MDB_NOTFOUND || (rc == 0 && (cur.mv_size !=
		    STORE_ID_LEN || memcmp(cur.mv_data, id, STORE_ID_LEN))))
			return SCIM_OK;
		if (rc != 0)
			return mdb_error(t, rc, "index", err);
		rc = mdb_del(t->txn, d, &key, NULL);
	} else
		rc = mdb_del(t->txn, d, &key, &val);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "index", err);
	return SCIM_OK;
}

/* Adds one index entry; UNIQUENESS when a unique key is taken. */
enum scim_err
st_key_add(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id };
	MDB_dbi d = index_db(t, k->idx);
	int rc;

	(void)ctx;
	if (rtype_index_get(k->idx, NULL)->unique) {
		rc = mdb_put(t->txn, d, &key, &val, MDB_NOOVERWRITE);
		/* A value the record has twice (a multi-valued unique
		 * attribute) is held by the record itself. */
		if (rc == MDB_KEYEXIST && val.mv_size == STORE_ID_LEN &&
		    memcmp(val.mv_data, id, STORE_ID_LEN) == 0)
			rc = 0;
		else if (rc == MDB_KEYEXIST) {
			t->failed = true;
			return err_set(err, SCIM_ERR_UNIQUENESS,
			    "%s is already in use.", k->attr);
		}
	} else {
		rc = mdb_put(t->txn, d, &key, &val, MDB_NODUPDATA);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "index", err);
}

/* The index keys of one record, collected by st_each_key(). */
struct key_set {
	struct index_key *k;
	size_t		  n, cap;
};

/* st_each_key() callback: appends a copy of k to the key set, doubling it. */
static enum scim_err
key_collect(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct key_set *ks = ctx;

	(void)t;
	(void)id;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;
		struct index_key *p = realloc(ks->k, cap * sizeof(*p));

		if (p == NULL)
			return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		ks->k = p;
		ks->cap = cap;
	}
	ks->k[ks->n++] = *k;
	return SCIM_OK;
}

static bool
key_in(const struct key_set *ks, const struct index_key *k)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].idx == k->idx && ks->k[i].len == k->len &&
		    memcmp(ks->k[i].key, k->key, k->len) == 0)
			return true;
	return false;
}

/*
 * Moves the index entries of a record from old's keys to rec's: removes
 * the keys only old has, then adds those only rec has.  A key both have
 * is left alone, so a change that touches no indexed value (PATCH of
 * active, of a title) writes no index page: a durable write costs its
 * pages (docs/performance.md).
 */
enum scim_err
st_rekey(struct store_txn *t, enum rtype type, const json_t *old,
    const json_t *rec, struct scim_error *err)
{
	struct key_set ko = { NULL, 0, 0 }, kn = { NULL, 0, 0 };
	const char *id = json_string_value(json_object_get(rec, "id"));
	enum scim_err e;
	size_t i;

	if ((e = st_each_key(t, type, old, key_collect, &ko, err)) != SCIM_OK ||
	    (e = st_each_key(t, type, rec, key_collect, &kn, err)) != SCIM_OK)
		goto done;
	for (i = 0; i < ko.n; i++)
		if (!key_in(&kn, &ko.k[i]) &&
		    (e = st_key_del(t, &ko.k[i], id, NULL, err)) != SCIM_OK)
			goto done;
	for (i = 0; i < kn.n; i++)
		if (!key_in(&ko, &kn.k[i]) &&
		    (e = st_key_add(t, &kn.k[i], id, NULL, err)) != SCIM_OK)
			goto done;
done:
	free(ko.k);
	free(kn.k);
	return e;
}

/* Iterates the values stored under key in dupsort (or plain) database d. */
enum scim_err
st_scan_dups(struct store_txn *t, MDB_dbi d, const void *key, size_t keylen,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k = { keylen, (void *)key }, v;
	char id[STORE_ID_LEN + 1];
	unsigned int flags;
	int rc;

	if (keylen == 0)
		return SCIM_OK;
	mdb_dbi_flags(t->txn, d, &flags);
	if ((rc = mdb_cursor_open(t->txn, d, &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == STORE_ID_LEN) {
			memcpy(id, v.mv_data, STORE_ID_LEN);
			id[STORE_ID_LEN] = '\0';
			if (!fn(id, ctx))
				break;
		}
		if (!(flags & MDB_DUPSORT))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(NULL, rc, "lookup", err);
}

/* Folds key as the index does and walks its duplicates in id order. */
enum scim_err
store_lookup(struct store_txn *t, enum store_index idx, const char *key,
    size_t keylen, store_id_fn fn, void *ctx, struct scim_error *err)
{
	struct index_key k;

	if (make_key(idx, key, keylen, &k, NULL) != SCIM_OK)
		return SCIM_OK;
	return st_scan_dups(t, index_db(t, idx), k.key, k.len, fn,
	    ctx, err);
}

/* The folded key of s in idx, as store_lookup() makes it (store.h). */
enum scim_err
store_index_key(enum store_index idx, const char *s, size_t len, char *out,
    size_t outsz, size_t *outlen)
{
	struct index_key k;
	enum scim_err e;

	if ((e = make_key(idx, s, len, &k, NULL)) != SCIM_OK)
		return e;
	if (k.len > outsz)
		return SCIM_ERR_INVALID_VALUE;
	memcpy(out, k.key, k.len);
	*outlen = k.len;
	return SCIM_OK;
}

/* Walks the index keys that start with the folded prefix. */
enum scim_err
store_lookup_prefix(struct store_txn *t, enum store_index idx,
    const char *prefix, size_t len, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	struct index_key k;
	MDB_cursor *c;
	MDB_val key, v;
	char id[STORE_ID_LEN + 1];
	int rc;

	if (make_key(idx, prefix, len, &k, NULL) != SCIM_OK)
		return SCIM_OK;
	if ((rc = mdb_cursor_open(t->txn, index_db(t, idx), &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	key.mv_size = k.len;
	key.mv_data = k.key;
	for (rc = mdb_cursor_get(c, &key, &v,
	    k.len ? MDB_SET_RANGE : MDB_FIRST);
	    rc == 0; rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (key.mv_size < k.len || memcmp(key.mv_data, k.key,
		    k.len) != 0)
			break;
		if (v.mv_size != STORE_ID_LEN)
			continue;
		memcpy(id, v.mv_data, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		if (!fn(id, ctx))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? SCIM_OK :
	    mdb_error(NULL, rc, "lookup", err);
}

/* Carries store_record_keys()'s callback through st_each_key(). */
struct record_keys_ctx {
	store_key_fn	 fn;
	void		*ctx;
};

static enum scim_err
record_key_one(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct record_keys_ctx *r = ctx;

	(void)t;
	(void)id;
	(void)err;
	r->fn(k->idx, k->key, k->len, r->ctx);
	return SCIM_OK;
}

/* store.h: st_each_key() without a transaction. */
enum scim_err
store_record_keys(struct store_txn *txn, enum rtype type, const json_t *rec,
    store_key_fn fn, void *ctx, struct scim_error *err)
{
	struct record_keys_ctx r = { fn, ctx };

	return st_each_key(txn, type, rec, record_key_one, &r, err);
}

/* store.h: from index_table. */
enum rtype
store_index_type(enum store_index idx)
{
	enum rtype t;

	(void)rtype_index_get(idx, &t);
	return t;
}

/* store.h: from index_table. */
bool
store_index_unique(enum store_index idx)
{
	return rtype_index_get(idx, NULL)->unique;
}

/* store.h: from index_table. */
const char *
store_index_attr(enum store_index idx)
{
	return rtype_index_get(idx, NULL)->path;
}
