/*
 * t_jsonx.c: jsonx_find_member(), the scanner that lifts one top-level
 * value out of a stored record's bytes without parsing the record;
 * jsonx_dumps() against jansson's own text on both sides of its 4 KiB
 * stack buffer.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "tap.h"

/* The raw value of member name in text, as a string ("(none)" if absent). */
static const char *
find(const char *text, const char *name)
{
	static char out[256];
	const char *v;
	size_t n;

	if (!jsonx_find_member(text, strlen(text), name, &v, &n))
		return "(none)";
	snprintf(out, sizeof(out), "%.*s", (int)n, v);
	return out;
}

/* True when jsonx_dumps(j) is jansson's compact text of j (the stack
 * path for text under 4 KiB, the buffer path past it). */
static bool
dumps_same(json_t *j)
{
	char *a = jsonx_dumps(j), *b = json_dumps(j, JSON_COMPACT |
	    JSON_ENCODE_ANY);
	bool same = a != NULL && b != NULL && strcmp(a, b) == 0;

	free(a);
	free(b);
	json_decref(j);
	return same;
}

/* {"a":"xx..."} whose compact text is n bytes (n > 8). */
static json_t *
sized(size_t n)
{
	char *v = malloc(n - 7);
	json_t *j;

	memset(v, 'x', n - 8);
	v[n - 8] = '\0';
	j = json_pack("{s:s}", "a", v);
	free(v);
	return j;
}

int
main(void)
{
	const char *rec = "{\"schemas\":[\"urn:x\"],\"id\":\"abc\","
	    "\"displayName\":\"Ops \\\"A\\\" \\u00e9\",\"n\":-1.5e3,"
	    "\"t\":true,\"meta\":{\"displayName\":\"inner\",\"a\":[1,{\"b\":\"]\"}]}}";
	char big[4096];

	is_str(find(rec, "displayName"), "\"Ops \\\"A\\\" \\u00e9\"",
	    "a string value keeps its quotes and escapes");
	is_str(find(rec, "schemas"), "[\"urn:x\"]", "an array value");
	is_str(find(rec, "n"), "-1.5e3", "a number");
	is_str(find(rec, "t"), "true", "a literal");
	is_str(find(rec, "meta"),
	    "{\"displayName\":\"inner\",\"a\":[1,{\"b\":\"]\"}]}",
	    "an object, brackets inside strings ignored");
	is_str(find(rec, "inner"), "(none)", "only top-level keys");
	is_str(find(rec, "display"), "(none)", "keys match whole");
	is_str(find("{\"x\\\"displayName\":\"evil\",\"displayName\":\"ok\"}",
	    "displayName"), "\"ok\"", "a key with an escaped quote is not a match");
	is_str(find("{ \"a\" : 1 , \"b\" : \"2\" }", "b"), "\"2\"",
	    "whitespace between tokens");
	is_str(find("{\"a\":\"unterminated}", "a"), "(none)",
	    "an unterminated string is not found");
	is_str(find("{\"a\":[1,2", "a"), "(none)", "an unclosed array");
	is_str(find("[\"a\"]", "a"), "(none)", "not an object");
	is_str(find("", "a"), "(none)", "empty text");
	is_str(find("{\"a\":}", "a"), "(none)", "a missing value");
	memset(big, '[', sizeof(big));
	memcpy(big, "{\"a\":", 5);
	big[sizeof(big) - 1] = '\0';
	is_str(find(big, "a"), "(none)", "nesting beyond the limit");
	ok(!jsonx_find_member("{\"a\":1}", 3, "a", &rec, &(size_t){0}),
	    "bounded by len, not by a NUL");
	{
		struct scim_error e;
		json_t *j;

		err_set(&e, SCIM_ERR_NOT_FOUND, "No such path /a\xdb\xdb/b\xe2\x98");
		j = jsonx_error(&e);
		ok(j != NULL, "an error quoting invalid UTF-8 still makes a message");
		is_str(json_string_value(json_object_get(j, "detail")),
		    "No such path /a\xef\xbf\xbd\xef\xbf\xbd/b\xef\xbf\xbd\xef\xbf\xbd",
		    "...with U+FFFD for each invalid byte");
		json_decref(j);
	}
	{
		/* Several members in one pass, and array elements in place. */
		static const char rec[] = "{\"id\":\"x\",\"emails\":[{\"value\":"
		    "\"a,b\"},{\"value\":\"c\",\"primary\":true}],\"active\":true,"
		    "\"user\":1,\"userName\":\"u\\\"v\"}";
		const char *names[] = { "userName", "active", "emails", "nope",
		    "user" };
		const char *vals[5], *el;
		size_t vlens[5], pos = 0, elen, k = 0;

		is_int(jsonx_find_members(rec, strlen(rec), names, 5, vals,
		    vlens), 4, "four of five members found in one pass");
		ok(vals[0] != NULL && vlens[0] == 6 &&
		    memcmp(vals[0], "\"u\\\"v\"", 6) == 0,
		    "userName, not its prefix user");
		ok(vals[1] != NULL && vlens[1] == 4, "active");
		ok(vals[3] == NULL, "an absent member is NULL");
		ok(vals[4] != NULL && vlens[4] == 1 && *vals[4] == '1',
		    "user, not userName");
		while (jsonx_next_element(vals[2], vlens[2], &pos, &el, &elen))
			k++;
		is_int(k, 2, "two array elements, a comma inside a string kept");
		pos = 0;
		ok(!jsonx_next_element("{}", 2, &pos, &el, &elen),
		    "an object is not an array");
		pos = 0;
		ok(!jsonx_next_element("[", 1, &pos, &el, &elen),
		    "a truncated array has no element");
	}
	ok(dumps_same(json_pack("{s:[s,i], s:{s:b}, s:s}", "schemas",
	    "urn:x", 3, "meta", "ok", 1, "name", "\"q\" \xc3\xa9")),
	    "jsonx_dumps: a small object as jansson writes it");
	ok(dumps_same(json_string("any")), "...a bare string");
	ok(dumps_same(sized(4095)), "...4,095 bytes (the stack's last fit)");
	ok(dumps_same(sized(4096)), "...4,096 bytes (past the stack)");
	ok(dumps_same(sized(100000)), "...100,000 bytes");
	return tap_done();
}
