/*
 * plan.c: the query planner (plan.h): filter AST -> index lookups or a
 * scan, for one resource type, without a store.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonx.h"
#include "plan.h"
#include "rtype.h"

/* Whether path p names attr (and sub) of the core schema of t. */
static bool
path_is(const struct filter_path *p, enum rtype t, const char *attr,
    const char *sub)
{
	if (p->urn != NULL &&
	    strcasecmp(p->urn, schema_resource_type(t)->core->urn) != 0)
		return false;
	if (strcasecmp(p->attr, attr) != 0)
		return false;
	if (sub == NULL)
		return p->sub == NULL;
	return p->sub != NULL && strcasecmp(p->sub, sub) == 0;
}

/* The lower-case form of id value v into id, or "" when v is no id. */
static void
id_key(const json_t *v, char id[STORE_ID_LEN + 1])
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), i;

	id[0] = '\0';
	if (n != STORE_ID_LEN || !store_id_valid(s, n))
		return;
	for (i = 0; i < n; i++)
		id[i] = (s[i] >= 'A' && s[i] <= 'F') ?
		    (char)(s[i] - 'A' + 'a') : s[i];
	id[n] = '\0';
}

/*
 * Appends the lookup (how, idx, value, unique) to pl; false when pl
 * holds LIMIT_PLAN_LOOKUPS already.  idx is unused for PLAN_ID, unique
 * only for PLAN_UNIQUE.
 */
static bool
plan_add(struct plan *pl, enum plan_how how, enum store_index idx,
    const json_t *value, const struct rtype_unique *unique)
{
	struct plan_lookup *l;

	if (pl->n == LIMIT_PLAN_LOOKUPS)
		return false;
	l = &pl->l[pl->n++];
	l->how = how;
	l->idx = idx;
	l->value = value;
	l->unique = unique;
	if (how == PLAN_ID)
		id_key(value, l->id);
	return true;
}

/*
 * The index of type t (its table, rtype.c) over the attribute path p
 * names, one `sw` may use when prefix: true and *idx, or false.  The
 * type's unique index is not one (its keys need the attribute's rule).
 */
static bool
index_for(const struct filter_path *p, enum rtype t, bool prefix,
    enum store_index *idx)
{
	const struct resource_type *r = rtype_get(t);
	size_t i;

	for (i = 0; i < r->nindexes; i++)
		if (r->indexes[i].attr != NULL &&
		    (!prefix || r->indexes[i].prefix) && path_is(p, t,
		    r->indexes[i].attr, r->indexes[i].sub)) {
			*idx = r->indexes[i].idx;
			return true;
		}
	return false;
}

/*
 * The unique attribute of the schemas (rtype.h) that path p names, as
 * the filter resolves it (core first, then extensions), or NULL.
 */
static const struct rtype_unique *
unique_for(const struct filter_path *p, enum rtype t)
{
	const struct resource_type *r = rtype_get(t);
	const struct rtype_unique *u;
	struct attr_ref ref;
	char text[LIMIT_UNIQUE_PATH_BYTES + 1];
	int n;
	size_t i;

	if (r->nunique == 0)
		return NULL;
	n = snprintf(text, sizeof(text), "%s%s%s%s%s", p->urn ? p->urn : "",
	    p->urn ? ":" : "", p->attr, p->sub ? "." : "", p->sub ? p->sub :
	    "");
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    schema_resolve(t, text, (size_t)n, &ref) != SCIM_OK ||
	    ref.attr == NULL)
		return NULL;
	for (i = 0; i < r->nunique; i++) {
		u = &r->unique[i];
		if ((u->schema == NULL) == ref.is_ext || (u->schema != NULL &&
		    strcasecmp(u->schema, ref.schema->urn) != 0) ||
		    strcasecmp(u->attr, ref.attr->name) != 0 ||
		    (u->sub == NULL) != (ref.sub == NULL) || (u->sub != NULL &&
		    strcasecmp(u->sub, ref.sub->name) != 0))
			continue;
		return u;
	}
	return NULL;
}

/* The `SUB eq value` the inner filter of value path n requires (alone
 * or under and), or NULL. */
static const struct filter_node *
valuepath_eq(const struct filter_node *n, const char *sub)
{
	const struct filter_node *in = n->left;

	while (in != NULL && in->op == FILTER_AND &&
	    !(in->left->op == FILTER_EQ &&
	    strcasecmp(in->left->path.attr, sub) == 0))
		in = in->right;
	if (in != NULL && in->op == FILTER_AND)
		in = in->left;
	if (in == NULL || in->op != FILTER_EQ ||
	    strcasecmp(in->path.attr, sub) != 0 || json_is_null(in->value))
		return NULL;
	return in;
}

/*
 * For a value path ATTR[SUB eq "x" and ...] over an index of ATTR.SUB
 * (a fixed one, or the unique index for a unique sub-attribute of the
 * schemas): adds its lookup to pl and true, else false.
 */
static bool
valuepath_plan(const struct filter_node *n, enum rtype t, struct plan *pl)
{
	const struct resource_type *r = rtype_get(t);
	const struct filter_node *in;
	struct filter_path p;
	size_t i;

	for (i = 0; i < r->nindexes; i++) {
		if (r->indexes[i].attr == NULL || r->indexes[i].sub == NULL ||
		    !path_is(&n->path, t, r->indexes[i].attr, NULL) ||
		    (in = valuepath_eq(n, r->indexes[i].sub)) == NULL ||
		    !json_is_string(in->value))
			continue;
		return plan_add(pl, PLAN_KEY, r->indexes[i].idx, in->value,
		    NULL);
	}
	for (i = 0; i < r->nunique; i++) {
		if (r->unique[i].sub == NULL ||
		    (in = valuepath_eq(n, r->unique[i].sub)) == NULL)
			continue;
		p = n->path;
		p.sub = (char *)r->unique[i].sub;
		if (unique_for(&p, t) != &r->unique[i])
			continue;
		return plan_add(pl, PLAN_UNIQUE, r->unique_index, in->value,
		    &r->unique[i]);
	}
	return false;
}

