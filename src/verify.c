/*
 * verify.c: the store checked against itself, and mended (verify.h).
 *
 * The checks only read.  Each problem found is kept with the writes
 * that mend it; with repair those writes are made once every check has
 * run, so no check reads a database another one is changing.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "limits.h"
#include "store.h"
#include "verify.h"

static const char *const kind_names[VERIFY__COUNT] = {
	[VERIFY_UNREADABLE] = "unreadable record",
	[VERIFY_UNINDEXABLE] = "unindexable value",
	[VERIFY_MISSING_KEY] = "missing index entry",
	[VERIFY_DUPLICATE_KEY] = "duplicate unique value",
	[VERIFY_DANGLING_KEY] = "dangling index entry",
	[VERIFY_STALE_KEY] = "stale index entry",
	[VERIFY_MALFORMED] = "malformed entry",
	[VERIFY_DANGLING_MEMBER] = "dangling membership",
	[VERIFY_ONE_WAY_MEMBER] = "one-way membership",
	[VERIFY_DANGLING_PASSWORD] = "dangling password",
	[VERIFY_TOKEN] = "token mismatch",
	[VERIFY_SEQ_BEHIND] = "version counter behind",
	[VERIFY_COUNTS] = "id count wrong",
};

/* verify.h: the name of a kind of problem. */
const char *
verify_kind_name(enum verify_kind kind)
{
	return kind < VERIFY__COUNT ? kind_names[kind] : "problem";
}

/* A write that mends a problem: put or delete one pair. */
struct fix {
	bool		 put;
	const char	*db;
	void		*key, *val;	/* owned copies */
	size_t		 klen, vlen;
};

struct problem {
	enum verify_kind kind;
	const char	*db;
	char		*what;		/* owned */
	struct fix	 fix[2];
	int		 nfix;
};

/* The state of one run. */
struct vstate {
	struct store_txn *txn;
	struct problem	*list;
	size_t		 n, cap;
	bool		 nomem;
	size_t		 expected[IDX__COUNT];	/* keys the records have */
	size_t		 present[IDX__COUNT];	/* ...found in their index */
	size_t		 valid[IDX__COUNT];	/* entries naming a record */
	unsigned long long max_version;		/* highest meta.version */
	enum store_index idx;			/* index being scanned */
	enum rtype	 type;			/* record type being scanned */
	struct scim_error *err;
	enum scim_err	 e;			/* first store error */
};

/* Copies bytes p[n] into out[outsz] as readable text: printable ASCII
 * and UTF-8 bytes as they are, quotes, backslashes and control bytes
 * escaped, cut with "..." when long. */
