/*
 * schema.c: registry of schemas, attribute path resolution, validation of
 * request bodies against the tables, and the /Schemas documents.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fold.h"
#include "limits.h"
#include "schema.h"
#include "schema_tables.h"

static const struct schema	*registry[LIMIT_SCHEMAS] = {
	&schema_user, &schema_enterprise, &schema_group
};
static size_t			 nregistry = 3;

static const char *const type_names[] = {
	[AT_STRING] = "string", [AT_BOOLEAN] = "boolean",
	[AT_DECIMAL] = "decimal", [AT_INTEGER] = "integer",
	[AT_DATETIME] = "dateTime", [AT_BINARY] = "binary",
	[AT_REFERENCE] = "reference", [AT_COMPLEX] = "complex",
};
static const char *const mutability_names[] = {
	[MUT_READWRITE] = "readWrite", [MUT_READONLY] = "readOnly",
	[MUT_IMMUTABLE] = "immutable", [MUT_WRITEONLY] = "writeOnly",
};
static const char *const returned_names[] = {
	[RET_DEFAULT] = "default", [RET_ALWAYS] = "always",
	[RET_NEVER] = "never", [RET_REQUEST] = "request",
};
static const char *const uniqueness_names[] = {
	[UNIQ_NONE] = "none", [UNIQ_SERVER] = "server",
	    [UNIQ_GLOBAL] = "global",
};

/* Index of s in names[0..n), case-insensitive, or -1. */
static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcasecmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- loading extension schemas ---------------------------------------- */

static char *
json_strdup(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? strdup(s) : NULL;
}

/* Reads one attribute definition of an extension schema into *a. */
static enum scim_err
load_attr(const json_t *j, struct schema_attr *a, bool is_sub,
    struct scim_error *err)
{
	const char *s;
	int i;
	const json_t *subs;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(j) || (a->name = json_strdup(j, "name")) == NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "extension attribute without a name");
	s = json_string_value(json_object_get(j, "type"));
	if (s == NULL || (i = name_index(type_names, 8, s)) < 0)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "extension attribute %s: bad type", a->name);
	a->type = (enum attr_type)i;
	a->multi_valued = json_is_true(json_object_get(j, "multiValued"));
	a->required = json_is_true(json_object_get(j, "required"));
	a->case_exact = json_is_true(json_object_get(j, "caseExact"));
	if ((s = json_string_value(json_object_get(j, "mutability"))) != NULL &&
	    (i = name_index(mutability_names, 4, s)) >= 0)
		a->mutability = (enum attr_mutability)i;
	if ((s = json_string_value(json_object_get(j, "returned"))) != NULL &&
	    (i = name_index(returned_names, 4, s)) >= 0)
		a->returned = (enum attr_returned)i;
	if ((s = json_string_value(json_object_get(j, "uniqueness"))) != NULL &&
	    (i = name_index(uniqueness_names, 3, s)) >= 0)
		a->uniqueness = (enum attr_uniqueness)i;
	a->description = json_strdup(j, "description");
	subs = json_object_get(j, "subAttributes");
	if (a->type == AT_COMPLEX) {
		struct schema_attr *sub;
		size_t k, n = json_array_size(subs);

		if (is_sub || n == 0 || n > LIMIT_EXT_ATTRS)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "extension attribute %s: complex needs 1 to %d "
			    "simple sub-attributes",
			    a->name, LIMIT_EXT_ATTRS);
		if ((sub = calloc(n, sizeof(*sub))) == NULL)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		a->sub = sub;
		for (k = 0; k < n; k++) {
			enum scim_err rc = load_attr(json_array_get(subs, k),
			    &sub[k], true, err);
			if (rc != SCIM_OK)
				return rc;
			a->nsub++;
		}
	}
	return SCIM_OK;
}

