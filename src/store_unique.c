/*
 * store_unique.c: unique attributes.
 *
 * The unique indexes of the schemas' "uniqueness":"server"
 * attributes: the list a store holds, their keys, lookups and the
 * rebuild when the list changes.
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

/*
 * The unique attributes of the schemas (rtype.h) live in one unique
 * index per type, keyed "<path>\0<value key>" (docs/storage.md).  The
 * store keeps the list its indexes were built for in meta "unique" and
 * makes keys from that list, never from the schemas a program happened
 * to load; store_unique_sync() rebuilds the indexes when the schemas
 * declare another list.
 */

static const char *const fold_names[] = {
	[FOLD_EXACT] = "exact", [FOLD_CASE] = "case",
	[FOLD_USERNAME] = "userName",
};

/* One entry of the stored list for unique attribute u of type r. */
static json_t *
unique_entry(const struct resource_type *r, const struct rtype_unique *u)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", r->name, "path",
	    u->path, "attribute", u->attr, "fold", fold_names[u->fold]);

	if (o != NULL && ((u->schema != NULL && json_object_set_new(o,
	    "schema", json_string(u->schema)) != 0) || (u->sub != NULL &&
	    json_object_set_new(o, "subAttribute", json_string(u->sub)) != 0) ||
	    (u->datetime && json_object_set_new(o, "dateTime",
	    json_true()) != 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The stored form of the unique attributes the schemas declare (the
 * rtype table) in *text (caller frees; NULL when there are none):
 * SCIM_OK or SCIM_ERR_NOMEM.
 */
static enum scim_err
unique_table_text(char **text, struct scim_error *err)
{
	const struct resource_type *r;
	json_t *a = json_array(), *o;
	bool bad = a == NULL;
	size_t i;
	int t;

	*text = NULL;
	for (t = 0; !bad && t < RT__COUNT; t++) {
		r = rtype_get((enum rtype)t);
		for (i = 0; !bad && i < r->nunique; i++)
			bad = (o = unique_entry(r, &r->unique[i])) == NULL ||
			    json_array_append_new(a, o) != 0;
	}
	if (!bad && json_array_size(a) > 0)
		bad = (*text = jsonx_dumps(a)) == NULL;
	json_decref(a);
	return bad ? err_set(err, SCIM_ERR_NOMEM, "Out of memory.") : SCIM_OK;
}

/* The fold named s, or -1. */
static int
fold_by_name(const char *s)
{
	int i;

	for (i = 0; s != NULL && i <= FOLD_USERNAME; i++)
		if (strcmp(fold_names[i], s) == 0)
			return i;
	return -1;
}

/* Reads entry o of the stored list into u (strings borrowed from o);
 * false when it is not one. */
static bool
unique_read_entry(const json_t *o, struct rtype_unique *u)
{
	const json_t *sch = json_object_get(o, "schema");
	const json_t *sub = json_object_get(o, "subAttribute");
	int f = fold_by_name(json_string_value(json_object_get(o, "fold")));

	memset(u, 0, sizeof(*u));
	u->path = json_string_value(json_object_get(o, "path"));
	u->attr = json_string_value(json_object_get(o, "attribute"));
	u->schema = json_string_value(sch);
	u->sub = json_string_value(sub);
	u->datetime = json_is_true(json_object_get(o, "dateTime"));
	u->fold = f < 0 ? FOLD_EXACT : (enum index_fold)f;
	return f >= 0 && u->path != NULL && u->attr != NULL &&
	    strlen(u->path) <= LIMIT_UNIQUE_PATH_BYTES &&
	    (sch == NULL || u->schema != NULL) &&
	    (sub == NULL || u->sub != NULL);
}

/*
 * Parses the stored list text[len] into a new set in *out (caller
 * frees, unique_set_free()): SCIM_OK, SCIM_ERR_NOMEM, or
 * SCIM_ERR_UNAVAILABLE when it is not a list this code reads.
 */
static enum scim_err
unique_set_parse(const char *text, size_t len, struct unique_set **out,
    struct scim_error *err)
{
	struct unique_set *set;
	const json_t *o;
	enum rtype t;
	size_t i, n;
	bool ok = true;

	*out = NULL;
	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->text = malloc(len + 1)) == NULL) {
		free(set);
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	memcpy(set->text, text, len);
	set->text[len] = '\0';
	set->len = len;
	set->doc = json_loadb(text, len, 0, NULL);
	n = json_array_size(set->doc);
	for (t = 0; ok && t < RT__COUNT; t++)
		ok = (set->u[t] = calloc(n + 1, sizeof(*set->u[t]))) != NULL;
	if (!ok) {
		unique_set_free(set);
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	}
	ok = json_is_array(set->doc);
	json_array_foreach(set->doc, i, o) {
		if (!ok || !rtype_by_name(json_string_value(json_object_get(o,
		    "type")), &t) || !unique_read_entry(o,
		    &set->u[t][set->n[t]])) {
			ok = false;
			break;
		}
		set->n[t]++;
	}
	if (!ok) {
		unique_set_free(set);
		return err_set(err, SCIM_ERR_UNAVAILABLE, "The store's list of "
		    "unique attributes (meta \"unique\") is unreadable; run "
		    "`scimctl reindex` with the site's settings.");
	}
	*out = set;
	return SCIM_OK;
}

/*
 * Brings t's store's unique set to what meta "unique" holds in t's
 * snapshot (another process may have rebuilt the indexes since this
 * one looked): one get and a compare when nothing changed.
 */
enum scim_err
st_unique_refresh(struct store_txn *t, struct scim_error *err)
{
	struct store *s = t->store;
	struct unique_set *set;
	MDB_val k = { 6, "unique" }, v;
	enum scim_err e;
	int rc;

	/* An older layout has no unique indexes; a migration's own
	 * transaction opens the databases first (migrate_fn). */
	if (s->layout != STORE_LAYOUT_VERSION)
		return SCIM_OK;
	rc = mdb_get(t->txn, dbi(t, DB_META), &k, &v);
	if (rc == MDB_NOTFOUND)
		v.mv_size = 0;
	else if (rc != 0)
		return mdb_error(t, rc, "unique", err);
	if (s->uq == NULL ? v.mv_size == 0 : s->uq->len == v.mv_size &&
	    memcmp(s->uq->text, v.mv_data, v.mv_size) == 0)
		return SCIM_OK;
	set = NULL;
	if (v.mv_size > 0 && (e = unique_set_parse(v.mv_data, v.mv_size, &set,
	    err)) != SCIM_OK) {
		t->failed = true;
		return e;
	}
	unique_set_free(s->uq);
	s->uq = set;
	return SCIM_OK;
}

/*
 * The key of value v of unique attribute u (of index idx) into k: u's
 * path, a NUL byte, then the value's key -- a string folded by u's rule,
 * a dateTime as milliseconds since the epoch, an integer, decimal or
 * boolean as JSON writes it.  *has is false (no key) for null, an empty
 * string, an object or an array.  SCIM_ERR_INVALID_VALUE when the key
 * would be too long or the string is not UTF-8.
 */
static enum scim_err
unique_key(enum store_index idx, const struct rtype_unique *u,
    const json_t *v, struct index_key *k, bool *has, struct scim_error *err)
{
	size_t plen = strlen(u->path), len, n;
	enum index_fold fold = FOLD_EXACT;
	const char *s = NULL;
	char num[48];
	long long ms;
	enum scim_err e;

	*has = false;
	if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len == 0)
			return SCIM_OK;
		if (u->datetime && schema_parse_datetime(s, &ms)) {
			snprintf(num, sizeof(num), "%lld", ms);
			s = num;
		} else
			fold = u->fold;
	} else if (json_is_integer(v))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" :
		    "false");
	else
		return SCIM_OK;
	if (s == NULL || s == num) {
		s = num;
		len = strlen(num);
	}
	if (plen + 1 >= sizeof(k->key))
		return err_set(err, SCIM_ERR_INVALID_VALUE, "%s cannot be "
		    "indexed.", u->path);
	k->idx = idx;
	k->attr = u->path;
	memcpy(k->key, u->path, plen);
	k->key[plen] = '\0';
	if ((e = st_fold_key(fold, u->path, s, len, k->key + plen + 1,
	    sizeof(k->key) - plen - 1, &n, sizeof(k->key) - plen - 1, err)) !=
	    SCIM_OK)
		return e;
	k->len = plen + 1 + n;
	*has = true;
	return SCIM_OK;
}

