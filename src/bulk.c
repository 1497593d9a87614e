/*
 * bulk.c: POST /Bulk (RFC 7644 section 3.7).
 *
 * Each operation is the same operation as the single request (op.h: no
 * HTTP request is made up, no answer parsed back), in its own
 * transaction.  Operations whose reference attributes (members.value,
 * manager.value) or path refer to a "bulkId:x" not yet created wait
 * until that POST has run, so a client
 * may list them in any order; the wait lists make this linear in the
 * number of operations and references.  References that never resolve
 * (unknown, circular, or to a POST that failed) fail with 409.
 * failOnErrors stops processing after that many errors; the response
 * lists the operations processed, in request order.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "jsonx.h"
#include "limits.h"
#include "op.h"

struct bulk {
	struct exchange	*x;
	json_t		*ids;		/* bulkId -> created id */
	json_t		*results;	/* index -> result object or null */
};

/* Case-insensitive member of an object. */
static json_t *
member(const json_t *o, const char *key)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

/*
 * References to other operations ("bulkId:x") are looked for only where
 * SCIM puts references to resources (RFC 7644 3.7.2): the value of a
 * member (Group.members[].value) and of a manager (the enterprise
 * User's manager.value, or manager given as a bare id), in a resource
 * body and in a PATCH operation's value for those paths.  A userName or
 * any other string that happens to begin with "bulkId:" is data.
 *
 * ref_fn is called with each such string (its JSON node, and the x of
 * "bulkId:x"); it returns false to stop the walk.
 */
typedef bool (*ref_fn)(json_t *node, const char *key, void *ctx);

/* Calls fn when v is a "bulkId:x" string. */
static bool
ref_string(json_t *v, ref_fn fn, void *ctx)
{
	const char *s = json_string_value(v);

	if (s == NULL || strncmp(s, "bulkId:", 7) != 0)
		return true;
	return fn(v, s + 7, ctx);
}

/* A manager value: a bare id string or an object with "value". */
static bool
ref_manager(json_t *v, ref_fn fn, void *ctx)
{
	if (json_is_object(v))
		return ref_string(member(v, "value"), fn, ctx);
	return ref_string(v, fn, ctx);
}

/* Group members: an array of {"value": id}, or one such object. */
static bool
ref_members(json_t *v, ref_fn fn, void *ctx)
{
	json_t *el;
	size_t i;

	if (json_is_object(v))
		return ref_string(member(v, "value"), fn, ctx);
	json_array_foreach(v, i, el)
		if (json_is_object(el) &&
		    !ref_string(member(el, "value"), fn, ctx))
			return false;
	return true;
}

/* The references of a resource body (or a no-path PATCH value). */
static bool
ref_resource(json_t *o, ref_fn fn, void *ctx)
{
	json_t *ent;

	if (!json_is_object(o))
		return true;
	if (!ref_members(member(o, "members"), fn, ctx) ||
	    !ref_manager(member(o, "manager"), fn, ctx) ||
	    !ref_manager(member(o, SCHEMA_URN_ENTERPRISE ":manager"), fn,
	    ctx) ||
	    !ref_string(member(o, SCHEMA_URN_ENTERPRISE ":manager.value"), fn,
	    ctx))
		return false;
	ent = member(o, SCHEMA_URN_ENTERPRISE);
	return !json_is_object(ent) ||
	    ref_manager(member(ent, "manager"), fn, ctx);
}

/* The references of a PatchOp message's operations. */
static bool
ref_patch(json_t *msg, ref_fn fn, void *ctx)
{
	json_t *ops = member(msg, "Operations"), *op, *value;
	const char *path, *p;
	size_t i, ul = strlen(SCHEMA_URN_ENTERPRISE ":");

	json_array_foreach(ops, i, op) {
		path = json_string_value(member(op, "path"));
		value = member(op, "value");
		if (path == NULL) {
			if (!ref_resource(value, fn, ctx))
				return false;
			continue;
		}
		p = strncasecmp(path, SCHEMA_URN_ENTERPRISE ":", ul) == 0 ?
		    path + ul : path;
		if ((strcasecmp(path, "members") == 0 &&
		    !ref_members(value, fn, ctx)) ||
		    (strcasecmp(p, "manager") == 0 &&
		    !ref_manager(value, fn, ctx)) ||
		    (strcasecmp(p, "manager.value") == 0 &&
		    !ref_string(value, fn, ctx)))
			return false;
	}
	return true;
}

