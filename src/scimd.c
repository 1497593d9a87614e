/*
 * scimd: the SCIM 2.0 responder, run by a web server as FastCGI or CGI.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fcgi.h"
#include "jsonx.h"
#include "limits.h"
#include "pool.h"
#include "sandbox.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: scimd [-c config-file] [-w workers]\n"
	    "       scimd [-c config-file] --check\n"
	    "       scimd --version\n"
	    "Run by a web server as a FastCGI or CGI program; see scimd(8).\n"
	    "  -c FILE        the settings file\n"
	    "  -w N           a pool of N workers on the socket on descriptor "
	    "0\n"
	    "  --check        check the settings and the store as this user\n"
	    "  -V, --version  print the version\n");
}

/* Options (-c FILE, -V, -h), then the FastCGI or CGI loop of fcgi_run. */
int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check",	no_argument,		NULL,	'C' },
		{ "config",	required_argument,	NULL,	'c' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ "workers",	required_argument,	NULL,	'w' },
		{ NULL,		0,			NULL,	0 }
	};
	const char *conf_path = NULL;
	char *end;
	long workers = 0;
	int ch, check = 0;

	/* First of all: under plain CGI the bearer token is in this
	 * process's environment, which other processes of the same user
	 * may read from /proc/PID/environ only while it is dumpable. */
	sandbox_no_core_dumps();
	jsonx_wipe_freed();	/* a freed JSON string may be a password */
	/* Under plain CGI the arguments are the client's (fcgi.h): none is
	 * read.  Name a CGI scimd's settings with SCIMD_CONF or scimd.conf
	 * beside it. */
	if (fcgi_plain_cgi())
		return fcgi_run(NULL, argv[0]);
	while ((ch = getopt_long(argc, argv, "c:hVw:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			printf("scimd %s\n", PACKAGE_VERSION);
			return 0;
		case 'w':
			workers = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || workers < 1 ||
			    workers > LIMIT_POOL_WORKERS) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (check)
		return check_run(conf_path, argv[0]);
	if (workers > 0)
		return pool_run((int)workers, conf_path, argv[0]);
	return fcgi_run(conf_path, argv[0]);
}