/* Calls fn with the key of v (of unique attribute u), when it has one. */
static enum scim_err
unique_value(struct store_txn *t, enum store_index idx,
    const struct rtype_unique *u, const json_t *v, const char *id,
    key_fn fn, void *ctx, struct scim_error *err)
{
	struct index_key k;
	enum scim_err e;
	bool has;

	if ((e = unique_key(idx, u, v, &k, &has, err)) != SCIM_OK || !has)
		return e;
	return fn(t, &k, id, ctx, err);
}

/*
 * Calls fn for the key of every value rec (of type type) has of each
 * unique attribute in set (NULL: none): the attribute's value, each
 * element of a multi-valued one, the sub-attribute's value (of each
 * element).
 */
enum scim_err
st_unique_set_keys(const struct unique_set *set, struct store_txn *t,
    enum rtype type, const json_t *rec, const char *id, key_fn fn,
    void *ctx, struct scim_error *err)
{
	enum store_index idx = rtype_get(type)->unique_index;
	const struct rtype_unique *u;
	const json_t *c, *v, *el;
	enum scim_err e;
	size_t i, j;

	for (i = 0; set != NULL && (unsigned)type < RT__COUNT &&
	    i < set->n[type]; i++) {
		u = &set->u[type][i];
		c = u->schema != NULL ? json_object_get(rec, u->schema) : rec;
		v = json_object_get(c, u->attr);
		if (!json_is_array(v)) {
			if ((e = unique_value(t, idx, u, u->sub != NULL ?
			    json_object_get(v, u->sub) : v, id, fn, ctx,
			    err)) != SCIM_OK)
				return e;
			continue;
		}
		json_array_foreach(v, j, el)
			if ((e = unique_value(t, idx, u, u->sub != NULL ?
			    json_object_get(el, u->sub) : el, id, fn, ctx,
			    err)) != SCIM_OK)
				return e;
	}
	return SCIM_OK;
}

