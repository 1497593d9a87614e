/*
 * fixed.c: the ceiling the benchmark compares scimd with.
 *
 * A libfcgi responder (or plain CGI program: the same binary) that reads
 * the request and answers a fixed SCIM User of about 600 bytes, doing
 * nothing else.  It measures what lighttpd, libfcgi and the loopback cost
 * on this machine, so scimd's figures can be read as a ratio of it.
 *
 * With FIXED_DB set to an LMDB environment directory, a POST also does
 * one write transaction putting one record, committed with fsync: the
 * single-put figure, kept for information.
 *
 * With FIXED_LAYOUT=1 as well, FIXED_DB is a copy of a scimd store and
 * each write does, with bare LMDB calls, the same logical writes scimd
 * makes, in one durable transaction: the physical limit of the layout
 * on this disk, and the ceiling for scimd's writes (docs/performance.md):
 *	POST		a User record under a new random id, its userName
 *			and email index entries, the version counter in meta,
 *			an audit entry, its id_counts bucket
 *	PATCH /Users/ID	the record rewritten, the version counter, an
 *			audit entry (PATCH of active)
 *	PATCH /Groups/ID	the group record rewritten, the member pair
 *			added to (body has "op":"add") or removed from
 *			members and memberof, the version counter, an audit
 *			entry (the member id is the body's first UUID)
 *
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
#include <time.h>
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

/* The scimd databases a layout write touches (FIXED_LAYOUT). */
enum { L_USERS, L_GROUPS, L_USERNAME, L_EMAIL, L_META, L_AUDIT, L_COUNTS,
	L_MEMBERS, L_MEMBEROF, L__COUNT };
static const char *const lnames[L__COUNT] = { "users", "groups",
	"idx_username", "idx_email", "meta", "audit", "id_counts", "members",
	"memberof" };
static MDB_dbi	 ldbi[L__COUNT];
static int	 layout;
static unsigned long long rng;

/* Opens FIXED_DB if set; returns 0, or -1 with a message. */
static int
open_db(void)
{
	const char *dir = getenv("FIXED_DB");
	MDB_txn *txn;

	int i;

	if (dir == NULL)
		return 0;
	layout = getenv("FIXED_LAYOUT") != NULL;
	rng = (unsigned long long)getpid() * 0x9e3779b97f4a7c15ULL ^
	    (unsigned long long)time(NULL);
	if (mdb_env_create(&env) != 0 ||
	    mdb_env_set_maxdbs(env, 32) != 0 ||
	    mdb_env_set_mapsize(env, layout ? 1UL << 34 : 1UL << 30) != 0 ||
	    mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &dbi) != 0)
		goto fail;
	for (i = 0; layout && i < L__COUNT; i++)
		if (mdb_dbi_open(txn, lnames[i], 0, &ldbi[i]) != 0)
			goto fail;
	if (mdb_txn_commit(txn) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "fixed: cannot open %s\n", dir);
	return -1;
}

/* A random version-4 UUID into out[37] (xorshift: ids need not be
 * secret here, only spread like scimd's). */
