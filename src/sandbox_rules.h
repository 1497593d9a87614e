/*
 * sandbox_rules.h: the seccomp allow-list of a serving scimd, in
 * libseccomp's terms.  Read by sandbox_gen.c, which compiles it to BPF
 * when scimd is built (src/sandbox_bpf.h), and by tests/t_sandbox.c,
 * which checks that the compiled filter is what libseccomp makes of
 * this list.  scimd itself loads the compiled filter: it does not link
 * libseccomp, so a CGI start neither loads the library nor compiles
 * the rules (docs/performance.md).
 */
#ifndef SCIMD_SANDBOX_RULES_H
#define SCIMD_SANDBOX_RULES_H

#include <sys/socket.h>
#include <seccomp.h>

/*
 * What serving uses, and why: the FastCGI connection (accept, read,
 * write, close, poll/select), LMDB (pwrite/pwritev and fdatasync to
 * commit, fcntl for reader locks, futex for its mutexes, mmap/munmap
 * when the map grows, statfs to tell a full disk), the allocator (brk,
 * mmap, munmap, mremap, madvise), randomness for ids (getrandom), the
 * clock, the log (write to stderr, or send to syslog's socket), libfcgi's
 * signal handling, and exiting.
 */
static const int sandbox_allowed[] = {
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

/*
 * Builds the filter: every call above allowed, socket(2) only for
 * AF_UNIX (syslog's local socket), anything else trapped (SIGSYS, so
 * the handler names the call).  NULL when libseccomp fails.  (The
 * comparison is spelled out: libseccomp's SCMP_A0 leaves datum_b to a
 * default.)
 */
static inline scmp_filter_ctx
sandbox_rules(void)
{
	const struct scmp_arg_cmp unix_only = { .arg = 0, .op = SCMP_CMP_EQ,
	    .datum_a = AF_UNIX, .datum_b = 0 };
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]) &&
	    rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sandbox_allowed[i],
		    0);
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1, &unix_only);
	if (rc != 0) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

#endif
