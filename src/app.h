/*
 * app.h: one process's state and the request pipeline.
 *
 *	adapter (fcgi.c) -> app_serve(): http_request_parse -> auth_check
 *	-> router_dispatch -> handler -> http_response_send
 *
 * app_open() reads settings, loads schemas and opens the store, once per
 * process; app_serve() answers one request and never exits the process.
 */
#ifndef SCIMD_APP_H
#define SCIMD_APP_H

#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "error.h"
#include "http.h"
#include "store.h"

#define APP_DOCROOTS	2	/* DOCUMENT_ROOT, CONTEXT_DOCUMENT_ROOT */

struct app {
	struct conf	 conf;
	struct store	*store;
	unsigned long	 served;	/* requests answered by this process */
	/* For app_retry(): how app_open() was called, when, how often in
	 * vain.  conf_path and argv0 are borrowed (the process's argv). */
	const char	*conf_path;
	const char	*argv0;
	time_t		 open_tried;		/* CLOCK_MONOTONIC seconds */
	unsigned long	 open_failures;		/* retries that failed */
	/* Where the store is (app_open), to refuse one inside a document
	 * root: its realpath (owned, or NULL) and the identity of it and of
	 * each directory above it (owned). */
	char		*store_real;
	struct { dev_t dev; ino_t ino; } *store_dirs;
	size_t		 nstore_dirs;
	/* The document roots seen (owned) and whether each holds the store. */
	char		*docroot_seen[APP_DOCROOTS];
	bool		 docroot_inside[APP_DOCROOTS];
	/* Rate limit of the log lines of refused authentications. */
	time_t		 auth_log_second;	/* the second being counted */
	unsigned	 auth_logged;		/* lines logged in it */
	unsigned long	 auth_unlogged;		/* lines held back since */
};

/* Loads settings (conf_path may be NULL; argv0 for scimd.conf beside the
 * binary), schemas and the store.  On failure app_close() must still be
 * called. */
enum scim_err	app_open(struct app *app, const char *conf_path,
		    const char *argv0, struct scim_error *err);

/* Confines the process as the settings say (sandbox.h, conf.h), after
 * app_open and the adapter's own start-up, before the first request.
 * SCIM_OK, or SCIM_ERR_UNAVAILABLE: then serve nothing but errors. */
enum scim_err	app_confine(struct app *app, struct scim_error *err);

/*
 * app_open(), then app_confine().  On failure logs the reason with the
 * store's path and the user scimd runs as (and, when retried, that
 * app_retry() will try again), and
 * leaves in err a detail fit for any caller: every path of this host in
 * it is replaced by "[path]".  Returns SCIM_OK or app_open's or
 * app_confine's error; app_close() must be called in every case.
 */
enum scim_err	app_start(struct app *app, const char *conf_path,
		    const char *argv0, bool retried, struct scim_error *err);

/*
 * For a FastCGI process whose start failed with err: starts again
 * (app_open and app_confine) when LIMIT_OPEN_RETRY_SECONDS have passed
 * since the last attempt, so that an admin's fix (permissions, a store
 * created, the settings file) takes effect without restarting the web
 * server.  The sandbox is entered only by a start that succeeds: a
 * process that has not started is unconfined and opens files again.
 * SCIM_OK once started; otherwise err holds the (latest) failure in the
 * form app_start() leaves it.  Extension schemas load once per process.
 */
enum scim_err	app_retry(struct app *app, struct scim_error *err);

/* Answers one request read from io. */
void		app_serve(struct app *app, const struct http_io *io);

/* Answers a request with a 503 SCIM error (used when app_open failed). */
void		app_serve_error(const struct http_io *io,
		    const struct scim_error *err);

/* Closes the store and frees settings. */
void		app_close(struct app *app);

#endif
