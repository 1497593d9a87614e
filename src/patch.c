/*
 * patch.c: the PATCH engine (RFC 7644 section 3.5.2) over a resource
 * object the caller has copied.  Pure: never touches the store; the
 * attribute the caller keeps elsewhere (Group.members) goes to a hook.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "patch.h"
#include "work.h"

/* Case-insensitive member lookup in a JSON object. */
static json_t *
get_ci(const json_t *o, const char *key, const char **real)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (strcasecmp(k, key) == 0) {
			if (real != NULL)
				*real = k;
			return v;
		}
	return NULL;
}

/* Frees what a parsed path owns; out is zeroed. */
void
patch_path_clear(struct patch_path *p)
{
	filter_free(p->filter);
	memset(p, 0, sizeof(*p));
}

/* attrPath ["[" valFilter "]" ["." subAttr]]: the attribute resolved
 * against t's schemas, the filter parsed and checked. */
enum scim_err
patch_path_parse(enum rtype t, const char *text, size_t len,
    struct patch_path *out, struct scim_error *err)
{
	const char *lb, *rb;
	struct filter_node vp;
	char esc[128];
	enum scim_err e;

	memset(out, 0, sizeof(*out));
	err_escape(esc, sizeof(esc), text, len);
	if (len == 0 || len > LIMIT_PATH_BYTES)
		return err_set(err, SCIM_ERR_INVALID_PATH,
		    "The path \"%s\" is empty or too long.", esc);
	lb = memchr(text, '[', len);
	if (lb == NULL) {
		if (schema_resolve(t, text, len, &out->ref) != SCIM_OK)
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "The path \"%s\" names no attribute of %s.", esc,
			    schema_resource_type(t)->name);
		return SCIM_OK;
	}
	/* attr[filter] or attr[filter].sub */
	rb = NULL;
	{
		const char *p;
		bool quoted = false;

		for (p = lb + 1; p < text + len; p++) {
			if (*p == '\\' && quoted)
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (*p == ']' && !quoted) {
				rb = p;
				break;
			}
		}
	}
	if (rb == NULL)
		return err_set(err, SCIM_ERR_INVALID_PATH,
		    "The path \"%s\" has no closing ']'.", esc);
	if (schema_resolve(t, text, (size_t)(lb - text),
	    &out->ref) != SCIM_OK ||
	    out->ref.attr == NULL || out->ref.sub != NULL ||
	    out->ref.attr->type != AT_COMPLEX)
		return err_set(err, SCIM_ERR_INVALID_PATH,
		    "The path \"%s\" needs a complex attribute before '['.",
		    esc);
	if (rb + 1 < text + len) {
		size_t sl = (size_t)(text + len - rb - 2);
		char sub[128];

		if (rb[1] != '.' || sl == 0 || sl >= sizeof(sub))
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "Bad text after ']' in \"%s\".", esc);
		memcpy(sub, rb + 2, sl);
		sub[sl] = '\0';
		if ((out->filter_sub = schema_sub_find(out->ref.attr, sub)) ==
		    NULL)
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "%s has no sub-attribute %s.", out->ref.attr->name,
			    sub);
	}
	if ((e = filter_parse(lb + 1, (size_t)(rb - lb - 1), &out->filter,
	    err)) != SCIM_OK)
		return e;
	memset(&vp, 0, sizeof(vp));
	vp.op = FILTER_VALUEPATH;
	vp.path.urn = out->ref.is_ext ? (char *)out->ref.schema->urn : NULL;
	vp.path.attr = (char *)out->ref.attr->name;
	vp.left = out->filter;
	if ((e = filter_check(&vp, t, err)) != SCIM_OK) {
		patch_path_clear(out);
		return e;
	}
	return SCIM_OK;
}

/* ---- applying ------------------------------------------------------------ */

struct ctx {
	enum rtype			 t;
	json_t				*res;
	const struct patch_hooks	*hooks;
	struct scim_error		*err;
};

/* The object holding ref's attribute; created for writes when absent. */
static json_t *
container(struct ctx *c, const struct attr_ref *ref, bool create)
{
	json_t *o;

	if (!ref->is_ext)
		return c->res;
	if ((o = json_object_get(c->res, ref->schema->urn)) != NULL &&
	    json_is_object(o))
		return o;
	if (!create)
		return NULL;
	o = json_object();
	json_object_set_new(c->res, ref->schema->urn, o);
	return o;
}

