/*
 * fuzz_patch.c: a PatchOp body through jsonx_parse, patch_apply on a
 * user and on a group (members to a recording hook), then validation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "jsonx.h"
#include "patch.h"

static json_t *user, *group;

static enum scim_err
hook(void *ctx, enum patch_opcode op, const struct filter_node *filter,
    json_t *value, struct scim_error *err)
{
	(void)ctx;
	(void)op;
	(void)filter;
	(void)value;
	(void)err;
	return SCIM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct patch_hooks hooks = { "members", hook, NULL };
	struct scim_error err;
	json_t *body, *copy, *out;

	if (user == NULL) {
		schema_init(NULL, &err);
		user = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:"
		    "core:2.0:User\"],\"id\":\"u\",\"userName\":\"a\",\"name\":"
		    "{\"givenName\":\"A\"},\"emails\":[{\"value\":\"a@x\","
		    "\"type\":\"work\"}]}", 0, NULL);
		group = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:"
		    "core:2.0:Group\"],\"id\":\"g\",\"displayName\":\"g\"}", 0,
		    NULL);
	}
	if (jsonx_parse((const char *)data, size, &body, &err) != SCIM_OK)
		return 0;
	copy = json_deep_copy(user);
	if (patch_apply(RT_USER, copy, body, NULL, &err) == SCIM_OK &&
	    schema_validate(RT_USER, copy, SCHEMA_CHECK, &out, NULL, &err) ==
	    SCIM_OK)
		json_decref(out);
	json_decref(copy);
	copy = json_deep_copy(group);
	if (patch_apply(RT_GROUP, copy, body, &hooks, &err) == SCIM_OK &&
	    schema_validate(RT_GROUP, copy, SCHEMA_CHECK, &out, NULL, &err) ==
	    SCIM_OK)
		json_decref(out);
	json_decref(copy);
	json_decref(body);
	return 0;
}

#include "fuzz_main.h"
