/*
 * resource.c: the HTTP handlers of one User or Group: POST, GET, PUT,
 * PATCH and DELETE.  Each reads what the request says (the parsed body,
 * If-Match / If-None-Match, attributes / excludedAttributes), calls the
 * operation (op.h) and writes the answer; the SCIM work itself is in
 * op.c.  The answer of a change is written by op_answer() from inside
 * the operation's write transaction, so a failure to make it aborts the
 * change.
 */
#include "config.h"

#include <string.h>

#include "handlers.h"
#include "jsonx.h"
#include "limits.h"
#include "op.h"

/* Serialises j as the response body with the SCIM content type. */
enum scim_err
respond_json(struct exchange *x, int status, const json_t *j,
    struct scim_error *err)
{
	x->res->status = status;
	if (http_response_header(x->res, "Content-Type",
	    "application/scim+json; charset=utf-8") != SCIM_OK ||
	    jsonx_dump(j, &x->res->body) != SCIM_OK)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	return SCIM_OK;
}

/* The operation context of a request: the site's settings, the token,
 * the base URL, If-Match, the body as the answer's, and the projection
 * the query asks for into p (none when p is NULL). */
static enum scim_err
request_ctx(struct exchange *x, struct op_ctx *c, struct projection *p,
    struct scim_error *err)
{
	op_ctx_init(c, x->app->store, x->token, &x->app->conf,
	    x->req->base_url);
	c->if_match = x->req->if_match;
	c->proj = p;
	c->body = &x->res->body;
	if (p == NULL)
		return SCIM_OK;
	return projection_parse(x->type, http_param(x->req, "attributes"),
	    http_param(x->req, "excludedAttributes"), p, err);
}

/* The status, ETag, Location (201) and content type of an answer whose
 * body the operation rendered into x->res->body. */
static enum scim_err
answer_headers(struct exchange *x, const struct op_result *r,
    struct scim_error *err)
{
	char loc[LIMIT_URL_BYTES];

	x->res->status = r->status;
	buf_reset(&x->res->headers);
	if (r->status == 204)
		return SCIM_OK;
	if (r->status == 201)
		resource_location(x->req->base_url, x->type, r->id, loc,
		    sizeof(loc));
	if ((r->version[0] != '\0' && http_response_header(x->res, "ETag",
	    r->version) != SCIM_OK) || (r->status == 201 &&
	    http_response_header(x->res, "Location", loc) != SCIM_OK) ||
	    http_response_header(x->res, "Content-Type",
	    "application/scim+json; charset=utf-8") != SCIM_OK)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	return SCIM_OK;
}

/* op_answer_fn of the handlers: the headers, inside the transaction. */
static enum scim_err
op_answer(const struct op_result *r, void *ctx, struct scim_error *err)
{
	return answer_headers(ctx, r, err);
}

/*
 * POST, PUT, PATCH or DELETE (method m) of one resource: the context,
 * then the operation; its answer is written from inside its transaction
 * by op_answer().
 */
static enum scim_err
resource_change(struct exchange *x, enum http_method m,
    struct scim_error *err)
{
	struct projection p;
	struct op_result r;
	struct op_ctx c;
	enum scim_err e;

	if ((e = request_ctx(x, &c, m == HTTP_DELETE ? NULL : &p, err)) !=
	    SCIM_OK)
		return e;
	c.answer = op_answer;
	c.answer_ctx = x;
	switch (m) {
	case HTTP_POST:
		return op_create(&c, x->type, x->body, &r, err);
	case HTTP_PUT:
		return op_replace(&c, x->type, x->arg, x->body, &r, err);
	case HTTP_PATCH:
		return op_patch(&c, x->type, x->arg, x->body, &r, err);
	default:
		return op_delete(&c, x->type, x->arg, &r, err);
	}
}

/* POST /Users, /Groups. */
enum scim_err
resource_create(struct exchange *x, struct scim_error *err)
{
	return resource_change(x, HTTP_POST, err);
}

/* PUT /Users/{id}, /Groups/{id}. */
enum scim_err
resource_replace(struct exchange *x, struct scim_error *err)
{
	return resource_change(x, HTTP_PUT, err);
}

/* PATCH /Users/{id}, /Groups/{id}. */
enum scim_err
resource_patch(struct exchange *x, struct scim_error *err)
{
	return resource_change(x, HTTP_PATCH, err);
}

/* DELETE /Users/{id}, /Groups/{id}: 204. */
enum scim_err
resource_delete(struct exchange *x, struct scim_error *err)
{
	return resource_change(x, HTTP_DELETE, err);
}

/* GET /Users/{id}, /Groups/{id}, with If-None-Match and projection. */
enum scim_err
resource_get(struct exchange *x, struct scim_error *err)
{
	struct projection p;
	struct op_result r;
	struct op_ctx c;
	enum scim_err e;

	if ((e = request_ctx(x, &c, &p, err)) != SCIM_OK ||
	    (e = op_get(&c, x->type, x->arg, &r, err)) != SCIM_OK)
		return e;
	if (x->req->if_none_match != NULL && r.version[0] != '\0' &&
	    op_etag_listed(x->req->if_none_match, r.version)) {
		x->res->status = 304;
		buf_reset(&x->res->body);
		return http_response_header(x->res, "ETag", r.version) ==
		    SCIM_OK ? SCIM_OK : err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	return answer_headers(x, &r, err);
}
