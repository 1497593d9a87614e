/*
 * t_filter.c: the filter parser against golden text (tests/golden/
 * filter.txt: input -> canonical AST or error), then filter_check and
 * the evaluator against sample resources.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "tap.h"
#include "work.h"

static const char *user_json =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\":\"BJ-1\",\"userName\":\"\xc3\x84rger@Example.com\","
    "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
    "\"title\":\"Tour Guide\",\"userType\":\"Employee\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
    "{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"m1\"}},"
    "\"meta\":{\"resourceType\":\"User\",\"created\":\"2011-08-01T18:29:49.793Z\","
    "\"lastModified\":\"2011-08-01T18:29:49.793Z\",\"version\":\"W/\\\"3\\\"\"}}";

/* Runs the golden file; returns the number of cases. */
static void
golden(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048], *tab, *want, name[2100];
	struct filter_node *n;
	struct scim_error err;
	struct buf b;
	enum scim_err e;

	ok(f != NULL, "golden file opened");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (tab = strrchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		want = tab + 1;
		snprintf(name, sizeof(name), "golden: [%s]", line);
		e = filter_parse(line, strlen(line), &n, &err);
		if (strcmp(want, "error") == 0) {
			ok(e == SCIM_ERR_INVALID_FILTER && n == NULL &&
			    strstr(err.detail, "offset") != NULL, name);
			continue;
		}
		buf_init(&b, 8192);
		if (e == SCIM_OK)
			filter_print(n, &b);
		is_str(e == SCIM_OK ? b.data : err.detail, want, name);
		buf_free(&b);
		filter_free(n);
	}
	fclose(f);
}

/* Parses, checks against type t and matches text against resource r. */
static int
match(enum rtype t, const char *text, const json_t *r)
{
	struct filter_node *n;
	struct scim_error err;
	int m;

	if (filter_parse(text, strlen(text), &n, &err) != SCIM_OK)
		return -1;
	if (filter_check(n, t, &err) != SCIM_OK) {
		filter_free(n);
		return -2;
	}
	m = filter_match(n, t, r);
	filter_free(n);
	return m;
}

/*
 * Multi-valued comparisons: any value matches, for every operator, ne
 * included; attr.sub op and attr[sub op] agree on the same users; not
 * negates the whole.
 */
static void
multi_valued_any(void)
{
	static const struct {
		const char	*user;		/* emails of the user, JSON */
		int		 ne_work;	/* emails.type ne "work" */
	} users[] = {
		{ "[{\"value\":\"w@x\",\"type\":\"work\"}]", 0 },
		{ "[{\"value\":\"w@x\",\"type\":\"work\"},"
		  "{\"value\":\"h@x\",\"type\":\"home\"}]", 1 },
		{ "[{\"value\":\"w@x\",\"type\":\"WORK\"}]", 0 },
		{ "[{\"value\":\"n@x\"}]", 1 },		/* no type */
		{ NULL, 0 },					/* no emails */
	};
	char label[256];
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		json_t *u = json_pack("{s:[s], s:s, s:s}", "schemas",
		    SCHEMA_URN_USER, "id", "u", "userName", "u");
		const char *who = users[i].user ? users[i].user : "no emails";

		if (users[i].user != NULL)
			json_object_set_new(u, "emails",
			    json_loads(users[i].user, 0, NULL));
		snprintf(label, sizeof(label), "emails.type ne \"work\" on %s",
		    who);
		is_int(match(RT_USER, "emails.type ne \"work\"", u),
		    users[i].ne_work, label);
		snprintf(label, sizeof(label), "emails[type ne \"work\"] on %s "
		    "agrees", who);
		is_int(match(RT_USER, "emails[type ne \"work\"]", u),
		    users[i].ne_work, label);
		snprintf(label, sizeof(label), "not (emails.type ne \"work\") "
		    "on %s negates it", who);
		is_int(match(RT_USER, "not (emails.type ne \"work\")", u),
		    !users[i].ne_work, label);
		snprintf(label, sizeof(label), "emails.type eq \"work\" and "
		    "emails[type eq \"work\"] agree on %s", who);
		is_int(match(RT_USER, "emails.type eq \"work\"", u),
		    match(RT_USER, "emails[type eq \"work\"]", u), label);
		snprintf(label, sizeof(label), "emails.type sw \"h\" and "
		    "emails[type sw \"h\"] agree on %s", who);
		is_int(match(RT_USER, "emails.type sw \"h\"", u),
		    match(RT_USER, "emails[type sw \"h\"]", u), label);
		snprintf(label, sizeof(label), "emails ne \"w@x\" and "
		    "emails[value ne \"w@x\"] agree on %s", who);
		is_int(match(RT_USER, "emails ne \"w@x\"", u),
		    match(RT_USER, "emails[value ne \"w@x\"]", u), label);
		json_decref(u);
	}
	{
		json_t *u = json_pack("{s:[s], s:s, s:s, s:[{s:s, s:s}]}",
		    "schemas", SCHEMA_URN_USER, "id", "u", "userName", "u",
		    "emails", "value", "w@x", "type", "work");

		is_int(match(RT_USER, "not (emails.type eq \"work\")", u), 0,
		    "not (emails.type eq \"work\"): negation of the whole");
		is_int(match(RT_USER, "emails.value ne \"other@x\"", u), 1,
		    "emails.value ne: the one value differs");
		json_decref(u);
	}
}

