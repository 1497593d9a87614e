/*
 * check.h: `scimd --check`, the configuration check an admin runs.
 *
 * Reads the settings as a serving scimd would (conf.h), then checks,
 * as the user it runs as: the root refusal, the extension schemas, the
 * store directory, data.mdb and lock.mdb (readers need write access to
 * the lock file), and finally opens the store without creating it (a
 * missing store stays missing) and reads its layout.  Writes one line per
 * finding on stdout: "ok: ..." or "problem: ...", each problem naming
 * the path and the user; the last line counts the problems.  The store
 * is opened read-only and as it is (STORE_READ_ONLY | STORE_NO_MIGRATE):
 * the check writes nothing, and reports an older layout (which scimd
 * migrates at its first open) without migrating it; a newer one is a
 * problem.
 */
#ifndef SCIMD_CHECK_H
#define SCIMD_CHECK_H

/* Runs the check; returns the exit status: 0 with no problem, 1 with
 * at least one. */
int	check_run(const char *conf_path, const char *argv0);

#endif