/* Registers one extension schema document. */
static enum scim_err
load_schema(const json_t *doc, struct scim_error *err)
{
	struct schema *s;
	struct schema_attr *attrs;
	const json_t *ja;
	const char *rt;
	enum rtype t;
	enum scim_err rc;
	size_t i, n;

	if (nregistry >= LIMIT_SCHEMAS)
		return err_set(err, SCIM_ERR_INVALID_VALUE, "too many schemas");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	s->urn = json_strdup(doc, "id");
	s->name = json_strdup(doc, "name");
	s->description = json_strdup(doc, "description");
	if (s->urn == NULL || strncasecmp(s->urn, "urn:", 4) != 0 ||
	    schema_find(s->urn) != NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "extension schema needs a new \"id\" URN");
	if (s->name == NULL)
		s->name = strdup(s->urn);
	ja = json_object_get(doc, "attributes");
	n = json_array_size(ja);
	if (n == 0 || n > LIMIT_EXT_ATTRS)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "extension schema %s needs 1 to %d attributes", s->urn,
		    LIMIT_EXT_ATTRS);
	if ((attrs = calloc(n, sizeof(*attrs))) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	s->attrs = attrs;
	for (i = 0; i < n; i++) {
		if ((rc = load_attr(json_array_get(ja, i), &attrs[i], false,
		    err)) != SCIM_OK)
			return rc;
		s->nattrs++;
	}
	/* resourceType: a type's name; absent or unknown means User. */
	rt = json_string_value(json_object_get(doc, "resourceType"));
	if (!rtype_by_name(rt, &t))
		t = RT_USER;
	if ((rc = rtype_add_extension(t, s, json_is_true(json_object_get(doc,
	    "required")), err)) != SCIM_OK)
		return rc;
	registry[nregistry++] = s;
	return SCIM_OK;
}

/* Registers the built-in schemas, then the site's extensions from
 * ext_path, each checked before it is added. */
enum scim_err
schema_init(const char *ext_path, struct scim_error *err)
{
	json_t *root, *list;
	json_error_t jerr;
	enum scim_err rc = SCIM_OK;
	size_t i;

	if (ext_path == NULL || *ext_path == '\0')
		return rtype_derive_unique(err);
	if ((root = json_load_file(ext_path, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "schema file %s: line %d: %s", ext_path, jerr.line,
		    jerr.text);
	list = root;
	if (json_is_object(root) && json_is_array(json_object_get(root,
	    "Resources")))
		list = json_object_get(root, "Resources");
	if (json_is_object(list)) {
		rc = load_schema(list, err);
	} else if (json_is_array(list)) {
		for (i = 0; i < json_array_size(list) && rc == SCIM_OK; i++)
			rc = load_schema(json_array_get(list, i), err);
	} else
		rc = err_set(err, SCIM_ERR_INVALID_VALUE,
		    "schema file %s: expected a schema or an array of them",
		    ext_path);
	json_decref(root);
	/* The unique attributes the schemas declare (rtype.h). */
	return rc == SCIM_OK ? rtype_derive_unique(err) : rc;
}

/* ---- lookups ------------------------------------------------------------ */

/* Index into the resource type table. */
const struct resource_type *
schema_resource_type(enum rtype t)
{
	return rtype_get(t);
}

/* Linear search of the registry by URN, case-insensitively. */
const struct schema *
schema_find(const char *urn)
{
	size_t i;

	for (i = 0; i < nregistry; i++)
		if (strcasecmp(registry[i]->urn, urn) == 0)
			return registry[i];
	return NULL;
}

/* The number of registered schemas. */
size_t
schema_count(void)
{
	return nregistry;
}

/* The i-th registered schema (i < schema_count()). */
const struct schema *
schema_at(size_t i)
{
	return i < nregistry ? registry[i] : NULL;
}

/* Linear search of s's attributes by name, case-insensitively. */
const struct schema_attr *
schema_attr_find(const struct schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++)
		if (strcasecmp(s->attrs[i].name, name) == 0)
			return &s->attrs[i];
	return NULL;
}

/* Linear search of a's sub-attributes by name, case-insensitively. */
const struct schema_attr *
schema_sub_find(const struct schema_attr *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nsub; i++)
		if (strcasecmp(a->sub[i].name, name) == 0)
			return &a->sub[i];
	return NULL;
}

