/*
 * t_authz.c: the authorizer role (authz.h): `require` rules as conf.c
 * reads them, path cleaning, prefix matching on segment boundaries,
 * header-value checks, the SCIM_GROUPS encoding, and whole decisions
 * answered in process against a real LMDB store in a temp dir.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "conf.h"
#include "memreq.h"
#include "schema.h"
#include "store.h"
#include "tap.h"

static char dir[64], conffile[96];

/* Loads a settings file holding text into c; returns conf_load's code. */
static enum scim_err
load(struct conf *c, const char *text, struct scim_error *err)
{
	FILE *f = fopen(conffile, "w");

	if (f == NULL)
		return SCIM_ERR_INTERNAL;
	fputs(text, f);
	fclose(f);
	return conf_load(c, conffile, NULL, err);
}

static void
test_rules(void)
{
	static const struct { int line; const char *text; } bad[] = {
		{ __LINE__, "require = admin admins\n" },
		{ __LINE__, "require = /admin\n" },
		{ __LINE__, "require = /admin   \n" },
		{ __LINE__, "require = /admin admins,\n" },
		{ __LINE__, "require = /admin admins, ,ops\n" },
		{ __LINE__, "require = /a/../b admins\n" },
		{ __LINE__, "require = /a/./b admins\n" },
		{ __LINE__, "require = /a//b admins\n" },
		{ __LINE__, "require = /a%2fb admins\n" },
		{ __LINE__, "require = /a?b admins\n" },
		{ __LINE__, "require = /admin a\nrequire = /admin/ b\n" },
	};
	struct conf c;
	struct scim_error err;
	char text[4096], line[64];
	size_t i;
	int k;

	ok(load(&c, "require = /admin/  Admins , Site Ops,x\n"
	    "require = / staff\n", &err) == SCIM_OK, "rules load");
	is_int(c.nrequire, 2, "two rules");
	is_str(c.require[0].prefix, "/admin", "a trailing / is dropped");
	is_int(c.require[0].ngroups, 3, "three groups");
	is_str(c.require[0].groups[0], "Admins", "group names are trimmed");
	is_str(c.require[0].groups[1], "Site Ops", "a name keeps inner spaces");
	is_str(c.require[0].groups[2], "x", "the last group");
	is_str(c.require[1].prefix, "/", "the root rule keeps its /");
	conf_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "refused (line %d)", bad[i].line);
		ok(load(&c, bad[i].text, &err) == SCIM_ERR_INVALID_VALUE &&
		    strstr(err.detail, "require") != NULL, line);
		conf_free(&c);
	}
	/* Bounds: LIMIT_AUTHZ_RULE_GROUPS groups, LIMIT_AUTHZ_RULES rules. */
	strcpy(text, "require = /g g0");
	for (k = 1; k < LIMIT_AUTHZ_RULE_GROUPS; k++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    ",g%d", k);
	strcat(text, "\n");
	ok(load(&c, text, &err) == SCIM_OK &&
	    c.require[0].ngroups == LIMIT_AUTHZ_RULE_GROUPS,
	    "LIMIT_AUTHZ_RULE_GROUPS groups load");
	conf_free(&c);
	text[strlen(text) - 1] = '\0';
	strcat(text, ",one-more\n");
	ok(load(&c, text, &err) == SCIM_ERR_INVALID_VALUE,
	    "one more group is refused");
	conf_free(&c);
	{
		char *many = malloc((LIMIT_AUTHZ_RULES + 1) * 32);
		size_t len = 0;

		for (k = 0; k <= LIMIT_AUTHZ_RULES; k++)
			len += (size_t)sprintf(many + len,
			    "require = /p%d g\n", k);
		ok(load(&c, many, &err) == SCIM_ERR_INVALID_VALUE &&
		    c.nrequire == LIMIT_AUTHZ_RULES,
		    "rule LIMIT_AUTHZ_RULES + 1 is refused");
		conf_free(&c);
		free(many);
	}
}