static void
escape(const void *p, size_t n, char *out, size_t outsz)
{
	const unsigned char *s = p;
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < outsz; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)s[i];
		} else if (s[i] < 0x20 || s[i] == 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x",
			    s[i]);
		else
			out[o++] = (char)s[i];
	}
	if (i < n && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

/* An id of a record key or value, NUL-terminated in out[37]; false when
 * it is not one. */
static bool
id_of(const void *p, size_t n, char out[STORE_ID_LEN + 1])
{
	if (n != STORE_ID_LEN)
		return false;
	memcpy(out, p, STORE_ID_LEN);
	out[STORE_ID_LEN] = '\0';
	return store_id_valid(out, STORE_ID_LEN);
}

/* Records a problem; its fixes are added with add_fix().  NULL when out
 * of memory (the run then fails with NOMEM). */
static struct problem *
add_problem(struct vstate *v, enum verify_kind kind, const char *db,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* (Defined here: the declaration above carries the format check.) */
static struct problem *
add_problem(struct vstate *v, enum verify_kind kind, const char *db,
    const char *fmt, ...)
{
	struct problem *p;
	char what[640];
	va_list ap;

	if (v->nomem)
		return NULL;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;

		if ((p = realloc(v->list, cap * sizeof(*p))) == NULL) {
			v->nomem = true;
			return NULL;
		}
		v->list = p;
		v->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	p = &v->list[v->n];
	memset(p, 0, sizeof(*p));
	if ((p->what = strdup(what)) == NULL) {
		v->nomem = true;
		return NULL;
	}
	p->kind = kind;
	p->db = db;
	v->n++;
	return p;
}

/* Adds to p the write (put, or delete) of pair (k, val) in db. */
static void
add_fix(struct vstate *v, struct problem *p, bool put, const char *db,
    const void *k, size_t klen, const void *val, size_t vlen)
{
	struct fix *f;

	if (p == NULL || p->nfix == 2)
		return;
	f = &p->fix[p->nfix];
	f->put = put;
	f->db = db;
	f->key = malloc(klen ? klen : 1);
	f->val = malloc(vlen ? vlen : 1);
	if (f->key == NULL || f->val == NULL) {
		free(f->key);
		free(f->val);
		v->nomem = true;
		return;
	}
	memcpy(f->key, k, klen);
	memcpy(f->val, val, vlen);
	f->klen = klen;
	f->vlen = vlen;
	p->nfix++;
}

/* Notes the first store error of a check (the run returns it). */
static bool
store_failed(struct vstate *v, enum scim_err e)
{
	if (e == SCIM_OK || e == SCIM_ERR_NOT_FOUND)
		return false;
	if (v->e == SCIM_OK)
		v->e = e;
	return true;
}

/* Whether record id of type t exists; a store error is noted (the run
 * then returns it and reports nothing) and reads as absent. */
static bool
record_exists(struct vstate *v, enum rtype t, const char *id)
{
	bool found = false;

	if (store_failed(v, store_exists(v->txn, t, id, &found, v->err)))
		return false;
	return found;
}

static const char *
record_db_name(enum rtype t)
{
	return rtype_get(t)->records;
}

static const char *
type_word(enum rtype t)
{
	return rtype_get(t)->word;
}

/* ---- the keys of one record ------------------------------------------- */

/* The distinct index keys of a record: the emails and as many values
 * of the schemas' unique attributes (a multi-valued one), the rest. */
struct keyset {
	struct {
		enum store_index idx;
		size_t		 len;
		char		 key[LIMIT_INDEX_KEY_BYTES];
	}		 k[2 * LIMIT_MULTI_VALUES + 8];
	size_t		 n;
	bool		 overflow;
};

/* Adds a key to the set, once (a store_key_fn). */
static void
keyset_add(enum store_index idx, const char *key, size_t len, void *ctx)
{
	struct keyset *ks = ctx;
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].idx == idx && ks->k[i].len == len &&
		    memcmp(ks->k[i].key, key, len) == 0)
			return;
	if (ks->n == sizeof(ks->k) / sizeof(ks->k[0])) {
		ks->overflow = true;
		return;
	}
	ks->k[ks->n].idx = idx;
	ks->k[ks->n].len = len;
	memcpy(ks->k[ks->n].key, key, len);
	ks->n++;
}

static bool
keyset_has(const struct keyset *ks, enum store_index idx, const void *key,
    size_t len)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].idx == idx && ks->k[i].len == len &&
		    memcmp(ks->k[i].key, key, len) == 0)
			return true;
	return false;
}

/* The keys of the stored record id of type t into ks; false when the
 * record is missing, unreadable or has a value that cannot be a key. */
static bool
record_keys(struct store_txn *txn, enum rtype t, const char *id,
    struct keyset *ks)
{
	json_t *rec = NULL;
	bool ok;

	ks->n = 0;
	ks->overflow = false;
	if (store_get(txn, t, id, &rec, NULL) != SCIM_OK)
		return false;
	ok = store_record_keys(txn, t, rec, keyset_add, ks, NULL) == SCIM_OK &&
	    !ks->overflow;
	json_decref(rec);
	return ok;
}

/* ---- records against indexes ------------------------------------------ */

