/*
 * t_scimstore.c: the read API (scimstore.h) over a store written by
 * scimctl's functions, linked only against libscimstore.a.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "scimstore.h"
#include "store.h"
#include "tap.h"

static const char *uid = "2819c223-7f76-453a-919d-413861904646";
static const char *gid = "e9e30dba-f08f-4109-8486-d5c6a331660a";

static enum scim_err
fill(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	json_t *u, *g;
	enum scim_err e;

	(void)ctx;
	u = json_pack("{s:[s], s:s, s:s, s:[{s:s}], s:b}", "schemas",
	    SCHEMA_URN_USER, "id", uid, "userName", "BJensen", "emails",
	    "value", "Babs@Example.com", "active", 0);
	g = json_pack("{s:[s], s:s, s:s}", "schemas", SCHEMA_URN_GROUP, "id",
	    gid, "displayName", "Tour Guides");
	e = store_put(txn, RT_USER, NULL, u, err);
	if (e == SCIM_OK)
		e = store_put(txn, RT_GROUP, NULL, g, err);
	if (e == SCIM_OK)
		e = store_member_add(txn, gid, uid, err);
	if (e == SCIM_OK)
		e = store_audit(txn, "test", "patch", "User", uid, NULL, 0, err);
	json_decref(u);
	json_decref(g);
	return e;
}

static int
count(const char *s, void *ctx)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

static int
seen_id(const char *id, void *ctx)
{
	strcpy(ctx, id);
	return 0;
}

static int
change(unsigned long long seq, const char *json, void *ctx)
{
	(void)seq;
	*(int *)ctx = strstr(json, "\"op\":\"patch\"") != NULL;
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/t_scimstore.XXXXXX", id[64] = "", cmd[128];
	struct scim_error err;
	struct store *st;
	struct scimstore *s;
	char *j;
	int n = 0, patched = 0;

	schema_init(NULL, &err);
	if (mkdtemp(dir) == NULL || store_open(dir, true, &st, &err) != SCIM_OK ||
	    store_write(st, fill, NULL, &err) != SCIM_OK)
		return 1;
	store_close(st);

	ok(scimstore_open("/nonexistent/store", &s) == -1,
	    "opening a missing store fails");
	ok(scimstore_open(dir, &s) == 0, "store opened");
	j = scimstore_user_by_username(s, "bjensen");
	ok(j != NULL && strstr(j, uid) != NULL, "user by userName (any case)");
	free(j);
	j = scimstore_user_by_email(s, "babs@example.COM");
	ok(j != NULL && strstr(j, "BJensen") != NULL, "user by email");
	free(j);
	j = scimstore_user_by_id(s, uid);
	ok(j != NULL && strstr(j, "\"active\":false") != NULL, "user by id");
	free(j);
	ok(scimstore_user_by_id(s, gid) == NULL, "no user with a group's id");
	j = scimstore_group_by_id(s, gid);
	ok(j != NULL && strstr(j, "Tour Guides") != NULL, "group by id");
	free(j);
	ok(scimstore_users(s, count, &n) == 0 && n == 1, "list users");
	scimstore_groups_of(s, uid, seen_id, id);
	is_str(id, gid, "groups of a user");
	id[0] = '\0';
	scimstore_members_of(s, gid, seen_id, id);
	is_str(id, uid, "members of a group");
	ok(scimstore_changes_since(s, 0, change, &patched) == 0 && patched,
	    "changes since 0 include the patch");
	scimstore_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
