/*
 * fixed.c: the ceiling the benchmark compares scimd with.
 *
 * A libfcgi responder (or plain CGI program: the same binary) that reads
 * the request and answers a fixed SCIM User of about 600 bytes, doing
 * nothing else.  It measures what lighttpd, libfcgi and the loopback cost
 * on this machine, so scimd's figures can be read as a ratio of it.
 *
 * With FIXED_DB set to an LMDB environment directory, a POST also does
 * what a durable create cannot avoid: one write transaction putting one
 * record, committed with fsync.  That is the ceiling for POST /Users.
 *
 * Asked as a FastCGI authorizer (FCGI_ROLE=AUTHORIZER: lighttpd's
 * "mode" => "authorizer"), it allows every request: "Status: 200" and
 * nothing else, reading nothing.  That is the ceiling scimd's
 * authorizer is compared with (bench/authz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <lmdb.h>

static const char user_json[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\":\"ext-0000042\","
    "\"userName\":\"user0000042@example.com\","
    "\"name\":{\"givenName\":\"Given42\",\"familyName\":\"Family42\"},"
    "\"displayName\":\"User 42\",\"title\":\"Engineer 42\",\"active\":true,"
    "\"emails\":[{\"value\":\"user0000042@example.com\",\"type\":\"work\","
    "\"primary\":true}],"
    "\"meta\":{\"resourceType\":\"User\","
    "\"created\":\"2026-11-23T09:00:00Z\","
    "\"lastModified\":\"2026-11-23T09:00:00Z\","
    "\"location\":\"http://127.0.0.1:8080/scim/v2/Users/"
    "2819c223-7f76-453a-919d-413861904646\",\"version\":\"W/\\\"42\\\"\"}}";

static MDB_env	*env;
static MDB_dbi	 dbi;
static unsigned long long counter;

/* Opens FIXED_DB if set; returns 0, or -1 with a message. */
static int
open_db(void)
{
	const char *dir = getenv("FIXED_DB");
	MDB_txn *txn;

	if (dir == NULL)
		return 0;
	if (mdb_env_create(&env) != 0 ||
	    mdb_env_set_mapsize(env, 1UL << 30) != 0 ||
	    mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
	    mdb_txn_commit(txn) != 0) {
		fprintf(stderr, "fixed: cannot open %s\n", dir);
		return -1;
	}
	return 0;
}

/* One durable write transaction of about the size of a user record. */
static int
durable_put(void)
{
	char key[32];
	MDB_txn *txn;
	MDB_val k, v;

	snprintf(key, sizeof(key), "%d-%llu", (int)getpid(), counter++);
	k.mv_data = key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)user_json;
	v.mv_size = sizeof(user_json) - 1;
	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	if (mdb_put(txn, dbi, &k, &v, 0) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
}

/* Formats the reply head into head; returns its length. */
static int
reply_head(char *head, size_t size, int created)
{
	/* libfcgi's own printf lacks %zu: format the head with snprintf. */
	return snprintf(head, size, "Status: %s\r\n"
	    "Content-Type: application/scim+json; charset=utf-8\r\n"
	    "ETag: W/\"42\"\r\n"
	    "Content-Length: %zu\r\n\r\n", created ? "201 Created" : "200 OK",
	    sizeof(user_json) - 1);
}

/* Answers one FastCGI request on in/out with the fixed user. */
static void
serve(FCGX_Stream *in, FCGX_Stream *out, FCGX_ParamArray envp)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", envp);
	const char *role = FCGX_GetParam("FCGI_ROLE", envp);
	char sink[4096], head[256];
	int n, created = method != NULL && strcmp(method, "POST") == 0;

	if (role != NULL && strcmp(role, "AUTHORIZER") == 0) {
		FCGX_PutS("Status: 200 OK\r\n\r\n", out);
		return;
	}
	while (FCGX_GetStr(sink, sizeof(sink), in) > 0)
		;
	if (created && env != NULL && durable_put() != 0) {
		FCGX_PutS("Status: 500\r\n\r\n", out);
		return;
	}
	n = reply_head(head, sizeof(head), created);
	FCGX_PutStr(head, n, out);
	FCGX_PutStr(user_json, (int)sizeof(user_json) - 1, out);
}

/* The same as plain CGI: the request on stdin and the environment. */
static int
serve_cgi(void)
{
	const char *method = getenv("REQUEST_METHOD");
	char sink[4096], head[256];
	int n, created = method != NULL && strcmp(method, "POST") == 0;

	while (fread(sink, 1, sizeof(sink), stdin) > 0)
		;
	if (created && env != NULL && durable_put() != 0) {
		fputs("Status: 500\r\n\r\n", stdout);
		return 1;
	}
	n = reply_head(head, sizeof(head), created);
	fwrite(head, 1, (size_t)n, stdout);
	fwrite(user_json, 1, sizeof(user_json) - 1, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(void)
{
	FCGX_Stream *in, *out, *err;
	FCGX_ParamArray envp;

	if (open_db() != 0)
		return 1;
	/* FCGX_Accept() only speaks FastCGI: a CGI start answers once. */
	if (FCGX_IsCGI()) {
		int rc = serve_cgi();

		if (env != NULL)
			mdb_env_close(env);
		return rc;
	}
	while (FCGX_Accept(&in, &out, &err, &envp) >= 0)
		serve(in, out, envp);
	if (env != NULL)
		mdb_env_close(env);
	return 0;
}
