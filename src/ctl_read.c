/*
 * ctl_read.c: scimctl user|group get|find|list [--json], for people and
 * for scripts (docs/scripts.md).
 *
 * Without --json a resource is printed as stored (docs/storage.md: no
 * memberships, no meta.location).  With --json a user carries "groups"
 * (its direct groups: value, display, type "direct") and a group
 * "members" (value, type "User" or "Group"), inserted before "meta", as
 * SCIM renders them apart from $ref.  One resource per line in both.
 * Exit status: CTL_OK found, CTL_NOT_FOUND, CTL_USAGE, CTL_FAILED (the
 * store failed).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "jsonx.h"

struct show_ctx {
	enum rtype	 type;
	const char	*key;
	bool		 json;		/* with memberships */
	bool		 found;
	bool		 nomem;
	bool		 failed;	/* a store read failed */
	struct store_txn *txn;
};

/* The list being built by add_link(), with the transaction. */
struct links {
	struct store_txn *txn;
	json_t		*list;
	bool		 groups;	/* links are groups (else members) */
	bool		 nomem;
	bool		 failed;	/* a store read failed */
};

/* Appends one link (a group of a user, or a member of a group) to the
 * list (a store_id_fn); false, with l->nomem or l->failed, to stop. */
static bool
add_link(const char *id, void *ctx)
{
	struct links *l = ctx;
	json_t *g = NULL, *o;
	const char *name;

	if (l->groups) {
		enum scim_err e = store_get(l->txn, RT_GROUP, id, &g, NULL);

		if (e != SCIM_OK && e != SCIM_ERR_NOT_FOUND) {
			l->failed = true;
			return false;
		}
		name = json_string_value(json_object_get(g, "displayName"));
		o = json_pack("{s:s, s:s, s:s}", "value", id, "display",
		    name != NULL ? name : "", "type", "direct");
		json_decref(g);
	} else {
		bool user = false;

		if (store_exists(l->txn, RT_USER, id, &user, NULL) != SCIM_OK) {
			l->failed = true;
			return false;
		}
		o = json_pack("{s:s, s:s}", "value", id, "type", user ? "User" :
		    "Group");
	}
	if (o == NULL || json_array_append_new(l->list, o) != 0) {
		l->nomem = true;
		return false;
	}
	return true;
}

/* Prints rec (borrowed: changed) with its memberships, meta last. */
static bool
print_json(struct show_ctx *c, const char *id, json_t *rec)
{
	struct links l = { c->txn, json_array(), c->type == RT_USER, false,
	    false };
	json_t *meta;
	char *text;

	if (l.list == NULL)
		return false;
	if ((l.groups ? store_memberof(c->txn, id, add_link, &l, NULL) :
	    store_members(c->txn, id, add_link, &l, NULL)) != SCIM_OK)
		l.failed = true;
	c->failed = l.failed;
	meta = json_incref(json_object_get(rec, "meta"));
	json_object_del(rec, "meta");
	if (l.nomem || l.failed) {
		json_decref(l.list);
		json_decref(meta);
		return false;
	}
	/* json_object_set_new() takes the reference even when it fails. */
	if (json_object_set_new(rec, l.groups ? "groups" : "members",
	    l.list) != 0) {
		json_decref(meta);
		return false;
	}
	if (meta != NULL && json_object_set_new(rec, "meta", meta) != 0)
		return false;
	if ((text = jsonx_dumps(rec)) == NULL)
		return false;
	puts(text);
	free(text);
	return true;
}

/* Prints resource id as stored or (json) with its links (a
 * store_id_fn); false with c->nomem or c->failed to stop. */
static bool
show_one(const char *id, void *ctx)
{
	struct show_ctx *c = ctx;
	const char *data;
	size_t len;
	json_t *rec;
	enum scim_err e;

	if ((e = store_get_raw(c->txn, c->type, id, &data, &len, NULL)) !=
	    SCIM_OK) {
		c->failed = e != SCIM_ERR_NOT_FOUND;
		return !c->failed;
	}
	c->found = true;
	if (!c->json) {
		fwrite(data, 1, len, stdout);
		putchar('\n');
		return true;
	}
	if ((rec = json_loadb(data, len, 0, NULL)) == NULL ||
	    (!print_json(c, id, rec) && !c->failed))
		c->nomem = true;
	json_decref(rec);
	return !c->nomem && !c->failed;
}

static enum scim_err
show_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct show_ctx *c = ctx;

	c->txn = txn;
	if (c->key == NULL)
		return store_scan(txn, c->type, NULL, show_one, c, err);
	show_one(c->key, c);
	return SCIM_OK;
}

/* user find: the userName index, then the email index. */
static enum scim_err
find_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct show_ctx *c = ctx;
	enum scim_err e;

	c->txn = txn;
	if ((e = store_lookup(txn, IDX_USERNAME, c->key, strlen(c->key),
	    show_one, c, err)) != SCIM_OK || c->found)
		return e;
	return store_lookup(txn, IDX_EMAIL, c->key, strlen(c->key), show_one,
	    c, err);
}

/* ctl.h: user|group get|find|list [--json]. */
int
ctl_show(struct store *s, enum rtype t, int argc, char **argv,
    struct scim_error *err)
{
	struct show_ctx c;
	store_fn fn = show_fn;

	memset(&c, 0, sizeof(c));
	c.type = t;
	if (argc > 0 && strcmp(argv[argc - 1], "--json") == 0) {
		c.json = true;
		argc--;
	}
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		;
	else if (argc == 2 && strcmp(argv[0], "get") == 0)
		c.key = argv[1];
	else if (argc == 2 && t == RT_USER && strcmp(argv[0], "find") == 0) {
		c.key = argv[1];
		fn = find_fn;
	} else
		return CTL_USAGE;
	if (store_read(s, fn, &c, err) != SCIM_OK)
		return CTL_FAILED;
	if (c.failed) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "the store could not be "
		    "read");
		return CTL_FAILED;
	}
	if (c.nomem) {
		err_set(err, SCIM_ERR_NOMEM, "out of memory");
		return CTL_FAILED;
	}
	if (fflush(stdout) != 0) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "cannot write the output");
		return CTL_FAILED;
	}
	if (c.key == NULL || c.found)
		return CTL_OK;
	err_set(err, SCIM_ERR_NOT_FOUND, "no such %s", rtype_get(t)->word);
	return CTL_NOT_FOUND;
}
