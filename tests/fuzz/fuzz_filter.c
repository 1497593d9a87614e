/*
 * fuzz_filter.c: the filter parser, printer, checker and evaluator.
 * Built with -DFUZZ_LIBFUZZER for libFuzzer; otherwise a replay main
 * (fuzz_main.h) runs the files given on the command line.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "filter.h"

static json_t *sample;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scim_error err;
	struct filter_node *n;
	struct buf b;

	if (sample == NULL) {
		schema_init(NULL, &err);
		sample = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:"
		    "core:2.0:User\"],\"id\":\"x\",\"userName\":\"bjensen\","
		    "\"title\":\"Tour\",\"active\":true,\"emails\":[{\"value\":"
		    "\"b@x.org\",\"type\":\"work\",\"primary\":true}],\"meta\":{"
		    "\"created\":\"2011-08-01T18:29:49.793Z\"},\"urn:ietf:params:"
		    "scim:schemas:extension:enterprise:2.0:User\":{\"manager\":"
		    "{\"value\":\"m\"},\"employeeNumber\":\"1\"}}", 0, NULL);
	}
	if (filter_parse((const char *)data, size, &n, &err) != SCIM_OK)
		return 0;
	buf_init(&b, 1 << 20);
	filter_print(n, &b);
	buf_free(&b);
	if (filter_check(n, RT_USER, &err) == SCIM_OK)
		(void)filter_match(n, RT_USER, sample);
	if (filter_check(n, RT_GROUP, &err) == SCIM_OK)
		(void)filter_match(n, RT_GROUP, sample);
	filter_free(n);
	return 0;
}

#include "fuzz_main.h"
