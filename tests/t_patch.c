/*
 * t_patch.c: the PATCH engine against golden cases (tests/golden/
 * patch.json: resource + PatchOp -> resource after validation, or the
 * scimType of the error, and the calls made to the members hook).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "tap.h"

/* Records each hook call as [op, printed filter or null, value]. */
static enum scim_err
record_hook(void *ctx, enum patch_opcode op, const struct filter_node *filter,
    json_t *value, struct scim_error *err)
{
	static const char *names[] = { "add", "remove", "replace" };
	json_t *calls = ctx, *f = json_null();
	struct buf b;

	(void)err;
	if (filter != NULL) {
		buf_init(&b, 4096);
		filter_print(filter, &b);
		f = json_string(b.data);
		buf_free(&b);
	}
	json_array_append_new(calls, json_pack("[s, o, O]", names[op], f,
	    value ? value : json_null()));
	return SCIM_OK;
}

static void
run_case(const json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *type = json_string_value(json_object_get(c, "type"));
	const char *want_err = json_string_value(json_object_get(c, "error"));
	enum rtype t = type && strcmp(type, "Group") == 0 ? RT_GROUP : RT_USER;
	json_t *res = json_deep_copy(json_object_get(c, "resource"));
	json_t *calls = json_array(), *out = NULL;
	struct patch_hooks hooks = { "members", record_hook, calls };
	struct scim_error err;
	enum scim_err e;
	char label[512];

	err_clear(&err);
	e = patch_apply(t, res, json_object_get(c, "patch"),
	    t == RT_GROUP ? &hooks : NULL, &err);
	if (e == SCIM_OK)
		e = schema_validate(t, res, SCHEMA_CHECK, &out, NULL, &err);
	if (want_err != NULL) {
		snprintf(label, sizeof(label), "%s -> %s", name, want_err);
		is_str(e != SCIM_OK ? err_scim_type(e) : "(success)", want_err,
		    label);
		if (e != SCIM_OK && err.detail[0] == '\0')
			printf("# no detail for %s\n", name);
	} else {
		snprintf(label, sizeof(label), "%s", name);
		ok(e == SCIM_OK && json_equal(out, json_object_get(c, "expect")),
		    label);
		if (e != SCIM_OK)
			printf("#   error: %s\n", err.detail);
		else if (!json_equal(out, json_object_get(c, "expect"))) {
			char *s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);

			printf("#   got: %s\n", s);
			free(s);
		}
		if (json_object_get(c, "hooks") != NULL) {
			snprintf(label, sizeof(label), "%s: hook calls", name);
			ok(json_equal(calls, json_object_get(c, "hooks")), label);
			if (!json_equal(calls, json_object_get(c, "hooks"))) {
				char *s = json_dumps(calls, JSON_COMPACT);

				printf("#   got: %s\n", s);
				free(s);
			}
		}
	}
	json_decref(res);
	json_decref(out);
	json_decref(calls);
}

int
main(void)
{
	const char *srcdir = getenv("top_srcdir");
	struct scim_error err;
	json_error_t je;
	json_t *cases, *c, *res, *body;
	char path[1024];
	size_t i;

	schema_init(NULL, &err);
	snprintf(path, sizeof(path), "%s/tests/golden/patch.json",
	    srcdir ? srcdir : ".");
	cases = json_load_file(path, 0, &je);
	ok(json_is_array(cases), "golden cases load");
	json_array_foreach(cases, i, c)
		run_case(c);
	json_decref(cases);

	/* Too many operations. */
	res = json_pack("{s:[s], s:s}", "schemas", SCHEMA_URN_USER,
	    "userName", "a");
	body = json_pack("{s:[s], s:[]}", "schemas", SCHEMA_URN_PATCHOP,
	    "Operations");
	for (i = 0; i < 1001; i++)
		json_array_append_new(json_object_get(body, "Operations"),
		    json_pack("{s:s, s:s, s:s}", "op", "add", "path", "title",
		    "value", "x"));
	is_int(patch_apply(RT_USER, res, body, NULL, &err),
	    SCIM_ERR_INVALID_SYNTAX, "more than 1000 operations refused");
	json_decref(res);
	json_decref(body);

	/* patch_path_parse on its own. */
	{
		struct patch_path pp;

		is_int(patch_path_parse(RT_USER, "emails[type eq \"work\"].value",
		    29, &pp, &err), SCIM_OK, "path with filter and sub parses");
		ok(pp.filter != NULL && pp.filter_sub != NULL &&
		    strcmp(pp.filter_sub->name, "value") == 0,
		    "filter and sub-attribute recorded");
		patch_path_clear(&pp);
		is_int(patch_path_parse(RT_USER, "emails[type eq \"a]b\"]", 21,
		    &pp, &err), SCIM_OK, "']' inside a quoted value");
		patch_path_clear(&pp);
		is_int(patch_path_parse(RT_USER, "title[value eq \"x\"]", 19, &pp,
		    &err), SCIM_ERR_INVALID_PATH, "filter on a simple attribute");
		patch_path_clear(&pp);
		is_int(patch_path_parse(RT_USER, "emails[type eq \"x\"]junk", 23,
		    &pp, &err), SCIM_ERR_INVALID_PATH, "junk after ']'");
		patch_path_clear(&pp);
	}
	return tap_done();
}