/* The core schema of t or one of its extensions. */
bool
schema_allowed(enum rtype t, const struct schema *s)
{
	const struct resource_type *r = schema_resource_type(t);
	size_t i;

	if (s == r->core)
		return true;
	for (i = 0; r->ext[i] != NULL; i++)
		if (r->ext[i] == s)
			return true;
	return false;
}

/* Looks name up in the core schema of t, then the common attributes. */
static const struct schema_attr *
find_core_attr(enum rtype t, const char *name, const struct schema **in)
{
	const struct schema_attr *a;

	*in = schema_resource_type(t)->core;
	if ((a = schema_attr_find(*in, name)) != NULL)
		return a;
	*in = &schema_common;
	return schema_attr_find(&schema_common, name);
}

/* The longest registered URN prefix first, then attr[.sub] in that
 * schema, or in t's core, extensions and common attributes. */
enum scim_err
schema_resolve(enum rtype t, const char *text, size_t len, struct attr_ref *out)
{
	const struct resource_type *r = schema_resource_type(t);
	const struct schema *s = NULL;
	char name[LIMIT_ATTR_PATH_BYTES], *dot;
	size_t i, ulen = 0;

	memset(out, 0, sizeof(*out));
	/* A schema URN prefix: the longest registered one that fits. */
	for (i = 0; i < nregistry; i++) {
		size_t l = strlen(registry[i]->urn);

		if (l > ulen && l <= len && strncasecmp(text, registry[i]->urn,
		    l) == 0 &&
		    (l == len || text[l] == ':') &&
		    schema_allowed(t, registry[i])) {
			s = registry[i];
			ulen = l;
		}
	}
	if (s != NULL) {
		text += ulen;
		len -= ulen;
		if (len == 0) {
			if (s == r->core)
				return SCIM_ERR_NOT_FOUND;
			out->schema = s;
			out->is_ext = true;
			return SCIM_OK;
		}
		text++;
		len--;
	}
	if (len == 0 || len >= sizeof(name))
		return SCIM_ERR_NOT_FOUND;
	memcpy(name, text, len);
	name[len] = '\0';
	if (memchr(name, '\0', len) != NULL)
		return SCIM_ERR_NOT_FOUND;
	if ((dot = strchr(name, '.')) != NULL)
		*dot++ = '\0';
	if (s != NULL && s != r->core) {
		out->schema = s;
		out->is_ext = true;
		out->attr = schema_attr_find(s, name);
	} else if (s == r->core) {
		out->attr = find_core_attr(t, name, &out->schema);
	} else {
		out->attr = find_core_attr(t, name, &out->schema);
		for (i = 0; out->attr == NULL && r->ext[i] != NULL; i++) {
			out->attr = schema_attr_find(r->ext[i], name);
			out->schema = r->ext[i];
			out->is_ext = true;
		}
	}
	if (out->attr == NULL)
		return SCIM_ERR_NOT_FOUND;
	if (dot != NULL) {
		if (out->attr->type != AT_COMPLEX ||
		    (out->sub = schema_sub_find(out->attr, dot)) == NULL)
			return SCIM_ERR_NOT_FOUND;
	}
	return SCIM_OK;
}

/* Looks the attribute of ref up in resource (under the extension's URN
 * for extension attributes). */
json_t *
schema_value_get(const json_t *resource, const struct attr_ref *ref)
{
	json_t *v;

	if (ref->is_ext) {
		resource = json_object_get(resource, ref->schema->urn);
		if (ref->attr == NULL)
			return (json_t *)resource;
	}
	if (ref->attr == NULL || (v = json_object_get(resource,
	    ref->attr->name)) == NULL)
		return NULL;
	if (ref->sub != NULL && json_is_object(v))
		return json_object_get(v, ref->sub->name);
	return v;
}

/* ---- values ------------------------------------------------------------- */

