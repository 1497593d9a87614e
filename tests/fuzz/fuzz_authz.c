/*
 * fuzz_authz.c: the authorizer's parsers of untrusted bytes.  The input
 * is a REQUEST_URI, a newline, then a group name.  authz_path_clean()
 * must give a clean path or refuse (a clean path starts with '/', has
 * no empty, "." or ".." segment, no trailing '/' but the root, no
 * control character, and cleans to itself when it holds no '%', '?' or
 * '#', which are plain characters once decoded); the
 * rule found for it must cover it; authz_list_append() must give a
 * header-safe element with every ',' of the name encoded, and the name
 * itself when it was already safe and plain.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless path is clean (see the header comment). */
static void
check_clean(const char *path)
{
	size_t n = strlen(path), i;

	if (path[0] != '/' || (n > 1 && path[n - 1] == '/'))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			abort();
	if (strstr(path, "//") != NULL || strstr(path, "/./") != NULL ||
	    strstr(path, "/../") != NULL)
		abort();
	if ((n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *prefixes[] = { "/", "/admin", "/admin/keys", "/a b" };
	static struct conf_require rules[4];
	struct conf c;
	const struct conf_require *r;
	char *in, *nl, out[1024], again[1024];
	struct buf b;
	size_t i, commas = 0;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((nl = memchr(in, '\n', size)) != NULL)
		*nl++ = '\0';
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 4; i++) {
		rules[i].prefix = prefixes[i];
		rules[i].prefix_len = strlen(prefixes[i]);
	}
	c.require = rules;
	c.nrequire = 4;
	if (authz_path_clean(in, out, sizeof(out)) == SCIM_OK) {
		check_clean(out);
		/* A clean path is decoded: '%', '?' and '#' in it are
		 * characters of a name, which a second pass would read as
		 * an escape, a query or a fragment. */
		if (strpbrk(out, "%?#") == NULL &&
		    (authz_path_clean(out, again, sizeof(again)) != SCIM_OK ||
		    strcmp(out, again) != 0))
			abort();
		if ((r = authz_rule_for(&c, out)) == NULL ||
		    !authz_prefix_covers(r->prefix, r->prefix_len, out))
			abort();
	}
	if (nl != NULL) {
		size_t len = size - (size_t)(nl - in);

		buf_init(&b, 4096);
		if (authz_list_append(&b, "x", 1) == SCIM_OK &&
		    authz_list_append(&b, nl, len) == SCIM_OK) {
			for (i = 0; i < b.len; i++)
				commas += b.data[i] == ',';
			if (commas != 1 || !authz_value_safe(b.data, b.len))
				abort();
			if (authz_value_safe(nl, len) &&
			    memchr(nl, ',', len) == NULL &&
			    memchr(nl, '%', len) == NULL &&
			    (b.len != len + 2 || memcmp(b.data + 2, nl, len) != 0))
				abort();
		}
		buf_free(&b);
	}
	free(in);
	return 0;
}

#include "fuzz_main.h"
