/*
 * filter_eval.c: checking a parsed SCIM filter against the schema
 * (filter_check) and evaluating it on a resource (filter_match), per
 * RFC 7644 section 3.4.2.2: multi-valued attributes match when any value
 * does, comparisons follow the attribute's type and caseExact, and every
 * comparison is charged to the request's work budget (work.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "fold.h"
#include "jsonx.h"
#include "limits.h"
#include "work.h"

/* ---- checking ------------------------------------------------------------ */

/* Resolves the path of n for type t into ref. */
static enum scim_err
resolve(enum rtype t, const struct filter_path *path, struct attr_ref *ref)
{
	char text[LIMIT_ATTR_PATH_BYTES];
	int n;

	n = snprintf(text, sizeof(text), "%s%s%s%s%s",
	    path->urn ? path->urn : "", path->urn ? ":" : "", path->attr,
	    path->sub ? "." : "", path->sub ? path->sub : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return SCIM_ERR_NOT_FOUND;
	return schema_resolve(t, text, (size_t)n, ref);
}

/* The attribute definition values of a comparison are typed by. */
static const struct schema_attr *
value_attr(const struct attr_ref *ref)
{
	if (ref->sub != NULL)
		return ref->sub;
	if (ref->attr != NULL && ref->attr->type == AT_COMPLEX)
		return schema_sub_find(ref->attr, "value");
	return ref->attr;
}

/*
 * The full path of n's attribute for an error detail, escaped into
 * name[namesz]: [urn:]attr[.sub] as written, and inside a value path
 * the outer attribute first ("emails.primary", never "primary").
 */
static void
path_name(char *name, size_t namesz, const struct filter_node *n,
    const struct schema_attr *outer)
{
	char raw[LIMIT_PATH_BYTES + 64];

	/* Cut, never overflowed: the name is for a message. */
	snprintf(raw, sizeof(raw), "%s%s%s%s%s%s%s",
	    outer != NULL ? outer->name : "", outer != NULL ? "." : "",
	    n->path.urn != NULL ? n->path.urn : "",
	    n->path.urn != NULL ? ":" : "", n->path.attr,
	    n->path.sub != NULL ? "." : "",
	    n->path.sub != NULL ? n->path.sub : "");
	err_escape(name, namesz, raw, strlen(raw));
}

/* Which rule comparison n breaks against attribute a (0: none). */
static int
compare_fault(const struct filter_node *n, const struct schema_attr *a)
{
	long long ms;

	if (a == NULL || n->op == FILTER_PR || json_is_null(n->value))
		return 0;
	if (a->type == AT_BOOLEAN && (n->op != FILTER_EQ && n->op != FILTER_NE))
		return 1;
	if (a->type == AT_BOOLEAN && !json_is_boolean(n->value) &&
	    !json_is_string(n->value))
		return 2;
	if (a->type == AT_COMPLEX)
		return 3;
	/* dateTimes compare as instants: the value must be one (co, sw
	 * and ew compare text). */
	if (a->type == AT_DATETIME && n->op != FILTER_CO &&
	    n->op != FILTER_SW && n->op != FILTER_EW && (!json_is_string(
	    n->value) || !schema_parse_datetime(json_string_value(n->value),
	    &ms)))
		return 4;
	return 0;
}

/*
 * Checks the operator and value of comparison n against attribute a
 * (inside value path outer, or NULL).  The attribute's name for the
 * detail is only written when there is an error: a filter that checks
 * out costs no formatting (it ran on every filtered request).
 */
static enum scim_err
check_compare(const struct filter_node *n, const struct schema_attr *a,
    const struct schema_attr *outer, struct scim_error *err)
{
	char name[192];
	int fault = compare_fault(n, a);

	if (fault == 0)
		return SCIM_OK;
	path_name(name, sizeof(name), n, outer);
	switch (fault) {
	case 1:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "Operator %s does not apply to boolean %s.",
		    filter_op_name(n->op), name);
	case 2:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is a boolean.", name);
	case 3:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is complex; compare a sub-attribute.", name);
	default:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is a dateTime: compare it with one (RFC 3339, e.g. "
		    "\"2008-01-23T04:56:22Z\").", name);
	}
}

/*
 * Checks one node against type t (inside a value path, against the
 * sub-attributes of outer): every name known, operators and values
 * that fit the attribute's type.
 */