/* The unique attribute named path of type in the list t's store
 * holds, or NULL. */
static const struct rtype_unique *
unique_find(struct store_txn *t, enum rtype type, const char *path)
{
	const struct unique_set *set = t->store->uq;
	size_t i;

	for (i = 0; set != NULL && (unsigned)type < RT__COUNT &&
	    i < set->n[type]; i++)
		if (strcmp(set->u[type][i].path, path) == 0)
			return &set->u[type][i];
	return NULL;
}

/* Whether type's unique index holds attribute path (store.h). */
bool
store_unique_indexed(struct store_txn *txn, enum rtype t, const char *path)
{
	return unique_find(txn, t, path) != NULL;
}

/* The key of v for unique attribute u of type t, past its path
 * (store.h). */
enum scim_err
store_unique_key(enum rtype t, const struct rtype_unique *u,
    const json_t *v, char *out, size_t outsz, size_t *outlen)
{
	size_t plen = strlen(u->path) + 1;
	struct index_key k;
	enum scim_err e;
	bool has;

	if ((e = unique_key(rtype_get(t)->unique_index, u, v, &k, &has,
	    NULL)) != SCIM_OK)
		return e;
	if (!has || k.len - plen > outsz)
		return SCIM_ERR_INVALID_VALUE;
	memcpy(out, k.key + plen, k.len - plen);
	*outlen = k.len - plen;
	return SCIM_OK;
}

/* Ids whose attribute path has value v, from the unique index
 * (store.h). */
enum scim_err
store_lookup_unique(struct store_txn *txn, enum rtype t, const char *path,
    const json_t *v, store_id_fn fn, void *ctx, struct scim_error *err)
{
	const struct rtype_unique *u = unique_find(txn, t, path);
	struct index_key k;
	bool has;

	if (u == NULL || unique_key(rtype_get(t)->unique_index, u, v, &k,
	    &has, NULL) != SCIM_OK || !has)
		return SCIM_OK;
	return st_scan_dups(txn, index_db(txn, k.idx), k.key, k.len, fn, ctx,
	    err);
}

/* A rebuild of the unique indexes for another list. */
struct unique_sync {
	struct unique_set *set;		/* the list to build for */
	store_report_fn	 report;
	void		*ctx;
	enum rtype	 type;		/* of the records being read */
	size_t		 problems;
	char		 first[SCIM_ERROR_DETAIL_BYTES];
	bool		 done;		/* the store had the list already */
};

/*
 * Counts and reports one problem of a rebuild.  short_ (no value: the
 * detail of a 503 may reach clients) is kept for the error's detail
 * when it is the first.
 */
