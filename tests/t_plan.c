/*
 * t_plan.c: the query planner against golden text (tests/golden/
 * plan.txt: resource type, filter -> the plan plan_print() prints),
 * with no store, under tests/data/unique-schema.json's extensions (their
 * unique attributes); then what the plan borrows and its bounds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "plan.h"
#include "tap.h"

/* The type a golden line names (its name in the type table); false
 * for none. */
static bool
type_of(const char *s, enum rtype *t)
{
	int i;

	for (i = 0; i < RT__COUNT; i++)
		if (strcmp(s, schema_resource_type((enum rtype)i)->name) ==
		    0) {
			*t = (enum rtype)i;
			return true;
		}
	return false;
}

/* Runs the golden file: each line TYPE <TAB> filter <TAB> plan. */
static void
golden(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048], *text, *want, name[2100];
	struct filter_node *n;
	struct scim_error err;
	struct plan pl;
	struct buf b;
	enum rtype t;
	int cases = 0;

	ok(f != NULL, "golden file opened");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((text = strchr(line, '\t')) == NULL ||
		    (want = strrchr(line, '\t')) == text) {
			snprintf(name, sizeof(name), "golden line has three "
			    "fields: [%s]", line);
			ok(0, name);
			continue;
		}
		*text++ = '\0';
		*want++ = '\0';
		snprintf(name, sizeof(name), "golden: %s [%s]", line, text);
		if (!type_of(line, &t) || filter_parse(text, strlen(text), &n,
		    &err) != SCIM_OK) {
			ok(0, name);	/* an unknown type or a bad filter */
			continue;
		}
		plan_make(t, n, &pl);
		buf_init(&b, 8192);
		is_str(plan_print(t, &pl, &b) == SCIM_OK ? b.data : "(full)",
		    want, name);
		buf_free(&b);
		filter_free(n);
		cases++;
	}
	fclose(f);
	snprintf(name, sizeof(name), "golden file has its cases (%d)", cases);
	ok(cases >= 40, name);
}

/* No filter at all: a scan, no re-check needed beyond none. */
static void
no_filter(void)
{
	struct plan pl;
	struct buf b;

	plan_make(RT_USER, NULL, &pl);
	ok(pl.n == 0 && !pl.exact && !pl.reorder && !pl.links,
	    "no filter: a scan");
	buf_init(&b, 256);
	plan_print(RT_GROUP, &pl, &b);
	is_str(b.data, "scan Group; recheck", "no filter printed");
	buf_free(&b);
}

/*
 * An "or" of more equalities than LIMIT_PLAN_LOOKUPS scans; exactly
 * that many is a union of them all.  The plan's values are the filter's
 * own nodes (borrowed, not copies).
 */
static void
bounds(void)
{
	struct scim_error err;
	struct filter_node *n, *first;
	struct plan pl;
	char text[4096], last[32];
	size_t len = 0;
	int i;

	for (i = 0; i < LIMIT_PLAN_LOOKUPS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "%suserName eq \"u%d\"", i ? " or " : "", i);
	ok(filter_parse(text, len, &n, &err) == SCIM_OK,
	    "or of LIMIT_PLAN_LOOKUPS parsed");
	plan_make(RT_USER, n, &pl);
	ok(pl.n == LIMIT_PLAN_LOOKUPS && pl.reorder && !pl.exact,
	    "or of LIMIT_PLAN_LOOKUPS equalities: a union of them all");
	for (first = n; first->op == FILTER_OR; first = first->left)
		continue;
	snprintf(last, sizeof(last), "u%d", LIMIT_PLAN_LOOKUPS - 1);
	ok(pl.l[0].value == first->value && strcmp(json_string_value(
	    pl.l[pl.n - 1].value), last) == 0,
	    "the lookups borrow the filter's own values, in its order");
	filter_free(n);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    " or userName eq \"one more\"");
	ok(filter_parse(text, len, &n, &err) == SCIM_OK,
	    "or of LIMIT_PLAN_LOOKUPS + 1 parsed");
	plan_make(RT_USER, n, &pl);
	ok(pl.n == 0, "one lookup more than LIMIT_PLAN_LOOKUPS: a scan");
	filter_free(n);
}

/*
 * A key of LIMIT_INDEX_KEY_BYTES is printed whole; one byte longer can
 * be no key (the store never wrote one: a lookup finds nothing), and
 * the plan stays the exact lookup that finds nothing, as the store
 * would refuse such a userName.
 */
static void
long_keys(void)
{
	struct scim_error err;
	struct filter_node *n;
	struct plan pl;
	struct buf b;
	char text[LIMIT_INDEX_KEY_BYTES + 64];
	char want[LIMIT_INDEX_KEY_BYTES + 64];
	int len;

	len = snprintf(text, sizeof(text), "userName eq \"%0*d\"",
	    LIMIT_INDEX_KEY_BYTES, 0);
	snprintf(want, sizeof(want), "idx_username \"%0*d\"; exact",
	    LIMIT_INDEX_KEY_BYTES, 0);
	ok(filter_parse(text, (size_t)len, &n, &err) == SCIM_OK,
	    "a userName of LIMIT_INDEX_KEY_BYTES parsed");
	plan_make(RT_USER, n, &pl);
	buf_init(&b, 8192);
	is_str(plan_print(RT_USER, &pl, &b) == SCIM_OK ? b.data : "(full)",
	    want, "a key of LIMIT_INDEX_KEY_BYTES printed whole");
	buf_free(&b);
	filter_free(n);
	len = snprintf(text, sizeof(text), "userName eq \"%0*d\"",
	    LIMIT_INDEX_KEY_BYTES + 1, 0);
	ok(filter_parse(text, (size_t)len, &n, &err) == SCIM_OK,
	    "a userName one byte longer parsed");
	plan_make(RT_USER, n, &pl);
	buf_init(&b, 8192);
	is_str(plan_print(RT_USER, &pl, &b) == SCIM_OK ? b.data : "(full)",
	    "idx_username no key; exact", "one byte longer: no key");
	buf_free(&b);
	filter_free(n);
}

int
main(void)
{
	const char *srcdir = getenv("top_srcdir");
	struct scim_error err;
	char path[1024];

	/* The unique attributes of t_unique's extensions plan too. */
	snprintf(path, sizeof(path), "%s/tests/data/unique-schema.json",
	    srcdir ? srcdir : ".");
	ok(schema_init(path, &err) == SCIM_OK, "the test schema loads");
	snprintf(path, sizeof(path), "%s/tests/golden/plan.txt",
	    srcdir ? srcdir : ".");
	golden(path);
	no_filter();
	bounds();
	long_keys();
	return tap_done();
}
