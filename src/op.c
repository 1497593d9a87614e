/*
 * op.c: create, replace, patch, delete and read one User or Group
 * (op.h), and the import of an exported record.
 *
 * Every change runs inside one store_write() callback: the old record is
 * read, the change computed and written with its index and membership
 * changes in the same LMDB transaction, so concurrent writers (other
 * FastCGI processes) serialise and an error leaves nothing behind.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "jsonx.h"
#include "limits.h"
#include "members.h"
#include "op.h"
#include "patch.h"

/* op.h: the settings copied, the per-operation fields cleared. */
void
op_ctx_init(struct op_ctx *c, struct store *s, const char *who,
    const struct conf *conf, const char *base_url)
{
	memset(c, 0, sizeof(*c));
	c->store = s;
	c->who = who;
	if (conf != NULL) {
		c->audit_keep = conf->audit_keep;
		c->password = conf->password;
	}
	c->base_url = base_url != NULL ? base_url : "";
}

/* ---- preconditions (RFC 7644 3.14) --------------------------------------- */

/* The opaque part of an entity tag: without W/ and quotes. */
static void
etag_opaque(const char *s, size_t n, const char **out, size_t *outlen)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && (s[0] == 'W' || s[0] == 'w') && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	*out = s;
	*outlen = n;
}

/* op.h: each listed tag compared by its opaque part. */
bool
op_etag_listed(const char *header, const char *version)
{
	const char *p = header, *comma, *a, *b;
	size_t alen, blen;

	etag_opaque(version, strlen(version), &b, &blen);
	for (;;) {
		comma = strchr(p, ',');
		etag_opaque(p, comma ? (size_t)(comma - p) : strlen(p), &a,
		    &alen);
		if ((alen == 1 && *a == '*') ||
		    (alen == blen && memcmp(a, b, alen) == 0))
			return true;
		if (comma == NULL)
			return false;
		p = comma + 1;
	}
}

/* 412 unless If-Match (when given) names the record's version. */
static enum scim_err
check_if_match(const struct op_ctx *c, const json_t *rec,
    struct scim_error *err)
{
	const char *v;

	if (c->if_match == NULL)
		return SCIM_OK;
	v = json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "version"));
	if (v != NULL && op_etag_listed(c->if_match, v))
		return SCIM_OK;
	return err_set(err, SCIM_ERR_PRECONDITION,
	    "If-Match does not match the current version %s.", v ? v : "");
}


/* ---- building records ---------------------------------------------------- */

/*
 * The stored form of a validated resource: schemas, id, the attributes
 * (not members: they live in the membership databases), then meta with
 * created and lastModified (now when NULL) and version.  Every set is
 * checked: a record silently missing an attribute (jansson out of
 * memory) must never be stored.  New reference or NULL.
 */
static json_t *
build_record(enum rtype t, const char *id, const json_t *valid,
    const char *created, const char *modified, const char *version)
{
	const char *key;
	json_t *rec, *v, *meta;
	char now[32];

	store_now(now, sizeof(now));
	if ((rec = json_object()) == NULL)
		return NULL;
	if (json_object_set(rec, "schemas", json_object_get(valid,
	    "schemas")) != 0 ||
	    json_object_set_new(rec, "id", json_string(id)) != 0)
		goto fail;
	json_object_foreach((json_t *)valid, key, v)
		if (strcmp(key, "schemas") != 0 &&
		    strcmp(key, "members") != 0 &&
		    json_object_set(rec, key, v) != 0)
			goto fail;
	meta = json_pack("{s:s, s:s, s:s, s:s}", "resourceType",
	    schema_resource_type(t)->name, "created", created ? created : now,
	    "lastModified", modified ? modified : now, "version", version);
	if (meta == NULL || json_object_set_new(rec, "meta", meta) != 0)
		goto fail;
	return rec;
fail:
	json_decref(rec);
	return NULL;
}

/* meta.created of a stored record, or NULL. */
static const char *
created_of(const json_t *old)
{
	return json_string_value(json_object_get(json_object_get(old, "meta"),
	    "created"));
}

/* ---- passwords ----------------------------------------------------------- */

