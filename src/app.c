/*
 * app.c: the request pipeline, from CGI variables to a written answer.
 */
#include "config.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "authz.h"
#include "handlers.h"
#include "jsonx.h"
#include "log.h"
#include "router.h"
#include "sandbox.h"
#include "schema.h"
#include "work.h"

/* ---- the store and the document root ------------------------------------ */

/*
 * Records where the store really is, before the sandbox forbids the
 * calls that tell: its realpath() and the identity (device, inode) of
 * it and of each directory above it, path boundary by path boundary.
 * A document root is later compared with these by identity, so a
 * symlink or a second name of the same directory is seen through, and
 * "/srv/www" never matches "/srv/www2".
 */
static enum scim_err
store_locate(struct app *app, struct scim_error *err)
{
	struct stat st;
	char *p, *slash;
	size_t n = 1;

	if ((app->store_real = realpath(app->conf.db, NULL)) == NULL)
		return SCIM_OK;		/* opened, yet unnamed: nothing to
					 * compare with */
	for (p = app->store_real; *p != '\0'; p++)
		n += *p == '/';
	if ((app->store_dirs = calloc(n, sizeof(*app->store_dirs))) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	p = app->store_real;
	for (slash = p + strlen(p); slash != NULL; ) {
		char keep = *slash;

		*slash = '\0';
		if (stat(*p != '\0' ? p : "/", &st) == 0 &&
		    app->nstore_dirs < n) {
			app->store_dirs[app->nstore_dirs].dev = st.st_dev;
			app->store_dirs[app->nstore_dirs].ino = st.st_ino;
			app->nstore_dirs++;
		}
		*slash = keep;
		if (slash == p)
			break;
		while (--slash > p && *slash != '/')
			;
	}
	return SCIM_OK;
}

/*
 * Whether directory root (a document root as the web server gave it)
 * is the store's directory or one above it.  Uses only stat(), which
 * the sandbox allows.
 */
static bool
root_holds_store(const struct app *app, const char *root)
{
	struct stat st;
	size_t i, n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (app->store_real != NULL && strncmp(app->store_real, root, n) == 0 &&
	    (app->store_real[n] == '/' || app->store_real[n] == '\0'))
		return true;
	if (stat(root, &st) != 0)
		return false;
	for (i = 0; i < app->nstore_dirs; i++)
		if (app->store_dirs[i].dev == st.st_dev &&
		    app->store_dirs[i].ino == st.st_ino)
			return true;
	return false;
}

/*
 * Refuses to serve a store that lies inside the web server's document
 * root (DOCUMENT_ROOT, or CONTEXT_DOCUMENT_ROOT: Apache's for
 * ~user/public_html), where its files could be downloaded: SCIM_OK, or
 * SCIM_ERR_UNAVAILABLE with a detail naming no path.  The verdict for
 * each root is kept for the process's life and logged once, with the
 * paths.
 */
static enum scim_err
check_document_root(struct app *app, const struct http_io *io,
    struct scim_error *err)
{
	static const char *const vars[APP_DOCROOTS] = { "DOCUMENT_ROOT",
	    "CONTEXT_DOCUMENT_ROOT" };
	const char *root;
	int i;

	for (i = 0; i < APP_DOCROOTS; i++) {
		root = io->getenv(io->ctx, vars[i]);
		if (root == NULL || *root == '\0' || app->store_real == NULL)
			continue;
		if (app->docroot_seen[i] == NULL ||
		    strcmp(app->docroot_seen[i], root) != 0) {
			free(app->docroot_seen[i]);
			if ((app->docroot_seen[i] = strdup(root)) == NULL)
				return err_set(err, SCIM_ERR_NOMEM, NULL);
			app->docroot_inside[i] = root_holds_store(app, root);
			if (app->docroot_inside[i])
				log_msg(LVL_ERROR, "refusing to serve: the "
				    "store %s lies inside the document root "
				    "%s (%s), where its files could be "
				    "downloaded; move it out (docs/deploy.md)",
				    app->store_real, root, vars[i]);
		}
		if (app->docroot_inside[i])
			return err_set(err, SCIM_ERR_UNAVAILABLE, "The store "
			    "lies inside the web server's document root, "
			    "where it could be downloaded: the admin must "
			    "move it out (the error log says where).");
	}
	return SCIM_OK;
}

/* Logs one problem the unique indexes' rebuild found (store.h). */
static void
unique_problem(const char *line, void *ctx)
{
	(void)ctx;
	log_msg(LVL_ERROR, "unique attribute: %s", line);
}

/*
 * Builds the store's unique indexes for the unique attributes of the
 * site's schemas when the store holds another list (a schema file that
 * gained or lost "uniqueness": "server"): SCIM_OK, or the rebuild's
 * error (records sharing a value: each pair logged, nothing changed).
 */
static enum scim_err
unique_sync(struct app *app, struct scim_error *err)
{
	enum scim_err e;
	bool rebuilt;

	e = store_unique_sync(app->store, unique_problem, NULL, &rebuilt, err);
	if (e == SCIM_OK && rebuilt)
		log_msg(LVL_INFO, "unique attributes of the schemas changed: "
		    "their indexes were rebuilt");
	return e;
}

/*
 * Reads the settings, refuses root unless allowed, loads the schemas and
 * opens the store; everything it made is app_close()'s to free, even on
 * failure.
 */
enum scim_err
app_open(struct app *app, const char *conf_path, const char *argv0,
    struct scim_error *err)
{
	static bool schemas_loaded;	/* schema_init() registers once */
	struct timespec now;
	enum scim_err e;

	memset(app, 0, sizeof(*app));
	sandbox_no_core_dumps();	/* before the first token is read */
	app->conf_path = conf_path;
	app->argv0 = argv0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	app->open_tried = now.tv_sec;
	if ((e = conf_load(&app->conf, conf_path, argv0, err)) != SCIM_OK)
		return err_recode(err, SCIM_ERR_UNAVAILABLE);
	log_init("scimd", app->conf.log_level, app->conf.log_syslog);
	/* Before the store is touched: a root scimd would leave root-owned
	 * files the web server's user can no longer open. */
	if (geteuid() == 0 && !app->conf.allow_root)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "scimd refuses to run as root: run it as the web "
		    "server's user, or set allow_root = yes in scimd.conf.");
	if (!schemas_loaded &&
	    (e = schema_init(app->conf.schemas, err)) != SCIM_OK)
		return err_recode(err, SCIM_ERR_UNAVAILABLE);
	schemas_loaded = true;
	if (app->conf.db == NULL)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "No store configured:"
		    " set SCIMD_DB or db in scimd.conf.");
	if ((e = store_open(app->conf.db, false, &app->store, err)) !=
	    SCIM_OK || (e = unique_sync(app, err)) != SCIM_OK)
		return e;
	return store_locate(app, err);
}

