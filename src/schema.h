/*
 * schema.h: the attribute tables of RFC 7643 (core User, Group, Enterprise
 * User) plus extension schemas loaded from a JSON file at start-up.
 *
 * This table is the single source for validation of request bodies, for
 * case-sensitivity and types in filters and PATCH, for projection
 * (`returned`), and for the /Schemas and /ResourceTypes documents.
 *
 * The in-memory form of a resource is a jansson object whose core
 * attributes sit at the top level under their canonical names ("userName",
 * not "username"), and whose extension attributes sit in an object under
 * the extension's URN key, as on the wire.
 *
 * The registry is process-wide and read-only after schema_init().
 */
#ifndef SCIMD_SCHEMA_H
#define SCIMD_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "error.h"
#include "rtype.h"

#define SCHEMA_URN_USER		"urn:ietf:params:scim:schemas:core:2.0:User"
#define SCHEMA_URN_GROUP	"urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCHEMA_URN_ENTERPRISE \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
/* Sent by Microsoft Entra ID on groups; accepted and not stored. */
#define SCHEMA_URN_ADSCIM_GROUP \
	"http://schemas.microsoft.com/2006/11/ResourceManagement/" \
	"ADSCIM/2.0/Group"

#define SCHEMA_URN_LIST \
	"urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCHEMA_URN_ERROR	"urn:ietf:params:scim:api:messages:2.0:Error"
#define SCHEMA_URN_PATCHOP	"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCHEMA_URN_SEARCH \
	"urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define SCHEMA_URN_BULKREQ \
	"urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCHEMA_URN_BULKRESP \
	"urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define SCHEMA_URN_SPC \
	"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCHEMA_URN_RT \
	"urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCHEMA_URN_SCHEMA	"urn:ietf:params:scim:schemas:core:2.0:Schema"

enum attr_type {
	AT_STRING, AT_BOOLEAN, AT_DECIMAL, AT_INTEGER, AT_DATETIME,
	AT_BINARY, AT_REFERENCE, AT_COMPLEX
};

enum attr_mutability { MUT_READWRITE, MUT_READONLY, MUT_IMMUTABLE,
    MUT_WRITEONLY };
enum attr_returned { RET_DEFAULT, RET_ALWAYS, RET_NEVER, RET_REQUEST };
enum attr_uniqueness { UNIQ_NONE, UNIQ_SERVER, UNIQ_GLOBAL };

/* One attribute or sub-attribute.  Strings are borrowed from the table. */
struct schema_attr {
	const char			*name;
	enum attr_type			 type;
	bool				 multi_valued;
	bool				 required;
	bool				 case_exact;
	enum attr_mutability		 mutability;
	enum attr_returned		 returned;
	enum attr_uniqueness		 uniqueness;
	const char			*description;
	/* NULL-terminated, or NULL */
	const char *const		*canonical;
	/* NULL-terminated, or NULL */
	const char *const		*ref_types;
	/* sub-attributes of a complex */
	const struct schema_attr	*sub;
	size_t				 nsub;
	/* User.userName: refused when empty, blank or holding Cc/Cf
	 * characters, compared as RFC 8265's UsernameCaseMapped profile
	 * prepares it (fold_username, fold.h) instead of fold_utf8. */
	bool				 username;
};

struct schema {
	const char			*urn;
	const char			*name;
	const char			*description;
	const struct schema_attr	*attrs;
	size_t				 nattrs;
};

/*
 * A resolved attribute path: schema (core or extension), attribute, and
 * optionally a sub-attribute.  All pointers borrow from the registry.
 */
struct attr_ref {
	const struct schema		*schema;
	const struct schema_attr	*attr;
	/* NULL when the path names attr itself */
	const struct schema_attr	*sub;
	/* schema is an extension: value lives under its URN */
	bool				 is_ext;
};

/*
 * Builds the registry: the built-in schemas, plus those described in the
 * JSON file at ext_path (a schema document or an array of them, in the
 * /Schemas format; may be NULL).  Returns SCIM_OK, or SCIM_ERR_INVALID_VALUE
 * with a detail when the file is unreadable or malformed.  Call once per
 * process, before any other function here.
 */
enum scim_err	schema_init(const char *ext_path, struct scim_error *err);

/* The resource type of t; never NULL for a valid t. */
const struct resource_type *schema_resource_type(enum rtype t);

/* The schema with this URN (case-insensitive), or NULL. */
const struct schema	*schema_find(const char *urn);

/* The number of registered schemas and the i-th (for /Schemas). */
size_t			 schema_count(void);
const struct schema	*schema_at(size_t i);

