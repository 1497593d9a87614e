/*
 * scimd: the SCIM 2.0 responder, run by a web server as FastCGI or CGI.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fcgi.h"
#include "jsonx.h"
#include "sandbox.h"

static void
usage(void)
{
	fprintf(stderr, "usage: scimd [-c config-file]\n"
	    "Run by a web server as a FastCGI or CGI program; see scimd(8).\n");
}

int
main(int argc, char *argv[])
{
	const char *conf_path = NULL;
	int ch;

	/* First of all: under plain CGI the bearer token is in this
	 * process's environment, which other processes of the same user
	 * may read from /proc/PID/environ only while it is dumpable. */
	sandbox_no_core_dumps();
	jsonx_wipe_freed();	/* a freed JSON string may be a password */
	while ((ch = getopt(argc, argv, "c:hV")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'V':
			printf("scimd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	return fcgi_run(conf_path, argv[0]);
}