/*
 * Adds to pl the index lookups that narrow n; false (pl as it was) when a
 * scan is needed.  and: either side's lookups suffice; or: both sides
 * must be indexed, and the union of their lookups is the candidate set.
 */
static bool
plan_filter(const struct filter_node *n, enum rtype t, struct plan *pl)
{
	const struct rtype_unique *u;
	enum store_index idx;
	size_t mark = pl->n;

	if (n == NULL)
		return false;
	switch (n->op) {
	case FILTER_AND:
		if (plan_filter(n->left, t, pl))
			return true;
		pl->n = mark;
		if (plan_filter(n->right, t, pl))
			return true;
		pl->n = mark;
		return false;
	case FILTER_OR:
		if (plan_filter(n->left, t, pl) && plan_filter(n->right, t, pl))
			return true;
		pl->n = mark;
		return false;
	case FILTER_VALUEPATH:
		/* emails[value eq "x"], or with "and" inside. */
		return valuepath_plan(n, t, pl);
	case FILTER_SW:
		if (!json_is_string(n->value) ||
		    !index_for(&n->path, t, true, &idx))
			return false;
		return plan_add(pl, PLAN_PREFIX, idx, n->value, NULL);
	case FILTER_EQ:
		break;
	default:
		return false;
	}
	if (json_is_null(n->value))
		return false;
	if (json_is_string(n->value) && path_is(&n->path, t, "id", NULL) &&
	    n->path.urn == NULL)
		return plan_add(pl, PLAN_ID, IDX__COUNT, n->value, NULL);
	if (json_is_string(n->value) && index_for(&n->path, t, false, &idx))
		return plan_add(pl, PLAN_KEY, idx, n->value, NULL);
	/* The schemas' unique attributes: strings, numbers... */
	if ((u = unique_for(&n->path, t)) == NULL)
		return false;
	return plan_add(pl, PLAN_UNIQUE, rtype_get(t)->unique_index,
	    n->value, u);
}

/* Whether n refers to Group.members or User.groups. */
static bool
needs_links(const struct filter_node *n)
{
	if (n == NULL)
		return false;
	if (n->path.attr != NULL && (strcasecmp(n->path.attr, "members") == 0 ||
	    strcasecmp(n->path.attr, "groups") == 0))
		return true;
	return n->op != FILTER_VALUEPATH &&
	    (needs_links(n->left) || needs_links(n->right));
}

/* The plan for f over t (plan.h). */
void
plan_make(enum rtype t, const struct filter_node *f, struct plan *pl)
{
	pl->n = 0;
	pl->exact = false;
	pl->reorder = false;
	pl->links = needs_links(f);
	if (!plan_filter(f, t, pl)) {
		pl->n = 0;
		return;
	}
	pl->exact = pl->n == 1 && pl->l[0].how == PLAN_KEY &&
	    f->op == FILTER_EQ && f->value == pl->l[0].value;
	pl->reorder = pl->n > 1 || pl->l[0].how == PLAN_PREFIX;
}

/* Appends lookup l as plan_print() shows it. */
static enum scim_err
print_lookup(enum rtype t, const struct plan_lookup *l, struct buf *b)
{
	const char *v = json_string_value(l->value);
	size_t n = json_string_length(l->value), klen;
	char key[LIMIT_INDEX_KEY_BYTES + 1], *text;
	json_t *j;
	enum scim_err e;

	if (l->how == PLAN_ID)
		return buf_printf(b, "id %s", l->id[0] != '\0' ? l->id :
		    "none (not an id)");
	if ((e = buf_printf(b, "%s%s ", store_index_name(l->idx),
	    l->how == PLAN_PREFIX ? " prefix" : "")) != SCIM_OK ||
	    (l->how == PLAN_UNIQUE &&
	    (e = buf_printf(b, "%s ", l->unique->path)) != SCIM_OK))
		return e;
	if (l->how == PLAN_UNIQUE)
		e = store_unique_key(t, l->unique, l->value, key, sizeof(key),
		    &klen);
	else
		e = store_index_key(l->idx, v, n, key, sizeof(key), &klen);
	if (e == SCIM_ERR_NOMEM)
		return e;
	if (e != SCIM_OK)
		return buf_puts(b, "no key");
	j = json_stringn(key, klen);
	text = j != NULL ? jsonx_dumps(j) : NULL;
	json_decref(j);
	if (text == NULL)
		return SCIM_ERR_NOMEM;
	e = buf_puts(b, text);
	free(text);
	return e;
}

/* One line for pl (plan.h). */
enum scim_err
plan_print(enum rtype t, const struct plan *pl, struct buf *b)
{
	enum scim_err e;
	size_t i;

	if (pl->n == 0)
		e = buf_printf(b, "scan %s", schema_resource_type(t)->name);
	else
		e = buf_puts(b, pl->n > 1 ? "union " : "");
	for (i = 0; i < pl->n && e == SCIM_OK; i++)
		if ((i == 0 || (e = buf_puts(b, " | ")) == SCIM_OK))
			e = print_lookup(t, &pl->l[i], b);
	if (e == SCIM_OK && pl->reorder)
		e = buf_puts(b, "; sort by id");
	if (e == SCIM_OK)
		e = buf_puts(b, pl->exact ? "; exact" : "; recheck");
	if (e == SCIM_OK && pl->links)
		e = buf_puts(b, " with links");
	return e;
}
