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
 * Appends the lookup (how, idx, value) to pl; false when pl holds
 * LIMIT_PLAN_LOOKUPS already.  idx is unused for PLAN_ID.
 */
static bool
plan_add(struct plan *pl, enum plan_how how, enum store_index idx,
    const json_t *value)
{
	struct plan_lookup *l;

	if (pl->n == LIMIT_PLAN_LOOKUPS)
		return false;
	l = &pl->l[pl->n++];
	l->how = how;
	l->idx = idx;
	l->value = value;
	if (how == PLAN_ID)
		id_key(value, l->id);
	return true;
}

/*
 * Adds to pl the index lookups that narrow n; false (pl as it was) when a
 * scan is needed.  and: either side's lookups suffice; or: both sides
 * must be indexed, and the union of their lookups is the candidate set.
 */
static bool
plan_filter(const struct filter_node *n, enum rtype t, struct plan *pl)
{
	const struct filter_node *in;
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
		if (t != RT_USER || !path_is(&n->path, t, "emails", NULL))
			return false;
		in = n->left;
		while (in != NULL && in->op == FILTER_AND &&
		    !(in->left->op == FILTER_EQ &&
		    strcasecmp(in->left->path.attr, "value") == 0))
			in = in->right;
		if (in != NULL && in->op == FILTER_AND)
			in = in->left;
		if (in == NULL || in->op != FILTER_EQ ||
		    strcasecmp(in->path.attr, "value") != 0 ||
		    !json_is_string(in->value))
			return false;
		return plan_add(pl, PLAN_KEY, IDX_EMAIL, in->value);
	case FILTER_SW:
		if (t != RT_USER || !path_is(&n->path, t, "userName", NULL) ||
		    !json_is_string(n->value))
			return false;
		return plan_add(pl, PLAN_PREFIX, IDX_USERNAME, n->value);
	case FILTER_EQ:
		break;
	default:
		return false;
	}
	if (!json_is_string(n->value))
		return false;
	if (path_is(&n->path, t, "id", NULL) && n->path.urn == NULL)
		return plan_add(pl, PLAN_ID, IDX__COUNT, n->value);
	if (path_is(&n->path, t, "externalId", NULL))
		idx = t == RT_USER ? IDX_USER_EXTID : IDX_GROUP_EXTID;
	else if (t == RT_USER && path_is(&n->path, t, "userName", NULL))
		idx = IDX_USERNAME;
	else if (t == RT_USER && path_is(&n->path, t, "emails", "value"))
		idx = IDX_EMAIL;
	else if (t == RT_GROUP && path_is(&n->path, t, "displayName", NULL))
		idx = IDX_GROUP_NAME;
	else
		return false;
	return plan_add(pl, PLAN_KEY, idx, n->value);
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
print_lookup(const struct plan_lookup *l, struct buf *b)
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
	    l->how == PLAN_PREFIX ? " prefix" : "")) != SCIM_OK)
		return e;
	if ((e = store_index_key(l->idx, v, n, key, sizeof(key), &klen)) ==
	    SCIM_ERR_NOMEM)
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
			e = print_lookup(&pl->l[i], b);
	if (e == SCIM_OK && pl->reorder)
		e = buf_puts(b, "; sort by id");
	if (e == SCIM_OK)
		e = buf_puts(b, pl->exact ? "; exact" : "; recheck");
	if (e == SCIM_OK && pl->links)
		e = buf_puts(b, " with links");
	return e;
}