/* Reads exactly n ASCII digits at *p into *v and advances *p past them;
 * false (and *p unchanged) when there are fewer. */
static bool
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* Whether *p is c; advances past it when it is. */
static bool
expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Days in month mo (1-12) of year y, leap years by the Gregorian rule. */
static int
month_days(int y, int mo)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[mo - 1];
}

/* Days since 1970-01-01 of a valid civil date (Howard Hinnant's
 * days_from_civil: no time zone, no libc). */
static long long
days_from_civil(int y, int mo, int d)
{
	int yy = y - (mo <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (long long)era * 146097 + doe - 719468;
}

/* Whether t59, the UTC instant (seconds) of the second before a leap
 * second written in year y, is 23:59:59 on 30 June or 31 December:
 * the UTC date is in year y - 1, y or y + 1 (offsets are under a day). */
static bool
leap_second_ok(long long t59, int y)
{
	long long day = t59 / 86400 - (t59 % 86400 < 0);
	int yy;

	if (t59 - day * 86400 != 86399)
		return false;
	for (yy = y - 1; yy <= y + 1; yy++)
		if (day == days_from_civil(yy, 6, 30) ||
		    day == days_from_civil(yy, 12, 31))
			return true;
	return false;
}

/*
 * The RFC 3339 date-time grammar (section 5.6), as xsd:dateTime also
 * reads it (RFC 7643 2.3.5): full-date "T" full-time, upper-case T and Z,
 *	YYYY-MM-DD "T" hh:mm:ss [.fraction] ("Z" / ("+" / "-") hh:mm)
 * every field its exact number of digits, each range checked: month
 * 01-12, day within its month (29 February in leap years only), hour
 * 00-23, minute 00-59, second 00-59, offset hours 00-23 and minutes
 * 00-59.  Second 60 is a leap second, which RFC 3339 (5.6, 5.7 and
 * appendix D) places at 23:59:60 UTC on the last day of June or
 * December: any other 60 is refused.  Fractions beyond milliseconds
 * are read and dropped.  *ms is the instant, in milliseconds since the
 * epoch (a leap second counts as the second after it).
 */
bool
schema_parse_datetime(const char *s, long long *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, fdig = 0;
	int sign = 0;
	const char *p = s;
	long long t;

	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') ||
	    !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
	    !expect(&p, ':') || !digits(&p, 2, &sec))
		return false;
	if (expect(&p, '.')) {
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++)
			if (fdig < 3) {
				frac = frac * 10 + (*p - '0');
				fdig++;
			}
		for (; fdig < 3; fdig++)
			frac *= 10;
	}
	if (expect(&p, '+'))
		sign = 1;
	else if (expect(&p, '-'))
		sign = -1;
	else if (!expect(&p, 'Z'))
		return false;
	if (sign != 0 && (!digits(&p, 2, &oh) || !expect(&p, ':') ||
	    !digits(&p, 2, &om) || oh > 23 || om > 59))
		return false;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	if (sec == 60 && !leap_second_ok(t - 1, y))
		return false;
	*ms = t * 1000 + frac;
	return true;
}

/* Strings by the attribute's caseExact (userName by RFC 8265), dateTimes
 * as instants, numbers numerically, anything else by json_equal. */
bool
schema_value_equal(const struct schema_attr *a, const json_t *x,
    const json_t *y)
{
	if (x == NULL || y == NULL)
		return x == y;
	if (json_is_string(x) && json_is_string(y)) {
		const char *xs = json_string_value(x),
		    *ys = json_string_value(y);
		size_t xl = json_string_length(x), yl = json_string_length(y);
		long long xt, yt;

		if (a != NULL && a->type == AT_DATETIME &&
		    schema_parse_datetime(xs, &xt) && schema_parse_datetime(ys,
		    &yt))
			return xt == yt;
		if (a == NULL || a->case_exact)
			return xl == yl && memcmp(xs, ys, xl) == 0;
		if (a->username)
			return fold_username_equal(xs, xl, ys, yl);
		return fold_equal(xs, xl, ys, yl);
	}
	if (json_is_number(x) && json_is_number(y))
		return json_number_value(x) == json_number_value(y);
	return json_equal((json_t *)x, (json_t *)y);
}

