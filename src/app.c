/*
 * app.c: the request pipeline, from CGI variables to a written answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "handlers.h"
#include "jsonx.h"
#include "log.h"
#include "router.h"
#include "sandbox.h"
#include "schema.h"

/*
 * Reads the settings, refuses root unless allowed, loads the schemas and
 * opens the store; everything it made is app_close()'s to free, even on
 * failure.
 */
enum scim_err
app_open(struct app *app, const char *conf_path, const char *argv0,
    struct scim_error *err)
{
	enum scim_err e;

	memset(app, 0, sizeof(*app));
	sandbox_no_core_dumps();	/* before the first token is read */
	if ((e = conf_load(&app->conf, conf_path, argv0, err)) != SCIM_OK)
		return err_recode(err, SCIM_ERR_UNAVAILABLE);
	log_init("scimd", app->conf.log_level, app->conf.log_syslog);
	/* Before the store is touched: a root scimd would leave root-owned
	 * files the web server's user can no longer open. */
	if (geteuid() == 0 && !app->conf.allow_root)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "scimd refuses to run as root: run it as the web "
		    "server's user, or set allow_root = yes in scimd.conf.");
	if ((e = schema_init(app->conf.schemas, err)) != SCIM_OK)
		return err_recode(err, SCIM_ERR_UNAVAILABLE);
	if (app->conf.db == NULL)
		return err_set(err, SCIM_ERR_UNAVAILABLE, "No store configured:"
		    " set SCIMD_DB or db in scimd.conf.");
	return store_open(app->conf.db, false, &app->store, err);
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

/* Closes the store and frees the settings; safe after a failed app_open. */
void
app_close(struct app *app)
{
	store_close(app->store);
	app->store = NULL;
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

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err_clear(&err);
	http_response_init(&res);
	e = dispatch(app, io, &req, &res, allow, sizeof(allow), &body, token,
	    sizeof(token), &err);
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