static void
new_id(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	int i, j;

	for (i = 0; i < 16; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		b[i] = (unsigned char)(rng >> 24);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}

/* Bumps meta "seq" and appends an audit entry, as every scimd write. */
static int
version_and_audit(MDB_txn *txn, const char *op, const char *id)
{
	MDB_val k = { 3, "seq" }, v;
	MDB_cursor *c;
	unsigned char be[8], key[8];
	unsigned long long n = 0, seq = 1;
	char entry[256];
	int i;

	if (mdb_get(txn, ldbi[L_META], &k, &v) == 0 && v.mv_size == 8)
		for (i = 0; i < 8; i++)
			n = n << 8 | ((unsigned char *)v.mv_data)[i];
	n++;
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(n >> (56 - 8 * i));
	v.mv_size = 8;
	v.mv_data = be;
	if (mdb_put(txn, ldbi[L_META], &k, &v, 0) != 0 ||
	    mdb_cursor_open(txn, ldbi[L_AUDIT], &c) != 0)
		return -1;
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		for (seq = 0, i = 0; i < 8; i++)
			seq = seq << 8 | ((unsigned char *)k.mv_data)[i];
	mdb_cursor_close(c);
	seq++;
	for (i = 0; i < 8; i++)
		key[i] = (unsigned char)(seq >> (56 - 8 * i));
	/* The shape of scimd's entry, about its size. */
	snprintf(entry, sizeof(entry), "{\"seq\":%llu,\"time\":"
	    "\"2026-11-23T09:00:00.000Z\",\"token\":\"bench\",\"op\":\"%s\","
	    "\"type\":\"User\",\"id\":\"%s\",\"version\":\"W/\\\"%llu\\\"\"}",
	    seq, op, id, n);
	k.mv_size = 8;
	k.mv_data = key;
	v.mv_size = strlen(entry);
	v.mv_data = entry;
	return mdb_put(txn, ldbi[L_AUDIT], &k, &v, MDB_APPEND) == 0 ? 0 : -1;
}

/* Adds one to the id_counts bucket of a new user id. */
static int
count_id(MDB_txn *txn, const char *id)
{
	unsigned char row[1024];
	char key[2] = { 'u', id[0] };
	MDB_val k = { 2, key }, v;
	int slot = (int)(strchr("0123456789abcdef", id[1]) -
	    "0123456789abcdef") * 16 + (int)(strchr("0123456789abcdef",
	    id[2]) - "0123456789abcdef");
	unsigned int n;

	if (mdb_get(txn, ldbi[L_COUNTS], &k, &v) == 0 && v.mv_size == 1024)
		memcpy(row, v.mv_data, sizeof(row));
	else
		memset(row, 0, sizeof(row));
	n = (unsigned)row[slot * 4] << 24 | (unsigned)row[slot * 4 + 1] << 16 |
	    (unsigned)row[slot * 4 + 2] << 8 | row[slot * 4 + 3];
	n++;
	row[slot * 4] = (unsigned char)(n >> 24);
	row[slot * 4 + 1] = (unsigned char)(n >> 16);
	row[slot * 4 + 2] = (unsigned char)(n >> 8);
	row[slot * 4 + 3] = (unsigned char)n;
	v.mv_size = sizeof(row);
	v.mv_data = row;
	return mdb_put(txn, ldbi[L_COUNTS], &k, &v, 0) == 0 ? 0 : -1;
}

/* A create's writes: record, userName and email entries, counter,
 * audit, id_counts. */
static int
layout_create(MDB_txn *txn)
{
	char id[37], name[64];
	MDB_val k, v;

	new_id(id);
	snprintf(name, sizeof(name), "ceil-%d-%llu@example.com",
	    (int)getpid(), counter++);
	k.mv_size = 36;
	k.mv_data = id;
	v.mv_size = sizeof(user_json) - 1;
	v.mv_data = (void *)user_json;
	if (mdb_put(txn, ldbi[L_USERS], &k, &v, MDB_NOOVERWRITE) != 0)
		return -1;
	k.mv_size = strlen(name);
	k.mv_data = name;
	v.mv_size = 36;
	v.mv_data = id;
	if (mdb_put(txn, ldbi[L_USERNAME], &k, &v, MDB_NOOVERWRITE) != 0 ||
	    mdb_put(txn, ldbi[L_EMAIL], &k, &v, MDB_NODUPDATA) != 0)
		return -1;
	return version_and_audit(txn, "create", id) == 0 &&
	    count_id(txn, id) == 0 ? 0 : -1;
}

/* Rewrites record id of database d with its own bytes. */
static int
rewrite(MDB_txn *txn, int d, const char *id)
{
	char copy[16384];
	MDB_val k = { 36, (void *)id }, v;

	if (mdb_get(txn, ldbi[d], &k, &v) != 0 || v.mv_size > sizeof(copy))
		return -1;
	memcpy(copy, v.mv_data, v.mv_size);
	v.mv_data = copy;
	return mdb_put(txn, ldbi[d], &k, &v, 0) == 0 ? 0 : -1;
}

/* The first UUID-shaped run of 36 characters in s, or NULL. */
static const char *
find_uuid(const char *s)
{
	size_t i;

	for (; *s != '\0'; s++) {
		for (i = 0; i < 36 && s[i] != '\0'; i++)
			if ((i == 8 || i == 13 || i == 18 || i == 23) ?
			    s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL)
				break;
		if (i == 36)
			return s;
	}
	return NULL;
}

/* A PATCH's writes on the resource at path (".../Users/ID" or
 * ".../Groups/ID"), with the request body. */
static int
layout_patch(MDB_txn *txn, const char *path, const char *body)
{
	const char *q = path != NULL ? strchr(path, '?') : NULL;
	size_t len = path == NULL ? 0 : q != NULL ? (size_t)(q - path) :
	    strlen(path);
	const char *id = len >= 36 ? path + len - 36 : NULL, *mid;
	MDB_val k, v;
	int add;

	if (id == NULL)
		return -1;
	if (strstr(path, "/Groups/") == NULL)
		return rewrite(txn, L_USERS, id) == 0 &&
		    version_and_audit(txn, "patch", id) == 0 ? 0 : -1;
	if ((mid = find_uuid(body)) == NULL || rewrite(txn, L_GROUPS, id) != 0)
		return -1;
	add = strstr(body, "\"op\":\"add\"") != NULL;
	k.mv_size = v.mv_size = 36;
	k.mv_data = (void *)id;
	v.mv_data = (void *)mid;
	if (add ? mdb_put(txn, ldbi[L_MEMBERS], &k, &v, MDB_NODUPDATA) :
	    mdb_del(txn, ldbi[L_MEMBERS], &k, &v))
		return -1;
	k.mv_data = (void *)mid;
	v.mv_data = (void *)id;
	if (add ? mdb_put(txn, ldbi[L_MEMBEROF], &k, &v, MDB_NODUPDATA) :
	    mdb_del(txn, ldbi[L_MEMBEROF], &k, &v))
		return -1;
	return version_and_audit(txn, "patch", id);
}

/* The request's path: REQUEST_URI (a server may leave PATH_INFO empty
 * for a mount without a script name), else PATH_INFO. */
static const char *
request_path(const char *uri, const char *path_info)
{
	return uri != NULL && *uri != '\0' ? uri : path_info;
}

/* One durable transaction of a layout write (FIXED_LAYOUT). */
static int
layout_write(const char *method, const char *path, const char *body)
{
	MDB_txn *txn;
	int rc;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	rc = strcmp(method, "POST") == 0 ? layout_create(txn) :
	    layout_patch(txn, path, body);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
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
	char body[8192], sink[4096], head[256];
	int n, created = method != NULL && strcmp(method, "POST") == 0;
	int got;

	if (role != NULL && strcmp(role, "AUTHORIZER") == 0) {
		FCGX_PutS("Status: 200 OK\r\n\r\n", out);
		return;
	}
	got = FCGX_GetStr(body, sizeof(body) - 1, in);
	body[got > 0 ? got : 0] = '\0';
	while (FCGX_GetStr(sink, sizeof(sink), in) > 0)
		;
	if (env != NULL && method != NULL && (layout ? (created ||
	    strcmp(method, "PATCH") == 0) && layout_write(method,
	    request_path(FCGX_GetParam("REQUEST_URI", envp),
	    FCGX_GetParam("PATH_INFO", envp)), body) != 0 : created &&
	    durable_put() != 0)) {
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
	char body[8192], sink[4096], head[256];
	int n, created = method != NULL && strcmp(method, "POST") == 0;
	size_t got = fread(body, 1, sizeof(body) - 1, stdin);

	body[got] = '\0';
	while (fread(sink, 1, sizeof(sink), stdin) > 0)
		;
	if (env != NULL && method != NULL && (layout ? (created ||
	    strcmp(method, "PATCH") == 0) && layout_write(method,
	    request_path(getenv("REQUEST_URI"), getenv("PATH_INFO")), body) !=
	    0 : created && durable_put() != 0)) {
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
