/*
 * sandbox.c: the seccomp allow-list of a serving scimd.
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
#include <seccomp.h>
#endif

#include "sandbox.h"

#ifdef HAVE_SECCOMP
/*
 * What serving uses, and why: the FastCGI connection (accept, read,
 * write, close, poll/select), LMDB (pwrite/pwritev and fdatasync to
 * commit, fcntl for reader locks, futex for its mutexes, mmap/munmap
 * when the map grows, statfs to tell a full disk), the allocator (brk,
 * mmap, munmap, mremap, madvise), randomness for ids (getrandom), the
 * clock, the log (write to stderr, or send to syslog's socket), libfcgi's
 * signal handling, and exiting.
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(pwritev),
	SCMP_SYS(close), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(shutdown), SCMP_SYS(getpeername), SCMP_SYS(getsockname),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(connect),
	SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(fcntl),
	SCMP_SYS(futex), SCMP_SYS(statfs), SCMP_SYS(fstatfs),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sysinfo),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group),
};
#endif

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
	const struct scmp_arg_cmp unix_only = { .arg = 0, .op = SCMP_CMP_EQ,
	    .datum_a = AF_UNIX, .datum_b = 0 };
	scmp_filter_ctx ctx;
	struct sigaction sa;
	size_t i;
	int rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forbidden_call;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: cannot catch SIGSYS: %s", strerror(errno));
	/* Trap, not kill: the handler names the call in the log.  The call
	 * itself never runs either way. */
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: seccomp_init failed.");
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* A new socket only for syslog's local socket.  (The comparison is
	 * spelled out: libseccomp's SCMP_A0 leaves datum_b to a default.) */
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1, &unix_only);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: the kernel refused the seccomp filter: %s",
		    strerror(-rc));
	return SCIM_OK;
#else
	return err_set(err, SCIM_ERR_UNAVAILABLE, "sandbox: this scimd was "
	    "built without libseccomp (install libseccomp-dev, rebuild).");
#endif
}