/* Whether element el of attribute ref matches the value filter f. */
static bool
element_matches(struct ctx *c, const struct attr_ref *ref,
    const struct filter_node *f, json_t *el)
{
	struct filter_node vp;
	json_t *fake;
	bool r;

	memset(&vp, 0, sizeof(vp));
	vp.op = FILTER_VALUEPATH;
	vp.path.attr = (char *)ref->attr->name;
	vp.path.urn = ref->is_ext ? (char *)ref->schema->urn : NULL;
	vp.left = (struct filter_node *)f;
	if (ref->is_ext)
		fake = json_pack("{s:{s:[O]}}", ref->schema->urn,
		    ref->attr->name, el);
	else
		fake = json_pack("{s:[O]}", ref->attr->name, el);
	r = fake != NULL && filter_match(&vp, c->t, fake);
	json_decref(fake);
	return r;
}

/* Builds an element from the equality terms of f (for a write to
 * attr[type eq "work"].sub that matched nothing: Entra). */
static void
element_from_filter(const struct filter_node *f, json_t *el)
{
	if (f == NULL)
		return;
	if (f->op == FILTER_AND) {
		element_from_filter(f->left, el);
		element_from_filter(f->right, el);
	} else if (f->op == FILTER_EQ && f->path.sub == NULL &&
	    f->path.urn == NULL && f->value != NULL && !json_is_null(f->value))
		json_object_set(el, f->path.attr, f->value);
}

/* Whether f is only equalities joined by and, so that an element built
 * from it (element_from_filter) would match it. */
static bool
filter_all_eq(const struct filter_node *f)
{
	if (f == NULL)
		return false;
	if (f->op == FILTER_AND)
		return filter_all_eq(f->left) && filter_all_eq(f->right);
	return f->op == FILTER_EQ && f->path.sub == NULL &&
	    f->path.urn == NULL && f->value != NULL && !json_is_null(f->value);
}

/* Clears primary on every element of arr except keep. */
static void
single_primary(json_t *arr, const json_t *keep)
{
	json_t *el;
	size_t i;

	json_array_foreach(arr, i, el)
		if (el != keep && json_is_true(json_object_get(el, "primary")))
			json_object_del(el, "primary");
}

/* After new elements were written into arr: if one says primary, it is
 * the only one. */
static void
fix_primary(json_t *arr, const json_t *added)
{
	json_t *el;
	size_t i;

	if (json_is_object(added)) {
		if (json_is_true(json_object_get(added, "primary")))
			single_primary(arr, added);
		return;
	}
	json_array_foreach(added, i, el)
		if (json_is_object(el) &&
		    json_is_true(json_object_get(el, "primary"))) {
			single_primary(arr, el);
			return;
		}
}

/* Checks that op may touch attribute a at all. */
static enum scim_err
check_mutability(struct ctx *c, enum patch_opcode op,
    const struct attr_ref *ref,
    const json_t *value)
{
	const struct schema_attr *a = ref->sub ? ref->sub : ref->attr;
	json_t *cur;

	if (a == NULL)
		return SCIM_OK;
	if (ref->attr->mutability == MUT_READONLY ||
	    a->mutability == MUT_READONLY) {
		/* Okta's rename repeats the resource's own id. */
		if (strcmp(ref->attr->name, "id") == 0 && ref->sub == NULL &&
		    op != PATCH_REMOVE && json_equal(value,
		    json_object_get(c->res, "id")))
			return SCIM_OK;
		return err_set(c->err, SCIM_ERR_MUTABILITY,
		    "%s is readOnly.", ref->attr->name);
	}
	if (a->mutability == MUT_IMMUTABLE) {
		cur = schema_value_get(c->res, ref);
		if (cur != NULL && !json_is_null(cur) &&
		    (op == PATCH_REMOVE || !json_equal(cur, value)))
			return err_set(c->err, SCIM_ERR_MUTABILITY,
			    "%s is immutable.", a->name);
	}
	if (op == PATCH_REMOVE && ref->sub == NULL && ref->attr->required)
		return err_set(c->err, SCIM_ERR_MUTABILITY,
		    "%s is required and cannot be removed.", ref->attr->name);
	return SCIM_OK;
}

/* Merges the members of object value into object dst. */
static void
merge_object(json_t *dst, const json_t *value)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)value, k, v) {
		if (json_is_null(v))
			json_object_del(dst, k);
		else
			json_object_set(dst, k, v);
	}
}

