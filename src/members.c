/*
 * members.c: the writes of Group.members (members.h): a member list
 * added with each member checked to exist, and the PATCH engine's hook
 * that adds, replaces and removes members in the store directly.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "members.h"
#include "store.h"
#include "work.h"

/* The id named by a member object {"value": id}, checked to exist. */
static enum scim_err
member_id(struct store_txn *txn, const char *gid, const json_t *m,
    const char **id, struct scim_error *err)
{
	char esc[64];
	enum scim_err e;
	bool user, group = false;

	*id = json_string_value(json_object_get(m, "value"));
	if (*id == NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Each member needs a string \"value\".");
	if (strcasecmp(*id, gid) == 0)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "A group cannot be a member of itself.");
	if ((e = store_exists(txn, RT_USER, *id, &user, err)) != SCIM_OK ||
	    (!user && (e = store_exists(txn, RT_GROUP, *id, &group, err)) !=
	    SCIM_OK))
		return e;
	if (!user && !group) {
		err_escape(esc, sizeof(esc), *id, strlen(*id));
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Member %s is not a known User or Group.", esc);
	}
	return SCIM_OK;
}

/* members.h: each member checked, then added. */
enum scim_err
members_add(struct store_txn *txn, const char *gid, const json_t *members,
    struct scim_error *err)
{
	const json_t *m;
	const char *id;
	enum scim_err e;
	size_t i;

	if (json_is_object(members))
		members = json_pack("[O]", members);
	else
		json_incref((json_t *)members);
	if (members != NULL && !json_is_array(members)) {
		json_decref((json_t *)members);
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "members must be an array of {\"value\": id}.");
	}
	json_array_foreach(members, i, m) {
		if ((e = member_id(txn, gid, m, &id, err)) != SCIM_OK ||
		    (e = store_member_add(txn, gid, id, err)) != SCIM_OK) {
			json_decref((json_t *)members);
			return e;
		}
	}
	json_decref((json_t *)members);
	return SCIM_OK;
}

struct member_match {
	struct store_txn		*txn;
	const struct filter_node	*vp;	/* members[filter] */
	const char			*base_url;
	json_t				*remove;	/* ids matched */
	enum scim_err			 e;	/* first failure */
	struct scim_error		*err;
};

/* Collects the members of a group that the value filter matches. */
static bool
member_match_fn(const char *id, void *vctx)
{
	struct member_match *mm = vctx;
	bool user;
	json_t *g;

	if (!work_spend(1 + STORE_ID_LEN))	/* the budget: stop the walk */
		return false;
	if ((mm->e = store_exists(mm->txn, RT_USER, id, &user, mm->err)) !=
	    SCIM_OK)
		return false;
	g = json_pack("{s:[{s:s, s:s}]}", "members", "value", id, "type",
	    user ? "User" : "Group");
	if (g == NULL || (filter_match(mm->vp, RT_GROUP, g) &&
	    json_array_append_new(mm->remove, json_string(id)) != 0))
		mm->e = err_set(mm->err, SCIM_ERR_NOMEM, NULL);
	json_decref(g);
	return mm->e == SCIM_OK;
}

/*
 * When filter is `value eq "id"`, or such comparisons joined by `or` (the
 * shape Okta and Entra send), appends the ids to out and returns true:
 * the members can then be removed by key, without reading the whole
 * member list.  value is caseExact, so the match is the exact string.
 */
static bool
member_ids_by_value(const struct filter_node *f, json_t *out)
{
	if (f->op == FILTER_OR)
		return member_ids_by_value(f->left, out) &&
		    member_ids_by_value(f->right, out);
	if (f->op != FILTER_EQ || f->path.urn != NULL || f->path.sub != NULL ||
	    strcasecmp(f->path.attr, "value") != 0 || !json_is_string(f->value))
		return false;
	return json_array_append(out, f->value) == 0;
}

/* Removes the members of gid that filter (inside members[...]) matches. */
static enum scim_err
members_remove_matching(struct member_hook *h, const struct filter_node *filter,
    struct scim_error *err)
{
	struct filter_node vp;
	struct member_match mm;
	enum scim_err e = SCIM_OK;
	json_t *v;
	size_t i;

	if ((mm.remove = json_array()) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	/* value eq "id" (or such joined by or): removed by key.  Else the
	 * members are walked and those the filter matches collected. */
	if (!member_ids_by_value(filter, mm.remove)) {
		json_array_clear(mm.remove);
		memset(&vp, 0, sizeof(vp));
		vp.op = FILTER_VALUEPATH;
		vp.path.attr = (char *)"members";
		vp.left = (struct filter_node *)filter;
		mm.txn = h->txn;
		mm.vp = &vp;
		mm.base_url = h->base_url;
		mm.e = SCIM_OK;
		mm.err = err;
		e = store_members(h->txn, h->gid, member_match_fn, &mm, err);
		if (e == SCIM_OK)
			e = mm.e;
		if (e == SCIM_OK)	/* a walk cut short removes nothing */
			e = work_check(err);
	}
	json_array_foreach(mm.remove, i, v)
		if (e == SCIM_OK)
			e = store_member_remove(h->txn, h->gid,
			    json_string_value(v), err);
	json_decref(mm.remove);
	return e;
}

/* members.h: the PATCH engine's callback for Group.members. */
enum scim_err
members_hook(void *ctx, enum patch_opcode op, const struct filter_node *filter,
    json_t *value, struct scim_error *err)
{
	struct member_hook *h = ctx;
	const json_t *m;
	enum scim_err e;
	size_t i;

	switch (op) {
	case PATCH_ADD:
		if (filter != NULL)
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "add takes the path \"members\" without a filter.");
		return members_add(h->txn, h->gid, value, err);
	case PATCH_REPLACE:
		if (filter != NULL &&
		    (e = members_remove_matching(h, filter, err)) != SCIM_OK)
			return e;
		if (filter == NULL &&
		    (e = store_member_clear(h->txn, h->gid, err)) != SCIM_OK)
			return e;
		if (value == NULL || json_is_null(value))
			return SCIM_OK;
		return members_add(h->txn, h->gid, value, err);
	case PATCH_REMOVE:
		if (filter != NULL)
			return members_remove_matching(h, filter, err);
		if (value == NULL || json_is_null(value))
			return store_member_clear(h->txn, h->gid, err);
		/* Entra: remove with path "members" and the members to drop. */
		if (json_is_object(value))
			value = json_pack("[O]", value);
		else
			json_incref(value);
		if (!json_is_array(value)) {
			json_decref(value);
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "members must be an array of {\"value\": id}.");
		}
		e = SCIM_OK;
		json_array_foreach(value, i, m) {
			const char *id = json_string_value(
			    json_object_get(m, "value"));

			if (id == NULL)
				e = err_set(err, SCIM_ERR_INVALID_VALUE,
				    "Each member needs a string \"value\".");
			else
				e = store_member_remove(h->txn, h->gid, id,
				    err);
			if (e != SCIM_OK)
				break;
		}
		json_decref(value);
		return e;
	}
	return err_set(err, SCIM_ERR_INTERNAL, "Unknown PATCH op.");
}