/*
 * Hashes password with Argon2id when the site asked for it; otherwise
 * the password is discarded.  *hash is NULL or owned by the caller.
 * The clear text is wiped in both cases.
 */
static enum scim_err
password_hash(enum conf_password policy, char *password, char **hash,
    struct scim_error *err)
{
	*hash = NULL;
	if (password == NULL)
		return SCIM_OK;
	if (policy == CONF_PASSWORD_ARGON2ID)
		return auth_password_hash(password, hash, err);
	sodium_memzero(password, strlen(password));
	return SCIM_OK;
}

/* Wipes and frees a clear-text password or its hash (NULL: no-op). */
static void
secret_free(char *s)
{
	if (s != NULL)
		sodium_memzero(s, strlen(s));
	free(s);
}

/* ---- changes ------------------------------------------------------------- */

/* What a write callback needs, and what it produces. */
struct change {
	struct op_ctx		*c;
	enum rtype		 type;
	const char		*id;		/* replace, patch, delete */
	const json_t		*patch;		/* PATCH: the PatchOp message */
	json_t			*valid;		/* validated body (owned) */
	char			*pwhash;	/* Argon2id or NULL (owned) */
	/* A PATCH's clear password seen before the write, and its hash
	 * (both owned). */
	char			*pre_password;
	char			*pre_hash;
	struct op_result	*r;
};

/* Frees what c owns. */
static void
change_free(struct change *ch)
{
	json_decref(ch->valid);
	secret_free(ch->pwhash);
	secret_free(ch->pre_password);
	secret_free(ch->pre_hash);
}

/* Resets the outputs of a callback that store_write() may repeat. */
static void
change_reset(struct change *ch)
{
	memset(ch->r, 0, sizeof(*ch->r));
	if (ch->c->body != NULL)
		buf_reset(ch->c->body);
}

/* Records the change in the audit trail, in the change's transaction. */
static enum scim_err
audit(struct store_txn *txn, const struct change *ch, const char *op,
    const char *id, const char *version, struct scim_error *err)
{
	return store_audit(txn, ch->c->who, op,
	    schema_resource_type(ch->type)->name, id, version,
	    ch->c->audit_keep, err);
}

/* Copies s (NULL: "") into out[outsz], cut to fit. */
static void
copy_str(char *out, size_t outsz, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s != NULL ? s : "", n);
	out[n] = '\0';
}

/*
 * The last step of a write callback: the result filled from rec (the
 * record as now stored; NULL after a delete), rec rendered into c->body
 * when asked, then the caller's answer.  Made inside the transaction, so
 * an answer that cannot be made aborts the change.
 */
static enum scim_err
change_answer(struct change *ch, struct store_txn *txn, int status,
    const json_t *rec, struct scim_error *err)
{
	struct op_ctx *c = ch->c;
	struct op_result *r = ch->r;
	const char *id, *v;
	json_t *out;
	enum scim_err e;

	r->status = status;
	id = rec != NULL ? json_string_value(json_object_get(rec, "id")) :
	    ch->id;
	v = json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "version"));
	copy_str(r->id, sizeof(r->id), id);
	copy_str(r->version, sizeof(r->version), v);
	if (rec != NULL && c->body != NULL) {
		if ((e = resource_render(txn, ch->type, c->base_url, rec,
		    c->proj, &out, err)) != SCIM_OK)
			return e;
		e = jsonx_dump(out, c->body);
		json_decref(out);
		if (e != SCIM_OK)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	return c->answer != NULL ? c->answer(r, c->answer_ctx, err) : SCIM_OK;
}

/* Validates the body for create or replace into ch (valid, pwhash). */
static enum scim_err
prepare_body(struct change *ch, const json_t *body, enum schema_mode mode,
    struct scim_error *err)
{
	char *password = NULL;
	enum scim_err e;

	if ((e = schema_validate(ch->type, body, mode, &ch->valid, &password,
	    err)) != SCIM_OK)
		return e;
	if (ch->type == RT_GROUP) {
		const json_t *m = json_object_get(ch->valid, "members");

		if (m != NULL && json_array_size(m) > LIMIT_JSON_MEMBERS) {
			secret_free(password);
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "Too many members.");
		}
	}
	e = password_hash(ch->c->password, password, &ch->pwhash, err);
	secret_free(password);
	return e;
}