/* A refused filter's detail, or "" when it is not refused. */
static void
check_detail(const char *text, const char *want, const char *label)
{
	struct filter_node *n = NULL;
	struct scim_error err;

	err_clear(&err);
	if (filter_parse(text, strlen(text), &n, &err) == SCIM_OK &&
	    filter_check(n, RT_USER, &err) == SCIM_OK)
		err.detail[0] = '\0';
	filter_free(n);
	ok(strstr(err.detail, want) != NULL, label);
	if (strstr(err.detail, want) == NULL)
		printf("#   detail: %s\n", err.detail);
}

/* Error details name the full path of the attribute. */
static void
full_path_details(void)
{
	check_detail("emails.primary gt true", "boolean emails.primary.",
	    "detail names emails.primary (attr.sub)");
	check_detail("emails[primary gt true]", "boolean emails.primary.",
	    "detail names emails.primary (inside a value path)");
	check_detail("emails[nosuch eq \"x\"]", "emails.nosuch is not",
	    "detail names emails.nosuch (unknown sub-attribute)");
	check_detail("urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
	    "User:manager.nosuch eq 1", "manager.nosuch",
	    "detail names the URN-qualified path");
}

/*
 * The work budget (work.h): comparisons spend it, per byte; once spent
 * the evaluator stops comparing and work_check() says tooMany; outside
 * a request there is no limit.
 */
static void
work_budget(void)
{
	struct scim_error err;
	json_t *u;
	char big[4001];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u = json_pack("{s:[s], s:s, s:s, s:s}", "schemas", SCHEMA_URN_USER,
	    "id", "u1", "userName", "bjensen", "title", big);
	is_int(match(RT_USER, "title co \"b\" or title co \"c\"", u), 0,
	    "no budget outside a request: evaluated");
	is_int(work_check(&err), SCIM_OK, "...and nothing to report");
	work_begin(10000);
	is_int(match(RT_USER, "title co \"a\"", u), 1,
	    "a budget of 10,000 units: one 4,000-byte comparison fits");
	is_int(work_check(&err), SCIM_OK, "...within the budget");
	(void)match(RT_USER, "title co \"b\" or title co \"c\" or "
	    "title co \"d\"", u);
	is_int(work_check(&err), SCIM_ERR_TOO_MANY,
	    "three more of them: over the budget, tooMany");
	is_int(match(RT_USER, "title co \"a\"", u), 0,
	    "...and later comparisons are not made");
	work_end();
	is_int(work_check(&err), SCIM_OK, "work_end: no limit again");
	is_int(match(RT_USER, "title co \"a\"", u), 1, "...evaluated");
	json_decref(u);
}

