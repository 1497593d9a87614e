/*
 * schema_validate.c: validation.
 *
 * Request bodies checked and normalised against the schemas
 * (types, mutability, required and canonical values, unknown
 * attributes), and the immutable attributes compared.
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