/* Removes from arr the elements equal to (or with the same "value" as)
 * the elements of value. */
static void
remove_listed(json_t *arr, const json_t *value)
{
	const json_t *w, *wv;
	json_t *el;
	size_t i, j;

	if (json_is_object(value) || !json_is_array(value)) {
		json_t *one = json_pack("[O]", value);

		remove_listed(arr, one);
		json_decref(one);
		return;
	}
	json_array_foreach(value, j, w) {
		wv = json_is_object(w) ? json_object_get(w, "value") : w;
		for (i = 0; i < json_array_size(arr); ) {
			el = json_array_get(arr, i);
			(void)work_spend(1);
			if (json_equal(el, w) || (wv != NULL &&
			    json_equal(json_object_get(el, "value"), wv)))
				json_array_remove(arr, i);
			else
				i++;
		}
	}
}

/* A boolean given as true/false or as Entra's "True"/"False": 1, 0,
 * or -1 for anything else. */
static int
as_boolean(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
		return 1;
	if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
		return 0;
	return -1;
}

/* Whether simple values x and y of attribute a are equal: per a's
 * caseExact (schema_value_equal), booleans in either spelling. */
static bool
same_simple(const struct schema_attr *a, const json_t *x, const json_t *y)
{
	if (a != NULL && a->type == AT_BOOLEAN && as_boolean(x) >= 0)
		return as_boolean(x) == as_boolean(y);
	return schema_value_equal(a, x, y);
}

/*
 * Whether the value `have` of multi-valued attribute a already holds
 * what `want` says (RFC 7644 3.5.2.1: "If the target location already
 * contains the value specified, no changes SHOULD be made"): for a
 * complex value, the same set of sub-attributes (null members count as
 * absent), each equal under its own caseExact; for a simple value,
 * equal under a's.  So {"value":"A@x.org","primary":true} is already
 * there in an element {"value":"a@x.org","primary":true}, and not in
 * {"value":"a@x.org"} or {"value":"a@x.org","type":"work",...}.
 */
static bool
already_there(const struct schema_attr *a, const json_t *have,
    const json_t *want)
{
	const char *k;
	json_t *wv, *hv;
	size_t nw = 0, nh = 0;

	if (a->type != AT_COMPLEX)
		return same_simple(a, have, want);
	if (!json_is_object(have) || !json_is_object(want))
		return false;
	json_object_foreach((json_t *)have, k, hv)
		if (!json_is_null(hv))
			nh++;
	json_object_foreach((json_t *)want, k, wv) {
		if (json_is_null(wv))
			continue;
		nw++;
		if ((hv = get_ci(have, k, NULL)) == NULL || json_is_null(hv) ||
		    !same_simple(schema_sub_find(a, k), hv, wv))
			return false;
	}
	return nw == nh;
}

