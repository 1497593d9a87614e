/*
 * router.h: a static table of method and path patterns.
 */
#ifndef SCIMD_ROUTER_H
#define SCIMD_ROUTER_H

#include <stdbool.h>

#include "handlers.h"

struct route_match {
	handler_fn	 handler;
	enum rtype	 type;
	char		 arg[1024];	/* the {id} or {urn} segment */
	bool		 has_body;	/* the handler reads a JSON body */
};

/*
 * Finds the handler for method and path (after the mount point).
 * SCIM_OK and *m filled; SCIM_ERR_NOT_FOUND for an unknown path;
 * SCIM_ERR_METHOD for a known path and another method, with the allowed
 * methods written to allow[allowsz] for the Allow header.
 */
enum scim_err	router_match(enum http_method method, const char *path,
		    struct route_match *m, char *allow, size_t allowsz,
		    struct scim_error *err);

#endif
