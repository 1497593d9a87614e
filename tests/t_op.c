/*
 * t_op.c: the operations layer (op.h) without HTTP, against a real store
 * in a temporary directory: what every producer of changes (the
 * handlers, /Bulk, scimctl import) gets alike from the context -- the
 * audit trail trimmed to audit_keep, the password policy -- the answer
 * made inside the transaction (a failing answer changes nothing), the
 * rendered body, If-Match, and import keeping id, meta and version with
 * the version counter raised past them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "op.h"
#include "store.h"
#include "tap.h"

#define U	"urn:ietf:params:scim:schemas:core:2.0:User"
#define BASE	"https://scim.example/v2"

static char		 dir[] = "/tmp/t_op.XXXXXX";
static struct store	*s;

/* Counts audit entries. */
static bool
count_entry(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	(void)seq;
	(void)json;
	(void)len;
	(*(size_t *)ctx)++;
	return true;
}

/* Read callback: the number of audit entries and users. */
struct counts {
	size_t	audit, users;
};

static enum scim_err
counts_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct counts *c = ctx;
	enum scim_err e;

	c->audit = 0;
	if ((e = store_audit_list(txn, 0, count_entry, &c->audit, err)) !=
	    SCIM_OK)
		return e;
	return store_count(txn, RT_USER, &c->users, err);
}

static struct counts
counts(void)
{
	struct counts c = { 0, 0 };
	struct scim_error err;

	(void)store_read(s, counts_fn, &c, &err);
	return c;
}

/* Read callback: whether user ctx (id) has a password hash. */
struct pw {
	const char	*id;
	bool		 found;
	bool		 argon;
};

static enum scim_err
pw_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct pw *p = ctx;
	const void *v;
	size_t len;
	enum scim_err e;

	e = store_raw_get(txn, "passwords", p->id, strlen(p->id), &v, &len,
	    err);
	p->found = e == SCIM_OK;
	p->argon = p->found && len > 10 && memcmp(v, "$argon2id$", 10) == 0;
	return e == SCIM_ERR_NOT_FOUND ? SCIM_OK : e;
}

/* Read callback: the stored record of user ctx->id. */
struct raw {
	const char	*id;
	json_t		*rec;
};

static enum scim_err
raw_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct raw *r = ctx;

	return store_get(txn, RT_USER, r->id, &r->rec, err);
}

static json_t *
stored(const char *id)
{
	struct raw r = { id, NULL };
	struct scim_error err;

	(void)store_read(s, raw_fn, &r, &err);
	return r.rec;
}

/* An answer that cannot be made. */
static enum scim_err
answer_fails(const struct op_result *r, void *ctx, struct scim_error *err)
{
	(void)r;
	(*(int *)ctx)++;
	return err_set(err, SCIM_ERR_NOMEM, NULL);
}

/* Creates user name; the id into id[]. */
static enum scim_err
create(struct op_ctx *c, const char *name, char id[STORE_ID_LEN + 1])
{
	struct op_result r;
	struct scim_error err;
	json_t *body = json_pack("{s:[s], s:s}", "schemas", U, "userName",
	    name);
	enum scim_err e;

	e = op_create(c, RT_USER, body, &r, &err);
	json_decref(body);
	if (id != NULL)
		memcpy(id, r.id, sizeof(r.id));
	return e;
}

/* Import callback: one prepared record. */
static enum scim_err
import_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct op_ctx *c = ((void **)ctx)[0];
	struct op_record *o = ((void **)ctx)[1];

	return op_import(c, txn, o, err);
}

