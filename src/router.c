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

struct route {
	const char	*prefix;
	enum pattern	 pattern;
	enum http_method method;
	handler_fn	 handler;
	enum rtype	 type;
	bool		 has_body;
};

/* The routes of every resource type, under its endpoint (rtype.c's
 * table): prefix is what follows the endpoint; type is unused. */
static const struct route type_routes[] = {
	{ "", P_EXACT, HTTP_GET, query_list, RT_USER, false },
	{ "", P_EXACT, HTTP_POST, resource_create, RT_USER, true },
	{ "/.search", P_EXACT, HTTP_POST, query_search, RT_USER, true },
	{ "", P_ARG, HTTP_GET, resource_get, RT_USER, false },
	{ "", P_ARG, HTTP_PUT, resource_replace, RT_USER, true },
	{ "", P_ARG, HTTP_PATCH, resource_patch, RT_USER, true },
	{ "", P_ARG, HTTP_DELETE, resource_delete, RT_USER, false },
};

/* The routes of no resource type, after those of the types. */
static const struct route routes[] = {
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

/* Whether path matches route r under base (a type's endpoint, or "");
 * fills arg for P_ARG. */
static bool
path_matches(const struct route *r, const char *base, const char *path,
    char *arg, size_t argsz)
{
	size_t b = strlen(base), n = b + strlen(r->prefix), plen = strlen(path);
	const char *seg;

	/* A trailing slash is tolerated: "/Users/" is "/Users". */
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (plen < n || strncasecmp(path, base, b) != 0 ||
	    strncasecmp(path + b, r->prefix, n - b) != 0)
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

/* Matches the routes of each type, then the others, in order; the
 * Allow list is built from every route of the path when the method is
 * not among them. */
enum scim_err
router_match(enum http_method method, const char *path, struct route_match *m,
    char *allow, size_t allowsz, struct scim_error *err)
{
	const size_t ntype = sizeof(type_routes) / sizeof(type_routes[0]);
	const size_t nall = RT__COUNT * ntype + sizeof(routes) /
	    sizeof(routes[0]);
	const struct route *r;
	const char *base;
	size_t i, used = 0;
	bool known = false;
	enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;
	enum rtype t;

	if (allowsz > 0)
		allow[0] = '\0';
	for (i = 0; i < nall; i++) {
		t = i < RT__COUNT * ntype ? (enum rtype)(i / ntype) : RT_USER;
		r = i < RT__COUNT * ntype ? &type_routes[i % ntype] :
		    &routes[i - RT__COUNT * ntype];
		base = i < RT__COUNT * ntype ? rtype_get(t)->endpoint : "";
		if (!path_matches(r, base, path, m->arg, sizeof(m->arg)))
			continue;
		if (r->method == want) {
			m->handler = r->handler;
			m->type = i < RT__COUNT * ntype ? t : r->type;
			m->has_body = r->has_body;
			return SCIM_OK;
		}
		known = true;
		if (used < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used,
			    "%s%s", used ? ", " : "", method_names[r->method]);
	}
	if (known)
		return err_set(err, SCIM_ERR_METHOD,
		    "%s is not allowed here; allowed: %s.",
		    method_names[method][0] ? method_names[method] :
		    "This method", allow);
	return err_set(err, SCIM_ERR_NOT_FOUND, "No such endpoint.");
}