/*
 * Write callback of POST (ch->id NULL: a new id) and PUT (the stored
 * record, If-Match and immutables first): a new version, the record
 * with its indexes, the group's members (PUT replaces them too, RFC 7644
 * 3.5.1: absent means none), the password hash, the audit entry, the
 * answer; any failure aborts it all.
 */
static enum scim_err
put_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *ch = ctx;
	const json_t *members = json_object_get(ch->valid, "members");
	json_t *old = NULL, *rec = NULL;
	char newid[STORE_ID_LEN + 1], version[32];
	const char *id = newid;
	enum scim_err e;

	change_reset(ch);
	if (ch->id == NULL)
		store_new_id(newid);
	else {
		if ((e = store_get(txn, ch->type, ch->id, &old, err)) !=
		    SCIM_OK)
			return e;
		id = json_string_value(json_object_get(old, "id"));
		if ((e = check_if_match(ch->c, old, err)) != SCIM_OK ||
		    (e = schema_check_immutable(ch->type, old, ch->valid,
		    err)) != SCIM_OK)
			goto fail;
	}
	if ((e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	if ((rec = build_record(ch->type, id, ch->valid, created_of(old), NULL,
	    version)) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((e = store_put(txn, ch->type, old, rec, err)) != SCIM_OK ||
	    (old != NULL && ch->type == RT_GROUP &&
	    (e = store_member_clear(txn, id, err)) != SCIM_OK) ||
	    (members != NULL &&
	    (e = members_add(txn, id, members, err)) != SCIM_OK) ||
	    (ch->pwhash != NULL &&
	    (e = store_password_put(txn, id, ch->pwhash, err)) != SCIM_OK) ||
	    (e = audit(txn, ch, old != NULL ? "replace" : "create", id,
	    version, err)) != SCIM_OK)
		goto fail;
	e = change_answer(ch, txn, old != NULL ? 200 : 201, rec, err);
fail:
	json_decref(old);
	json_decref(rec);
	return e;
}

/* Whether v mentions "password" in any key or string (any case): the
 * only PATCH bodies that can set one. */
static bool
mentions_password(const json_t *v)
{
	const char *key;
	const json_t *x;
	size_t i;

	if (json_is_string(v))
		return strcasestr(json_string_value(v), "password") != NULL;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (mentions_password(x))
				return true;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
			if (strcasestr(key, "password") != NULL ||
			    mentions_password(x))
				return true;
	}
	return false;
}

/* The read-only rehearsal of a PATCH: the clear password it would set,
 * into ch->pre_password, when it applies and validates on the record as
 * it is now.  Its errors are not the request's (the write says them). */
static enum scim_err
prepatch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *ch = ctx;
	json_t *old = NULL, *work = NULL, *valid = NULL;

	if (store_get(txn, RT_USER, ch->id, &old, err) == SCIM_OK &&
	    (work = json_deep_copy(old)) != NULL &&
	    patch_apply(RT_USER, work, ch->patch, NULL, err) == SCIM_OK)
		(void)schema_validate(RT_USER, work, SCHEMA_CHECK, &valid,
		    &ch->pre_password, err);
	json_decref(old);
	json_decref(work);
	json_decref(valid);
	return SCIM_OK;
}

/*
 * Argon2id takes about 100 ms by design: made inside the write
 * transaction, it would hold LMDB's one write lock, and every other
 * writer of the site, for that long.  So a PATCH that may set a password
 * is first applied read-only and the password found hashed here, before
 * the write; patch_password() then uses that hash.  SCIM_OK, or
 * SCIM_ERR_NOMEM; a rehearsal that fails is not an error here.
 */
