/*
 * fcgi.h: the FastCGI and CGI adapter.
 *
 * Under a FastCGI server (fd 0 is a listening socket) fcgi_run() accepts
 * requests with libfcgi until the server tells the process to stop;
 * under plain CGI (FCGX_IsCGI()) it answers the one request in the
 * environment and stdin.  Both paths call app_serve() with an http_io
 * and close the store before returning.
 */
#ifndef SCIMD_FCGI_H
#define SCIMD_FCGI_H

/* Runs the process; returns the exit status. */
int	fcgi_run(const char *conf_path, const char *argv0);

#endif
