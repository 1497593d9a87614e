/*
 * t_schema.c: validation and normalisation of request bodies against
 * the RFC 7643 tables, with the shapes Okta and Entra send.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "tap.h"

#define U	"\"urn:ietf:params:scim:schemas:core:2.0:User\""
#define G	"\"urn:ietf:params:scim:schemas:core:2.0:Group\""
#define E	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

static enum scim_err
validate(enum rtype t, const char *text, json_t **out, char **password)
{
	struct scim_error err;
	json_t *in = json_loads(text, 0, NULL);
	enum scim_err e;

	if (in == NULL)
		return SCIM_ERR__COUNT;
	e = schema_validate(t, in, SCHEMA_CREATE, out, password, &err);
	json_decref(in);
	return e;
}

int
main(void)
{
	struct scim_error err;
	struct attr_ref ref;
	json_t *out = NULL;
	char *pw = NULL;
	long long ms;

	is_int(schema_init(NULL, &err), SCIM_OK, "schemas load");

	is_int(validate(RT_USER, "{\"schemas\":[" U "],\"userName\":\"a\","
	    "\"password\":\"secret\",\"groups\":[],\"id\":\"x\","
	    "\"meta\":{\"created\":\"x\"},\"unknownThing\":1}", &out, &pw),
	    SCIM_OK, "Okta create body accepted");
	is_str(pw, "secret", "password extracted");
	ok(json_object_get(out, "password") == NULL, "password not kept");
	ok(json_object_get(out, "id") == NULL && json_object_get(out, "meta")
	    == NULL && json_object_get(out, "groups") == NULL,
	    "readOnly id, meta, groups dropped");
	ok(json_object_get(out, "unknownThing") == NULL, "unknown dropped");
	free(pw);
	pw = NULL;
	json_decref(out);

	is_int(validate(RT_USER, "{\"schemas\":[" U "],\"UserName\":\"a\","
	    "\"ACTIVE\":\"False\",\"title\":null,\"roles\":[]}", &out, NULL),
	    SCIM_OK, "Entra shapes accepted");
	ok(json_object_get(out, "userName") != NULL, "names made canonical");
	ok(json_is_false(json_object_get(out, "active")),
	    "\"False\" string becomes false");
	ok(json_object_get(out, "title") == NULL &&
	    json_object_get(out, "roles") == NULL, "null and [] are unassigned");
	json_decref(out);

	is_int(validate(RT_USER, "{\"schemas\":[" U ",\"" E "\"],\"userName\":"
	    "\"a\",\"" E "\":{\"manager\":\"1234\"}}", &out, NULL), SCIM_OK,
	    "manager as a bare id");
	is_str(json_string_value(json_object_get(json_object_get(
	    json_object_get(out, E), "manager"), "value")), "1234",
	    "bare manager id becomes {value}");
	json_decref(out);

	is_int(validate(RT_USER, "{\"schemas\":[" U "]}", &out, NULL),
	    SCIM_ERR_INVALID_VALUE, "userName required");
	is_int(validate(RT_USER, "{\"userName\":\"a\"}", &out, NULL),
	    SCIM_ERR_INVALID_VALUE, "schemas required");
	is_int(validate(RT_USER, "{\"schemas\":[" U "],\"userName\":\"a\","
	    "\"active\":3}", &out, NULL), SCIM_ERR_INVALID_VALUE,
	    "boolean type checked");
	is_int(validate(RT_USER, "{\"schemas\":[" U "],\"userName\":\"a\","
	    "\"emails\":\"x\"}", &out, NULL), SCIM_ERR_INVALID_VALUE,
	    "multi-valued must be an array");
	is_int(validate(RT_USER, "{\"schemas\":[" U "],\"userName\":\"a\","
	    "\"username\":\"b\"}", &out, NULL), SCIM_ERR_INVALID_VALUE,
	    "same attribute twice in other case refused");
	is_int(validate(RT_USER, "{\"schemas\":[" U ",\"urn:x\"],"
	    "\"userName\":\"a\"}", &out, NULL), SCIM_ERR_INVALID_VALUE,
	    "unknown schema URN refused");
	is_int(validate(RT_GROUP, "{\"schemas\":[" G ",\"http://schemas."
	    "microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group\"],"
	    "\"displayName\":\"g\",\"members\":[]}", &out, NULL), SCIM_OK,
	    "Entra group schema accepted");
	json_decref(out);
	is_int(validate(RT_GROUP, "{\"schemas\":[" G "]}", &out, NULL),
	    SCIM_ERR_INVALID_VALUE, "group displayName required");

	is_int(schema_resolve(RT_USER, "name.givenName", 14, &ref), SCIM_OK,
	    "resolve name.givenName");
	ok(ref.sub != NULL && strcmp(ref.sub->name, "givenName") == 0,
	    "sub-attribute resolved");
	is_int(schema_resolve(RT_USER, E ":employeeNumber",
	    strlen(E ":employeeNumber"), &ref), SCIM_OK, "resolve URN path");
	ok(ref.is_ext, "URN path is in the extension");
	is_int(schema_resolve(RT_USER, "USERNAME", 8, &ref), SCIM_OK,
	    "resolve is case-insensitive");
	is_int(schema_resolve(RT_USER, "nope", 4, &ref), SCIM_ERR_NOT_FOUND,
	    "unknown attribute not resolved");
	is_int(schema_resolve(RT_GROUP, "meta.lastModified", 17, &ref),
	    SCIM_OK, "common attribute meta.lastModified");

	ok(schema_parse_datetime("2026-11-23T03:59:04.123Z", &ms),
	    "dateTime with ms and Z");
	{
		long long ms2;

		ok(schema_parse_datetime("2026-11-23T05:59:04.123+02:00", &ms2)
		    && ms == ms2, "offsets compare as instants");
	}
	ok(!schema_parse_datetime("yesterday", &ms), "bad dateTime refused");
	return tap_done();
}
