/*
 * sandbox.c: the seccomp allow-list of a serving scimd.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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

bool
sandbox_available(void)
{
#ifdef HAVE_SECCOMP
	return true;
#else
	return false;
#endif
}

enum scim_err
sandbox_enter(struct scim_error *err)
{
#ifdef HAVE_SECCOMP
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return err_set(err, SCIM_ERR_UNAVAILABLE,
		    "sandbox: seccomp_init failed.");
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* A new socket only for syslog's local socket. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
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