/* ---- validation --------------------------------------------------------- */

static enum scim_err validate_attr(const struct schema_attr *a,
    const char *where, json_t *v, json_t **out, struct scim_error *err);

/* "True"/"false"... as Entra sends them; anything else is not a boolean. */
static int
string_boolean(const json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL)
		return -1;
	if (strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

/* Checks a simple value against a's type; *out gets a new reference to
 * the normalised value. */
static enum scim_err
validate_simple(const struct schema_attr *a, const char *where, json_t *v,
    json_t **out, struct scim_error *err)
{
	long long ms;
	int b;

	*out = NULL;
	switch (a->type) {
	case AT_BOOLEAN:
		if (json_is_boolean(v)) {
			*out = json_incref(v);
			return SCIM_OK;
		}
		if ((b = string_boolean(v)) >= 0) {
			*out = json_boolean(b);
			return SCIM_OK;
		}
		break;
	case AT_INTEGER:
		if (json_is_integer(v)) {
			*out = json_incref(v);
			return SCIM_OK;
		}
		break;
	case AT_DECIMAL:
		if (json_is_number(v)) {
			*out = json_incref(v);
			return SCIM_OK;
		}
		break;
	case AT_DATETIME:
		if (json_is_string(v) &&
		    schema_parse_datetime(json_string_value(v), &ms)) {
			*out = json_incref(v);
			return SCIM_OK;
		}
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute %s must be a dateTime (RFC 3339, e.g. "
		    "2008-01-23T04:56:22Z)", where);
	case AT_STRING:
	case AT_BINARY:
	case AT_REFERENCE:
		if (json_is_string(v)) {
			char why[96];

			if (json_string_length(v) > LIMIT_STRING_BYTES)
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "attribute %s is longer than %d bytes",
				    where,
				    LIMIT_STRING_BYTES);
			if (a->username && fold_username_refused(
			    json_string_value(v), json_string_length(v), why,
			    sizeof(why)))
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "attribute %s %s", where, why);
			*out = json_incref(v);
			return SCIM_OK;
		}
		break;
	case AT_COMPLEX:
		break;
	}
	return err_set(err, SCIM_ERR_INVALID_VALUE,
	    "attribute %s must be of type %s", where, type_names[a->type]);
}

/* Validates the sub-attributes of one complex value. *out is NULL when
 * nothing of it remains. */
static enum scim_err
validate_complex(const struct schema_attr *a, const char *where, json_t *v,
    json_t **out, struct scim_error *err)
{
	const char *key;
	json_t *val, *o, *nv;
	const struct schema_attr *s;
	char sub_where[160];
	enum scim_err rc;

	*out = NULL;
	if (json_is_string(v) && schema_sub_find(a, "value") != NULL) {
		/* A bare id for a complex attribute (Entra's manager). */
		v = json_pack("{sO}", "value", v);
		if (v == NULL)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		rc = validate_complex(a, where, v, out, err);
		json_decref(v);
		return rc;
	}
	if (!json_is_object(v))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute %s must be a complex value (JSON object)",
		    where);
	if ((o = json_object()) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	json_object_foreach(v, key, val) {
		if ((s = schema_sub_find(a, key)) == NULL ||
		    s->mutability == MUT_READONLY || json_is_null(val))
			continue;
		if (json_object_get(o, s->name) != NULL) {
			json_decref(o);
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "attribute %s.%s is given twice", where, s->name);
		}
		snprintf(sub_where, sizeof(sub_where), "%s.%s", where, s->name);
		if ((rc = validate_simple(s, sub_where, val, &nv,
		    err)) != SCIM_OK) {
			json_decref(o);
			return rc;
		}
		if (json_object_set_new(o, s->name, nv) != 0) {
			json_decref(o);
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		}
	}
	if (json_object_size(o) == 0)
		json_decref(o);
	else
		*out = o;
	return SCIM_OK;
}

