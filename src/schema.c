/*
 * schema.c: the schema registry.
 *
 * The registry of schemas (the core tables and the site's
 * extension schemas, loaded from the schema file), lookups, attribute
 * path resolution, and the /Schemas and /ResourceTypes documents.
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
#include "schema_impl.h"

static const struct schema	*registry[LIMIT_SCHEMAS] = {
	&schema_user, &schema_enterprise, &schema_group
};
static size_t			 nregistry = 3;

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