/* The number n of a version W/"n", or 0. */
static unsigned long long
version_number(const json_t *rec)
{
	const char *s = json_string_value(json_object_get(
	    json_object_get(rec, "meta"), "version"));
	unsigned long long n = 0;

	if (s == NULL || strncmp(s, "W/\"", 3) != 0)
		return 0;
	for (s += 3; *s >= '0' && *s <= '9'; s++) {
		if (n > (~0ULL - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	return *s == '"' ? n : 0;
}

/* Checks that key i of record id is in its index, pointing at id. */
static void
check_key(struct vstate *v, const char *id, const struct keyset *ks, size_t i)
{
	enum store_index idx = ks->k[i].idx;
	const char *db = store_index_name(idx), *key = ks->k[i].key;
	size_t len = ks->k[i].len;
	const void *held;
	size_t hlen;
	char text[200], other[STORE_ID_LEN + 1];
	struct keyset oks;
	struct problem *p;
	enum scim_err e;

	v->expected[idx]++;
	escape(key, len, text, sizeof(text));
	if (!store_index_unique(idx)) {
		if (store_raw_has(v->txn, db, key, len, id, STORE_ID_LEN)) {
			v->present[idx]++;
			return;
		}
	} else {
		e = store_raw_get(v->txn, db, key, len, &held, &hlen, v->err);
		if (store_failed(v, e))
			return;
		if (e == SCIM_OK && hlen == STORE_ID_LEN &&
		    memcmp(held, id, STORE_ID_LEN) == 0) {
			v->present[idx]++;
			return;
		}
		/* Held by another record that has the key too: two records
		 * claim one unique value, which no write can mend. */
		if (e == SCIM_OK && id_of(held, hlen, other) &&
		    record_keys(v->txn, store_index_type(idx), other, &oks) &&
		    keyset_has(&oks, idx, key, len)) {
			add_problem(v, VERIFY_DUPLICATE_KEY, db, "%s %s and %s "
			    "both have %s \"%s\"; rename or delete one through "
			    "SCIM", type_word(store_index_type(idx)), id, other,
			    store_index_attr(idx), text);
			return;
		}
	}
	p = add_problem(v, VERIFY_MISSING_KEY, db, "%s %s has %s \"%s\", "
	    "which %s does not hold", type_word(store_index_type(idx)), id,
	    store_index_attr(idx), text, db);
	add_fix(v, p, true, db, key, len, id, STORE_ID_LEN);
}

/* One users or groups entry: readable, and each of its keys indexed. */
static bool
check_record(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	const char *db = record_db_name(v->type), *rid;
	char id[STORE_ID_LEN + 1], text[80];
	struct keyset *ks;
	unsigned long long ver;
	json_t *rec;
	size_t i;

	if (!id_of(k, klen, id)) {
		escape(k, klen, text, sizeof(text));
		add_problem(v, VERIFY_UNREADABLE, db, "key \"%s\" is not an id",
		    text);
		return !v->nomem;
	}
	rec = json_loadb(val, vlen, 0, NULL);
	rid = json_string_value(json_object_get(rec, "id"));
	if (rec == NULL || !json_is_object(rec) || rid == NULL ||
	    strcmp(rid, id) != 0) {
		add_problem(v, VERIFY_UNREADABLE, db, "%s %s: %s", type_word(
		    v->type), id, rec == NULL ? "not JSON" : "its \"id\" is "
		    "not its key");
		json_decref(rec);
		return !v->nomem;
	}
	if ((ver = version_number(rec)) > v->max_version)
		v->max_version = ver;
	if ((ks = malloc(sizeof(*ks))) == NULL) {
		json_decref(rec);
		v->nomem = true;
		return false;
	}
	ks->n = 0;
	ks->overflow = false;
	if (store_record_keys(v->txn, v->type, rec, keyset_add, ks, v->err) !=
	    SCIM_OK || ks->overflow)
		add_problem(v, VERIFY_UNINDEXABLE, db, "%s %s: %s", type_word(
		    v->type), id, ks->overflow ? "too many values to index" :
		    v->err->detail);
	else
		for (i = 0; i < ks->n && v->e == SCIM_OK; i++)
			check_key(v, id, ks, i);
	free(ks);
	json_decref(rec);
	return !v->nomem && v->e == SCIM_OK;
}

/* One index entry: a well-formed id of an existing record. */
static bool
check_entry(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	const char *db = store_index_name(v->idx);
	enum rtype t = store_index_type(v->idx);
	char id[STORE_ID_LEN + 1], text[200], vtext[80];
	struct problem *p;

	escape(k, klen, text, sizeof(text));
	if (!id_of(val, vlen, id)) {
		escape(val, vlen, vtext, sizeof(vtext));
		p = add_problem(v, VERIFY_MALFORMED, db, "\"%s\" -> \"%s\": "
		    "not an id", text, vtext);
		add_fix(v, p, false, db, k, klen, val, vlen);
	} else if (!record_exists(v, t, id)) {
		p = add_problem(v, VERIFY_DANGLING_KEY, db, "\"%s\" -> %s: no "
		    "such %s", text, id, type_word(t));
		add_fix(v, p, false, db, k, klen, val, vlen);
	} else
		v->valid[v->idx]++;
	return !v->nomem;
}

/* One index entry naming an existing record: does the record have the
 * key?  (Run only for an index with more such entries than keys.) */
static bool
check_stale(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	const char *db = store_index_name(v->idx);
	enum rtype t = store_index_type(v->idx);
	char id[STORE_ID_LEN + 1], text[200];
	struct keyset *ks;
	struct problem *p;
	bool judged, has;

	if (!id_of(val, vlen, id) || !record_exists(v, t, id))
		return true;		/* reported by check_entry() */
	if ((ks = malloc(sizeof(*ks))) == NULL) {
		v->nomem = true;
		return false;
	}
	judged = record_keys(v->txn, t, id, ks);
	has = judged && keyset_has(ks, v->idx, k, klen);
	free(ks);
	if (!judged || has)
		return true;		/* unreadable records are reported */
	escape(k, klen, text, sizeof(text));
	p = add_problem(v, VERIFY_STALE_KEY, db, "\"%s\" -> %s, whose %s is "
	    "not that", text, id, store_index_attr(v->idx));
	add_fix(v, p, false, db, k, klen, val, vlen);
	return !v->nomem;
}

/* ---- memberships, passwords, tokens, version counter --------------------- */

/* Whether id names an existing user or group. */
static bool
member_exists(struct vstate *v, const char *id)
{
	return record_exists(v, RT_USER, id) || record_exists(v, RT_GROUP, id);
}

/* A members pair (group, member): both exist, and memberof mirrors it. */
static bool
check_members(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	char gid[STORE_ID_LEN + 1], mid[STORE_ID_LEN + 1];
	struct problem *p;
	bool gok, mok;

	if (!id_of(k, klen, gid) || !id_of(val, vlen, mid)) {
		p = add_problem(v, VERIFY_MALFORMED, "members", "a pair that "
		    "is not two ids (%zu and %zu bytes)", klen, vlen);
		add_fix(v, p, false, "members", k, klen, val, vlen);
		return !v->nomem;
	}
	gok = record_exists(v, RT_GROUP, gid);
	mok = member_exists(v, mid);
	if (!gok || !mok) {
		p = add_problem(v, VERIFY_DANGLING_MEMBER, "members",
		    "group %s -> member %s: no such %s", gid, mid, !gok ?
		    "group" : "user or group");
		add_fix(v, p, false, "members", gid, STORE_ID_LEN, mid,
		    STORE_ID_LEN);
		add_fix(v, p, false, "memberof", mid, STORE_ID_LEN, gid,
		    STORE_ID_LEN);
	} else if (!store_raw_has(v->txn, "memberof", mid, STORE_ID_LEN, gid,
	    STORE_ID_LEN)) {
		p = add_problem(v, VERIFY_ONE_WAY_MEMBER, "members", "group %s "
		    "lists member %s, whose memberof does not name the group "
		    "(members is authoritative: the mirror is added)", gid,
		    mid);
		add_fix(v, p, true, "memberof", mid, STORE_ID_LEN, gid,
		    STORE_ID_LEN);
	}
	return !v->nomem;
}

/* A memberof pair (member, group) without its members pair. */
static bool
check_memberof(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	char gid[STORE_ID_LEN + 1], mid[STORE_ID_LEN + 1];
	struct problem *p;
	bool gok, mok;

	if (!id_of(k, klen, mid) || !id_of(val, vlen, gid)) {
		p = add_problem(v, VERIFY_MALFORMED, "memberof", "a pair that "
		    "is not two ids (%zu and %zu bytes)", klen, vlen);
		add_fix(v, p, false, "memberof", k, klen, val, vlen);
		return !v->nomem;
	}
	if (store_raw_has(v->txn, "members", gid, STORE_ID_LEN, mid,
	    STORE_ID_LEN))
		return true;		/* checked from the members side */
	gok = record_exists(v, RT_GROUP, gid);
	mok = member_exists(v, mid);
	if (!gok || !mok)
		p = add_problem(v, VERIFY_DANGLING_MEMBER, "memberof", "member "
		    "%s -> group %s: no such %s", mid, gid, !gok ? "group" :
		    "user or group");
	else
		p = add_problem(v, VERIFY_ONE_WAY_MEMBER, "memberof", "member "
		    "%s names group %s, which does not list it (members is "
		    "authoritative: the entry is removed)", mid, gid);
	add_fix(v, p, false, "memberof", mid, STORE_ID_LEN, gid, STORE_ID_LEN);
	return !v->nomem;
}

/* A password hash of an existing user. */
static bool
check_password(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	char id[STORE_ID_LEN + 1], text[80];
	struct problem *p;

	if (id_of(k, klen, id) && record_exists(v, RT_USER, id))
		return true;
	escape(k, klen, text, sizeof(text));
	p = add_problem(v, VERIFY_DANGLING_PASSWORD, "passwords", "a hash "
	    "for \"%s\": no such user", text);
	add_fix(v, p, false, "passwords", k, klen, val, vlen);
	return !v->nomem;
}

/* The binary SHA-256 of a tokens record into hash; false if it has
 * none. */
static bool
token_record_hash(const void *doc, size_t len,
    unsigned char hash[STORE_HASH_LEN])
{
	json_t *j = json_loadb(doc, len, 0, NULL);
	const char *hex = json_string_value(json_object_get(j, "sha256"));
	size_t n = 0;
	bool ok;

	ok = hex != NULL && sodium_hex2bin(hash, STORE_HASH_LEN, hex,
	    strlen(hex), NULL, &n, NULL) == 0 && n == STORE_HASH_LEN;
	json_decref(j);
	return ok;
}

/* A token_hash entry: names a token whose record has this hash.  An
 * entry left from a revoked token would let its secret in. */
static bool
check_token_hash(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	unsigned char hash[STORE_HASH_LEN];
	const void *doc;
	size_t dlen;
	char name[120];
	struct problem *p;
	enum scim_err e;

	escape(val, vlen, name, sizeof(name));
	e = store_raw_get(v->txn, "tokens", val, vlen, &doc, &dlen, v->err);
	if (store_failed(v, e))
		return false;
	if (klen == STORE_HASH_LEN && e == SCIM_OK &&
	    token_record_hash(doc, dlen, hash) &&
	    memcmp(hash, k, STORE_HASH_LEN) == 0)
		return true;
	p = add_problem(v, VERIFY_TOKEN, "token_hash", "a hash naming token "
	    "\"%s\", %s", name, e != SCIM_OK ? "which does not exist" :
	    "whose record has another hash (a revoked secret): removed");
	add_fix(v, p, false, "token_hash", k, klen, val, vlen);
	return !v->nomem;
}

/* A tokens record: readable, and found by its hash. */
static bool
check_token(const void *k, size_t klen, const void *val, size_t vlen,
    void *ctx)
{
	struct vstate *v = ctx;
	unsigned char hash[STORE_HASH_LEN];
	char name[120];
	struct problem *p;

	escape(k, klen, name, sizeof(name));
	if (!token_record_hash(val, vlen, hash)) {
		add_problem(v, VERIFY_UNREADABLE, "tokens", "token \"%s\": no "
		    "readable sha256 (revoke it and make a new one)", name);
		return !v->nomem;
	}
	if (store_raw_has(v->txn, "token_hash", hash, STORE_HASH_LEN, k, klen))
		return true;
	p = add_problem(v, VERIFY_TOKEN, "token_hash", "token \"%s\" is not "
	    "found by its hash", name);
	add_fix(v, p, true, "token_hash", hash, STORE_HASH_LEN, k, klen);
	return !v->nomem;
}

/* meta "seq" is at least the highest version a record carries. */
static void
check_seq(struct vstate *v)
{
	const void *val;
	size_t len, i;
	unsigned long long n = 0;
	unsigned char be[8];
	struct problem *p;
	enum scim_err e;

	e = store_raw_get(v->txn, "meta", "seq", 3, &val, &len, v->err);
	if (store_failed(v, e))
		return;
	if (e == SCIM_OK && len == 8)
		for (i = 0; i < 8; i++)
			n = n << 8 | ((const unsigned char *)val)[i];
	if (n >= v->max_version)
		return;
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(v->max_version >> (56 - 8 * i));
	p = add_problem(v, VERIFY_SEQ_BEHIND, "meta", "seq is %llu, a record "
	    "has version %llu: later writes would reuse versions", n,
	    v->max_version);
	add_fix(v, p, true, "meta", "seq", 3, be, sizeof(be));
}

/* ---- the run ---------------------------------------------------------- */

/* Makes every fix: deletions first, so that a unique key freed by a
 * stale entry can take its rightful id. */
static enum scim_err
apply(struct vstate *v, struct scim_error *err)
{
	enum scim_err e;
	size_t i;
	int j, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < v->n; i++)
			for (j = 0; j < v->list[i].nfix; j++) {
				struct fix *f = &v->list[i].fix[j];

				if (f->put != (pass == 1))
					continue;
				e = f->put ? store_raw_put(v->txn, f->db,
				    f->key, f->klen, f->val, f->vlen, err) :
				    store_raw_del(v->txn, f->db, f->key,
				    f->klen, f->val, f->vlen, err);
				if (e != SCIM_OK)
					return e;
			}
	return SCIM_OK;
}

static void
vstate_free(struct vstate *v)
{
	size_t i;
	int j;

	for (i = 0; i < v->n; i++) {
		free(v->list[i].what);
		for (j = 0; j < v->list[i].nfix; j++) {
			free(v->list[i].fix[j].key);
			free(v->list[i].fix[j].val);
		}
	}
	free(v->list);
}

/* Runs every check, each a scan of one database. */
static enum scim_err
checks(struct vstate *v, struct scim_error *err)
{
	enum scim_err e;
	int i;

	for (i = 0; i < RT__COUNT; i++) {
		v->type = (enum rtype)i;
		if ((e = store_raw_scan(v->txn, record_db_name(v->type),
		    check_record, v, err)) != SCIM_OK)
			return e;
		if (v->e != SCIM_OK || v->nomem)
			return SCIM_OK;
	}
	for (i = 0; i < IDX__COUNT; i++) {
		v->idx = (enum store_index)i;
		if ((e = store_raw_scan(v->txn, store_index_name(v->idx),
		    check_entry, v, err)) != SCIM_OK)
			return e;
		/* Each entry naming a record is either one of its keys
		 * (counted in present) or stale: look for stale ones only
		 * when the numbers say some exist. */
		if (v->valid[i] > v->present[i] && (e = store_raw_scan(v->txn,
		    store_index_name(v->idx), check_stale, v, err)) != SCIM_OK)
			return e;
	}
	if ((e = store_raw_scan(v->txn, "members", check_members, v, err)) !=
	    SCIM_OK ||
	    (e = store_raw_scan(v->txn, "memberof", check_memberof, v, err)) !=
	    SCIM_OK ||
	    (e = store_raw_scan(v->txn, "passwords", check_password, v,
	    err)) != SCIM_OK ||
	    (e = store_raw_scan(v->txn, "token_hash", check_token_hash, v,
	    err)) != SCIM_OK ||
	    (e = store_raw_scan(v->txn, "tokens", check_token, v, err)) !=
	    SCIM_OK)
		return e;
	check_seq(v);
	return SCIM_OK;
}

/* verify.h: every check, then the repairs, then the reports. */
enum scim_err
verify_run(struct store_txn *txn, bool repair, verify_report_fn fn, void *ctx,
    struct verify_result *res, struct scim_error *err)
{
	struct scim_error scratch;
	struct verify_problem vp;
	struct vstate v;
	enum scim_err e;
	size_t i, counts = 0;
	char what[64];

	memset(&v, 0, sizeof(v));
	memset(res, 0, sizeof(*res));
	v.txn = txn;
	v.err = &scratch;
	err_clear(&scratch);
	e = checks(&v, err);
	if (e == SCIM_OK && v.e != SCIM_OK)
		e = err_set(err, v.e, "%s", scratch.detail);
	if (e == SCIM_OK && v.nomem)
		e = err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	if (e == SCIM_OK && repair)
		e = apply(&v, err);
	/* The paging counts (store.h), after the records are settled. */
	if (e == SCIM_OK)
		e = store_counts_verify(txn, repair, &counts, err);
	if (e != SCIM_OK) {
		vstate_free(&v);
		return e;
	}
	res->problems = v.n;
	for (i = 0; i < v.n; i++) {
		vp.kind = v.list[i].kind;
		vp.db = v.list[i].db;
		vp.what = v.list[i].what;
		vp.repaired = repair && v.list[i].nfix > 0;
		if (vp.repaired)
			res->repaired++;
		if (fn != NULL)
			fn(&vp, ctx);
	}
	if (counts > 0) {
		res->problems += counts;
		snprintf(what, sizeof(what), "%zu bucket count%s differ%s from "
		    "the records", counts, counts == 1 ? "" : "s",
		    counts == 1 ? "s" : "");
		vp.kind = VERIFY_COUNTS;
		vp.db = "id_counts";
		vp.what = what;
		vp.repaired = repair;
		if (repair)
			res->repaired += counts;
		if (fn != NULL)
			fn(&vp, ctx);
	}
	vstate_free(&v);
	return SCIM_OK;
}

/* The older interface (t_store, t_alloc): the count only. */
enum scim_err
store_verify(struct store_txn *txn, bool repair, size_t *problems,
    struct scim_error *err)
{
	struct verify_result res;
	enum scim_err e;

	e = verify_run(txn, repair, NULL, NULL, &res, err);
	*problems = res.problems;
	return e;
}
