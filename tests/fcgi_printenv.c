/*
 * fcgi_printenv.c: a FastCGI application for the end-to-end tests: it
 * answers every request with the parameters it received whose names
 * start with SCIM_, one NAME=value a line (what a PHP page behind the
 * guard would see in $_SERVER).
 */
#include <string.h>

#include <fcgiapp.h>

int
main(void)
{
	FCGX_Stream *in, *out, *err;
	FCGX_ParamArray envp;
	char **e;

	while (FCGX_Accept(&in, &out, &err, &envp) >= 0) {
		FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n",
		    out);
		for (e = envp; *e != NULL; e++)
			if (strncmp(*e, "SCIM_", 5) == 0) {
				FCGX_PutS(*e, out);
				FCGX_PutS("\n", out);
			}
	}
	return 0;
}