static void
test_paths(void)
{
	static const struct { int line; const char *uri, *want; } t[] = {
		{ __LINE__, "/", "/" },
		{ __LINE__, "/site/index.html?x=1", "/site/index.html" },
		{ __LINE__, "/admin/", "/admin" },
		{ __LINE__, "//admin//x", "/admin/x" },
		{ __LINE__, "/./admin/./x", "/admin/x" },
		{ __LINE__, "/pub/../admin/x", "/admin/x" },
		{ __LINE__, "/pub/%2e%2e/admin", "/admin" },
		{ __LINE__, "/pub/%2E%2E/admin", "/admin" },
		{ __LINE__, "/%61dmin/x", "/admin/x" },
		{ __LINE__, "/a/b/..", "/a" },
		{ __LINE__, "/a/..", "/" },
		{ __LINE__, "/admin?/../public", "/admin" },
		{ __LINE__, "/admin#frag", "/admin" },
		{ __LINE__, "http://host:80/admin/x", "/admin/x" },
		{ __LINE__, "HTTPS://host", "/" },
		{ __LINE__, "/caf%C3%A9", "/caf\xc3\xa9" },
		{ __LINE__, "/%25", "/%" },
		{ __LINE__, "/..", NULL },
		{ __LINE__, "/a/../..", NULL },
		{ __LINE__, "/a%2fb", NULL },
		{ __LINE__, "/a%2Fb", NULL },
		{ __LINE__, "/a%00b", NULL },
		{ __LINE__, "/a%0d%0ab", NULL },
		{ __LINE__, "/a\tb", NULL },
		{ __LINE__, "/a%zz", NULL },
		{ __LINE__, "/a%4", NULL },
		{ __LINE__, "admin", NULL },
		{ __LINE__, "*", NULL },
		{ __LINE__, "", NULL },
	};
	char out[64], name[96];
	size_t i;
	enum scim_err e;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "path of %s (line %d)", t[i].uri,
		    t[i].line);
		e = authz_path_clean(t[i].uri, out, sizeof(out));
		if (t[i].want == NULL)
			ok(e == SCIM_ERR_BAD_REQUEST, name);
		else
			is_str(e == SCIM_OK ? out : "(refused)", t[i].want, name);
	}
	ok(authz_path_clean("/aaaaaaaaaa", out, 8) == SCIM_ERR_TOO_LARGE,
	    "a path longer than the buffer does not fit");
	{
		char *big = malloc(LIMIT_AUTHZ_URI_BYTES + 3), *o2 =
		    malloc(LIMIT_AUTHZ_URI_BYTES + 8);

		memset(big, 'a', LIMIT_AUTHZ_URI_BYTES + 2);
		big[0] = '/';
		big[LIMIT_AUTHZ_URI_BYTES + 2] = '\0';
		ok(authz_path_clean(big, o2, LIMIT_AUTHZ_URI_BYTES + 8) ==
		    SCIM_ERR_TOO_LARGE, "a path over LIMIT_AUTHZ_URI_BYTES");
		free(big);
		free(o2);
	}
}

static void
test_prefixes(void)
{
	static const struct { int line; const char *prefix, *path; bool covers; } t[] = {
		{ __LINE__, "/admin", "/admin", true },
		{ __LINE__, "/admin", "/admin/x", true },
		{ __LINE__, "/admin", "/administrator", false },
		{ __LINE__, "/admin", "/admi", false },
		{ __LINE__, "/admin", "/", false },
		{ __LINE__, "/admin", "/x/admin", false },
		{ __LINE__, "/", "/", true },
		{ __LINE__, "/", "/anything/at/all", true },
		{ __LINE__, "/a/b", "/a/b/c", true },
		{ __LINE__, "/a/b", "/a/bc", false },
	};
	struct conf c;
	struct scim_error err;
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "%s %s %s (line %d)", t[i].prefix,
		    t[i].covers ? "covers" : "does not cover", t[i].path,
		    t[i].line);
		ok(authz_prefix_covers(t[i].prefix, strlen(t[i].prefix),
		    t[i].path) == t[i].covers, name);
	}
	ok(load(&c, "require = / staff\nrequire = /admin admins\n"
	    "require = /admin/keys keyholders\n", &err) == SCIM_OK,
	    "three nested rules load");
	is_str(authz_rule_for(&c, "/admin/keys/1")->prefix, "/admin/keys",
	    "the longest prefix wins");
	is_str(authz_rule_for(&c, "/admin/key")->prefix, "/admin",
	    "a shorter one when the longest does not cover the path");
	is_str(authz_rule_for(&c, "/administrator")->prefix, "/",
	    "/admin does not cover /administrator");
	conf_free(&c);
	ok(load(&c, "require = /admin admins\n", &err) == SCIM_OK &&
	    authz_rule_for(&c, "/public") == NULL, "no rule for /public");
	conf_free(&c);
	ok(authz_rule_for(NULL, "/x") == NULL, "no settings, no rule");
}