static void
sync_problem(struct unique_sync *m, const char *short_, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sync_problem(struct unique_sync *m, const char *short_, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (m->problems++ == 0)
		snprintf(m->first, sizeof(m->first), "%.*s",
		    (int)sizeof(m->first) - 1, short_);
	if (m->report != NULL)
		m->report(line, m->ctx);
}

/* Adds one key to the unique index being rebuilt; a key another record
 * holds already is a problem (both ids reported, nothing merged). */
static enum scim_err
sync_key(struct store_txn *t, const struct index_key *k, const char *id,
    void *ctx, struct scim_error *err)
{
	struct unique_sync *m = ctx;
	MDB_val key = { k->len, (void *)k->key };
	MDB_val val = { STORE_ID_LEN, (void *)id };
	const char *word = rtype_get(m->type)->word;
	size_t plen = strlen(k->attr) + 1;
	char value[128], other[STORE_ID_LEN + 1], brief[160];
	int rc;

	rc = mdb_put(t->txn, index_db(t, k->idx), &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST && !(val.mv_size == STORE_ID_LEN &&
	    memcmp(val.mv_data, id, STORE_ID_LEN) == 0)) {
		fold_printable(value, sizeof(value), k->key + plen,
		    k->len - plen);
		snprintf(other, sizeof(other), "%.*s", val.mv_size ==
		    STORE_ID_LEN ? (int)STORE_ID_LEN : 1, val.mv_size ==
		    STORE_ID_LEN ? (const char *)val.mv_data : "?");
		snprintf(brief, sizeof(brief), "%ss %s and %s share a value of "
		    "%.64s", word, other, id, k->attr);
		sync_problem(m, brief, "%ss %s and %s both have %s \"%s\"",
		    word, other, id, k->attr, value);
		return SCIM_OK;
	}
	return rc == 0 || rc == MDB_KEYEXIST ? SCIM_OK :
	    mdb_error(t, rc, "unique", err);
}

/* Adds the keys of every record of m->type to the unique index. */
static enum scim_err
sync_records(struct store_txn *t, struct unique_sync *m,
    struct scim_error *err)
{
	struct scim_error kerr;
	MDB_cursor *c;
	MDB_val k, v;
	json_t *rec;
	char id[STORE_ID_LEN + 1];
	enum scim_err e = SCIM_OK;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, record_db(t, m->type), &c)) != 0)
		return mdb_error(t, rc, "unique", err);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_ID_LEN ||
		    (rec = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL)
			continue;	/* verify reports these */
		memcpy(id, k.mv_data, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		err_clear(&kerr);
		e = st_unique_set_keys(m->set, t, m->type, rec, id, sync_key, m,
		    &kerr);
		json_decref(rec);
		if (e == SCIM_ERR_INVALID_VALUE) {
			sync_problem(m, "a value cannot be a key", "%s %s: %s",
			    rtype_get(m->type)->word, id, kerr.detail);
			e = SCIM_OK;
		} else if (e != SCIM_OK) {
			err_set(err, e, "%s", kerr.detail);
			break;
		}
	}
	mdb_cursor_close(c);
	if (e != SCIM_OK)
		return e;
	return rc == MDB_NOTFOUND ? SCIM_OK : mdb_error(t, rc, "unique", err);
}

/*
 * store_unique_sync()'s transaction: the unique indexes emptied and
 * rebuilt from the records for m->set, which is then written to meta
 * "unique"; any problem fails it, so nothing changes.  Repeatable.
 */
static enum scim_err
unique_sync_fn(struct store_txn *t, void *ctx, struct scim_error *err)
{
	struct unique_sync *m = ctx;
	MDB_val k = { 6, "unique" }, v;
	enum scim_err e;
	int rc, i;

	m->problems = 0;
	m->done = false;
	if ((e = st_unique_refresh(t, err)) != SCIM_OK)
		return e;
	if (m->set == NULL ? t->store->uq == NULL : t->store->uq != NULL &&
	    strcmp(t->store->uq->text, m->set->text) == 0) {
		m->done = true;		/* another process did it */
		return SCIM_OK;
	}
	for (i = 0; i < RT__COUNT; i++)
		if ((rc = mdb_drop(t->txn, index_db(t,
		    rtype_get((enum rtype)i)->unique_index), 0)) != 0)
			return mdb_error(t, rc, "unique", err);
	for (i = 0; i < RT__COUNT; i++) {
		m->type = (enum rtype)i;
		if ((e = sync_records(t, m, err)) != SCIM_OK)
			return e;
	}
	if (m->problems > 0) {
		t->failed = true;
		return err_set(err, SCIM_ERR_UNAVAILABLE, "Unique in the "
		    "schemas: %s%s; nothing changed (scimctl reindex lists "
		    "all; docs/operations.md).", m->first, m->problems > 1 ?
		    " (and more)" : "");
	}
	if (m->set == NULL)
		rc = mdb_del(t->txn, dbi(t, DB_META), &k, NULL);
	else {
		v.mv_size = m->set->len;
		v.mv_data = m->set->text;
		rc = mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, rc, "unique", err);
	return SCIM_OK;
}