static enum scim_err
check_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, struct scim_error *err)
{
	struct attr_ref ref;
	const struct schema_attr *a;
	char name[192];
	enum scim_err e;

	switch (n->op) {
	case FILTER_AND:
	case FILTER_OR:
		if ((e = check_node(n->left, t, outer, err)) != SCIM_OK)
			return e;
		return check_node(n->right, t, outer, err);
	case FILTER_NOT:
		return check_node(n->left, t, outer, err);
	default:
		break;
	}
	if (outer != NULL) {
		a = n->path.urn == NULL && n->path.sub == NULL ?
		    schema_sub_find(outer, n->path.attr) : NULL;
		if (a == NULL) {
			path_name(name, sizeof(name), n, outer);
			return err_set(err, SCIM_ERR_INVALID_FILTER,
			    "%s is not a sub-attribute of %s.", name,
			    outer->name);
		}
		return check_compare(n, a, outer, err);
	}
	if (resolve(t, &n->path, &ref) != SCIM_OK || ref.attr == NULL) {
		path_name(name, sizeof(name), n, outer);
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is not an attribute of %s.", name,
		    schema_resource_type(t)->name);
	}
	if (n->op == FILTER_VALUEPATH) {
		if (ref.attr->type != AT_COMPLEX) {
			path_name(name, sizeof(name), n, outer);
			return err_set(err, SCIM_ERR_INVALID_FILTER,
			    "%s is not complex; it takes no [filter].", name);
		}
		return check_node(n->left, t, ref.attr, err);
	}
	if (ref.attr->type == AT_COMPLEX && ref.sub == NULL &&
	    n->op != FILTER_PR && value_attr(&ref) == NULL) {
		path_name(name, sizeof(name), n, outer);
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is complex; compare a sub-attribute.", name);
	}
	return check_compare(n, value_attr(&ref), NULL, err);
}

/* check_node() from the root: SCIM_OK or SCIM_ERR_INVALID_FILTER. */
enum scim_err
filter_check(const struct filter_node *n, enum rtype t, struct scim_error *err)
{
	return check_node(n, t, NULL, err);
}

/* ---- matching ------------------------------------------------------------ */

/* Folds a JSON string as attribute a compares (userName: RFC 8265);
 * NULL when not foldable. */
static char *
folded(const struct schema_attr *a, const json_t *s, size_t *len)
{
	char *out;

	if ((a != NULL && a->username ? fold_username : fold_utf8)(
	    json_string_value(s), json_string_length(s), &out, len) != SCIM_OK)
		return NULL;
	return out;
}

/* Compares two strings (already folded when case-insensitive) with op:
 * byte order for gt/ge/lt/le, substring tests for co/sw/ew. */
static bool
string_compare(enum filter_op op, const char *x, size_t xl, const char *y,
    size_t yl)
{
	int c;

	switch (op) {
	case FILTER_EQ:
		return xl == yl && memcmp(x, y, xl) == 0;
	case FILTER_NE:
		return !(xl == yl && memcmp(x, y, xl) == 0);
	case FILTER_CO:
		return yl == 0 || memmem(x, xl, y, yl) != NULL;
	case FILTER_SW:
		return xl >= yl && memcmp(x, y, yl) == 0;
	case FILTER_EW:
		return xl >= yl && memcmp(x + xl - yl, y, yl) == 0;
	default:
		c = memcmp(x, y, xl < yl ? xl : yl);
		if (c == 0)
			c = xl < yl ? -1 : xl > yl;
		return op == FILTER_GT ? c > 0 : op == FILTER_GE ? c >= 0 :
		    op == FILTER_LT ? c < 0 : c <= 0;
	}
}

static bool
order_compare(enum filter_op op, double c)
{
	switch (op) {
	case FILTER_EQ: return c == 0;
	case FILTER_NE: return c != 0;
	case FILTER_GT: return c > 0;
	case FILTER_GE: return c >= 0;
	case FILTER_LT: return c < 0;
	case FILTER_LE: return c <= 0;
	default: return false;
	}
}

/* Whether one actual value satisfies `op expected` for attribute a. */
static bool
compare_one(const struct schema_attr *a, enum filter_op op, const json_t *v,
    const json_t *want)
{
	char buf[64], *fx, *fy;
	const char *ws;
	size_t xl, yl;
	long long x, y;
	bool r;

	/* The work budget: a comparison, and each byte it may compare. */
	if (!work_spend(1 + (json_is_string(v) ? json_string_length(v) : 0) +
	    (json_is_string(want) ? json_string_length(want) : 0)))
		return false;
	if (json_is_null(v))
		return false;
	if (json_is_boolean(v)) {
		bool w;

		if (json_is_boolean(want))
			w = json_is_true(want);
		else if (json_is_string(want) &&
		    (strcasecmp(json_string_value(want), "true") == 0 ||
		    strcasecmp(json_string_value(want), "false") == 0))
			w = strcasecmp(json_string_value(want), "true") == 0;
		else
			return op == FILTER_NE;
		if (op == FILTER_EQ)
			return json_is_true(v) == w;
		if (op == FILTER_NE)
			return json_is_true(v) != w;
		return false;
	}
	if (json_is_number(v)) {
		if (!json_is_number(want))
			return op == FILTER_NE;
		return order_compare(op, json_number_value(v) -
		    json_number_value(want));
	}
	if (!json_is_string(v))
		return false;
	/* A number written unquoted compares as its text (Entra). */
	if (json_is_integer(want)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(want));
		ws = buf;
		yl = strlen(buf);
	} else if (json_is_string(want)) {
		ws = json_string_value(want);
		yl = json_string_length(want);
	} else
		return op == FILTER_NE;
	if (a != NULL && a->type == AT_DATETIME && op != FILTER_CO &&
	    op != FILTER_SW && op != FILTER_EW &&
	    schema_parse_datetime(json_string_value(v), &x) &&
	    schema_parse_datetime(ws, &y))
		return order_compare(op, (double)(x - y));
	if (a != NULL && a->case_exact)
		return string_compare(op, json_string_value(v),
		    json_string_length(v), ws, yl);
	{
		json_t *wj = json_stringn(ws, yl);

		fx = folded(a, v, &xl);
		fy = wj ? folded(a, wj, &yl) : NULL;
		json_decref(wj);
	}
	r = fx != NULL && fy != NULL && string_compare(op, fx, xl, fy, yl);
	free(fx);
	free(fy);
	return r;
}

