/*
 * render.h: what the operations (op.c), the resource handlers
 * (resource.c) and the query engine (query.c) share, implemented in
 * render.c: turning a stored record into the representation a client
 * asked for.
 *
 * A stored record carries no meta.location, no Group.members and no
 * User.groups: those are added here from the request's base URL and the
 * membership databases, then `attributes` / `excludedAttributes` are
 * applied (RFC 7644 section 3.9).
 */
#ifndef SCIMD_RENDER_H
#define SCIMD_RENDER_H

#include <stdbool.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "schema.h"
#include "store.h"

#define PROJECTION_MAX	64	/* attributes named in one list */

struct projection {
	bool		 include;	/* attributes= given: only these */
	size_t		 n;
	struct attr_ref	 refs[PROJECTION_MAX];
};

/*
 * Parses the comma-separated attribute lists (either may be NULL; when
 * both are given, attributes wins, as RFC 7644 3.9 leaves it open).
 * Unknown attribute names are ignored (RFC 7644 3.9: "MAY be ignored").
 * SCIM_OK or SCIM_ERR_INVALID_VALUE when a list is too long.
 */
enum scim_err	projection_parse(enum rtype t, const char *attributes,
		    const char *excluded, struct projection *p,
		    struct scim_error *err);

/*
 * Like projection_parse, from the JSON arrays of a SearchRequest
 * (either may be NULL).
 */
enum scim_err	projection_parse_json(enum rtype t, const json_t *attributes,
		    const json_t *excluded, struct projection *p,
		    struct scim_error *err);

/* Whether the top-level attribute name would be returned under p. */
bool		projection_wants(enum rtype t, const struct projection *p,
		    const char *name);

/*
 * Whether a resource under p can be sent as its stored bytes (see
 * resource_splice): no attributes list, and nothing excluded but
 * Group.members / User.groups.  *links tells whether those are wanted.
 */
bool		projection_splice(enum rtype t, const struct projection *p,
		    bool *links);

/*
 * Appends to b the representation of stored record raw[0..len) of type t
 * and id, without parsing it: meta.location added and, when links is
 * true, Group.members or User.groups from txn.  version[versionsz]
 * receives meta.version.  SCIM_ERR_INTERNAL, b unchanged, when the bytes
 * lack the stored shape (the caller renders the record instead); on any
 * other error too b is as it was.
 */
enum scim_err	resource_splice(struct store_txn *txn, enum rtype t,
		    const char *id, const char *base_url, const char *raw,
		    size_t len, bool links, struct buf *b, char *version,
		    size_t versionsz, struct scim_error *err);

/*
 * Adds meta.location (base_url + endpoint + id) and, when p wants them,
 * Group.members or User.groups from txn, then applies p.  rec is a
 * stored record (borrowed); *out is new (caller owns).
 */
enum scim_err	resource_render(struct store_txn *txn, enum rtype t,
		    const char *base_url, const json_t *rec,
		    const struct projection *p, json_t **out,
		    struct scim_error *err);

/* meta.location of resource id of type t: base_url, the endpoint, "/",
 * id, into out[outsz] (cut to fit). */
void		resource_location(const char *base_url, enum rtype t,
		    const char *id, char *out, size_t outsz);

/*
 * Adds Group.members or User.groups of rec's id to rec (edited in
 * place), as filters on those attributes need them.
 */
enum scim_err	resource_add_links(struct store_txn *txn, enum rtype t,
		    const char *base_url, json_t *rec, struct scim_error *err);

#endif
