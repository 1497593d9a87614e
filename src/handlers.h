/*
 * handlers.h: what the router hands to a resource handler, and the
 * handlers themselves.
 *
 * A handler reads x->req (the body already read and x->body parsed when
 * the method carries one), writes its answer into x->res, and returns
 * SCIM_OK or an error with err filled; on error the caller replaces
 * whatever the handler put in x->res with a SCIM Error message.
 */
#ifndef SCIMD_HANDLERS_H
#define SCIMD_HANDLERS_H

#include <jansson.h>

#include "app.h"
#include "http.h"
#include "schema.h"

struct exchange {
	struct app		*app;
	struct http_request	*req;
	struct http_response	*res;
	/* parsed request body or NULL (borrowed) */
	json_t			*body;
	const char		*arg;	/* route argument (id, URN), borrowed */
	enum rtype		 type;	/* resource type of the route */
	const char		*token;	/* name of the bearer token (audit) */
};

typedef enum scim_err (*handler_fn)(struct exchange *x, struct scim_error *err);

/* resource.c: one resource of either type. */
enum scim_err	resource_create(struct exchange *x, struct scim_error *err);
enum scim_err	resource_get(struct exchange *x, struct scim_error *err);
enum scim_err	resource_replace(struct exchange *x, struct scim_error *err);
enum scim_err	resource_patch(struct exchange *x, struct scim_error *err);
enum scim_err	resource_delete(struct exchange *x, struct scim_error *err);

/* query.c: lists, filters, sorting, paging, POST .search. */
enum scim_err	query_list(struct exchange *x, struct scim_error *err);
enum scim_err	query_list_all(struct exchange *x, struct scim_error *err);
enum scim_err	query_search(struct exchange *x, struct scim_error *err);
enum scim_err	query_search_all(struct exchange *x, struct scim_error *err);

/* bulk.c: POST /Bulk. */
enum scim_err	bulk_post(struct exchange *x, struct scim_error *err);

/* discovery.c: ServiceProviderConfig, ResourceTypes, Schemas. */
enum scim_err	discovery_spc(struct exchange *x, struct scim_error *err);
enum scim_err	discovery_me(struct exchange *x, struct scim_error *err);
enum scim_err	discovery_resource_types(struct exchange *x,
    struct scim_error *err);
enum scim_err	discovery_resource_type(struct exchange *x,
    struct scim_error *err);
enum scim_err	discovery_schemas(struct exchange *x, struct scim_error *err);
enum scim_err	discovery_schema(struct exchange *x, struct scim_error *err);

/* Sets status and the SCIM content type, and appends j (borrowed). */
enum scim_err	respond_json(struct exchange *x, int status, const json_t *j,
		    struct scim_error *err);

#endif