/* The references in operation op's data, by its method. */
static bool
op_refs(const json_t *op, ref_fn fn, void *ctx)
{
	const char *method = json_string_value(member(op, "method"));
	json_t *data = member(op, "data");

	if (method == NULL || data == NULL)
		return true;
	if (strcasecmp(method, "PATCH") == 0)
		return ref_patch(data, fn, ctx);
	if (strcasecmp(method, "POST") == 0 || strcasecmp(method, "PUT") == 0)
		return ref_resource(data, fn, ctx);
	return true;
}

/*
 * The x of a "bulkId:x" segment of path into key[keysz]: 1, or 0 when
 * path has none, -1 when x does not fit.
 */
static int
path_ref(const char *path, char *key, size_t keysz, const char **ref,
    const char **end)
{
	size_t n;

	if ((*ref = strstr(path, "bulkId:")) == NULL)
		return 0;
	*end = strchr(*ref, '/');
	n = *end ? (size_t)(*end - *ref - 7) : strlen(*ref + 7);
	if (n >= keysz)
		return -1;
	memcpy(key, *ref + 7, n);
	key[n] = '\0';
	return 1;
}

/* The path with a "bulkId:x" segment replaced; NULL when unresolved. */
static char *
resolve_path(const char *path, const json_t *ids)
{
	const char *ref, *end;
	const json_t *id;
	char key[LIMIT_BULK_ID_BYTES + 1], *out;
	int r;

	if ((r = path_ref(path, key, sizeof(key), &ref, &end)) == 0)
		return strdup(path);
	if (r < 0 || (id = json_object_get(ids, key)) == NULL)
		return NULL;
	if ((out = malloc(strlen(path) + STORE_ID_LEN + 1)) == NULL)
		return NULL;
	snprintf(out, strlen(path) + STORE_ID_LEN + 1, "%.*s%s%s",
	    (int)(ref - path), path, json_string_value(id), end ? end : "");
	return out;
}

/* The result of a failed operation. */
static json_t *
failed(const char *method, const char *bulk_id, const struct scim_error *e)
{
	char status[8];
	json_t *r;

	snprintf(status, sizeof(status), "%d", err_http_status(e->code));
	r = json_pack("{s:s, s:s, s:o}", "method", method, "status", status,
	    "response", jsonx_error(e));
	if (r != NULL && bulk_id != NULL)
		json_object_set_new(r, "bulkId", json_string(bulk_id));
	return r;
}

/*
 * The resource an operation's path names: a type's endpoint for POST,
 * the endpoint and one id segment for PUT, PATCH and DELETE (endpoints
 * compared case-insensitively, a trailing slash tolerated, as the
 * router does).  SCIM_OK with *t and id[idsz]; SCIM_ERR_METHOD for a
 * method the path does not take; SCIM_ERR_INVALID_SYNTAX for any other
 * path (/Bulk, .search, discovery, unknown: no resource of its own).
 */
static enum scim_err
bulk_target(enum http_method hm, const char *method, const char *path,
    enum rtype *t, char *id, size_t idsz, struct scim_error *err)
{
	static const enum rtype types[] = { RT_USER, RT_GROUP };
	const char *ep, *seg;
	size_t i, n, plen = strlen(path);

	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ep = schema_resource_type(types[i])->endpoint;
		n = strlen(ep);
		if (plen < n || strncasecmp(path, ep, n) != 0 ||
		    (plen > n && path[n] != '/'))
			continue;
		*t = types[i];
		id[0] = '\0';
		if (plen == n) {
			if (hm == HTTP_POST)
				return SCIM_OK;
			break;
		}
		seg = path + n + 1;
		if (plen - n - 1 == 0 || plen - n - 1 >= idsz ||
		    memchr(seg, '/', plen - n - 1) != NULL ||
		    (plen - n - 1 == 7 && strncmp(seg, ".search", 7) == 0))
			break;
		if (hm == HTTP_POST)
			return err_set(err, SCIM_ERR_METHOD, "POST is not "
			    "allowed here; allowed: GET, PUT, PATCH, DELETE.");
		memcpy(id, seg, plen - n - 1);
		id[plen - n - 1] = '\0';
		return SCIM_OK;
	}
	if (i < sizeof(types) / sizeof(types[0]) && plen ==
	    strlen(schema_resource_type(*t)->endpoint))
		return err_set(err, SCIM_ERR_METHOD, "%s is not allowed "
		    "here; allowed: GET, POST.", method);
	/* A path naming no endpoint at all is not found, as the same
	 * request outside /Bulk would be; /Bulk and .search are endpoints
	 * an operation cannot use. */
	if (i == sizeof(types) / sizeof(types[0]) &&
	    strncasecmp(path, "/Bulk", 5) != 0 &&
	    strstr(path, ".search") == NULL)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such endpoint: "
		    "Bulk operations apply to /Users and /Groups.");
	return err_set(err, SCIM_ERR_INVALID_SYNTAX,
	    "Bulk operations apply to /Users and /Groups.");
}