static void
test_values(void)
{
	static const struct { int line; const char *s; bool safe; } t[] = {
		{ __LINE__, "Alice Example", true },
		{ __LINE__, "Zo\xc3\xab \xe2\x82\xac", true },
		{ __LINE__, "a\r\nSet-Cookie: x=1", false },
		{ __LINE__, "a\nb", false },
		{ __LINE__, "a\rb", false },
		{ __LINE__, "a\tb", false },
		{ __LINE__, "a\x7f", false },
		{ __LINE__, "a\xc2\x85", false },	/* U+0085 NEL, a C1 control */
		{ __LINE__, "a\xc2\xa0", true },	/* U+00A0, not a control */
		{ __LINE__, "a\xff", false },
		{ __LINE__, "a\xc3", false },
	};
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "value %s (line %d)",
		    t[i].safe ? "safe" : "unsafe", t[i].line);
		ok(authz_value_safe(t[i].s, strlen(t[i].s)) == t[i].safe, name);
	}
	ok(!authz_value_safe("a\0b", 3), "a NUL is unsafe");
}

static void
test_lists(void)
{
	struct buf b;

	buf_init(&b, 64);
	ok(authz_list_append(&b, "Staff", 5) == SCIM_OK, "one name");
	ok(authz_list_append(&b, "R&D, Paris", 10) == SCIM_OK, "a comma");
	ok(authz_list_append(&b, "100%", 4) == SCIM_OK, "a percent");
	ok(authz_list_append(&b, "x\r\nEvil: 1", 10) == SCIM_OK, "CR LF");
	is_str(b.data, "Staff,R&D%2C Paris,100%25,x%0D%0AEvil: 1",
	    "',' '%' and controls are percent-encoded, the list joined by ','");
	buf_reset(&b);
	ok(authz_list_append(&b, "Zo\xc3\xab\xc2\x85\xff", 7) == SCIM_OK,
	    "UTF-8, a C1 control and a bad byte");
	is_str(b.data, "Zo\xc3\xab%C2%85%FF", "kept, encoded, encoded");
	buf_reset(&b);
	ok(authz_list_append(&b, "0123456789012345678901234567890123456789",
	    40) == SCIM_OK, "40 bytes fit in 64");
	ok(authz_list_append(&b, "0123456789012345678901234567890", 31) ==
	    SCIM_ERR_TOO_LARGE, "the next name does not");
	is_int(b.len, 40, "the list is as it was");
	ok(b.data[40] == '\0', "and still NUL-terminated");
	buf_free(&b);
}

/* ---- whole decisions --------------------------------------------------- */

struct put {
	json_t		*rec;
	const json_t	*old;
	enum rtype	 type;
	const char	*gid, *mid;	/* a membership to add instead */
	bool		 remove;
};

static enum scim_err
put_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct put *p = ctx;

	if (p->gid != NULL)
		return p->remove ? store_member_remove(txn, p->gid, p->mid, err) :
		    store_member_add(txn, p->gid, p->mid, err);
	return store_put(txn, p->type, p->old, p->rec, err);
}

/* Stores the JSON text as a new resource of type t; its id into id. */
static void
add(struct store *s, enum rtype t, const char *json, char id[STORE_ID_LEN + 1])
{
	struct put p = { json_loads(json, 0, NULL), NULL, t, NULL, NULL, false };
	struct scim_error err;

	store_new_id(id);
	json_object_set_new(p.rec, "id", json_string(id));
	json_object_set_new(p.rec, "meta", json_pack("{s:s}", "version",
	    "W/\"1\""));
	if (store_write(s, put_fn, &p, &err) != SCIM_OK)
		printf("# add failed: %s\n", err.detail);
	json_decref(p.rec);
}

