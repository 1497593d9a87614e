/*
 * fcgi.c: libfcgi accept loop, and the same path for plain CGI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "app.h"
#include "fcgi.h"
#include "log.h"

/* ---- FastCGI ---------------------------------------------------------- */

static const char *
fcgi_getenv(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

/* Wipes the value of name in libfcgi's parameter block. */
static void
fcgi_forget(void *ctx, const char *name)
{
	char *v = FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);

	if (v != NULL)
		sodium_memzero(v, strlen(v));
}

/*
 * Reads body bytes, wiping each from libfcgi's input buffer once
 * copied (a body may hold a password).  fcgiapp.h documents the
 * reader's window: the current fragment of content starts at stopUnget,
 * and rdNext is the next byte to deliver.  Each FCGX_GetStr() call is
 * kept within one fragment (a call when the window is empty fetches the
 * next fragment and delivers one byte), so [stopUnget, rdNext) holds
 * every byte delivered from it.
 */
static ssize_t
fcgi_read(void *ctx, char *buf, size_t n)
{
	FCGX_Stream *in = ((FCGX_Request *)ctx)->in;
	size_t got = 0, step;
	int r;

	while (got < n) {
		step = n - got;
		if (in->rdNext >= in->stop)
			step = 1;
		else if (step > (size_t)(in->stop - in->rdNext))
			step = (size_t)(in->stop - in->rdNext);
		if (step > 1 << 30)
			step = 1 << 30;
		r = FCGX_GetStr(buf + got, (int)step, in);
		if (in->stopUnget != NULL && in->rdNext > in->stopUnget)
			sodium_memzero(in->stopUnget,
			    (size_t)(in->rdNext - in->stopUnget));
		if (r < 0)
			return got > 0 ? (ssize_t)got : -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if ((size_t)r < step)
			break;
	}
	return (ssize_t)got;
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

/*
 * Wipes the value of name in place in the environment block, the bytes
 * /proc/PID/environ shows (getenv points into them: the strings execve
 * copied to the top of the stack).
 */
static void
cgi_forget(void *ctx, const char *name)
{
	char *v = getenv(name);

	(void)ctx;
	if (v != NULL)
		sodium_memzero(v, strlen(v));
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

/* GATEWAY_INTERFACE set and descriptor 0 not a FastCGI socket. */
bool
fcgi_plain_cgi(void)
{
	return getenv("GATEWAY_INTERFACE") != NULL && FCGX_IsCGI();
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
	if (FCGX_IsCGI()) {
		/* stdio sizes stdout's buffer on the first write, asking the
		 * kernel whether a character device (a terminal, /dev/null) is
		 * a terminal: an ioctl the sandbox forbids.  Do it now. */
		(void)setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
		ok = app_start(&app, conf_path, argv0, false, &err) == SCIM_OK;
		io.getenv = cgi_getenv;
		io.read = cgi_read;
		io.write = cgi_write;
		io.forget = cgi_forget;
		io.ctx = NULL;
		if (ok)
			app_serve(&app, &io);
		else {
			cgi_forget(NULL, "HTTP_AUTHORIZATION");
			cgi_forget(NULL, "REDIRECT_HTTP_AUTHORIZATION");
			app_serve_error(&io, &err);
		}
		fflush(stdout);
		app_close(&app);	/* frees this process's reader slot */
		return ok ? 0 : 1;
	}

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_msg(LVL_ERROR, "libfcgi failed to initialise");
		return 1;
	}
	ok = app_start(&app, conf_path, argv0, true, &err) == SCIM_OK;
	io.getenv = fcgi_getenv;
	io.read = fcgi_read;
	io.write = fcgi_write;
	io.forget = fcgi_forget;
	io.ctx = &req;
	while (FCGX_Accept_r(&req) >= 0) {
		/* A start that failed is tried again (at most once a second):
		 * the admin's fix needs no web server restart. */
		if (!ok)
			ok = app_retry(&app, &err) == SCIM_OK;
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
