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

/*
 * dateTime values (RFC 7643 2.3.5, RFC 3339 5.6), each with the line it
 * is on: valid ones with the instant they name (ms since the epoch, or
 * -1 for "not checked"), invalid ones refused.
 */
static const struct {
	int		 line;
	const char	*text;
	bool		 valid;
	long long	 ms;
} datetimes[] = {
	{ __LINE__, "1970-01-01T00:00:00Z", true, 0 },
	{ __LINE__, "2008-01-23T04:56:22Z", true, 1201064182000LL },
	{ __LINE__, "2011-05-13T04:42:34Z", true, 1305261754000LL },
	{ __LINE__, "2011-05-13T06:42:34+02:00", true, 1305261754000LL },
	{ __LINE__, "2011-05-12T23:12:34-05:30", true, 1305261754000LL },
	{ __LINE__, "2011-05-13T04:42:34.5Z", true, 1305261754500LL },
	{ __LINE__, "2011-05-13T04:42:34.123456789Z", true, 1305261754123LL },
	{ __LINE__, "1969-12-31T23:59:59.999Z", true, -1 },
	{ __LINE__, "0001-01-01T00:00:00Z", true, -1 },
	{ __LINE__, "9999-12-31T23:59:59Z", true, -1 },
	{ __LINE__, "2024-02-29T12:00:00Z", true, -1 },	/* leap year */
	{ __LINE__, "2000-02-29T12:00:00Z", true, -1 },	/* 400 rule */
	{ __LINE__, "2011-04-30T00:00:00Z", true, -1 },
	{ __LINE__, "2011-05-13T04:42:34-00:00", true, 1305261754000LL },
	{ __LINE__, "2011-05-13T04:42:34+23:59", true, -1 },
	/* Leap seconds: 23:59:60 UTC at the end of June or December. */
	{ __LINE__, "2016-12-31T23:59:60Z", true, 1483228800000LL },
	{ __LINE__, "2015-06-30T23:59:60Z", true, -1 },
	{ __LINE__, "2016-12-31T15:59:60-08:00", true, 1483228800000LL },
	{ __LINE__, "2017-01-01T00:59:60+01:00", true, 1483228800000LL },
	{ __LINE__, "2015-06-30T23:59:60.5Z", true, -1 },

	{ __LINE__, "", false, 0 },
	{ __LINE__, "yesterday", false, 0 },
	{ __LINE__, "2011-05-13", false, 0 },		/* date only */
	{ __LINE__, "04:42:34Z", false, 0 },		/* time only */
	{ __LINE__, "2011-05-13T04:42:34", false, 0 },	/* no offset */
	{ __LINE__, "2011-05-13T04:42Z", false, 0 },	/* no seconds */
	{ __LINE__, "2011-05-13T04:-2:34Z", false, 0 },	/* issue 15 */
	{ __LINE__, "2011-05-13T04:42:-3Z", false, 0 },
	{ __LINE__, "2011-05-13T 4:42:34Z", false, 0 },
	{ __LINE__, "2011-5-13T04:42:34Z", false, 0 },
	{ __LINE__, "2011-05-1T04:42:34Z", false, 0 },
	{ __LINE__, "211-05-13T04:42:34Z", false, 0 },
	{ __LINE__, "+2011-05-13T04:42:34Z", false, 0 },
	{ __LINE__, "-2011-05-13T04:42:34Z", false, 0 },
	{ __LINE__, "12011-05-13T04:42:34Z", false, 0 },
	{ __LINE__, "2011-05-13 04:42:34Z", false, 0 },	/* space */
	{ __LINE__, "2011-05-13t04:42:34Z", false, 0 },	/* xsd: upper */
	{ __LINE__, "2011-05-13T04:42:34z", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34.Z", false, 0 },	/* empty frac */
	{ __LINE__, "2011-05-13T04:42:34,5Z", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34Z ", false, 0 },
	{ __LINE__, " 2011-05-13T04:42:34Z", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34ZZ", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+02", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+0200", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+2:00", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+24:00", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+02:60", false, 0 },
	{ __LINE__, "2011-05-13T04:42:34+-2:00", false, 0 },
	{ __LINE__, "2011-00-13T04:42:34Z", false, 0 },	/* month */
	{ __LINE__, "2011-13-13T04:42:34Z", false, 0 },
	{ __LINE__, "2011-05-00T04:42:34Z", false, 0 },	/* day */
	{ __LINE__, "2011-05-32T04:42:34Z", false, 0 },
	{ __LINE__, "2011-04-31T04:42:34Z", false, 0 },
	{ __LINE__, "2023-02-29T12:00:00Z", false, 0 },	/* not leap */
	{ __LINE__, "1900-02-29T12:00:00Z", false, 0 },	/* 100 rule */
	{ __LINE__, "2024-02-30T12:00:00Z", false, 0 },
	{ __LINE__, "2011-05-13T24:00:00Z", false, 0 },	/* hour */
	{ __LINE__, "2011-05-13T04:60:34Z", false, 0 },	/* minute */
	{ __LINE__, "2011-05-13T04:42:61Z", false, 0 },	/* second */
	{ __LINE__, "2011-05-13T04:42:60Z", false, 0 },	/* no leap here */
	{ __LINE__, "2016-12-31T23:58:60Z", false, 0 },
	{ __LINE__, "2016-11-30T23:59:60Z", false, 0 },	/* not Jun/Dec */
	{ __LINE__, "2016-12-30T23:59:60Z", false, 0 },	/* not last day */
	{ __LINE__, "2016-12-31T23:59:60+01:00", false, 0 },	/* 22:59 UTC */
	{ __LINE__, "2011-05-13T04:42:34.123\x00Z", false, 0 },
	{ __LINE__, "２０１１-05-13T04:42:34Z", false, 0 },	/* not ASCII */
};

/* Runs the dateTime table. */
static void
datetime_table(void)
{
	char name[160];
	size_t i;

	for (i = 0; i < sizeof(datetimes) / sizeof(datetimes[0]); i++) {
		long long ms = 12345;
		bool got = schema_parse_datetime(datetimes[i].text, &ms);

		snprintf(name, sizeof(name), "line %d: \"%s\" %s",
		    datetimes[i].line, datetimes[i].text,
		    datetimes[i].valid ? "accepted" : "refused");
		ok(got == datetimes[i].valid, name);
		if (got && datetimes[i].valid && datetimes[i].ms != -1)
			is_int(ms, datetimes[i].ms, "...as the right instant");
	}
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
	datetime_table();
	return tap_done();
}
