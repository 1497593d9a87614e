/*
 * pool.h: a supervised pool of scimd processes on one listening socket.
 *
 * `scimd -w N` with a listening socket on descriptor 0 (systemd's
 * StandardInput=socket, or spawn-fcgi -F 1): the parent opens nothing
 * (no settings, no store: an LMDB environment must never cross a fork),
 * forks N workers that each run fcgi_run() on the inherited socket, and
 * starts a new worker whenever one dies, at most one a second for a
 * worker that died in its first second.  SIGTERM, SIGINT or SIGHUP to
 * the parent is passed on to every worker (libfcgi finishes the request
 * in hand, then the worker exits); the parent exits when they are gone.
 */
#ifndef SCIMD_POOL_H
#define SCIMD_POOL_H

/* Runs the pool; returns the exit status (0 after a clean stop, 1 when
 * descriptor 0 is not a listening socket or fork fails at start). */
int	pool_run(int workers, const char *conf_path, const char *argv0);

#endif