static void
member(struct store *s, const char *gid, const char *mid, bool remove)
{
	struct put p = { NULL, NULL, RT_GROUP, gid, mid, remove };
	struct scim_error err;

	store_write(s, put_fn, &p, &err);
}

static enum scim_err
del_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	json_t *old;
	enum scim_err e;

	if ((e = store_get(txn, RT_USER, ctx, &old, err)) != SCIM_OK)
		return e;
	e = store_delete(txn, RT_USER, old, err);
	json_decref(old);
	return e;
}

static void
del(struct store *s, const char *id)
{
	struct scim_error err;

	ok(store_write(s, del_fn, (void *)id, &err) == SCIM_OK, "deleted");
}

/* Asks for a decision for REMOTE_USER user (NULL: none) on uri. */
static int
ask(struct store *s, const struct conf *c, const char *user, const char *uri,
    struct memreq *r)
{
	struct http_io io;

	memreq_init(r, NULL, 0);
	memreq_set(r, "FCGI_ROLE", "AUTHORIZER");
	if (user != NULL)
		memreq_set(r, "REMOTE_USER", user);
	memreq_set(r, "REQUEST_URI", uri);
	io = memreq_io(r);
	ok(authz_requested(&io), "the authorizer role is seen");
	return authz_serve(s, c, &io, 1);
}

/* The value of response header name in r's answer, or "" (static). */
static const char *
hdr(const struct memreq *r, const char *name)
{
	static char v[1024];
	const char *p = r->head;
	size_t n = strlen(name), l;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == r->head || p[-1] == '\n') && p[n] == ':') {
			p += n + 2;
			l = strcspn(p, "\r\n");
			snprintf(v, sizeof(v), "%.*s", (int)l, p);
			return v;
		}
		p += n;
	}
	return "";
}