/* Applies one operation at a resolved path (no filter). */
static enum scim_err
apply_plain(struct ctx *c, enum patch_opcode op, const struct attr_ref *ref,
    json_t *value)
{
	const struct schema_attr *a = ref->attr;
	json_t *box, *cur, *el, *arr, *primary;
	enum scim_err e;
	size_t i;

	if (value != NULL && json_is_null(value) && op != PATCH_REMOVE)
		op = PATCH_REMOVE;	/* null: unassigned (RFC 7643 2.5) */
	if ((e = check_mutability(c, op, ref, value)) != SCIM_OK)
		return e;
	if (strcmp(a->name, "id") == 0 && op != PATCH_REMOVE)
		return SCIM_OK;	/* the same id, accepted above */
	box = container(c, ref, op != PATCH_REMOVE);
	if (box == NULL)
		return SCIM_OK;
	cur = json_object_get(box, a->name);

	if (op == PATCH_REMOVE) {
		if (ref->sub != NULL) {
			if (json_is_object(cur))
				json_object_del(cur, ref->sub->name);
			json_array_foreach(cur, i, el)
				json_object_del(el, ref->sub->name);
			return SCIM_OK;
		}
		if (a->multi_valued && value != NULL && json_is_array(cur)) {
			remove_listed(cur, value);
			if (json_array_size(cur) == 0)
				json_object_del(box, a->name);
			return SCIM_OK;
		}
		json_object_del(box, a->name);
		return SCIM_OK;
	}
	if (value == NULL)
		return err_set(c->err, SCIM_ERR_INVALID_VALUE,
		    "%s needs a value.", op == PATCH_ADD ? "add" : "replace");

	if (ref->sub != NULL) {
		if (a->multi_valued) {
			if (op == PATCH_ADD || !json_is_array(cur))
				return err_set(c->err, SCIM_ERR_INVALID_PATH,
				    "Use %s[filter].%s to change one value.",
				    a->name, ref->sub->name);
			json_array_foreach(cur, i, el)
				json_object_set(el, ref->sub->name, value);
			return SCIM_OK;
		}
		if (!json_is_object(cur)) {
			cur = json_object();
			json_object_set_new(box, a->name, cur);
		}
		json_object_set(cur, ref->sub->name, value);
		return SCIM_OK;
	}
	if (a->multi_valued) {
		if (json_is_array(value))
			json_incref(value);
		else
			value = json_pack("[O]", value);
		if (value == NULL)
			return err_set(c->err, SCIM_ERR_NOMEM, NULL);
		if (op == PATCH_REPLACE || !json_is_array(cur)) {
			json_object_set(box, a->name, value);
			fix_primary(value, value);
			json_decref(value);
			return SCIM_OK;
		}
		if (json_array_size(cur) + json_array_size(value) >
		    LIMIT_MULTI_VALUES) {
			json_decref(value);
			return err_set(c->err, SCIM_ERR_INVALID_VALUE,
			    "%s would have more than %d values.", a->name,
			    LIMIT_MULTI_VALUES);
		}
		/* Values already there change nothing (not even the other
		 * elements' primary); a new primary one clears the others. */
		arr = cur;
		primary = NULL;
		json_array_foreach(value, i, el) {
			size_t k;
			json_t *x;
			bool there = false;

			json_array_foreach(arr, k, x)
				if (already_there(a, x, el)) {
					there = true;
					break;
				}
			if (there)
				continue;
			if (json_array_append(arr, el) != 0) {
				json_decref(value);
				return err_set(c->err, SCIM_ERR_NOMEM, NULL);
			}
			if (primary == NULL && json_is_object(el) &&
			    as_boolean(json_object_get(el, "primary")) == 1)
				primary = el;
		}
		if (primary != NULL)
			single_primary(arr, primary);
		json_decref(value);
		return SCIM_OK;
	}
	if (a->type == AT_COMPLEX && json_is_object(value) &&
	    json_is_object(cur)) {
		merge_object(cur, value);
		return SCIM_OK;
	}
	json_object_set(box, a->name, value);
	return SCIM_OK;
}

/* Applies one operation at attr[filter] or attr[filter].sub. */
static enum scim_err
apply_filtered(struct ctx *c, enum patch_opcode op, const struct patch_path *pp,
    json_t *value)
{
	const struct attr_ref *ref = &pp->ref;
	struct attr_ref whole = *ref;
	json_t *box, *cur, *el;
	size_t i, matched = 0;
	enum scim_err e;

	whole.sub = pp->filter_sub;
	if ((e = check_mutability(c, op, &whole, value)) != SCIM_OK)
		return e;
	box = container(c, ref, op != PATCH_REMOVE);
	cur = box ? json_object_get(box, ref->attr->name) : NULL;
	if (json_is_object(cur) && !ref->attr->multi_valued) {
		/* A single complex attribute with a filter: itself or
		 * nothing. */
		if (!element_matches(c, ref, pp->filter, cur))
			cur = NULL;
	}
	if (op == PATCH_REMOVE) {
		if (!json_is_array(cur))
			return SCIM_OK;
		for (i = 0; i < json_array_size(cur); ) {
			el = json_array_get(cur, i);
			if (!element_matches(c, ref, pp->filter, el)) {
				i++;
				continue;
			}
			if (pp->filter_sub != NULL) {
				json_object_del(el, pp->filter_sub->name);
				i++;
			} else
				json_array_remove(cur, i);
		}
		if (json_array_size(cur) == 0)
			json_object_del(box, ref->attr->name);
		return SCIM_OK;
	}
	if (value == NULL)
		return err_set(c->err, SCIM_ERR_INVALID_VALUE,
		    "The operation needs a value.");
	if (pp->filter_sub == NULL && !json_is_object(value))
		return err_set(c->err, SCIM_ERR_INVALID_VALUE,
		    "The value for %s[...] must be an object.",
		    ref->attr->name);
	json_array_foreach(cur, i, el) {
		if (!json_is_object(el) ||
		    !element_matches(c, ref, pp->filter, el))
			continue;
		matched++;
		if (pp->filter_sub != NULL)
			json_object_set(el, pp->filter_sub->name, value);
		else
			merge_object(el, value);
		fix_primary(cur, el);
	}
	if (matched > 0)
		return SCIM_OK;
	/* No match.  When the filter describes an element -- equalities of
	 * sub-attributes joined by and -- add and replace create it from
	 * those equalities: Entra sends both add and replace of
	 * emails[type eq "work"].value to a user who has no work email
	 * yet, and expects it created.  Any other filter (or, not, ne, pr,
	 * co, sw, ew, ordering) describes no element to create: no target
	 * (RFC 7644 3.5.2.3), for add as for replace. */
	if (!ref->attr->multi_valued || !filter_all_eq(pp->filter))
		return err_set(c->err, SCIM_ERR_NO_TARGET,
		    "No value of %s matches the filter, and the filter "
		    "describes no value to create (only sub-attribute eq "
		    "terms joined by and do).", ref->attr->name);
	if ((el = json_object()) == NULL)
		return err_set(c->err, SCIM_ERR_NOMEM, NULL);
	element_from_filter(pp->filter, el);
	if (pp->filter_sub != NULL)
		json_object_set(el, pp->filter_sub->name, value);
	else
		merge_object(el, value);
	if (!json_is_array(cur)) {
		cur = json_array();
		json_object_set_new(box, ref->attr->name, cur);
	}
	json_array_append_new(cur, el);
	fix_primary(cur, el);
	return SCIM_OK;
}

