/*
 * discovery.c: /ServiceProviderConfig, /ResourceTypes, /Schemas
 * (RFC 7644 section 4), generated from the schema table and limits.h so
 * they tell the truth about what this server does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "handlers.h"
#include "limits.h"

/* Wraps resources (stolen) in a ListResponse. */
static json_t *
list_response(json_t *resources)
{
	if (resources == NULL)
		return NULL;
	return json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas",
	    SCHEMA_URN_LIST, "totalResults",
	    (json_int_t)json_array_size(resources), "startIndex", (json_int_t)1,
	    "itemsPerPage", (json_int_t)json_array_size(resources),
	    "Resources", resources);
}

/* Answers j (stolen) with 200, or NOMEM when j is NULL. */
static enum scim_err
answer(struct exchange *x, json_t *j, struct scim_error *err)
{
	enum scim_err e;

	if (j == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	e = respond_json(x, 200, j, err);
	json_decref(j);
	return e;
}

/* GET /ServiceProviderConfig: features and limits, the limits read from
 * limits.h so that they cannot drift. */
enum scim_err
discovery_spc(struct exchange *x, struct scim_error *err)
{
	char loc[LIMIT_URL_BYTES];
	json_t *j;

	snprintf(loc, sizeof(loc), "%s/ServiceProviderConfig",
	    x->req->base_url);
	j = json_pack("{s:[s], s:s, s:{s:b}, s:{s:b, s:i, s:i},"
	    " s:{s:b, s:i}, s:{s:b}, s:{s:b}, s:{s:b},"
	    " s:[{s:s, s:s, s:s, s:b}], s:{s:s, s:s}}",
	    "schemas", SCHEMA_URN_SPC,
	    "documentationUri", "https://github.com/scimd/scimd",
	    "patch", "supported", 1,
	    "bulk", "supported", 1, "maxOperations", LIMIT_BULK_OPERATIONS,
	    "maxPayloadSize", LIMIT_BULK_PAYLOAD,
	    "filter", "supported", 1, "maxResults", LIMIT_PAGE_COUNT,
	    "changePassword", "supported", 0,
	    "sort", "supported", 1,
	    "etag", "supported", 1,
	    "authenticationSchemes", "type", "oauthbearertoken",
	    "name", "OAuth Bearer Token",
	    "description", "A bearer token made with `scimctl token add`.",
	    "primary", 1,
	    "meta", "resourceType", "ServiceProviderConfig", "location", loc);
	/* RFC 9865 section 5. */
	if (j != NULL)
		json_object_set_new(j, "pagination", json_pack(
		    "{s:b, s:b, s:s, s:i, s:i, s:i}", "cursor", 1, "index", 1,
		    "defaultPaginationMethod", "index", "defaultPageSize",
		    LIMIT_PAGE_DEFAULT, "maxPageSize", LIMIT_PAGE_COUNT,
		    "cursorTimeout", CURSOR_TIMEOUT_SECONDS));
	return answer(x, j, err);
}

/* /Me (RFC 7644 3.11): a bearer token here names a client, not a user. */
enum scim_err
discovery_me(struct exchange *x, struct scim_error *err)
{
	(void)x;
	return err_set(err, SCIM_ERR_NOT_IMPLEMENTED, "/Me is not supported: "
	    "tokens authenticate provisioning clients, not users.");
}

/* GET /ResourceTypes: a ListResponse of both types. */
enum scim_err
discovery_resource_types(struct exchange *x, struct scim_error *err)
{
	json_t *a = json_array();
	int t;

	for (t = 0; a != NULL && t < RT__COUNT; t++)
		json_array_append_new(a, schema_resource_type_json(t,
		    x->req->base_url));
	return answer(x, list_response(a), err);
}

/* GET /ResourceTypes/{name}: one type, 404 for any other name. */
enum scim_err
discovery_resource_type(struct exchange *x, struct scim_error *err)
{
	int t;

	for (t = 0; t < RT__COUNT; t++)
		if (strcasecmp(schema_resource_type(t)->name, x->arg) == 0)
			return answer(x, schema_resource_type_json(t,
			    x->req->base_url), err);
	return err_set(err, SCIM_ERR_NOT_FOUND, "No such resource type.");
}

/* GET /Schemas: a ListResponse of every registered schema. */
enum scim_err
discovery_schemas(struct exchange *x, struct scim_error *err)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < schema_count(); i++)
		json_array_append_new(a, schema_to_json(schema_at(i),
		    x->req->base_url));
	return answer(x, list_response(a), err);
}

/* GET /Schemas/{urn}: one schema, 404 for an unknown URN. */
enum scim_err
discovery_schema(struct exchange *x, struct scim_error *err)
{
	const struct schema *s = schema_find(x->arg);

	if (s == NULL)
		return err_set(err, SCIM_ERR_NOT_FOUND, "No such schema.");
	return answer(x, schema_to_json(s, x->req->base_url), err);
}