/* Enters the sandbox the settings ask for; a required one that cannot be
 * entered is SCIM_ERR_UNAVAILABLE, an "auto" one only logs. */
enum scim_err
app_confine(struct app *app, struct scim_error *err)
{
	enum scim_err e;

	if (app->conf.sandbox == CONF_SANDBOX_NONE ||
	    (app->conf.sandbox == CONF_SANDBOX_AUTO && !sandbox_available()))
		return SCIM_OK;
	tzset();		/* the log's clock reads /etc/localtime once */
	/* jansson seeds its hash from /dev/urandom */
	json_decref(json_object());
	if ((e = sandbox_enter(err)) != SCIM_OK) {
		if (app->conf.sandbox != CONF_SANDBOX_AUTO)
			return e;
		/* auto: a kernel without seccomp filters still serves. */
		log_msg(LVL_INFO, "%s; serving unconfined (sandbox = seccomp "
		    "would refuse to)", err->detail);
		err_clear(err);
		return SCIM_OK;
	}
	log_msg(LVL_DEBUG, "sandbox: seccomp filter installed");
	if (app->conf.sandbox == CONF_SANDBOX_SELFTEST) {
		log_msg(LVL_ERROR, "sandbox self-test: making a forbidden call "
		    "(getuid); this process must now die of SIGSYS");
		(void)syscall(SYS_getuid);
		return err_set(err, SCIM_ERR_UNAVAILABLE, "sandbox self-test "
		    "failed: the kernel did not enforce the filter.");
	}
	return SCIM_OK;
}

