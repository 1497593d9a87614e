/*
 * sandbox.c: confines a serving scimd with the seccomp filter compiled
 * from sandbox_rules.h when scimd was built.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <stddef.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox_bpf.h"	/* made by sandbox_gen from sandbox_rules.h */
#endif

#include "sandbox.h"


#ifdef HAVE_SECCOMP
/* Appends s to buf[*len..size), truncating.  Async-signal-safe. */
static void
append_str(char *buf, size_t *len, size_t size, const char *s)
{
	while (*s != '\0' && *len + 1 < size)
		buf[(*len)++] = *s++;
}

/* Appends n in decimal.  Async-signal-safe. */
static void
append_num(char *buf, size_t *len, size_t size, long n)
{
	char digits[24];
	int i = (int)sizeof(digits) - 1;
	unsigned long u = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;

	digits[i] = '\0';
	do {
		digits[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && i > 1);
	if (n < 0)
		digits[--i] = '-';
	append_str(buf, len, size, digits + i);
}

/*
 * SIGSYS from the filter: a forbidden call was stopped before it ran.
 * Says which (the admin can name it with `scmp_sys_resolver N`), then
 * dies of SIGSYS: with the default action restored, raise()'s own tgkill
 * is forbidden too, and the kernel delivers that SIGSYS unhandled.
 */
static void
forbidden_call(int sig, siginfo_t *si, void *context)
{
	struct sigaction dfl;
	char line[200];
	size_t len = 0;

	(void)context;
	append_str(line, &len, sizeof(line), "scimd[");
	append_num(line, &len, sizeof(line), (long)getpid());
	append_str(line, &len, sizeof(line), "] error: sandbox: forbidden "
	    "system call ");
	append_num(line, &len, sizeof(line), (long)si->si_syscall);
	append_str(line, &len, sizeof(line), " stopped; this process ends "
	    "(docs/security.md, Sandbox)\n");
	/* Nothing to do if the log is gone; the process ends anyway.  (A
	 * cast to void does not silence warn_unused_result under
	 * _FORTIFY_SOURCE, as the Debian package builds.) */
	if (write(STDERR_FILENO, line, len) < 0)
		len = 0;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(sig, &dfl, NULL);
	(void)raise(sig);
	_exit(128 + sig);	/* not reached */
}
#endif

/* RLIMIT_CORE 0 and PR_SET_DUMPABLE 0; failures are ignored (a best
 * effort that cannot make things worse). */
void
sandbox_no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Whether the seccomp filter was built in. */
bool
sandbox_available(void)
{
#ifdef HAVE_SECCOMP
	return true;
#else
	return false;
#endif
}

/* Loads the allow-list filter (kill on anything else), with the SIGSYS
 * handler that logs the refused call first. */
enum scim_err
sandbox_enter(struct scim_error *err)
{
#ifdef HAVE_SECCOMP
	struct sock_fprog prog = { sizeof(sandbox_bpf) / sizeof(sandbox_bpf[0]),
	    (struct sock_filter *)sandbox_bpf };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forbidden_call;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: cannot catch SIGSYS: %s", strerror(errno));
	/* Trap, not kill: the handler names the call in the log.  The call
	 * itself never runs either way.  The filter was compiled by
	 * libseccomp when scimd was built; loading it is what
	 * seccomp_load() does with its defaults (no_new_privs, no flags). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: the kernel refused the seccomp filter: %s",
		    strerror(errno));
	return SCIM_OK;
#else
	return err_set(err, SCIM_ERR_UNAVAILABLE, "sandbox: this scimd was "
	    "built without libseccomp (install libseccomp-dev, rebuild).");
#endif
}