/* Whether ref names the attribute handed to the hook. */
static bool
is_external(const struct ctx *c, const struct attr_ref *ref)
{
	return c->hooks != NULL && c->hooks->attr != NULL &&
	    ref->attr != NULL &&
	    !ref->is_ext && strcasecmp(ref->attr->name, c->hooks->attr) == 0;
}

static enum scim_err apply_object(struct ctx *c, enum patch_opcode op,
    const struct schema *ext, json_t *value);

/* One operation with a path. */
static enum scim_err
apply_path(struct ctx *c, enum patch_opcode op, const char *path, size_t len,
    json_t *value)
{
	struct patch_path pp;
	enum scim_err e;

	if ((e = patch_path_parse(c->t, path, len, &pp, c->err)) != SCIM_OK)
		return e;
	if (is_external(c, &pp.ref)) {
		if (pp.ref.sub != NULL || pp.filter_sub != NULL)
			e = err_set(c->err, SCIM_ERR_INVALID_PATH,
			    "Change %s with whole member values.",
			    c->hooks->attr);
		else
			e = c->hooks->external(c->hooks->ctx, op, pp.filter,
			    value, c->err);
	} else if (pp.ref.attr == NULL) {
		/* An extension URN alone: its attributes in an object. */
		if (op == PATCH_REMOVE && value == NULL) {
			json_object_del(c->res, pp.ref.schema->urn);
			e = SCIM_OK;
		} else if (!json_is_object(value))
			e = err_set(c->err, SCIM_ERR_INVALID_VALUE,
			    "The value for %s must be an object.",
			    pp.ref.schema->urn);
		else
			e = apply_object(c, op, pp.ref.schema, value);
	} else if (pp.filter != NULL)
		e = apply_filtered(c, op, &pp, value);
	else
		e = apply_plain(c, op, &pp.ref, value);
	patch_path_clear(&pp);
	return e;
}

/*
 * A no-path add or replace: each member of value is an attribute (a
 * name, a dotted name, a URN-qualified name, or an extension URN with an
 * object).  ext, when not NULL, resolves names in that extension.
 */
