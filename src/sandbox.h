/*
 * sandbox.h: after start-up, scimd confines itself to the system calls
 * serving needs (seccomp on Linux: the filter is compiled by libseccomp
 * when scimd is built, sandbox_gen.c, and loaded here without it).
 *
 * On by default when built with libseccomp (`sandbox` in scimd.conf).
 * Everything that needs more than serving (opening files, the store, the
 * log, the schema tables, the first random numbers) happens in
 * app_open(), before; a FastCGI scimd whose start failed stays
 * unconfined, answering 503 without reading requests, until a retry
 * (app_retry) opens everything and enters the filter.  A call outside
 * the list never runs: the process writes one line naming the call's
 * number to stderr and dies of SIGSYS; the web server starts another.
 */
#ifndef SCIMD_SANDBOX_H
#define SCIMD_SANDBOX_H

#include <stdbool.h>

#include "error.h"

/*
 * No core dumps, and no ptrace by other processes of the same user
 * (RLIMIT_CORE 0, PR_SET_DUMPABLE 0): the memory of a process that has
 * held bearer tokens is never written to disk or read by a neighbour.
 * Called first thing by scimd and scimctl; failure is not fatal.
 */
void		sandbox_no_core_dumps(void);

/* Whether this build can sandbox (libseccomp was found by configure,
 * and compiled the filter). */
bool		sandbox_available(void);

/*
 * Installs the filter for the rest of the process's life.  SCIM_OK, or
 * SCIM_ERR_UNAVAILABLE with a detail (not built with libseccomp, or the
 * kernel refused the filter).
 */
enum scim_err	sandbox_enter(struct scim_error *err);

#endif
