/*
 * fcgi.c: libfcgi accept loop, and the same path for plain CGI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "fcgi.h"
#include "log.h"

/* ---- FastCGI ---------------------------------------------------------- */

static const char *
fcgi_getenv(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static ssize_t
fcgi_read(void *ctx, char *buf, size_t n)
{
	int r = FCGX_GetStr(buf, n > 1 << 30 ? 1 << 30 : (int)n,
	    ((FCGX_Request *)ctx)->in);

	return r < 0 ? -1 : r;
}

static int
fcgi_write(void *ctx, const char *buf, size_t n)
{
	FCGX_Stream *out = ((FCGX_Request *)ctx)->out;

	while (n > 0) {
		int chunk = n > 1 << 30 ? 1 << 30 : (int)n;

		if (FCGX_PutStr(buf, chunk, out) != chunk)
			return -1;
		buf += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* ---- CGI -------------------------------------------------------------- */

static const char *
cgi_getenv(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static ssize_t
cgi_read(void *ctx, char *buf, size_t n)
{
	(void)ctx;
	return read(STDIN_FILENO, buf, n);
}

static int
cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

/* Opens the app, then answers one CGI request or FastCGI requests until
 * libfcgi says stop; closes the store on every path before returning. */
int
fcgi_run(const char *conf_path, const char *argv0)
{
	struct app app;
	struct scim_error err;
	struct http_io io;
	FCGX_Request req;
	bool ok;

	err_clear(&err);
	ok = app_open(&app, conf_path, argv0, &err) == SCIM_OK;
	if (!ok)
		log_msg(LVL_ERROR, "cannot start: %s", err.detail);

	if (FCGX_IsCGI()) {
		if (ok && app_confine(&app, &err) != SCIM_OK) {
			log_msg(LVL_ERROR, "cannot start: %s", err.detail);
			ok = false;
		}
		io.getenv = cgi_getenv;
		io.read = cgi_read;
		io.write = cgi_write;
		io.ctx = NULL;
		if (ok)
			app_serve(&app, &io);
		else
			app_serve_error(&io, &err);
		fflush(stdout);
		app_close(&app);	/* frees this process's reader slot */
		return ok ? 0 : 1;
	}

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_msg(LVL_ERROR, "libfcgi failed to initialise");
		app_close(&app);
		return 1;
	}
	if (ok && app_confine(&app, &err) != SCIM_OK) {
		log_msg(LVL_ERROR, "cannot start: %s", err.detail);
		ok = false;
	}
	io.getenv = fcgi_getenv;
	io.read = fcgi_read;
	io.write = fcgi_write;
	io.ctx = &req;
	while (FCGX_Accept_r(&req) >= 0) {
		if (ok)
			app_serve(&app, &io);
		else
			app_serve_error(&io, &err);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	app_close(&app);
	return 0;
}
