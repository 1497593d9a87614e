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

#include <stdbool.h>

/*
 * True when this process answers one plain CGI request: GATEWAY_INTERFACE
 * is set and descriptor 0 is not a FastCGI listening socket.  Then the
 * command line comes from the client, not the admin: a query string
 * without "=" reaches a CGI program as its arguments (RFC 3875, 4.4;
 * Apache's mod_cgid does it), so scimd must not read options from it.
 */
bool	fcgi_plain_cgi(void);

/* Runs the process; returns the exit status. */
int	fcgi_run(const char *conf_path, const char *argv0);

#endif
