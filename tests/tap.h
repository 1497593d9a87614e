/*
 * tap.h: a minimal TAP producer for unit tests run by automake's
 * tap-driver.  Each check prints "ok N - name" or "not ok N - name" with
 * the file and line of the failing check.
 */
#ifndef SCIMD_TAP_H
#define SCIMD_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static void
tap_check(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	if (cond) {
		printf("ok %d - %s\n", tap_n, name);
	} else {
		tap_failed++;
		printf("not ok %d - %s\n# at %s:%d\n", tap_n, name, file, line);
	}
	fflush(stdout);
}

#define ok(cond, name)	tap_check(!!(cond), __FILE__, __LINE__, (name))

/* Compares two strings, printing both when they differ. */
#define is_str(got, want, name) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0; \
	tap_check(same_, __FILE__, __LINE__, (name)); \
	if (!same_) \
		printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define is_int(got, want, name) do { \
	long long g_ = (got), w_ = (want); \
	tap_check(g_ == w_, __FILE__, __LINE__, (name)); \
	if (g_ != w_) \
		printf("#   got:  %lld\n#   want: %lld\n", g_, w_); \
} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
