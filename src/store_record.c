/*
 * store_record.c: records and membership.
 *
 * Resource records with their index entries, id counts and
 * membership kept in step: get, put, touch, delete, scan; the
 * members/memberof pair; password hashes.
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

static bool
id_ok(const char *id)
{
	return id != NULL && strlen(id) == STORE_ID_LEN;
}

/* The record's bytes in the map (valid until the transaction ends);
 * SCIM_ERR_NOT_FOUND, or a store error. */
enum scim_err
store_get_raw(struct store_txn *t, enum rtype type, const char *id,
    const char **data, size_t *len, struct scim_error *err)
{
	MDB_val k, v;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_get(t->txn, record_db(t, type), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	if (rc != 0)
		return mdb_error(NULL, rc, "get", err);
	*data = v.mv_data;
	*len = v.mv_size;
	return SCIM_OK;
}

/* store_get_raw, parsed into a new object. */
enum scim_err
store_get(struct store_txn *t, enum rtype type, const char *id, json_t **out,
    struct scim_error *err)
{
	const char *data;
	size_t len;
	enum scim_err e;

	*out = NULL;
	if ((e = store_get_raw(t, type, id, &data, &len, err)) != SCIM_OK)
		return e;
	if ((*out = json_loadb(data, len, 0, NULL)) == NULL)
		return err_set(err, SCIM_ERR_INTERNAL,
		    "Stored record %s is not JSON.", id);
	return SCIM_OK;
}

/* *found tells whether the record is there; NOT_FOUND is no error here,
 * any other failure of the get is returned (and fails a write). */
enum scim_err
store_exists(struct store_txn *t, enum rtype type, const char *id,
    bool *found, struct scim_error *err)
{
	MDB_val k, v;
	int rc;

	*found = false;
	if (!id_ok(id))
		return SCIM_OK;
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_get(t->txn, record_db(t, type), &k, &v);
	if (rc == MDB_NOTFOUND)
		return SCIM_OK;
	if (rc != 0)
		return mdb_error(t, rc, "get", err);
	*found = true;
	return SCIM_OK;
}

/* The record and its index keys in one step: the old keys deleted, the
 * new ones added with MDB_NOOVERWRITE where unique (409). */
enum scim_err
store_put(struct store_txn *t, enum rtype type, const json_t *old,
    const json_t *rec, struct scim_error *err)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	MDB_val k, v;
	enum scim_err e;
	char *text;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	if (old == NULL) {
		bool taken;

		if ((e = store_exists(t, type, id, &taken, err)) != SCIM_OK)
			return e;
		if (taken) {
			t->failed = true;
			return err_set(err, SCIM_ERR_CONFLICT, "id %s exists.",
			    id);
		}
	}
	if (old != NULL)
		e = st_rekey(t, type, old, rec, err);
	else
		e = st_each_key(t, type, rec, st_key_add, NULL, err);
	if (e != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if ((text = jsonx_dumps(rec)) == NULL) {
		t->failed = true;
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(t->txn, record_db(t, type), &k, &v,
	    old == NULL ? MDB_NOOVERWRITE : 0);
	free(text);
	if (rc == MDB_KEYEXIST) {
		t->failed = true;
		return err_set(err, SCIM_ERR_CONFLICT, "id %s exists.", id);
	}
	if (rc != 0)
		return mdb_error(t, rc, "put", err);
	return old == NULL ? st_counts_adjust(t, type, id, 1, err) : SCIM_OK;
}

/* Deletes key=k, value=v in database d (v NULL: all values). */
static enum scim_err
del_pair(struct store_txn *t, enum db d, const char *k, const char *v,
    struct scim_error *err)
{
	MDB_val key = { STORE_ID_LEN, (void *)k };
	MDB_val val = { STORE_ID_LEN, (void *)v };
	int rc;

	rc = mdb_del(t->txn, dbi(t, d), &key, v != NULL ? &val : NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "del", err);
	return SCIM_OK;
}

/*
 * Gives record id of type type a new meta.version, and with modified a
 * new meta.lastModified (its other members and its index entries are
 * unchanged): its membership changed without the record being written.
 * A missing record is left alone (SCIM_OK).
 */
enum scim_err
store_touch(struct store_txn *t, enum rtype type, const char *id,
    bool modified, struct scim_error *err)
{
	json_t *rec = NULL, *meta;
	char version[32], now[32], *text = NULL;
	MDB_val k, v;
	enum scim_err e;
	bool found;
	int rc;

	if (!id_ok(id))
		return SCIM_OK;
	if ((e = store_exists(t, type, id, &found, err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if (!found)
		return SCIM_OK;
	if ((e = store_get(t, type, id, &rec, err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	if ((e = store_next_version(t, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	store_now(now, sizeof(now));
	/* A record without meta (none scimd wrote) gets one, last. */
	if (!json_is_object(meta = json_object_get(rec, "meta")) &&
	    json_object_set_new(rec, "meta", meta = json_object()) != 0)
		meta = NULL;
	if (meta == NULL || (modified &&
	    json_object_set_new(meta, "lastModified", json_string(now)) != 0) ||
	    json_object_set_new(meta, "version", json_string(version)) != 0 ||
	    (text = jsonx_dumps(rec)) == NULL) {
		t->failed = true;
		e = err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		goto fail;
	}
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	v.mv_size = strlen(text);
	v.mv_data = text;
	if ((rc = mdb_put(t->txn, record_db(t, type), &k, &v, 0)) != 0)
		e = mdb_error(t, rc, "put", err);
fail:
	free(text);
	json_decref(rec);
	return e;
}

/*
 * Removes every pair (id, x) from `from` and the mirror pair (x, id)
 * from `mirror` (the members/memberof pair of databases).  When `from`
 * is memberof, each group x lost a member: its version changes
 * (store_touch), so that an ETag read before no longer matches.
 */
static enum scim_err
unlink_all(struct store_txn *t, enum db from, enum db mirror, const char *id,
    struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k = { STORE_ID_LEN, (void *)id }, v;
	char other[STORE_ID_LEN + 1];
	enum scim_err e = SCIM_OK;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, from), &c)) != 0)
		return mdb_error(t, rc, "cursor", err);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == STORE_ID_LEN) {
			memcpy(other, v.mv_data, STORE_ID_LEN);
			other[STORE_ID_LEN] = '\0';
			if ((e = del_pair(t, mirror, other, id,
			    err)) != SCIM_OK)
				break;
			if (from == DB_MEMBEROF &&
			    (e = store_touch(t, RT_GROUP, other, true, err)) !=
			    SCIM_OK)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (e != SCIM_OK)
		return e;
	if (rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "cursor", err);
	return del_pair(t, from, id, NULL, err);
}

/* Deletes the record, its index keys, its memberships both ways and its
 * password hash. */
enum scim_err
store_delete(struct store_txn *t, enum rtype type, const json_t *old,
    struct scim_error *err)
{
	const char *id = json_string_value(json_object_get(old, "id"));
	MDB_val k;
	enum scim_err e;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Record without id.");
	if ((e = st_each_key(t, type, old, st_key_del, NULL, err)) != SCIM_OK)
		return e;
	/* Groups it belongs to, and for a group, its own members. */
	if ((e = unlink_all(t, DB_MEMBEROF, DB_MEMBERS, id, err)) != SCIM_OK)
		return e;
	if (rtype_get(type)->has_members &&
	    (e = unlink_all(t, DB_MEMBERS, DB_MEMBEROF, id, err)) != SCIM_OK)
		return e;
	if (rtype_get(type)->has_password &&
	    (e = del_pair(t, DB_PASSWORDS, id, NULL, err)) != SCIM_OK)
		return e;
	k.mv_size = STORE_ID_LEN;
	k.mv_data = (void *)id;
	rc = mdb_del(t->txn, record_db(t, type), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such %s.",
		    schema_resource_type(type)->name);
	if (rc != 0)
		return mdb_error(t, rc, "delete", err);
	return st_counts_adjust(t, type, id, -1, err);
}

/* The entry count of the type's database, from LMDB's statistics. */
enum scim_err
store_count(struct store_txn *t, enum rtype type, size_t *n,
    struct scim_error *err)
{
	MDB_stat st;
	int rc;

	*n = 0;
	if ((rc = mdb_stat(t->txn, record_db(t, type), &st)) != 0)
		return mdb_error(t, rc, "stat", err);
	*n = st.ms_entries;
	return SCIM_OK;
}

/*
 * From cursor c's current pair (rc the result of positioning it), calls
 * fn for each record id in key order, after skipping skip of them,
 * until fn returns false or the database ends; then closes c.  SCIM_OK,
 * or the cursor's error.
 */
enum scim_err
st_walk_ids(MDB_cursor *c, int rc, MDB_val *k, MDB_val *v, size_t skip,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	char id[STORE_ID_LEN + 1];

	for (; rc == 0; rc = mdb_cursor_get(c, k, v, MDB_NEXT)) {
		if (k->mv_size != STORE_ID_LEN)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		memcpy(id, k->mv_data, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		if (!fn(id, ctx)) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(NULL, rc, "scan", err);
}

/* Iterates the keys of database d from the first key > after. */
static enum scim_err
scan_keys(struct store_txn *t, MDB_dbi d, const char *after, store_id_fn fn,
    void *ctx, struct scim_error *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, d, &c)) != 0)
		return mdb_error(NULL, rc, "cursor", err);
	if (after != NULL) {
		k.mv_size = strlen(after);
		k.mv_data = (void *)after;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == strlen(after) &&
		    memcmp(k.mv_data, after, k.mv_size) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	return st_walk_ids(c, rc, &k, &v, 0, fn, ctx, err);
}

/* Walks the type's database in id order from after. */
enum scim_err
store_scan(struct store_txn *t, enum rtype type, const char *after,
    store_id_fn fn, void *ctx, struct scim_error *err)
{
	return scan_keys(t, record_db(t, type), after, fn, ctx, err);
}

/* ---- membership ---------------------------------------------------------- */

static enum scim_err
put_pair(struct store_txn *t, enum db d, const char *k, const char *v,
    struct scim_error *err)
{
	MDB_val key = { STORE_ID_LEN, (void *)k };
	MDB_val val = { STORE_ID_LEN, (void *)v };
	int rc;

	rc = mdb_put(t->txn, dbi(t, d), &key, &val, MDB_NODUPDATA);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return mdb_error(t, rc, "member", err);
	return SCIM_OK;
}

/* Puts the pair in members and memberof; an existing pair is no error. */
enum scim_err
store_member_add(struct store_txn *t, const char *gid, const char *mid,
    struct scim_error *err)
{
	enum scim_err e;

	if (!id_ok(gid) || !id_ok(mid))
		return err_set(err, SCIM_ERR_INTERNAL, "Bad member id.");
	if ((e = put_pair(t, DB_MEMBERS, gid, mid, err)) != SCIM_OK)
		return e;
	return put_pair(t, DB_MEMBEROF, mid, gid, err);
}

/* Deletes the pair from members and memberof; an absent pair is no
 * error. */
enum scim_err
store_member_remove(struct store_txn *t, const char *gid, const char *mid,
    struct scim_error *err)
{
	enum scim_err e;

	if (!id_ok(gid) || !id_ok(mid))
		return SCIM_OK;
	if ((e = del_pair(t, DB_MEMBERS, gid, mid, err)) != SCIM_OK)
		return e;
	return del_pair(t, DB_MEMBEROF, mid, gid, err);
}

/* Deletes every member of gid, both directions. */
enum scim_err
store_member_clear(struct store_txn *t, const char *gid, struct scim_error *err)
{
	if (!id_ok(gid))
		return SCIM_OK;
	return unlink_all(t, DB_MEMBERS, DB_MEMBEROF, gid, err);
}

/* Walks gid's duplicates in members. */
enum scim_err
store_members(struct store_txn *t, const char *gid, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	if (!id_ok(gid))
		return SCIM_OK;
	return st_scan_dups(t, dbi(t, DB_MEMBERS), gid, STORE_ID_LEN, fn, ctx,
	    err);
}

/* Walks the member's duplicates in memberof. */
enum scim_err
store_memberof(struct store_txn *t, const char *mid, store_id_fn fn, void *ctx,
    struct scim_error *err)
{
	if (!id_ok(mid))
		return SCIM_OK;
	return st_scan_dups(t, dbi(t, DB_MEMBEROF), mid, STORE_ID_LEN, fn, ctx,
	    err);
}

/* ---- passwords and tokens ------------------------------------------------ */

/* Puts or deletes the user's entry in passwords. */
enum scim_err
store_password_put(struct store_txn *t, const char *id, const char *hash,
    struct scim_error *err)
{
	MDB_val k = { STORE_ID_LEN, (void *)id }, v;
	int rc;

	if (!id_ok(id))
		return err_set(err, SCIM_ERR_INTERNAL, "Bad id.");
	if (hash == NULL)
		return del_pair(t, DB_PASSWORDS, id, NULL, err);
	v.mv_size = strlen(hash);
	v.mv_data = (void *)hash;
	rc = mdb_put(t->txn, dbi(t, DB_PASSWORDS), &k, &v, 0);
	return rc == 0 ? SCIM_OK : mdb_error(t, rc, "password", err);
}
