/*
 * fuzz_json.c: untrusted JSON through jsonx_parse and schema_validate
 * for both resource types and all modes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "jsonx.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct scim_error err;
	json_t *in, *out, *old;
	char *pw;
	int t, m;

	if (!init) {
		schema_init(NULL, &err);
		init = 1;
	}
	if (jsonx_parse((const char *)data, size, &in, &err) != SCIM_OK)
		return 0;
	for (t = 0; t < RT__COUNT; t++)
		for (m = SCHEMA_CREATE; m <= SCHEMA_CHECK; m++) {
			pw = NULL;
			if (schema_validate(t, in, m, &out, &pw, &err) != SCIM_OK)
				continue;
			old = json_deep_copy(out);
			(void)schema_check_immutable(t, old, out, &err);
			json_decref(old);
			json_decref(out);
			free(pw);
		}
	json_decref(in);
	return 0;
}

#include "fuzz_main.h"