/* ---- a start that failed ------------------------------------------------- */

/*
 * Replaces in detail (NUL-terminated, at most SCIM_ERROR_DETAIL_BYTES)
 * every occurrence of path, when it names a directory (holds a '/'), by
 * a placeholder.
 */
static void
redact_string(char *detail, const char *path)
{
	static const char mark[] = "[path]";
	char out[SCIM_ERROR_DETAIL_BYTES], *hit, *p = detail;
	size_t n = strlen(path ? path : ""), len = 0;

	if (n == 0 || strchr(path, '/') == NULL || strstr(detail, path) == NULL)
		return;
	while ((hit = strstr(p, path)) != NULL) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%.*s%s",
		    (int)(hit - p), p, mark);
		if (len >= sizeof(out))
			break;
		p = hit + n;
	}
	if (len < sizeof(out))
		snprintf(out + len, sizeof(out) - len, "%s", p);
	memcpy(detail, out, sizeof(out));
	detail[SCIM_ERROR_DETAIL_BYTES - 1] = '\0';
}

/*
 * Replaces every absolute path left in detail (a word that starts with
 * '/' after the start, a space, a quote or a parenthesis, up to a space,
 * quote, parenthesis, comma or a colon) by a placeholder.
 */
static void
redact_words(char *detail)
{
	char out[SCIM_ERROR_DETAIL_BYTES];
	size_t i = 0, o = 0;

	while (detail[i] != '\0' && o + 8 < sizeof(out)) {
		bool start = i == 0 || strchr(" \"'(`", detail[i - 1]) != NULL;

		if (detail[i] == '/' && start) {
			while (detail[i] != '\0' &&
			    strchr(" \"'`),:", detail[i]) == NULL)
				i++;
			memcpy(out + o, "[path]", 6);
			o += 6;
		} else
			out[o++] = detail[i++];
	}
	out[o] = '\0';
	memcpy(detail, out, o + 1);
}

/*
 * After app_open() or app_confine() failed with err: logs why, naming
 * the store's path and the user scimd runs as (what the admin needs to
 * fix permissions), then rewrites err's detail for the callers, who may
 * not see any path of this host: each becomes "[path]".
 */
static void
start_failed(struct app *app, bool retried, struct scim_error *err)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *conf_env = getenv("SCIMD_CONF");
	const char *db_env = getenv("SCIMD_DB");

	log_msg(LVL_ERROR, "cannot start: %s (store %s, running as uid %ld "
	    "(%s)%s)", err->detail, app->conf.db ? app->conf.db : "not set",
	    (long)geteuid(), pw != NULL ? pw->pw_name : "no name",
	    retried ? "; trying again on later requests, at most once a "
	    "second" : "");
	redact_string(err->detail, app->conf.db);
	redact_string(err->detail, app->conf.schemas);
	redact_string(err->detail, db_env);
	redact_string(err->detail, app->conf_path);
	redact_string(err->detail, conf_env);
	redact_words(err->detail);
}

/* app_open() and app_confine(), and on failure start_failed() (app.h). */
enum scim_err
app_start(struct app *app, const char *conf_path, const char *argv0,
    bool retried, struct scim_error *err)
{
	enum scim_err e;

	if ((e = app_open(app, conf_path, argv0, err)) == SCIM_OK &&
	    (e = app_confine(app, err)) == SCIM_OK)
		return SCIM_OK;
	start_failed(app, retried, err);
	return e;
}