/* Validates attribute a's value v; *out is a new reference to the
 * normalised value, or NULL when the value is unassigned. */
static enum scim_err
validate_attr(const struct schema_attr *a, const char *where, json_t *v,
    json_t **out, struct scim_error *err)
{
	json_t *arr, *elem, *nv;
	size_t i, max;
	enum scim_err rc;

	*out = NULL;
	if (json_is_null(v))
		return SCIM_OK;
	if (!a->multi_valued) {
		if (a->type == AT_COMPLEX)
			return validate_complex(a, where, v, out, err);
		return validate_simple(a, where, v, out, err);
	}
	if (!json_is_array(v))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute %s is multi-valued and must be an array", where);
	max = strcmp(a->name, "members") == 0 ? LIMIT_JSON_MEMBERS :
	    LIMIT_MULTI_VALUES;
	if (json_array_size(v) > max)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute %s has more than %zu values", where, max);
	if ((arr = json_array()) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	json_array_foreach(v, i, elem) {
		if (a->type == AT_COMPLEX)
			rc = validate_complex(a, where, elem, &nv, err);
		else
			rc = validate_simple(a, where, elem, &nv, err);
		if (rc != SCIM_OK) {
			json_decref(arr);
			return rc;
		}
		if (nv != NULL && json_array_append_new(arr, nv) != 0) {
			json_decref(arr);
			return err_set(err, SCIM_ERR_NOMEM, NULL);
		}
	}
	if (json_array_size(arr) == 0)
		json_decref(arr);
	else
		*out = arr;
	return SCIM_OK;
}

/* Validates the attributes of object in (of schema s, or the core schema
 * of t plus common attributes when s is the core) into out. */
static enum scim_err
validate_object(enum rtype t, const struct schema *s, bool core,
    const json_t *in, json_t *out, char **password, struct scim_error *err)
{
	const char *key;
	json_t *val, *nv;
	const struct schema_attr *a;
	const struct schema *in_schema;
	enum scim_err rc;
	size_t i;

	json_object_foreach((json_t *)in, key, val) {
		if (core) {
			if (strcasecmp(key, "schemas") == 0)
				continue;
			a = find_core_attr(t, key, &in_schema);
		} else
			a = schema_attr_find(s, key);
		if (a == NULL || a->mutability == MUT_READONLY)
			continue;	/* unknown or readOnly: ignored */
		if (rtype_get(t)->has_password && core &&
		    strcmp(a->name, "password") == 0) {
			if (json_is_null(val))
				continue;
			if (!json_is_string(val))
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "attribute password must be a string");
			if (password != NULL) {
				free(*password);
				*password = strdup(json_string_value(val));
				if (*password == NULL)
					return err_set(err, SCIM_ERR_NOMEM,
					    NULL);
			}
			continue;
		}
		if (json_object_get(out, a->name) != NULL)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "attribute %s is given twice", a->name);
		if ((rc = validate_attr(a, a->name, val, &nv, err)) != SCIM_OK)
			return rc;
		if (nv != NULL && json_object_set_new(out, a->name, nv) != 0)
			return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	for (i = 0; i < s->nattrs; i++) {
		a = &s->attrs[i];
		if (a->required && a->mutability != MUT_READONLY &&
		    json_object_get(out, a->name) == NULL)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "required attribute %s is missing", a->name);
	}
	return SCIM_OK;
}

/* Checks schemas, then every attribute against its definition,
 * normalising names and Entra's shapes; *out is the new resource. */
