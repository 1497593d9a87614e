/*
 * router.c: the route table.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router.h"

enum pattern {
	P_EXACT,	/* path equals prefix */
	P_ARG		/* prefix + "/" + one segment */
};

static const struct route {
	const char	*prefix;
	enum pattern	 pattern;
	enum http_method method;
	handler_fn	 handler;
	enum rtype	 type;
	bool		 has_body;
} routes[] = {
	{ "/Users", P_EXACT, HTTP_GET, query_list, RT_USER, false },
	{ "/Users", P_EXACT, HTTP_POST, resource_create, RT_USER, true },
	{ "/Users/.search", P_EXACT, HTTP_POST, query_search, RT_USER, true },
	{ "/Users", P_ARG, HTTP_GET, resource_get, RT_USER, false },
	{ "/Users", P_ARG, HTTP_PUT, resource_replace, RT_USER, true },
	{ "/Users", P_ARG, HTTP_PATCH, resource_patch, RT_USER, true },
	{ "/Users", P_ARG, HTTP_DELETE, resource_delete, RT_USER, false },
	{ "/Groups", P_EXACT, HTTP_GET, query_list, RT_GROUP, false },
	{ "/Groups", P_EXACT, HTTP_POST, resource_create, RT_GROUP, true },
	{ "/Groups/.search", P_EXACT, HTTP_POST, query_search, RT_GROUP, true },
	{ "/Groups", P_ARG, HTTP_GET, resource_get, RT_GROUP, false },
	{ "/Groups", P_ARG, HTTP_PUT, resource_replace, RT_GROUP, true },
	{ "/Groups", P_ARG, HTTP_PATCH, resource_patch, RT_GROUP, true },
	{ "/Groups", P_ARG, HTTP_DELETE, resource_delete, RT_GROUP, false },
	{ "/", P_EXACT, HTTP_GET, query_list_all, RT_USER, false },
	{ "/Bulk", P_EXACT, HTTP_POST, bulk_post, RT_USER, true },
	{ "/.search", P_EXACT, HTTP_POST, query_search_all, RT_USER, true },
	{ "/Me", P_EXACT, HTTP_GET, discovery_me, RT_USER, false },
	{ "/Me", P_EXACT, HTTP_POST, discovery_me, RT_USER, false },
	{ "/Me", P_EXACT, HTTP_PUT, discovery_me, RT_USER, false },
	{ "/Me", P_EXACT, HTTP_PATCH, discovery_me, RT_USER, false },
	{ "/Me", P_EXACT, HTTP_DELETE, discovery_me, RT_USER, false },
	{ "/ServiceProviderConfig", P_EXACT, HTTP_GET, discovery_spc, RT_USER,
	    false },
	{ "/ServiceProviderConfigs", P_EXACT, HTTP_GET, discovery_spc, RT_USER,
	    false },
	{ "/ResourceTypes", P_EXACT, HTTP_GET, discovery_resource_types,
	    RT_USER, false },
	{ "/ResourceTypes", P_ARG, HTTP_GET, discovery_resource_type, RT_USER,
	    false },
	{ "/Schemas", P_EXACT, HTTP_GET, discovery_schemas, RT_USER, false },
	{ "/Schemas", P_ARG, HTTP_GET, discovery_schema, RT_USER, false },
};

static const char *const method_names[] = {
	[HTTP_GET] = "GET", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	[HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE", [HTTP_HEAD] = "HEAD",
	[HTTP_OTHER] = "",
};

/* Whether path matches route r; fills arg for P_ARG. */
static bool
path_matches(const struct route *r, const char *path, char *arg, size_t argsz)
{
	size_t n = strlen(r->prefix), plen = strlen(path);
	const char *seg;

	/* A trailing slash is tolerated: "/Users/" is "/Users". */
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (plen < n || strncasecmp(path, r->prefix, n) != 0)
		return false;
	if (r->pattern == P_EXACT)
		return plen == n;
	if (plen <= n + 1 || path[n] != '/')
		return false;
	seg = path + n + 1;
	if (memchr(seg, '/', plen - n - 1) != NULL || plen - n - 1 >= argsz)
		return false;
	/* ".search" is a route of its own, never an id. */
	if (strncmp(seg, ".search", plen - n - 1) == 0 && plen - n - 1 == 7)
		return false;
	memcpy(arg, seg, plen - n - 1);
	arg[plen - n - 1] = '\0';
	return true;
}

/* Matches the route table in order; the Allow list is built from every
 * route of the path when the method is not among them. */
enum scim_err
router_match(enum http_method method, const char *path, struct route_match *m,
    char *allow, size_t allowsz, struct scim_error *err)
{
	size_t i, used = 0;
	bool known = false;
	enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;

	if (allowsz > 0)
		allow[0] = '\0';
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], path, m->arg, sizeof(m->arg)))
			continue;
		if (routes[i].method == want) {
			m->handler = routes[i].handler;
			m->type = routes[i].type;
			m->has_body = routes[i].has_body;
			return SCIM_OK;
		}
		known = true;
		if (used < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used,
			    "%s%s", used ? ", " : "",
			    method_names[routes[i].method]);
	}
	if (known)
		return err_set(err, SCIM_ERR_METHOD,
		    "%s is not allowed here; allowed: %s.",
		    method_names[method][0] ? method_names[method] :
		    "This method", allow);
	return err_set(err, SCIM_ERR_NOT_FOUND, "No such endpoint.");
}
