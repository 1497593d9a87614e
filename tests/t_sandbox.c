/*
 * t_sandbox.c: the seccomp filter compiled into scimd when it was built
 * (src/sandbox_bpf.h, by sandbox_gen) is, instruction for instruction,
 * what libseccomp makes of the allow-list in sandbox_rules.h now; and
 * a process that loads it through sandbox_enter() is confined (an
 * allowed call runs, a forbidden one ends it with SIGSYS).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>

#include "sandbox.h"
#include "sandbox_rules.h"
#include "sandbox_bpf.h"
#include "tap.h"

int
main(void)
{
	struct scim_error err;
	struct sock_filter f[4096];
	scmp_filter_ctx ctx;
	FILE *tmp;
	size_t n;
	pid_t pid;
	int status;

	ok((ctx = sandbox_rules()) != NULL, "libseccomp builds the rules");
	ok((tmp = tmpfile()) != NULL && seccomp_export_bpf(ctx,
	    fileno(tmp)) == 0, "...and exports them as BPF");
	seccomp_release(ctx);
	rewind(tmp);
	n = fread(f, sizeof(f[0]), sizeof(f) / sizeof(f[0]), tmp);
	fclose(tmp);
	ok(n == sizeof(sandbox_bpf) / sizeof(sandbox_bpf[0]) &&
	    memcmp(f, sandbox_bpf, sizeof(sandbox_bpf)) == 0,
	    "the compiled-in filter is libseccomp's, instruction for instruction");
	printf("# %zu BPF instructions\n", n);

	if ((pid = fork()) == 0) {
		if (sandbox_enter(&err) != SCIM_OK)
			_exit(3);
		(void)getpid();			/* allowed */
		(void)syscall(SYS_getuid);	/* not */
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGSYS,
	    "a confined process dies of SIGSYS at its first forbidden call");
	if ((pid = fork()) == 0) {
		if (sandbox_enter(&err) != SCIM_OK)
			_exit(3);
		(void)getpid();
		_exit(7);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 7, "...and lives through allowed ones");
	return tap_done();
}