/* Starts again when LIMIT_OPEN_RETRY_SECONDS have passed (app.h). */
enum scim_err
app_retry(struct app *app, struct scim_error *err)
{
	const char *conf_path = app->conf_path, *argv0 = app->argv0;
	unsigned long failures = app->open_failures + 1;
	struct timespec now;
	enum scim_err e;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - app->open_tried < LIMIT_OPEN_RETRY_SECONDS)
		return err->code != SCIM_OK ? err->code : SCIM_ERR_UNAVAILABLE;
	app_close(app);
	err_clear(err);
	if ((e = app_open(app, conf_path, argv0, err)) == SCIM_OK &&
	    (e = app_confine(app, err)) == SCIM_OK) {
		log_msg(LVL_INFO, "started after %lu failed attempt%s: serving",
		    failures, failures == 1 ? "" : "s");
		return SCIM_OK;
	}
	app->open_failures = failures;
	start_failed(app, true, err);
	return e;
}

/* Closes the store and frees the settings; safe after a failed app_open. */
void
app_close(struct app *app)
{
	int i;

	store_close(app->store);
	app->store = NULL;
	free(app->store_real);
	app->store_real = NULL;
	free(app->store_dirs);
	app->store_dirs = NULL;
	app->nstore_dirs = 0;
	for (i = 0; i < APP_DOCROOTS; i++) {
		free(app->docroot_seen[i]);
		app->docroot_seen[i] = NULL;
	}
	conf_free(&app->conf);
}

/* Replaces whatever res holds with the SCIM Error message for err. */
static void
error_response(struct http_response *res, const struct scim_error *err,
    const char *allow)
{
	json_t *j;

	buf_reset(&res->headers);
	buf_reset(&res->body);
	res->status = err_http_status(err->code);
	j = jsonx_error(err);
	http_response_header(res, "Content-Type",
	    "application/scim+json; charset=utf-8");
	if (err->code == SCIM_ERR_UNAUTHORIZED)
		http_response_header(res, "WWW-Authenticate",
		    "Bearer realm=\"scimd\"");
	if (err->code == SCIM_ERR_METHOD && allow != NULL && *allow != '\0')
		http_response_header(res, "Allow", allow);
	if (j == NULL || jsonx_dump(j, &res->body) != SCIM_OK)
		buf_puts(&res->body, "{\"schemas\":[\"" SCHEMA_URN_ERROR
		    "\"],\"status\":\"500\",\"detail\":\"Out of memory\"}");
	json_decref(j);
}

/* Answers with the SCIM Error for err (503 when app_open failed), reading
 * nothing of the request. */
void
app_serve_error(const struct http_io *io, const struct scim_error *err)
{
	struct http_response res;

	if (authz_requested(io)) {	/* the authorizer role: fail closed */
		authz_serve(NULL, NULL, io, 0);
		return;
	}
	http_response_init(&res);
	error_response(&res, err, NULL);
	http_response_send(io, &res, false);
	http_response_free(&res);
}

/* Whether the request's content type is JSON (SCIM's or plain). */
static bool
json_content_type(const char *ct)
{
	size_t n;

	if (ct == NULL || *ct == '\0')
		return true;
	n = strcspn(ct, "; ");
	return (n == 21 && strncasecmp(ct, "application/scim+json", n) == 0) ||
	    (n == 16 && strncasecmp(ct, "application/json", n) == 0);
}

/*
 * Runs the pipeline up to the handler; returns its outcome.  allow
 * receives the Allow header value for a 405.
 */
