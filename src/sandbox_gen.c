/*
 * sandbox_gen.c: a build tool.  Compiles the allow-list of
 * sandbox_rules.h to BPF with libseccomp and prints it as the C header
 * sandbox_bpf.h, which sandbox.c loads: scimd then neither links
 * libseccomp nor compiles its rules at each start (a CGI start paid
 * about 500,000 instructions for that; docs/performance.md).  The
 * filter checks the architecture it was built for, so it is made on
 * the machine (and for the architecture) scimd is built for.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>

#include "sandbox_rules.h"

/* Prints sandbox_bpf.h on stdout; exits 1 when libseccomp fails. */
int
main(void)
{
	scmp_filter_ctx ctx;
	struct sock_filter f;
	FILE *tmp;
	size_t n = 0;

	if ((ctx = sandbox_rules()) == NULL || (tmp = tmpfile()) == NULL) {
		fprintf(stderr, "sandbox_gen: libseccomp failed\n");
		return 1;
	}
	if (seccomp_export_bpf(ctx, fileno(tmp)) != 0) {
		fprintf(stderr, "sandbox_gen: seccomp_export_bpf failed\n");
		return 1;
	}
	seccomp_release(ctx);
	rewind(tmp);
	printf("/* sandbox_bpf.h: made by sandbox_gen from sandbox_rules.h "
	    "when scimd was\n * built; do not edit. */\n"
	    "static const struct sock_filter sandbox_bpf[] = {\n");
	while (fread(&f, sizeof(f), 1, tmp) == 1) {
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", f.code, f.jt, f.jf,
		    f.k);
		n++;
	}
	printf("};\n");
	fclose(tmp);
	if (n == 0) {
		fprintf(stderr, "sandbox_gen: empty filter\n");
		return 1;
	}
	return ferror(stdout) || fflush(stdout) != 0 ? 1 : 0;
}