enum scim_err
schema_validate(enum rtype t, const json_t *in, enum schema_mode mode,
    json_t **out, char **password, struct scim_error *err)
{
	const struct resource_type *r = schema_resource_type(t);
	const json_t *schemas, *v;
	json_t *res = NULL, *sch = NULL, *ext;
	const char *key;
	const struct schema *s;
	bool has_core = false;
	enum scim_err rc;
	size_t i;

	(void)mode;
	*out = NULL;
	if (password != NULL)
		*password = NULL;
	if (!json_is_object(in))
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "the body must be a JSON object");
	schemas = json_object_get(in, "schemas");
	if (!json_is_array(schemas))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute schemas must be an array naming %s",
		    r->core->urn);
	json_array_foreach(schemas, i, v) {
		const char *urn = json_string_value(v);

		if (urn == NULL)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "schemas must hold strings");
		if ((s = schema_find(urn)) != NULL && schema_allowed(t, s)) {
			has_core |= s == r->core;
			continue;
		}
		if (r->ignored_schema != NULL &&
		    strcasecmp(urn, r->ignored_schema) == 0)
			continue;
		{
			char esc[96];

			err_escape(esc, sizeof(esc), urn, strlen(urn));
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "schema %s is not supported on %s", esc, r->name);
		}
	}
	if (!has_core)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attribute schemas must include %s", r->core->urn);

	/* sch belongs to res from the set on (jansson drops it if the set
	 * fails), so no path leaks it. */
	if ((res = json_object()) == NULL || (sch = json_array()) == NULL ||
	    json_object_set_new(res, "schemas", sch) != 0 ||
	    json_array_append_new(sch, json_string(r->core->urn)) != 0) {
		rc = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((rc = validate_object(t, r->core, true, in, res, password,
	    err)) != SCIM_OK)
		goto fail;
	/* Common attributes: only externalId is writable; id, meta are
	 * readOnly. */
	for (i = 0; r->ext[i] != NULL; i++) {
		s = r->ext[i];
		v = NULL;
		json_object_foreach((json_t *)in, key, ext) {
			if (strcasecmp(key, s->urn) == 0) {
				v = ext;
				break;
			}
		}
		if (v == NULL || json_is_null(v)) {
			if (r->ext_required[i]) {
				rc = err_set(err, SCIM_ERR_INVALID_VALUE,
				    "extension %s is required", s->urn);
				goto fail;
			}
			continue;
		}
		if (!json_is_object(v)) {
			rc = err_set(err, SCIM_ERR_INVALID_VALUE,
			    "extension %s must be a JSON object", s->urn);
			goto fail;
		}
		if ((ext = json_object()) == NULL) {
			rc = err_set(err, SCIM_ERR_NOMEM, NULL);
			goto fail;
		}
		if ((rc = validate_object(t, s, false, v, ext, NULL,
		    err)) != SCIM_OK) {
			json_decref(ext);
			goto fail;
		}
		if (json_object_size(ext) == 0) {
			json_decref(ext);
			continue;
		}
		if (json_object_set_new(res, s->urn, ext) != 0 ||
		    json_array_append_new(sch, json_string(s->urn)) != 0) {
			rc = err_set(err, SCIM_ERR_NOMEM, NULL);
			goto fail;
		}
	}
	*out = res;
	return SCIM_OK;
fail:
	json_decref(res);
	if (password != NULL) {
		free(*password);
		*password = NULL;
	}
	return rc;
}

/* Compares the immutable attributes of schema s between two objects. */
static enum scim_err
check_immutable_in(const struct schema *s, const json_t *old, const json_t *new,
    struct scim_error *err)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++) {
		const struct schema_attr *a = &s->attrs[i];
		json_t *ov, *nv;

		if (a->mutability != MUT_IMMUTABLE)
			continue;
		ov = json_object_get(old, a->name);
		nv = json_object_get(new, a->name);
		if (ov != NULL && !json_equal(ov, nv))
			return err_set(err, SCIM_ERR_MUTABILITY,
			    "attribute %s is immutable", a->name);
	}
	return SCIM_OK;
}

/* Compares each immutable attribute of old with new; the first that
 * differs is SCIM_ERR_MUTABILITY. */
enum scim_err
schema_check_immutable(enum rtype t, const json_t *old, const json_t *new,
    struct scim_error *err)
{
	const struct resource_type *r = schema_resource_type(t);
	enum scim_err rc;
	size_t i;