static enum scim_err
dispatch(struct app *app, const struct http_io *io, struct http_request *req,
    struct http_response *res, char *allow, size_t allowsz, json_t **body,
    char *token_name, size_t token_namesz, struct scim_error *err)
{
	struct route_match m;
	struct exchange x;
	enum scim_err e;

	if ((e = http_request_parse(io, app->conf.mount, app->conf.base_url,
	    req, err)) != SCIM_OK)
		return e;
	if ((e = check_document_root(app, io, err)) != SCIM_OK)
		return e;
	/* Authenticate before reading a byte of the body. */
	if ((e = auth_check(app->store, req->authorization, token_name,
	    token_namesz, err)) != SCIM_OK)
		return e;
	if ((e = router_match(req->method, req->path, &m, allow, allowsz,
	    err)) != SCIM_OK)
		return e;
	if (m.has_body) {
		if (req->content_length > LIMIT_BODY_BYTES)
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "The body is larger than %d bytes.",
			    LIMIT_BODY_BYTES);
		if (!json_content_type(req->content_type))
			return err_set(err, SCIM_ERR_MEDIA_TYPE,
			    "Send application/scim+json or application/json.");
		if ((e = http_read_body(io, req, err)) != SCIM_OK)
			return e;
		if ((e = jsonx_parse(req->body, req->body_len, body, err)) !=
		    SCIM_OK)
			return e;
	}
	memset(&x, 0, sizeof(x));
	x.app = app;
	x.req = req;
	x.res = res;
	x.body = *body;
	x.arg = m.arg;
	x.type = m.type;
	x.token = token_name;
	return m.handler(&x, err);
}

/*
 * Whether this request's log line may be written: refused
 * authentications get LIMIT_AUTH_LOG_PER_SECOND lines a second in each
 * process; the lines held back are counted and reported in one line
 * once a later second begins.
 */
static bool
auth_log_allowed(struct app *app, bool refused, time_t now)
{
	if (now != app->auth_log_second) {
		if (app->auth_unlogged > 0)
			log_msg(LVL_INFO, "%lu refused authentications not "
			    "logged (limit %d a second)", app->auth_unlogged,
			    LIMIT_AUTH_LOG_PER_SECOND);
		app->auth_log_second = now;
		app->auth_logged = 0;
		app->auth_unlogged = 0;
	}
	if (!refused)
		return true;
	if (app->auth_logged < LIMIT_AUTH_LOG_PER_SECOND) {
		app->auth_logged++;
		return true;
	}
	app->auth_unlogged++;
	return false;
}

/*
 * One request from parse to answer: authentication before the body is
 * read, then the route's handler; every failure is one SCIM Error, and
 * one log line records the outcome.
 */
void
app_serve(struct app *app, const struct http_io *io)
{
	struct http_request req;
	struct http_response res;
	struct scim_error err;
	struct timespec t0, t1;
	json_t *body = NULL;
	char allow[128], path[256], token[LIMIT_TOKEN_NAME_BYTES + 1] = "-";
	enum scim_err e;

	if (authz_requested(io)) {	/* a decision, not SCIM (authz.h) */
		authz_serve(app->store, &app->conf, io, ++app->served);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err_clear(&err);
	http_response_init(&res);
	work_begin(LIMIT_WORK_UNITS);	/* work.h */
	e = dispatch(app, io, &req, &res, allow, sizeof(allow), &body, token,
	    sizeof(token), &err);
	work_end();
	if (e != SCIM_OK) {
		if (err.code == SCIM_OK)
			err.code = e;
		error_response(&res, &err, allow);
		if (res.status >= 500)
			log_msg(LVL_ERROR, "req=%d-%lu %s", (int)getpid(),
			    app->served + 1, err.detail);
		else
			log_msg(LVL_DEBUG, "req=%d-%lu refused: %s",
			    (int)getpid(), app->served + 1, err.detail);
	}
	http_response_send(io, &res, req.method == HTTP_HEAD);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	app->served++;
	err_escape(path, sizeof(path), req.path ? req.path : "",
	    req.path ? strlen(req.path) : 0);
	if (!auth_log_allowed(app, res.status == 401, t1.tv_sec))
		goto done;
	/* One line per request; never the token itself or the body. */
	log_msg(LVL_INFO, "req=%d-%lu token=%s %s %s %d %zu %ldus",
	    (int)getpid(), app->served, token, req.method_name[0] ?
	    req.method_name : "-", path, res.status, res.body.len,
	    (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000));
done:
	json_decref(body);
	http_request_free(&req);
	http_response_free(&res);
}