/* A transaction that does nothing: store_read() refreshes the store's
 * unique set as it begins. */
static enum scim_err
unique_look(struct store_txn *t, void *ctx, struct scim_error *err)
{
	(void)t;
	(void)ctx;
	(void)err;
	return SCIM_OK;
}

/*
 * The last rebuild in this process that found records sharing a value:
 * a later call for the same store and list while no write has been
 * committed since (LMDB's last transaction id) fails the same way
 * without reading every record again (a FastCGI process retries its
 * start once a second).
 */
static struct {
	char			*path;
	char			*text;
	size_t			 txnid;
	struct scim_error	 err;
} sync_failed;

/* Forgets sync_failed. */
static void
sync_failed_clear(void)
{
	free(sync_failed.path);
	free(sync_failed.text);
	memset(&sync_failed, 0, sizeof(sync_failed));
}

/* Rebuilds the unique indexes when the schemas' list differs (store.h). */
enum scim_err
store_unique_sync(struct store *s, store_report_fn report, void *ctx,
    bool *rebuilt, struct scim_error *err)
{
	struct unique_sync m;
	MDB_envinfo info;
	enum scim_err e;
	char *text;

	memset(&m, 0, sizeof(m));
	if (rebuilt != NULL)
		*rebuilt = false;
	m.report = report;
	m.ctx = ctx;
	mdb_env_info(s->env, &info);
	if ((e = store_read(s, unique_look, NULL, err)) != SCIM_OK ||
	    (e = unique_table_text(&text, err)) != SCIM_OK)
		return e;
	if (text == NULL ? s->uq == NULL : s->uq != NULL &&
	    strcmp(text, s->uq->text) == 0) {
		free(text);
		return SCIM_OK;
	}
	if (text != NULL && sync_failed.text != NULL &&
	    info.me_last_txnid == sync_failed.txnid &&
	    strcmp(s->path, sync_failed.path) == 0 &&
	    strcmp(text, sync_failed.text) == 0) {
		free(text);
		*err = sync_failed.err;
		return err->code;
	}
	if (s->missing[DB_IDX_USER_UNIQUE] || s->missing[DB_IDX_GROUP_UNIQUE]) {
		free(text);
		return err_set(err, SCIM_ERR_UNAVAILABLE, "The store's layout "
		    "has no unique indexes: run `scimctl --db DIR migrate`.");
	}
	if (text != NULL && (e = unique_set_parse(text, strlen(text), &m.set,
	    err)) != SCIM_OK) {
		free(text);
		return e;
	}
	e = store_write(s, unique_sync_fn, &m, err);
	sync_failed_clear();
	if (e == SCIM_ERR_UNAVAILABLE && m.problems > 0 && text != NULL &&
	    (sync_failed.path = strdup(s->path)) != NULL &&
	    (sync_failed.text = strdup(text)) != NULL) {
		sync_failed.txnid = info.me_last_txnid;
		sync_failed.err = *err;
	}
	free(text);
	if (e == SCIM_OK && !m.done) {
		unique_set_free(s->uq);
		s->uq = m.set;
		m.set = NULL;
		if (rebuilt != NULL)
			*rebuilt = true;
	}
	unique_set_free(m.set);
	return e;
}

/* Whether the store's list is the schemas' (store.h). */
bool
store_unique_current(struct store *s)
{
	struct scim_error err;
	char *text;
	bool same;

	if (store_read(s, unique_look, NULL, &err) != SCIM_OK ||
	    unique_table_text(&text, &err) != SCIM_OK)
		return false;
	same = text == NULL ? s->uq == NULL : s->uq != NULL &&
	    strcmp(text, s->uq->text) == 0;
	free(text);
	return same;
}