int
main(void)
{
	struct op_ctx c;
	struct op_result r;
	struct scim_error err;
	struct conf conf;
	struct buf body;
	struct counts n;
	struct pw pw;
	char id[STORE_ID_LEN + 1], name[32], cmd[128];
	json_t *in, *rec, *out;
	void *args[2];
	struct op_record o;
	int calls = 0, i;

	if (mkdtemp(dir) == NULL || store_open(dir, true, &s, &err) !=
	    SCIM_OK) {
		printf("Bail out! no store\n");
		return 1;
	}
	memset(&conf, 0, sizeof(conf));
	conf.audit_keep = 64;
	conf.password = CONF_PASSWORD_DISCARD;

	/* The audit trail is trimmed by the context's audit_keep. */
	op_ctx_init(&c, s, "t_op", &conf, BASE);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		if (create(&c, name, NULL) != SCIM_OK)
			break;
	}
	is_int(i, 200, "200 creates");
	n = counts();
	ok(n.audit >= 64 && n.audit <= 64 + 1, "the trail holds audit_keep "
	    "entries (64..65), not 200");

	/* An answer that cannot be made aborts the change. */
	c.answer = answer_fails;
	c.answer_ctx = &calls;
	ok(create(&c, "refused", NULL) == SCIM_ERR_NOMEM,
	    "a failing answer is the operation's error");
	ok(calls >= 1, "the answer was called");
	is_int(counts().users, 200, "...and nothing was stored");
	c.answer = NULL;

	/* The rendered body, the result's id and version. */
	buf_init(&body, 1 << 20);
	c.body = &body;
	ok(create(&c, "rendered", id) == SCIM_OK, "create with a body");
	out = json_loadb(body.data, body.len, 0, NULL);
	rec = stored(id);
	is_str(json_string_value(json_object_get(out, "id")), id,
	    "the body is the new resource");
	is_str(json_string_value(json_object_get(json_object_get(out, "meta"),
	    "version")), json_string_value(json_object_get(json_object_get(rec,
	    "meta"), "version")), "its version is the stored one");
	snprintf(cmd, sizeof(cmd), BASE "/Users/%s", id);
	is_str(json_string_value(json_object_get(json_object_get(out, "meta"),
	    "location")), cmd, "meta.location from the base URL");
	json_decref(out);
	json_decref(rec);

	/* If-Match: a stale version changes nothing. */
	in = json_pack("{s:[s], s:s, s:s}", "schemas", U, "userName",
	    "rendered", "displayName", "New");
	c.if_match = "W/\"1\"";
	ok(op_replace(&c, RT_USER, id, in, &r, &err) == SCIM_ERR_PRECONDITION,
	    "PUT with a stale If-Match: 412");
	rec = stored(id);
	ok(json_object_get(rec, "displayName") == NULL, "...changed nothing");
	json_decref(rec);
	c.if_match = "*";
	ok(op_replace(&c, RT_USER, id, in, &r, &err) == SCIM_OK &&
	    r.status == 200, "PUT with If-Match *: 200");
	json_decref(in);
	c.if_match = NULL;
	c.body = NULL;
	buf_free(&body);

	/* The password policy of the context. */
	in = json_pack("{s:[s], s:s, s:s}", "schemas", U, "userName", "pw1",
	    "password", "correct horse");
	ok(op_create(&c, RT_USER, in, &r, &err) == SCIM_OK, "create with a "
	    "password, policy discard");
	pw.id = r.id;
	(void)store_read(s, pw_fn, &pw, &err);
	ok(!pw.found, "...no hash stored");
	rec = stored(r.id);
	ok(json_object_get(rec, "password") == NULL, "...none in the record");
	json_decref(rec);
	json_decref(in);
	conf.password = CONF_PASSWORD_ARGON2ID;
	op_ctx_init(&c, s, "t_op", &conf, BASE);
	in = json_pack("{s:[s], s:s, s:s}", "schemas", U, "userName", "pw2",
	    "password", "correct horse");
	ok(op_create(&c, RT_USER, in, &r, &err) == SCIM_OK, "create with a "
	    "password, policy argon2id");
	pw.id = r.id;
	(void)store_read(s, pw_fn, &pw, &err);
	ok(pw.found && pw.argon, "...an Argon2id hash stored");

	/* Import: the same policy, id and meta kept, counter raised. */
	json_decref(in);
	in = json_pack("{s:[s], s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "schemas",
	    U, "id", "0A1B2C3D-0000-4000-8000-000000000001", "userName",
	    "imported", "password", "another one", "meta", "created",
	    "2020-01-02T03:04:05Z", "lastModified", "2021-01-02T03:04:05Z",
	    "version", "W/\"5000\"");
	ok(op_import_prepare(&c, in, &o, &err) == SCIM_OK, "import prepared");
	args[0] = &c;
	args[1] = &o;
	ok(store_write(s, import_fn, args, &err) == SCIM_OK, "import written");
	op_record_free(&o);
	rec = stored("0a1b2c3d-0000-4000-8000-000000000001");
	ok(rec != NULL, "the id is kept (lower-cased)");
	is_str(json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "version")), "W/\"5000\"", "meta.version kept");
	is_str(json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "created")), "2020-01-02T03:04:05Z", "meta.created kept");
	is_str(json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "lastModified")), "2021-01-02T03:04:05Z", "meta.lastModified kept");
	ok(json_object_get(rec, "password") == NULL, "no password in it");
	json_decref(rec);
	pw.id = "0a1b2c3d-0000-4000-8000-000000000001";
	(void)store_read(s, pw_fn, &pw, &err);
	ok(pw.found && pw.argon, "its password hashed by the same policy");
	ok(create(&c, "after", id) == SCIM_OK, "a create after the import");
	rec = stored(id);
	is_str(json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "version")), "W/\"5001\"", "...gets a version above the imported");
	json_decref(rec);
	n = counts();
	ok(n.audit <= 64 + 1, "import's audit entries are trimmed alike");
	ok(op_import_prepare(&c, in, &o, &err) == SCIM_OK &&
	    store_write(s, import_fn, args, &err) == SCIM_ERR_CONFLICT,
	    "the same id again: 409");
	op_record_free(&o);
	json_decref(in);
	in = json_pack("{s:[s], s:s, s:s}", "schemas", U, "id", "nope",
	    "userName", "x");
	ok(op_import_prepare(&c, in, &o, &err) == SCIM_ERR_INVALID_VALUE &&
	    o.rec == NULL, "an id that is not a UUID is refused");
	json_decref(in);

	/* Delete. */
	ok(op_delete(&c, RT_USER, id, &r, &err) == SCIM_OK && r.status == 204,
	    "delete: 204");
	ok(op_delete(&c, RT_USER, id, &r, &err) == SCIM_ERR_NOT_FOUND,
	    "delete again: 404");

	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