static enum scim_err
patch_prehash(struct change *ch, struct scim_error *err)
{
	struct scim_error ignored;
	char *copy;

	if (ch->type != RT_USER || ch->c->password != CONF_PASSWORD_ARGON2ID ||
	    !mentions_password(ch->patch))
		return SCIM_OK;
	if (store_read(ch->c->store, prepatch_fn, ch, &ignored) != SCIM_OK ||
	    ch->pre_password == NULL)
		return SCIM_OK;
	/* password_hash() wipes its argument: hash a copy. */
	if ((copy = strdup(ch->pre_password)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if (password_hash(ch->c->password, copy, &ch->pre_hash, &ignored) !=
	    SCIM_OK)
		ch->pre_hash = NULL;
	free(copy);
	return SCIM_OK;
}

/* The hash to store for the clear password a PATCH sets (NULL: none):
 * patch_prehash()'s when it is for the same password, else made here
 * (the record changed between the two).  *own is the caller's to free;
 * *hash is *own or ch's. */
static enum scim_err
patch_password(struct change *ch, char *password, char **own,
    const char **hash, struct scim_error *err)
{
	enum scim_err e;

	*own = NULL;
	*hash = NULL;
	if (password != NULL && ch->pre_hash != NULL &&
	    strcmp(password, ch->pre_password) == 0) {
		sodium_memzero(password, strlen(password));
		*hash = ch->pre_hash;
		return SCIM_OK;
	}
	e = password_hash(ch->c->password, password, own, err);
	*hash = *own;
	return e;
}

/*
 * Write callback of PATCH: the operations on a copy of the stored
 * record (Group.members straight to the store through the hook),
 * validated, immutables checked, written with its indexes, the audit
 * entry, the answer.
 */
static enum scim_err
patch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *ch = ctx;
	struct member_hook mh;
	struct patch_hooks hooks = { "members", members_hook, &mh };
	json_t *old = NULL, *work = NULL, *valid = NULL, *rec = NULL;
	char *password = NULL, *pwhash = NULL, version[32];
	const char *id, *hash;
	enum scim_err e;

	change_reset(ch);
	if ((e = store_get(txn, ch->type, ch->id, &old, err)) != SCIM_OK)
		return e;
	id = json_string_value(json_object_get(old, "id"));
	if ((e = check_if_match(ch->c, old, err)) != SCIM_OK)
		goto fail;
	if ((work = json_deep_copy(old)) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	mh.txn = txn;
	mh.gid = id;
	mh.base_url = ch->c->base_url;
	if ((e = patch_apply(ch->type, work, ch->patch,
	    ch->type == RT_GROUP ? &hooks : NULL, err)) != SCIM_OK)
		goto fail;
	if ((e = schema_validate(ch->type, work, SCHEMA_CHECK, &valid,
	    &password, err)) != SCIM_OK ||
	    (e = schema_check_immutable(ch->type, old, valid, err)) !=
	    SCIM_OK ||
	    (e = patch_password(ch, password, &pwhash, &hash, err)) !=
	    SCIM_OK ||
	    (e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	if ((rec = build_record(ch->type, id, valid, created_of(old), NULL,
	    version)) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((e = store_put(txn, ch->type, old, rec, err)) != SCIM_OK)
		goto fail;
	if (hash != NULL &&
	    (e = store_password_put(txn, id, hash, err)) != SCIM_OK)
		goto fail;
	if ((e = audit(txn, ch, "patch", id, version, err)) != SCIM_OK)
		goto fail;
	e = change_answer(ch, txn, 200, rec, err);
fail:
	secret_free(password);
	secret_free(pwhash);
	json_decref(old);
	json_decref(work);
	json_decref(valid);
	json_decref(rec);
	return e;
}

/* Write callback of DELETE: If-Match, then the record with everything
 * that refers to it, and the audit entry. */
static enum scim_err
delete_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *ch = ctx;
	json_t *old;
	enum scim_err e;

	change_reset(ch);
	if ((e = store_get(txn, ch->type, ch->id, &old, err)) != SCIM_OK)
		return e;
	if ((e = check_if_match(ch->c, old, err)) == SCIM_OK &&
	    (e = store_delete(txn, ch->type, old, err)) == SCIM_OK &&
	    (e = audit(txn, ch, "delete", ch->id, NULL, err)) == SCIM_OK)
		e = change_answer(ch, txn, 204, NULL, err);
	json_decref(old);
	return e;
}

enum change_kind { CH_CREATE, CH_REPLACE, CH_PATCH, CH_DELETE };

/*
 * Runs one change of kind k: what can be done before the transaction
 * (validation, a password hashed), then the kind's write callback in
 * one store_write().  in is the body (create, replace), the PatchOp
 * message (patch) or NULL (delete).
 */
static enum scim_err
change_run(struct op_ctx *c, enum change_kind k, enum rtype t, const char *id,
    const json_t *in, struct op_result *r, struct scim_error *err)
{
	static const store_fn fns[] = { put_fn, put_fn, patch_fn,
	    delete_fn };
	struct change ch;
	enum scim_err e = SCIM_OK;

	memset(&ch, 0, sizeof(ch));
	memset(r, 0, sizeof(*r));
	ch.c = c;
	ch.type = t;
	ch.id = id;
	ch.r = r;
	if (k == CH_CREATE || k == CH_REPLACE)
		e = prepare_body(&ch, in, k == CH_CREATE ? SCHEMA_CREATE :
		    SCHEMA_REPLACE, err);
	else if (k == CH_PATCH) {
		ch.patch = in;
		e = patch_prehash(&ch, err);
	}
	if (e == SCIM_OK)
		e = store_write(c->store, fns[k], &ch, err);
	change_free(&ch);
	return e;
}

/* op.h: validated and hashed outside the transaction, written in one. */
enum scim_err
op_create(struct op_ctx *c, enum rtype t, const json_t *body,
    struct op_result *r, struct scim_error *err)
{
	return change_run(c, CH_CREATE, t, NULL, body, r, err);
}

/* op.h: validated and hashed outside the transaction, written in one. */
enum scim_err
op_replace(struct op_ctx *c, enum rtype t, const char *id, const json_t *body,
    struct op_result *r, struct scim_error *err)
{
	return change_run(c, CH_REPLACE, t, id, body, r, err);
}

/* op.h: a password it sets is hashed before the transaction
 * (patch_prehash), the change made in one. */
enum scim_err
op_patch(struct op_ctx *c, enum rtype t, const char *id, const json_t *patchop,
    struct op_result *r, struct scim_error *err)
{
	return change_run(c, CH_PATCH, t, id, patchop, r, err);
}

/* op.h: one transaction; 204. */
enum scim_err
op_delete(struct op_ctx *c, enum rtype t, const char *id, struct op_result *r,
    struct scim_error *err)
{
	return change_run(c, CH_DELETE, t, id, NULL, r, err);
}

/* ---- reads --------------------------------------------------------------- */

struct read_ctx {
	struct op_ctx		*c;
	enum rtype		 type;
	const char		*id;
	struct op_result	*r;
};

/* Read callback of GET: splices the stored bytes when the projection
 * allows, renders a parsed copy otherwise. */
static enum scim_err
get_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct read_ctx *g = ctx;
	struct projection all;
	const struct projection *p = g->c->proj;
	const char *raw, *v;
	size_t len;
	json_t *rec, *out = NULL;
	bool links;
	enum scim_err e;

	if ((e = store_get_raw(txn, g->type, g->id, &raw, &len, err)) !=
	    SCIM_OK)
		return e;
	if (p == NULL) {
		memset(&all, 0, sizeof(all));
		p = &all;
	}
	if (projection_splice(g->type, p, &links)) {
		e = resource_splice(txn, g->type, g->id, g->c->base_url, raw,
		    len, links, g->c->body, g->r->version,
		    sizeof(g->r->version), err);
		if (e != SCIM_ERR_INTERNAL)
			return e;
	}
	if ((rec = json_loadb(raw, len, 0, NULL)) == NULL)
		return err_set(err, SCIM_ERR_INTERNAL, "Stored record %s is "
		    "not JSON.", g->id);
	e = resource_render(txn, g->type, g->c->base_url, rec, p, &out, err);
	json_decref(rec);
	if (e != SCIM_OK)
		return e;
	v = json_string_value(json_object_get(json_object_get(out, "meta"),
	    "version"));
	snprintf(g->r->version, sizeof(g->r->version), "%s", v ? v : "");
	if (jsonx_dump(out, g->c->body) != SCIM_OK)
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
	json_decref(out);
	return e;
}

/* op.h: one read transaction. */
enum scim_err
op_get(struct op_ctx *c, enum rtype t, const char *id, struct op_result *r,
    struct scim_error *err)
{
	struct read_ctx g = { c, t, id, r };
	enum scim_err e;

	memset(r, 0, sizeof(*r));
	if (c->body == NULL)
		return err_set(err, SCIM_ERR_INTERNAL,
		    "op_get without a body.");
	if ((e = store_read(c->store, get_fn, &g, err)) == SCIM_OK) {
		r->status = 200;
		memcpy(r->id, id, STORE_ID_LEN);	/* found: an id */
	}
	return e;
}

/* ---- import -------------------------------------------------------------- */

/* The number n of a version W/"n" (0 when s is not one). */
static unsigned long long
version_number(const char *s)
{
	unsigned long long n;
	char *end;

	if (s == NULL || strncmp(s, "W/\"", 3) != 0 || s[3] < '0' ||
	    s[3] > '9')
		return 0;
	errno = 0;
	n = strtoull(s + 3, &end, 10);
	return errno == 0 && strcmp(end, "\"") == 0 ? n : 0;
}

/* op.h: validation as POST does it, then the record with its meta. */
enum scim_err
op_import_prepare(const struct op_ctx *c, const json_t *in,
    struct op_record *o, struct scim_error *err)
{
	const json_t *schemas = json_object_get(in, "schemas"), *v;
	const json_t *meta = json_object_get(in, "meta");
	const char *id = json_string_value(json_object_get(in, "id"));
	const char *version = json_string_value(json_object_get(meta,
	    "version"));
	char newid[STORE_ID_LEN + 1], *password = NULL;
	json_t *valid = NULL;
	enum scim_err e;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->type = RT_USER;
	json_array_foreach(schemas, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    SCHEMA_URN_GROUP) == 0)
			o->type = RT_GROUP;
	if ((e = schema_validate(o->type, in, SCHEMA_CREATE, &valid,
	    &password, err)) != SCIM_OK)
		return e;
	if (id != NULL && !store_id_valid(id, strlen(id))) {
		e = err_set(err, SCIM_ERR_INVALID_VALUE, "id is not a UUID");
		goto fail;
	}
	/* Hashed here, before any write transaction (Argon2id is slow). */
	if ((e = password_hash(c->password, password, &o->pwhash, err)) !=
	    SCIM_OK)
		goto fail;
	if (id == NULL)
		store_new_id(newid);
	else
		for (i = 0; i <= STORE_ID_LEN; i++)
			newid[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ?
			    id[i] - 'A' + 'a' : id[i]);
	o->kept_version = version_number(version) > 0;
	if ((o->rec = build_record(o->type, newid, valid,
	    json_string_value(json_object_get(meta, "created")),
	    json_string_value(json_object_get(meta, "lastModified")),
	    o->kept_version ? version : "")) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	o->members = json_incref(json_object_get(valid, "members"));
fail:
	secret_free(password);
	json_decref(valid);
	if (e != SCIM_OK)
		op_record_free(o);
	return e;
}

/* op.h: the version kept or made, the record, its hash, the audit. */
enum scim_err
op_import(const struct op_ctx *c, struct store_txn *txn, struct op_record *o,
    struct scim_error *err)
{
	json_t *meta = json_object_get(o->rec, "meta");
	const char *id = json_string_value(json_object_get(o->rec, "id"));
	char version[64];
	enum scim_err e;

	snprintf(version, sizeof(version), "%s", json_string_value(
	    json_object_get(meta, "version")));
	if (o->kept_version)
		e = store_version_raise(txn, version_number(version), err);
	else if ((e = store_next_version(txn, version, sizeof(version),
	    err)) == SCIM_OK && json_object_set_new(meta, "version",
	    json_string(version)) != 0)
		e = err_set(err, SCIM_ERR_NOMEM, "out of memory");
	if (e != SCIM_OK ||
	    (e = store_put(txn, o->type, NULL, o->rec, err)) != SCIM_OK ||
	    (o->pwhash != NULL &&
	    (e = store_password_put(txn, id, o->pwhash, err)) != SCIM_OK))
		return e;
	return store_audit(txn, c->who, "import",
	    schema_resource_type(o->type)->name, id, version, c->audit_keep,
	    err);
}

/* op.h: NULL parts are no-ops. */
void
op_record_free(struct op_record *o)
{
	json_decref(o->rec);
	json_decref(o->members);
	secret_free(o->pwhash);
	o->rec = o->members = NULL;
	o->pwhash = NULL;
}
