/*
 * memreq.h: one request held in memory and answered by app_serve() in
 * process, for the allocation-failure test, the whole-request fuzzer and
 * the benchmark's instruction counts.  CGI variables and a body go in;
 * the answer's status and first bytes come out.  Nothing is copied:
 * names, values and the body must outlive the request.
 */
#ifndef SCIMD_MEMREQ_H
#define SCIMD_MEMREQ_H

#include <stddef.h>

#include "app.h"
#include "http.h"

#define MEMREQ_VARS	24	/* CGI variables a request can carry */
#define MEMREQ_HEAD	2048	/* bytes of the answer kept */

struct memreq {
	const char	*names[MEMREQ_VARS];
	const char	*values[MEMREQ_VARS];
	int		 n;
	const char	*body;
	size_t		 len, off;
	int		 status;	/* from the Status line; -1 if none */
	size_t		 written;	/* bytes of answer, all told */
	char		 head[MEMREQ_HEAD];	/* its first bytes, NUL-ended */
};

/* Empties r and gives it body[0..len) (body may be NULL when len is 0). */
void		memreq_init(struct memreq *r, const char *body, size_t len);

/* Adds a CGI variable; past MEMREQ_VARS it is dropped. */
void		memreq_set(struct memreq *r, const char *name,
		    const char *value);

/* The value of CGI variable name, or NULL. */
const char	*memreq_get(const struct memreq *r, const char *name);

/* The http_io that app_serve() reads r from and writes its answer to. */
struct http_io	memreq_io(struct memreq *r);

/*
 * Serves METHOD PATH (below /scim/v2) with BODY (NULL: none) as a SCIM
 * client with Authorization auth would, through app_serve(app).  Returns
 * the status (-1: no Status line); copies the answer's "id" into id
 * (STORE_ID_LEN + 1 bytes) when id is not NULL and there is one.
 */
int		memreq_serve(struct app *app, const char *auth,
		    const char *method, const char *path, const char *body,
		    char *id);

#endif