int
main(void)
{
	const char *srcdir = getenv("top_srcdir");
	struct scim_error err;
	struct filter_node *n;
	char path[1024], deep[200];
	json_t *u, *g;
	int i;

	schema_init(NULL, &err);
	snprintf(path, sizeof(path), "%s/tests/golden/filter.txt",
	    srcdir ? srcdir : ".");
	golden(path);

	/* Limits. */
	for (i = 0; i < 40; i++)
		deep[i] = '(';
	strcpy(deep + 40, "a pr");
	for (i = 0; i < 40; i++)
		strcat(deep, ")");
	ok(filter_parse(deep, strlen(deep), &n, &err) ==
	    SCIM_ERR_INVALID_FILTER, "nesting over the limit refused");
	{
		char *big = malloc(5000);

		memset(big, 'a', 4999);
		big[4999] = '\0';
		ok(filter_parse(big, 4999, &n, &err) == SCIM_ERR_INVALID_FILTER,
		    "filter over 4096 bytes refused");
		free(big);
	}
	{
		char many[4000] = "a pr";

		for (i = 0; i < 130; i++)
			strcat(many, " or a pr");
		ok(filter_parse(many, strlen(many), &n, &err) ==
		    SCIM_ERR_INVALID_FILTER, "more than 128 terms refused");
	}
	ok(filter_parse("a eq \"x\0\"", 8, &n, &err) == SCIM_ERR_INVALID_FILTER,
	    "NUL byte refused");

	/* filter_check. */
	u = json_loads(user_json, 0, NULL);
	ok(u != NULL, "sample user parses");
	is_int(match(RT_USER, "nosuch eq \"x\"", u), -2,
	    "unknown attribute: invalidFilter");
	is_int(match(RT_USER, "emails[nosuch eq \"x\"]", u), -2,
	    "unknown sub-attribute in a value path: invalidFilter");
	is_int(match(RT_USER, "active gt true", u), -2,
	    "gt on a boolean: invalidFilter");
	is_int(match(RT_USER, "name eq \"x\"", u), -2,
	    "eq on a complex attribute without a value sub: invalidFilter");
	is_int(match(RT_GROUP, "userName eq \"x\"", u), -2,
	    "userName is not a Group attribute");
	is_int(match(RT_USER, "title[value eq \"x\"]", u), -2,
	    "value path on a simple attribute: invalidFilter");
	is_int(match(RT_USER, "meta.lastModified gt \"2011-05-13T04:-2:34Z\"",
	    u), -2, "a malformed dateTime compared with gt: invalidFilter");
	is_int(match(RT_USER, "meta.created eq \"2011-02-30T00:00:00Z\"",
	    u), -2, "30 February compared with eq: invalidFilter");
	is_int(match(RT_USER, "meta.lastModified lt 2011", u), -2,
	    "a dateTime compared with a number: invalidFilter");
	is_int(match(RT_USER, "meta.lastModified sw \"2011-08\"", u), 1,
	    "sw on a dateTime compares its text");

	/* Evaluation. */
	is_int(match(RT_USER, "userName eq \"\xc3\xa4rger@example.COM\"", u), 1,
	    "userName eq folds Unicode case");
	is_int(match(RT_USER, "USERNAME EQ \"a\xcc\x88rger@example.com\"", u), 1,
	    "names and operators any case; NFC");
	is_int(match(RT_USER, "externalId eq \"bj-1\"", u), 0,
	    "externalId is caseExact");
	is_int(match(RT_USER, "externalId eq \"BJ-1\"", u), 1,
	    "externalId exact match");
	is_int(match(RT_USER, "id eq \"2819c223-7f76-453a-919d-413861904646\"",
	    u), 1, "id eq");
	is_int(match(RT_USER, "name.familyName co \"ENS\"", u), 1, "co folded");
	is_int(match(RT_USER, "title sw \"tour\"", u), 1, "sw folded");
	is_int(match(RT_USER, "title ew \"GUIDE\"", u), 1, "ew folded");
	is_int(match(RT_USER, "title ne \"Tour Guide\"", u), 0, "ne");
	is_int(match(RT_USER, "nickName ne \"x\"", u), 1,
	    "ne on an absent attribute is true");
	is_int(match(RT_USER, "nickName eq \"x\"", u), 0,
	    "eq on an absent attribute is false");
	is_int(match(RT_USER, "title pr", u), 1, "pr present");
	is_int(match(RT_USER, "nickName pr", u), 0, "pr absent");
	is_int(match(RT_USER, "emails pr", u), 1, "pr on multi-valued");
	is_int(match(RT_USER, "active eq true", u), 1, "boolean eq");
	is_int(match(RT_USER, "active eq false", u), 0, "boolean eq false");
	is_int(match(RT_USER, "emails.value eq \"BABS@jensen.org\"", u), 1,
	    "multi-valued sub-attribute: any value");
	is_int(match(RT_USER, "emails eq \"babs@jensen.org\"", u), 1,
	    "multi-valued complex without sub compares value");
	is_int(match(RT_USER, "emails[type eq \"work\" and value co \"@example.com\"]",
	    u), 1, "value path: same element");
	is_int(match(RT_USER, "emails[type eq \"home\" and value co \"@example.com\"]",
	    u), 0, "value path: conditions on different elements do not match");
	is_int(match(RT_USER, "emails[type eq \"work\"].value eq "
	    "\"BJENSEN@example.com\"", u), 1,
	    "Entra's emails[type eq \"work\"].value eq: matches the work email");
	is_int(match(RT_USER, "emails[type eq \"home\"].value eq "
	    "\"bjensen@example.com\"", u), 0,
	    "...and not when the address is another type's");
	is_int(match(RT_USER, "emails[type eq \"work\"] eq "
	    "\"bjensen@example.com\"", u), 1,
	    "emails[type eq \"work\"] eq (Microsoft's docs): the element's value");
	is_int(match(RT_USER, "emails[primary eq true]", u), 1,
	    "value path on a boolean sub-attribute");
	is_int(match(RT_USER, "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
	    u), 1, "dateTime gt");
	is_int(match(RT_USER, "meta.lastModified lt \"2011-08-01T20:29:50+02:00\"",
	    u), 1, "dateTime compares instants across offsets");
	is_int(match(RT_USER, "meta.created eq \"2011-08-01T18:29:49.793Z\"",
	    u), 1, "dateTime eq");
	is_int(match(RT_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"",
	    u), 1, "extension attribute by URN");
	is_int(match(RT_USER, "employeeNumber eq \"701984\"", u), 1,
	    "extension attribute by short name");
	is_int(match(RT_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m1\"",
	    u), 1, "extension complex sub-attribute");
	is_int(match(RT_USER, "not (title pr) or userType eq \"Employee\"", u),
	    1, "not/or");
	is_int(match(RT_USER, "not (title pr and userType eq \"Employee\")", u),
	    0, "not over and");
	is_int(match(RT_USER, "title gt \"A\" and title lt \"Z\"", u), 1,
	    "string ordering");
	is_int(match(RT_USER, "userName eq null", u), 0, "eq null on present");
	is_int(match(RT_USER, "nickName eq null", u), 1, "eq null on absent");
	is_int(match(RT_USER, "externalId eq BJ-1", u), 1,
	    "unquoted value compares as a string");

	g = json_pack("{s:[s], s:s, s:s, s:[{s:s, s:s}]}", "schemas",
	    SCHEMA_URN_GROUP, "id", "g1", "displayName", "Tour Guides",
	    "members", "value", "u1", "type", "User");
	is_int(match(RT_GROUP, "displayName eq \"tour guides\"", g), 1,
	    "group displayName folded");
	is_int(match(RT_GROUP, "members.value eq \"u1\"", g), 1,
	    "members.value");
	is_int(match(RT_GROUP, "members[value eq \"u2\"]", g), 0,
	    "members value path no match");
	json_decref(u);
	json_decref(g);
	multi_valued_any();
	full_path_details();
	work_budget();
	return tap_done();
}