	if ((rc = check_immutable_in(r->core, old, new, err)) != SCIM_OK)
		return rc;
	for (i = 0; r->ext[i] != NULL; i++) {
		const json_t *o = json_object_get(old, r->ext[i]->urn);

		if (o == NULL)
			continue;
		rc = check_immutable_in(r->ext[i], o,
		    json_object_get(new, r->ext[i]->urn), err);
		if (rc != SCIM_OK)
			return rc;
	}
	return SCIM_OK;
}

/* ---- discovery documents ------------------------------------------------ */

static json_t *
string_list(const char *const *l)
{
	json_t *a = json_array();

	for (; a != NULL && l != NULL && *l != NULL; l++)
		json_array_append_new(a, json_string(*l));
	return a;
}

/* The /Schemas form of one attribute definition, sub-attributes
 * included; NULL when out of memory. */
static json_t *
attr_to_json(const struct schema_attr *a)
{
	json_t *o, *subs;
	size_t i;

	o = json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:s, s:s, s:s}",
	    "name", a->name,
	    "type", type_names[a->type],
	    "multiValued", a->multi_valued,
	    "description", a->description != NULL ? a->description : "",
	    "required", a->required,
	    "caseExact", a->case_exact,
	    "mutability", mutability_names[a->mutability],
	    "returned", returned_names[a->returned],
	    "uniqueness", uniqueness_names[a->uniqueness]);
	if (o == NULL)
		return NULL;
	if (a->canonical != NULL)
		json_object_set_new(o, "canonicalValues",
		    string_list(a->canonical));
	if (a->type == AT_REFERENCE)
		json_object_set_new(o, "referenceTypes", a->ref_types != NULL ?
		    string_list(a->ref_types) : json_pack("[s]", "external"));
	if (a->type == AT_COMPLEX) {
		subs = json_array();
		for (i = 0; subs != NULL && i < a->nsub; i++)
			json_array_append_new(subs, attr_to_json(&a->sub[i]));
		json_object_set_new(o, "subAttributes", subs);
	}
	return o;
}

/* The /Schemas form of s, with meta.location under base_url. */
json_t *
schema_to_json(const struct schema *s, const char *base_url)
{
	json_t *o, *attrs;
	char *loc = NULL;
	size_t i;

	attrs = json_array();
	for (i = 0; attrs != NULL && i < s->nattrs; i++)
		json_array_append_new(attrs, attr_to_json(&s->attrs[i]));
	if (asprintf(&loc, "%s/Schemas/%s", base_url, s->urn) < 0)
		loc = NULL;
	o = json_pack("{s:[s], s:s, s:s, s:s, s:o, s:{s:s, s:s}}",
	    "schemas", SCHEMA_URN_SCHEMA,
	    "id", s->urn,
	    "name", s->name,
	    "description", s->description != NULL ? s->description : "",
	    "attributes", attrs,
	    "meta", "resourceType", "Schema", "location",
	    loc != NULL ? loc : "");
	free(loc);
	return o;
}

/* The /ResourceTypes form of t, with its extensions and meta.location. */
json_t *
schema_resource_type_json(enum rtype t, const char *base_url)
{
	const struct resource_type *r = schema_resource_type(t);
	json_t *o, *exts;
	char *loc = NULL;
	size_t i;

	exts = json_array();
	for (i = 0; exts != NULL && r->ext[i] != NULL; i++)
		json_array_append_new(exts, json_pack("{s:s, s:b}",
		    "schema", r->ext[i]->urn, "required", r->ext_required[i]));
	if (asprintf(&loc, "%s/ResourceTypes/%s", base_url, r->name) < 0)
		loc = NULL;
	o = json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}}",
	    "schemas", SCHEMA_URN_RT,
	    "id", r->name,
	    "name", r->name,
	    "endpoint", r->endpoint,
	    "description", r->description,
	    "schema", r->core->urn,
	    "schemaExtensions", exts,
	    "meta", "resourceType", "ResourceType", "location",
	    loc != NULL ? loc : "");
	free(loc);
	return o;
}