/* Runs operation op through the operations layer (op.h), in its own
 * transaction; returns its result object (new reference). */
static json_t *
run_op(struct bulk *b, const json_t *op)
{
	const char *method = json_string_value(member(op, "method"));
	const char *bulk_id = json_string_value(member(op, "bulkId"));
	const char *path = json_string_value(member(op, "path"));
	const char *version = json_string_value(member(op, "version"));
	json_t *data = member(op, "data"), *r;
	struct scim_error err;
	struct op_result res;
	struct op_ctx c;
	enum http_method hm;
	enum rtype t = RT_USER;
	char *resolved, status[8], loc[LIMIT_URL_BYTES], id[1024];
	enum scim_err e;

	err_clear(&err);
	if (method == NULL)
		method = "";
	hm = strcasecmp(method, "POST") == 0 ? HTTP_POST :
	    strcasecmp(method, "PUT") == 0 ? HTTP_PUT :
	    strcasecmp(method, "PATCH") == 0 ? HTTP_PATCH :
	    strcasecmp(method, "DELETE") == 0 ? HTTP_DELETE : HTTP_OTHER;
	if (hm == HTTP_OTHER) {
		err_set(&err, SCIM_ERR_INVALID_SYNTAX,
		    "method must be POST, PUT, PATCH or DELETE.");
		return failed(method, bulk_id, &err);
	}
	if (hm == HTTP_POST && bulk_id == NULL) {
		err_set(&err, SCIM_ERR_INVALID_SYNTAX, "POST needs a bulkId.");
		return failed(method, bulk_id, &err);
	}
	if (path == NULL || (resolved = resolve_path(path, b->ids)) == NULL) {
		err_set(&err, path ? SCIM_ERR_CONFLICT :
		    SCIM_ERR_INVALID_SYNTAX,
		    path ? "The path refers to an unknown bulkId." :
		    "path is required.");
		return failed(method, bulk_id, &err);
	}
	e = bulk_target(hm, method, resolved, &t, id, sizeof(id), &err);
	free(resolved);
	if (e != SCIM_OK)
		return failed(method, bulk_id, &err);
	if (hm != HTTP_DELETE && !json_is_object(data)) {
		err_set(&err, SCIM_ERR_INVALID_SYNTAX,
		    "data must be an object.");
		return failed(method, bulk_id, &err);
	}
	/* No rendering: the result carries status, location and version. */
	op_ctx_init(&c, b->x->app->store, b->x->token, &b->x->app->conf,
	    b->x->req->base_url);
	c.if_match = version;
	switch (hm) {
	case HTTP_POST:
		e = op_create(&c, t, data, &res, &err);
		break;
	case HTTP_PUT:
		e = op_replace(&c, t, id, data, &res, &err);
		break;
	case HTTP_PATCH:
		e = op_patch(&c, t, id, data, &res, &err);
		break;
	default:
		e = op_delete(&c, t, id, &res, &err);
		break;
	}
	if (e != SCIM_OK) {
		if (err.code == SCIM_OK)
			err.code = e;
		return failed(method, bulk_id, &err);
	}
	snprintf(status, sizeof(status), "%d", res.status);
	resource_location(c.base_url, t, res.id, loc, sizeof(loc));
	r = json_pack("{s:s, s:s, s:s}", "method", method, "status", status,
	    "location", loc);
	if (r != NULL && res.version[0] != '\0' &&
	    json_object_set_new(r, "version", json_string(res.version)) != 0) {
		json_decref(r);
		return NULL;
	}
	if (r != NULL && bulk_id != NULL) {
		if (json_object_set_new(r, "bulkId", json_string(bulk_id)) !=
		    0 || (hm == HTTP_POST && json_object_set_new(b->ids,
		    bulk_id, json_string(res.id)) != 0)) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

/* Whether the result r reports a failure. */
static bool
is_error(const json_t *r)
{
	const char *s = json_string_value(json_object_get(r, "status"));

	return s == NULL || s[0] >= '4';
}

/* One operation of the request while the request runs. */
struct bulk_op {
	json_t	*copy;		/* the operation (owned); references are
				 * replaced in it just before it runs */
	size_t	 waits;		/* references to operations not yet run */
	bool	 never;		/* refers to a bulkId no POST creates */
};

/* Context of count_ref: the dependencies of operation i. */
struct deps {
	struct bulk_op	*ops;
	size_t		 i;
	const json_t	*declared;	/* bulkId -> the POST creating it */
	json_t		*waiters;	/* bulkId -> [operations waiting] */
	bool		 nomem;
};

/* Records that operation d->i waits for the POST with bulkId key. */
static bool
count_ref(json_t *node, const char *key, void *vctx)
{
	struct deps *d = vctx;
	json_t *list;

	(void)node;
	if (json_object_get(d->declared, key) == NULL) {
		d->ops[d->i].never = true;
		return true;
	}
	if ((list = json_object_get(d->waiters, key)) == NULL) {
		if ((list = json_array()) == NULL ||
		    json_object_set_new(d->waiters, key, list) != 0) {
			d->nomem = true;
			return false;
		}
	}
	if (json_array_append_new(list, json_integer((json_int_t)d->i)) != 0) {
		d->nomem = true;
		return false;
	}
	d->ops[d->i].waits++;
	return true;
}

/* Replaces a reference by the id its POST created. */
static bool
replace_ref(json_t *node, const char *key, void *vctx)
{
	const json_t *id = json_object_get((const json_t *)vctx, key);

	if (id != NULL)
		json_string_set(node, json_string_value(id));
	return true;
}

/*
 * Builds the dependency lists: each operation's copy, the number of
 * operations it waits for, and for each bulkId the operations waiting
 * for it.  Linear in the size of the request.
 */
static enum scim_err
bulk_plan(const json_t *ops, size_t n, struct bulk_op *bo, json_t *declared,
    json_t *waiters, struct scim_error *err)
{
	struct deps d = { bo, 0, declared, waiters, false };
	const char *method, *bid, *path, *ref, *end;
	char key[LIMIT_BULK_ID_BYTES + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		const json_t *op = json_array_get(ops, i);

		method = json_string_value(member(op, "method"));
		bid = json_string_value(member(op, "bulkId"));
		if (method != NULL && strcasecmp(method, "POST") == 0 &&
		    bid != NULL && json_object_get(declared, bid) == NULL &&
		    json_object_set_new(declared, bid, json_true()) != 0)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	for (i = 0; i < n; i++) {
		if ((bo[i].copy = json_deep_copy(json_array_get(ops, i))) ==
		    NULL)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		d.i = i;
		(void)op_refs(bo[i].copy, count_ref, &d);
		/* A path naming an operation waits for it; one naming no
		 * operation fails when it runs (409). */
		path = json_string_value(member(bo[i].copy, "path"));
		if (!d.nomem && path != NULL &&
		    path_ref(path, key, sizeof(key), &ref, &end) == 1 &&
		    json_object_get(declared, key) != NULL)
			(void)count_ref(NULL, key, &d);
		if (d.nomem)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	return SCIM_OK;
}

/*
 * POST /Bulk: checks the message and its limits, plans the bulkId
 * dependencies (bulk_plan), runs each operation once what it refers to
 * has run, stops after failOnErrors failures, and answers one
 * BulkResponse.
 */
enum scim_err
bulk_post(struct exchange *x, struct scim_error *err)
{
	struct bulk b = { x, NULL, NULL };
	struct bulk_op *bo = NULL;
	const json_t *schemas, *ops, *v, *fail_on;
	json_t *r, *answer, *list, *declared = NULL, *waiters = NULL;
	size_t i, k, n, errors = 0, max_errors = 0, head = 0, tail = 0;
	size_t *ready = NULL;
	bool has_schema = false, stop = false;
	enum scim_err e;

	schemas = member(x->body, "schemas");
	json_array_foreach(schemas, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    SCHEMA_URN_BULKREQ) == 0)
			has_schema = true;
	if (!has_schema)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "A bulk request must list schema %s.", SCHEMA_URN_BULKREQ);
	ops = member(x->body, "Operations");
	if (!json_is_array(ops))
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "Operations must be an array.");
	n = json_array_size(ops);
	if (n > LIMIT_BULK_OPERATIONS)
		return err_set(err, SCIM_ERR_TOO_LARGE,
		    "At most %d operations per bulk request.",
		    LIMIT_BULK_OPERATIONS);
	fail_on = member(x->body, "failOnErrors");
	if (fail_on != NULL) {
		if (!json_is_integer(fail_on) ||
		    json_integer_value(fail_on) < 0)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "failOnErrors must be a non-negative integer.");
		max_errors = (size_t)json_integer_value(fail_on);
	}
	json_array_foreach(ops, i, v)
		if (!json_is_object(v))
			return err_set(err, SCIM_ERR_INVALID_SYNTAX,
			    "Operation %zu is not an object.", i + 1);

	if ((b.ids = json_object()) == NULL ||
	    (b.results = json_array()) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(b.results, json_null());

	/* Run each operation once its references are resolved: first the
	 * ready ones in request order, then each waiting one as soon as
	 * the last POST it waits for has run (linear, whatever the order
	 * of the references). */
	if ((bo = calloc(n ? n : 1, sizeof(*bo))) == NULL ||
	    (ready = calloc(n ? n : 1, sizeof(*ready))) == NULL ||
	    (declared = json_object()) == NULL ||
	    (waiters = json_object()) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((e = bulk_plan(ops, n, bo, declared, waiters, err)) != SCIM_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (bo[i].waits == 0 && !bo[i].never)
			ready[tail++] = i;
	while (head < tail && !stop) {
		const char *bid;
		json_t *wl;

		i = ready[head++];
		(void)op_refs(bo[i].copy, replace_ref, b.ids);
		if ((r = run_op(&b, bo[i].copy)) == NULL) {
			e = err_set(err, SCIM_ERR_NOMEM, NULL);
			goto fail;
		}
		json_array_set_new(b.results, i, r);
		if (is_error(r) && ++errors >= max_errors && max_errors > 0)
			stop = true;
		bid = json_string_value(member(bo[i].copy, "bulkId"));
		if (bid == NULL || json_object_get(b.ids, bid) == NULL ||
		    (wl = json_object_get(waiters, bid)) == NULL)
			continue;
		json_array_foreach(wl, k, v) {
			size_t w = (size_t)json_integer_value(v);

			if (--bo[w].waits == 0 && !bo[w].never)
				ready[tail++] = w;
		}
		json_object_del(waiters, bid);
	}

	if ((list = json_array()) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		r = json_array_get(b.results, i);
		if (json_is_null(r) && !stop) {
			struct scim_error ce;
			const json_t *o = json_array_get(ops, i);

			err_set(&ce, SCIM_ERR_CONFLICT, "The operation refers "
			    "to a bulkId that is unknown or circular.");
			r = failed(json_string_value(member(o, "method")) ?
			    json_string_value(member(o, "method")) : "",
			    json_string_value(member(o, "bulkId")), &ce);
			json_array_append_new(list, r);
		} else if (!json_is_null(r))
			json_array_append(list, r);
	}
	answer = json_pack("{s:[s], s:o}", "schemas", SCHEMA_URN_BULKRESP,
	    "Operations", list);
	if (answer == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	e = respond_json(x, 200, answer, err);
	json_decref(answer);
fail:
	if (bo != NULL)
		for (i = 0; i < n; i++)
			json_decref(bo[i].copy);
	free(bo);
	free(ready);
	json_decref(declared);
	json_decref(waiters);
	json_decref(b.ids);
	json_decref(b.results);
	return e;
}
