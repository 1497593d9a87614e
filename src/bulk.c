/*
 * bulk.c: POST /Bulk (RFC 7644 section 3.7).
 *
 * Each operation runs through the same handler as the single request
 * (resource.c), in its own transaction.  Operations whose data refer to
 * a "bulkId:x" not yet created wait for a later pass, so a client may
 * list them in any order; references that never resolve (unknown or
 * circular) fail with 409.  failOnErrors stops processing after that
 * many errors; the response lists the operations processed, in request
 * order.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "jsonx.h"
#include "limits.h"
#include "router.h"

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
 * Whether j holds a "bulkId:x" string whose x is not yet in ids.
 * With replace, resolved references are replaced by the created id.
 */
static bool
unresolved(json_t *j, const json_t *ids, bool replace)
{
	const char *k, *s;
	json_t *v, *id;
	size_t i;
	bool r = false;

	if (j == NULL)
		return false;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach(j, k, v)
			r |= unresolved(v, ids, replace);
		return r;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			r |= unresolved(v, ids, replace);
		return r;
	case JSON_STRING:
		s = json_string_value(j);
		if (strncmp(s, "bulkId:", 7) != 0)
			return false;
		if ((id = json_object_get(ids, s + 7)) == NULL)
			return true;
		if (replace)
			json_string_set(j, json_string_value(id));
		return false;
	default:
		return false;
	}
}

/* The path with a "bulkId:x" segment replaced; NULL when unresolved. */
static char *
resolve_path(const char *path, const json_t *ids)
{
	const char *ref = strstr(path, "bulkId:");
	const char *end;
	const json_t *id;
	char key[LIMIT_BULK_ID_BYTES + 1], *out;
	size_t n;

	if (ref == NULL)
		return strdup(path);
	end = strchr(ref, '/');
	n = end ? (size_t)(end - ref - 7) : strlen(ref + 7);
	if (n >= sizeof(key))
		return NULL;
	memcpy(key, ref + 7, n);
	key[n] = '\0';
	if ((id = json_object_get(ids, key)) == NULL)
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

static bool
allowed_handler(handler_fn h)
{
	return h == resource_create || h == resource_replace ||
	    h == resource_patch || h == resource_delete;
}

/* Runs operation op; returns its result object (new reference). */
static json_t *
run_op(struct bulk *b, const json_t *op)
{
	const char *method = json_string_value(member(op, "method"));
	const char *bulk_id = json_string_value(member(op, "bulkId"));
	const char *path = json_string_value(member(op, "path"));
	const char *version = json_string_value(member(op, "version"));
	json_t *data = member(op, "data"), *out, *meta, *r;
	struct scim_error err;
	struct http_request sub;
	struct http_response res;
	struct route_match m;
	struct exchange x;
	enum http_method hm;
	char allow[128], status[8], loc[LIMIT_URL_BYTES];
	const char *id;
	enum scim_err e;

	err_clear(&err);
	memset(&sub, 0, sizeof(sub));
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
	if (path == NULL || (sub.path = resolve_path(path, b->ids)) == NULL) {
		err_set(&err, path ? SCIM_ERR_CONFLICT :
		    SCIM_ERR_INVALID_SYNTAX,
		    path ? "The path refers to an unknown bulkId." :
		    "path is required.");
		return failed(method, bulk_id, &err);
	}
	if (router_match(hm, sub.path, &m, allow, sizeof(allow), &err) !=
	    SCIM_OK || !allowed_handler(m.handler)) {
		if (err.code == SCIM_OK)
			err_set(&err, SCIM_ERR_INVALID_SYNTAX,
			    "Bulk operations apply to /Users and /Groups.");
		free(sub.path);
		return failed(method, bulk_id, &err);
	}
	if (m.has_body && !json_is_object(data)) {
		err_set(&err, SCIM_ERR_INVALID_SYNTAX,
		    "data must be an object.");
		free(sub.path);
		return failed(method, bulk_id, &err);
	}
	sub.method = hm;
	snprintf(sub.method_name, sizeof(sub.method_name), "%s", method);
	sub.base_url = b->x->req->base_url;
	sub.if_match = (char *)version;
	http_response_init(&res);
	memset(&x, 0, sizeof(x));
	x.app = b->x->app;
	x.req = &sub;
	x.res = &res;
	x.body = data;
	x.arg = m.arg;
	x.type = m.type;
	x.token = b->x->token;
	e = m.handler(&x, &err);
	if (e != SCIM_OK) {
		if (err.code == SCIM_OK)
			err.code = e;
		r = failed(method, bulk_id, &err);
		goto done;
	}
	snprintf(status, sizeof(status), "%d", res.status);
	r = json_pack("{s:s, s:s}", "method", method, "status", status);
	out = res.body.len ? json_loadb(res.body.data, res.body.len, 0, NULL) :
	    NULL;
	meta = json_object_get(out, "meta");
	if (json_object_get(meta, "location") != NULL)
		json_object_set(r, "location", json_object_get(meta,
		    "location"));
	else {
		snprintf(loc, sizeof(loc), "%s%s/%s", sub.base_url,
		    schema_resource_type(m.type)->endpoint, m.arg);
		json_object_set_new(r, "location", json_string(loc));
	}
	if (json_object_get(meta, "version") != NULL)
		json_object_set(r, "version", json_object_get(meta, "version"));
	if (bulk_id != NULL) {
		json_object_set_new(r, "bulkId", json_string(bulk_id));
		if (hm == HTTP_POST && (id = json_string_value(
		    json_object_get(out, "id"))) != NULL)
			json_object_set_new(b->ids, bulk_id, json_string(id));
	}
	json_decref(out);
done:
	free(sub.path);
	http_response_free(&res);
	return r;
}

/* Whether the result r reports a failure. */
static bool
is_error(const json_t *r)
{
	const char *s = json_string_value(json_object_get(r, "status"));

	return s == NULL || s[0] >= '4';
}

/*
 * POST /Bulk: checks the message and its limits, runs the operations in
 * order (passes over those waiting for a bulkId), stops after failOnErrors
 * failures, and answers one BulkResponse.
 */
enum scim_err
bulk_post(struct exchange *x, struct scim_error *err)
{
	struct bulk b = { x, NULL, NULL };
	const json_t *schemas, *ops, *v, *fail_on;
	json_t *op, *copy, *r, *answer, *list;
	size_t i, n, done = 0, errors = 0, max_errors = 0;
	bool has_schema = false, progress, stop = false;
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

	/* Passes: run what has its references resolved. */
	do {
		progress = false;
		for (i = 0; i < n && !stop; i++) {
			if (!json_is_null(json_array_get(b.results, i)))
				continue;
			op = json_array_get(ops, i);
			copy = json_deep_copy(op);
			if (copy == NULL) {
				e = err_set(err, SCIM_ERR_NOMEM, NULL);
				goto fail;
			}
			if (unresolved(member(copy, "data"), b.ids, false)) {
				json_decref(copy);
				continue;
			}
			unresolved(member(copy, "data"), b.ids, true);
			r = run_op(&b, copy);
			json_decref(copy);
			if (r == NULL) {
				e = err_set(err, SCIM_ERR_NOMEM, NULL);
				goto fail;
			}
			json_array_set_new(b.results, i, r);
			done++;
			progress = true;
			if (is_error(r) && ++errors >= max_errors &&
			    max_errors > 0)
				stop = true;
		}
	} while (progress && !stop && done < n);

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
	json_decref(b.ids);
	json_decref(b.results);
	return e;
}