static enum scim_err
apply_object(struct ctx *c, enum patch_opcode op, const struct schema *ext,
    json_t *value)
{
	struct attr_ref ref;
	const struct schema *s;
	const char *key;
	json_t *v;
	char name[LIMIT_ATTR_PATH_BYTES];
	enum scim_err e;

	json_object_foreach(value, key, v) {
		if (ext == NULL && strcasecmp(key, "schemas") == 0)
			continue;
		if (ext == NULL && strcasecmp(key, "meta") == 0)
			continue;
		if (ext == NULL && (s = schema_find(key)) != NULL &&
		    schema_allowed(c->t, s) &&
		    s != schema_resource_type(c->t)->core) {
			if (json_is_null(v)) {
				json_object_del(c->res, s->urn);
				continue;
			}
			if (!json_is_object(v))
				return err_set(c->err, SCIM_ERR_INVALID_VALUE,
				    "The value for %s must be an object.",
				    s->urn);
			if ((e = apply_object(c, op, s, v)) != SCIM_OK)
				return e;
			continue;
		}
		/* A key with a value filter (Entra's `emails[type eq
		 * "work"].value`) is a whole path: apply it as one. */
		if (ext == NULL && strchr(key, '[') != NULL) {
			if ((e = apply_path(c, op, key, strlen(key), v)) !=
			    SCIM_OK)
				return e;
			continue;
		}
		if (ext != NULL) {
			if ((size_t)snprintf(name, sizeof(name), "%s:%s",
			    ext->urn, key) >= sizeof(name))
				continue;
		} else if ((size_t)snprintf(name, sizeof(name), "%s", key) >=
		    sizeof(name))
			continue;
		if (schema_resolve(c->t, name, strlen(name), &ref) != SCIM_OK ||
		    ref.attr == NULL)
			continue;	/* unknown attributes are ignored */
		if (is_external(c, &ref)) {
			if ((e = c->hooks->external(c->hooks->ctx, op, NULL, v,
			    c->err)) != SCIM_OK)
				return e;
			continue;
		}
		if ((e = apply_plain(c, op, &ref, v)) != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* Reads the op name in any case. */
static bool
opcode(const char *s, enum patch_opcode *op)
{
	if (strcasecmp(s, "add") == 0)
		*op = PATCH_ADD;
	else if (strcasecmp(s, "remove") == 0)
		*op = PATCH_REMOVE;
	else if (strcasecmp(s, "replace") == 0)
		*op = PATCH_REPLACE;
	else
		return false;
	return true;
}

/* Applies every operation to resource in order; the first failure stops
 * and is returned, and the caller drops the copy (all or nothing). */
enum scim_err
patch_apply(enum rtype t, json_t *resource, const json_t *body,
    const struct patch_hooks *hooks, struct scim_error *err)
{
	struct ctx c = { t, resource, hooks, err };
	const json_t *schemas, *ops, *o, *opv, *pathv, *x;
	json_t *value;
	enum patch_opcode op;
	enum scim_err e;
	bool has_schema = false;
	size_t i;

	schemas = get_ci(body, "schemas", NULL);
	json_array_foreach(schemas, i, x)
		if (json_is_string(x) && strcasecmp(json_string_value(x),
		    SCHEMA_URN_PATCHOP) == 0)
			has_schema = true;
	if (!has_schema)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "A PATCH body must list schema %s.", SCHEMA_URN_PATCHOP);
	ops = get_ci(body, "Operations", NULL);
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "Operations must be a non-empty array.");
	if (json_array_size(ops) > LIMIT_PATCH_OPS)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "At most %d operations per PATCH.", LIMIT_PATCH_OPS);
	json_array_foreach(ops, i, o) {
		if (!json_is_object(o))
			return err_set(err, SCIM_ERR_INVALID_SYNTAX,
			    "Operation %zu is not an object.", i + 1);
		opv = get_ci(o, "op", NULL);
		if (!json_is_string(opv) || !opcode(json_string_value(opv),
		    &op))
			return err_set(err, SCIM_ERR_INVALID_SYNTAX,
			    "Operation %zu: op must be add, remove or replace.",
			    i + 1);
		pathv = get_ci(o, "path", NULL);
		value = get_ci(o, "value", NULL);
		if (pathv != NULL && !json_is_string(pathv))
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "Operation %zu: path must be a string.", i + 1);
		if (pathv != NULL && json_string_length(pathv) > 0)
			e = apply_path(&c, op, json_string_value(pathv),
			    json_string_length(pathv), value);
		else if (op == PATCH_REMOVE)
			e = err_set(err, SCIM_ERR_NO_TARGET,
			    "Operation %zu: remove needs a path.", i + 1);
		else if (!json_is_object(value))
			e = err_set(err, SCIM_ERR_INVALID_VALUE,
			    "Operation %zu: without a path the value must be "
			    "an object.", i + 1);
		else
			e = apply_object(&c, op, NULL, value);
		if (e == SCIM_OK)
			e = work_check(err);	/* its filters' budget */
		if (e != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}