/* The attribute named name (case-insensitive) in s, or NULL. */
const struct schema_attr *schema_attr_find(const struct schema *s,
			    const char *name);

/* The sub-attribute named name (case-insensitive) of a, or NULL. */
const struct schema_attr *schema_sub_find(const struct schema_attr *a,
			    const char *name);

/* Whether urn names a schema that resources of type t may carry. */
bool			 schema_allowed(enum rtype t, const struct schema *s);

/*
 * Resolves a textual attribute path as it appears in filters, PATCH paths
 * and attributes= lists:
 *	[URN ":"] attr ["." sub]
 * where URN is a registered schema URN.  `text` is [text, text+len).  With
 * no URN the core schema of t is tried first, then each extension of t.
 * A URN alone (naming an extension of t) resolves with attr == NULL.
 * Returns SCIM_OK and fills out, or SCIM_ERR_NOT_FOUND when the path names
 * no attribute of t (the caller picks the scimType that fits).
 */
enum scim_err		 schema_resolve(enum rtype t, const char *text,
			    size_t len, struct attr_ref *out);

/*
 * The value of ref in resource (borrowed from resource), or NULL when
 * absent.  For a sub-attribute of a multi-valued attribute this returns
 * the multi-valued array itself; callers iterate.
 */
json_t			*schema_value_get(const json_t *resource,
			    const struct attr_ref *ref);

/*
 * Compares two attribute values of attribute a for equality, as SCIM
 * defines it: strings by caseExact (case folding otherwise; userName per
 * RFC 8265, fold_username), dateTimes as instants, numbers numerically.
 * NULL compares equal only to NULL.
 */
bool			 schema_value_equal(const struct schema_attr *a,
			    const json_t *x, const json_t *y);

enum schema_mode {
	SCHEMA_CREATE,		/* POST: required attributes must be present */
	/* PUT: same, and immutable values are compared */
	SCHEMA_REPLACE,
	/* after PATCH: required, types; nothing removed */
	SCHEMA_CHECK
};

/*
 * Validates and normalises a request body `in` (borrowed) into a new
 * resource object returned in *out (caller owns; json_decref):
 *	- `schemas` must list the core schema of t and only schemas allowed
 *	  on t (Entra's ADSCIM group URN is accepted and dropped);
 *	- attribute names become canonical; unknown attributes are dropped
 *	  (RFC 7643 section 3.1 lets a provider ignore what it does not
 *	  define); readOnly attributes (id, meta, groups) are dropped;
 *	- null values and empty arrays are removed (unassigned, RFC 7643 2.5);
 *	- booleans sent as "true"/"false" strings in any case become booleans
 *	  (Entra); a bare string for a complex single-valued attribute becomes
 *	  {"value": string} (Entra's manager);
 *	- each value is checked against its type; a mismatch is
 *	  SCIM_ERR_INVALID_VALUE naming the attribute;
 *	- userName must not be empty, white space only, or hold a control
 *	  (Cc) or format (Cf) character: SCIM_ERR_INVALID_VALUE (in every
 *	  mode, so POST, PUT, PATCH and scimctl import refuse alike);
 *	- required attributes must be present (mode CREATE and REPLACE).
 *	- for type t == RT_USER `password` is removed and returned in
 *	  *password (caller owns, free()) when password is not NULL.
 * Group.members is kept as given (validated for shape); the caller moves
 * it to the membership index.
 */
enum scim_err		 schema_validate(enum rtype t, const json_t *in,
			    enum schema_mode mode, json_t **out,
			    char **password, struct scim_error *err);

/*
 * Checks that no immutable attribute of `old` changed in `new` (both
 * normalised resources).  SCIM_OK, or SCIM_ERR_MUTABILITY naming it.
 */
enum scim_err		 schema_check_immutable(enum rtype t,
			    const json_t *old, const json_t *new,
			    struct scim_error *err);

/* The /Schemas representation of s (new reference); base_url for $ref
 * and meta.location. */
json_t			*schema_to_json(const struct schema *s,
			    const char *base_url);

/* The /ResourceTypes representation of t (new reference). */
json_t			*schema_resource_type_json(enum rtype t,
			    const char *base_url);

/*
 * Parses a dateTime strictly (RFC 7643 2.3.5: xsd:dateTime; RFC 3339
 * 5.6): "YYYY-MM-DDThh:mm:ss[.frac]" then "Z" or "+hh:mm"/"-hh:mm",
 * ranges checked, second 60 only at 23:59:60 UTC on 30 June or 31
 * December.  true and *ms (ms since the epoch) on success.
 */
bool			 schema_parse_datetime(const char *s, long long *ms);

#endif