static void
test_decisions(void)
{
	struct store *s = NULL;
	struct scim_error err;
	struct conf c;
	struct memreq r;
	struct http_io io;
	char alice[STORE_ID_LEN + 1], bob[STORE_ID_LEN + 1],
	    carol[STORE_ID_LEN + 1], dave[STORE_ID_LEN + 1],
	    eve[STORE_ID_LEN + 1], admins[STORE_ID_LEN + 1],
	    staff[STORE_ID_LEN + 1], inner[STORE_ID_LEN + 1],
	    evil[STORE_ID_LEN + 1], deep[LIMIT_AUTHZ_NESTING + 1][STORE_ID_LEN + 1];
	int i;

	ok(store_open(dir, true, &s, &err) == SCIM_OK, "store created");
	ok(load(&c, "require = /admin Admins\nrequire = /deep deep0\n"
	    "require = /deeper deep" "8\n", &err) == SCIM_OK, "rules");
	add(s, RT_USER, "{\"userName\":\"Alice@Example.com\","
	    "\"displayName\":\"Alice A\",\"active\":true,\"externalId\":\"e-1\","
	    "\"emails\":[{\"value\":\"a2@example.org\"},"
	    "{\"value\":\"alice@example.org\",\"primary\":true}]}", alice);
	add(s, RT_USER, "{\"userName\":\"bob\",\"active\":false}", bob);
	add(s, RT_USER, "{\"userName\":\"carol\",\"displayName\":"
	    "\"Carol\\r\\nSet-Cookie: owned=1\",\"emails\":[{\"value\":"
	    "\"shared@example.org\"}]}", carol);
	add(s, RT_USER, "{\"userName\":\"dave\",\"active\":true,\"emails\":"
	    "[{\"value\":\"shared@example.org\"}]}", dave);
	add(s, RT_USER, "{\"userName\":\"eve\",\"active\":\"false\"}", eve);
	add(s, RT_GROUP, "{\"displayName\":\"admins\"}", admins);
	add(s, RT_GROUP, "{\"displayName\":\"Staff, Paris 100%\"}", staff);
	add(s, RT_GROUP, "{\"displayName\":\"inner\"}", inner);
	add(s, RT_GROUP, "{\"displayName\":\"x\\nEvil: 1\"}", evil);

	/* Unknown, inactive, no user, a path that cannot be judged. */
	is_int(ask(s, &c, "nobody", "/", &r), 403, "unknown user: 403");
	is_int(r.status, 403, "the Status line says 403");
	ok(strstr(r.head, "Variable-") == NULL, "no variables on a refusal");
	is_int(ask(s, &c, "bob", "/", &r), 403, "active false: 403");
	is_int(ask(s, &c, "eve", "/", &r), 403,
	    "active that is not true (a string): 403");
	is_int(ask(s, &c, NULL, "/", &r), 401, "no REMOTE_USER: 401");
	is_int(ask(s, &c, "", "/", &r), 401, "an empty REMOTE_USER: 401");
	is_int(ask(s, &c, "alice@example.com", "/a%2fb", &r), 403,
	    "an encoded slash: 403");
	is_int(ask(NULL, &c, "alice@example.com", "/", &r), 503,
	    "no store: 503");

	/* Granted, with the variables. */
	is_int(ask(s, &c, "ALICE@example.COM", "/index.html", &r), 200,
	    "userName in another case: 200");
	is_str(hdr(&r, "Variable-SCIM_ID"), alice, "SCIM_ID");
	is_str(hdr(&r, "Variable-SCIM_USERNAME"), "Alice@Example.com",
	    "SCIM_USERNAME as stored");
	is_str(hdr(&r, "Variable-SCIM_DISPLAYNAME"), "Alice A",
	    "SCIM_DISPLAYNAME");
	is_str(hdr(&r, "Variable-SCIM_EMAIL"), "alice@example.org",
	    "SCIM_EMAIL is the primary one");
	is_str(hdr(&r, "Variable-SCIM_EXTERNAL_ID"), "e-1", "SCIM_EXTERNAL_ID");
	ok(strstr(r.head, "Variable-SCIM_GROUPS") == NULL,
	    "no SCIM_GROUPS for a user in no group");
	is_int(ask(s, &c, "A2@Example.org", "/", &r), 200,
	    "a non-primary email, in another case: 200");
	is_str(hdr(&r, "Variable-SCIM_ID"), alice, "the email's user");
	is_int(ask(s, &c, "shared@example.org", "/", &r), 403,
	    "an email two users share: 403");
	is_int(ask(s, &c, "carol", "/", &r), 200, "carol, active absent: 200");
	ok(strstr(r.head, "Set-Cookie") == NULL && strstr(r.head,
	    "SCIM_DISPLAYNAME") == NULL,
	    "a displayName holding CR LF is not sent at all");
	is_str(hdr(&r, "Variable-SCIM_USERNAME"), "carol",
	    "the other variables are");

	/* Rules and groups. */
	is_int(ask(s, &c, "alice@example.com", "/admin/x", &r), 403,
	    "/admin: not in Admins: 403");
	is_int(ask(s, &c, "alice@example.com", "/administrator", &r), 200,
	    "/administrator is not under /admin");
	is_int(ask(s, &c, "alice@example.com", "/pub/%2e%2e/admin", &r), 403,
	    "a dot-dot into /admin: 403");
	member(s, admins, alice, false);
	member(s, staff, alice, false);
	member(s, evil, alice, false);
	is_int(ask(s, &c, "alice@example.com", "/admin/x", &r), 200,
	    "added to admins (group names match case-insensitively): 200");
	ok(strstr(hdr(&r, "Variable-SCIM_GROUPS"), "admins") != NULL &&
	    strstr(hdr(&r, "Variable-SCIM_GROUPS"), "Staff%2C Paris 100%25") !=
	    NULL && strstr(hdr(&r, "Variable-SCIM_GROUPS"), "x%0AEvil: 1") !=
	    NULL, "SCIM_GROUPS: names with ',', '%' and LF encoded");
	ok(strstr(r.head, "\nEvil") == NULL, "no header made of a group name");
	ok(strstr(hdr(&r, "Variable-SCIM_GROUP_IDS"), admins) != NULL &&
	    strlen(hdr(&r, "Variable-SCIM_GROUP_IDS")) == 3 * STORE_ID_LEN + 2,
	    "SCIM_GROUP_IDS: three ids joined by ','");
	member(s, admins, alice, true);
	is_int(ask(s, &c, "alice@example.com", "/admin/x", &r), 403,
	    "removed from admins: 403 on the next request");
	/* Nesting: inner in admins counts. */
	member(s, inner, alice, false);
	member(s, admins, inner, false);
	is_int(ask(s, &c, "alice@example.com", "/admin/", &r), 200,
	    "in a group that is a member of admins: 200");
	member(s, admins, inner, true);
	/* A chain: deep0 <- deep1 <- ... <- deep8, alice in deep8. */
	for (i = 0; i <= LIMIT_AUTHZ_NESTING; i++) {
		char g[64];

		snprintf(g, sizeof(g), "{\"displayName\":\"deep%d\"}", i);
		add(s, RT_GROUP, g, deep[i]);
		if (i > 0)
			member(s, deep[i - 1], deep[i], false);
	}
	member(s, deep[LIMIT_AUTHZ_NESTING - 1], alice, false);
	is_int(ask(s, &c, "alice@example.com", "/deep", &r), 200,
	    "LIMIT_AUTHZ_NESTING levels count");
	member(s, deep[LIMIT_AUTHZ_NESTING - 1], alice, true);
	member(s, deep[LIMIT_AUTHZ_NESTING], alice, false);
	is_int(ask(s, &c, "alice@example.com", "/deep", &r), 403,
	    "one level more does not");
	is_int(ask(s, &c, "alice@example.com", "/deeper", &r), 200,
	    "the direct group does");
	/* A cycle ends. */
	member(s, deep[LIMIT_AUTHZ_NESTING], deep[0], false);
	is_int(ask(s, &c, "alice@example.com", "/deeper", &r), 200,
	    "a cycle of groups ends");

	/* Deleted: refused at once, also by email. */
	is_int(ask(s, &c, "dave", "/", &r), 200, "dave passes");
	del(s, carol);
	is_int(ask(s, &c, "shared@example.org", "/", &r), 200,
	    "the shared email is now dave's alone: 200");
	del(s, dave);
	is_int(ask(s, &c, "dave", "/", &r), 403, "deleted: 403");
	is_int(ask(s, &c, "shared@example.org", "/", &r), 403,
	    "deleted, by email: 403");
	(void)bob;

	/* No body is read, even when one is there. */
	memreq_init(&r, "{\"Operations\":[]}", 17);
	memreq_set(&r, "FCGI_ROLE", "AUTHORIZER");
	memreq_set(&r, "REQUEST_METHOD", "POST");
	memreq_set(&r, "CONTENT_LENGTH", "17");
	memreq_set(&r, "REMOTE_USER", "alice@example.com");
	memreq_set(&r, "REQUEST_URI", "/");
	memreq_set(&r, "HTTP_AUTHORIZATION", "Bearer not-a-token");
	io = memreq_io(&r);
	is_int(authz_serve(s, &c, &io, 1), 200,
	    "a POST with a body and a bogus bearer token: decided on REMOTE_USER");
	is_int(r.off, 0, "not a byte of the body was read");

	/* The role is not chosen by what a client sends. */
	memreq_init(&r, NULL, 0);
	memreq_set(&r, "HTTP_FCGI_ROLE", "AUTHORIZER");
	memreq_set(&r, "HTTP_SCIMD_ROLE", "AUTHORIZER");
	memreq_set(&r, "FCGI_ROLE", "RESPONDER");
	io = memreq_io(&r);
	ok(!authz_requested(&io), "HTTP_* variables do not choose the role");
	memreq_init(&r, NULL, 0);
	memreq_set(&r, "FCGI_ROLE", "RESPONDER");
	memreq_set(&r, "SCIMD_ROLE", "AUTHORIZER");
	io = memreq_io(&r);
	ok(authz_requested(&io), "SCIMD_ROLE from the server does");
	memreq_init(&r, NULL, 0);
	memreq_set(&r, "SCIMD_ROLE", "authorizer");
	io = memreq_io(&r);
	ok(!authz_requested(&io), "only the exact value AUTHORIZER");

	conf_free(&c);
	store_close(s);
}

int
main(void)
{
	struct scim_error err;
	char cmd[128];

	schema_init(NULL, &err);
	strcpy(dir, "/tmp/t_authz.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(conffile, sizeof(conffile), "%s.conf", dir);
	test_rules();
	test_paths();
	test_prefixes();
	test_values();
	test_lists();
	test_decisions();
	unlink(conffile);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