/* Whether value v (a present value) counts as present for pr. */
static bool
present(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return true;
}

static bool match_absent(const struct filter_node *n);

/*
 * Tests comparison n against value v of attribute `a`, where sub (may
 * be NULL) selects a sub-attribute.  Multi-valued values match when any
 * element does; complex elements without a sub compare their "value".
 */
static bool
match_value(const struct filter_node *n, const struct schema_attr *a,
    const struct schema_attr *sub, const json_t *v)
{
	const struct schema_attr *vt;
	const json_t *el, *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, el)
			if (match_value(n, a, sub, el))
				return true;
		return false;
	}
	if (json_is_object(v)) {
		const char *key = sub ? sub->name : "value";

		x = NULL;
		{
			const char *k;
			json_t *val;

			json_object_foreach((json_t *)v, k, val)
				if (strcasecmp(k, key) == 0)
					x = val;
		}
		vt = sub ? sub : (a ? schema_sub_find(a, "value") : NULL);
		if (n->op == FILTER_PR)
			return present(x);
		/* An element without the sub-attribute compares as the
		 * value path does (emails[type ne "work"]: match_leaf). */
		if (x == NULL || json_is_null(x))
			return match_absent(n);
		return compare_one(vt, n->op, x, n->value);
	}
	if (n->op == FILTER_PR)
		return present(v);
	return compare_one(sub ? sub : a, n->op, v, n->value);
}

/* Evaluates a comparison whose value is absent. */
static bool
match_absent(const struct filter_node *n)
{
	if (n->op == FILTER_NE)
		return !json_is_null(n->value);
	if (n->op == FILTER_EQ)
		return json_is_null(n->value);
	return false;
}

static bool match_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj);

/* A comparison or value path on the resource (outer == NULL) or on an
 * element of a complex attribute (outer). */
static bool
match_leaf(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj)
{
	struct attr_ref ref;
	const json_t *v, *el;
	size_t i;

	if (outer != NULL) {
		const struct schema_attr *a = schema_sub_find(outer,
		    n->path.attr);
		const char *k;
		json_t *val;

		if (a == NULL)
			return false;
		v = NULL;
		json_object_foreach((json_t *)obj, k, val)
			if (strcasecmp(k, a->name) == 0)
				v = val;
		if (v == NULL || json_is_null(v))
			return match_absent(n);
		return match_value(n, a, NULL, v);
	}
	if (resolve(t, &n->path, &ref) != SCIM_OK || ref.attr == NULL)
		return false;
	if (ref.is_ext)
		obj = json_object_get(obj, ref.schema->urn);
	v = obj != NULL ? json_object_get(obj, ref.attr->name) : NULL;
	if (n->op == FILTER_VALUEPATH) {
		if (json_is_object(v))
			return match_node(n->left, t, ref.attr, v);
		json_array_foreach(v, i, el)
			if (json_is_object(el) &&
			    match_node(n->left, t, ref.attr, el))
				return true;
		return false;
	}
	if (v == NULL || json_is_null(v) ||
	    (json_is_array(v) && json_array_size(v) == 0)) {
		/* A multi-valued attribute without values has no value
		 * that could differ: ne matches nothing there. */
		if (ref.attr->multi_valued && n->op == FILTER_NE)
			return false;
		return match_absent(n);
	}
	if (ref.sub != NULL && json_is_object(v)) {
		const json_t *x = json_object_get(v, ref.sub->name);

		if (x == NULL || json_is_null(x))
			return match_absent(n);
		return n->op == FILTER_PR ? present(x) :
		    compare_one(ref.sub, n->op, x, n->value);
	}
	if (n->op == FILTER_PR && ref.sub == NULL)
		return present(v);
	/* Multi-valued: any value matches, for every operator (ne too:
	 * emails.type ne "work" is "some email's type is not work", as
	 * emails[type ne "work"] is; "no email is work" is not (...)). */
	return match_value(n, ref.attr, ref.sub, v);
}

static bool
match_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj)
{
	switch (n->op) {
	case FILTER_AND:
		return match_node(n->left, t, outer, obj) &&
		    match_node(n->right, t, outer, obj);
	case FILTER_OR:
		return match_node(n->left, t, outer, obj) ||
		    match_node(n->right, t, outer, obj);
	case FILTER_NOT:
		return !match_node(n->left, t, outer, obj);
	default:
		return match_leaf(n, t, outer, obj);
	}
}

/* Evaluates the tree on one resource (match_node from the root). */
bool
filter_match(const struct filter_node *n, enum rtype t, const json_t *resource)
{
	return match_node(n, t, NULL, resource);
}
