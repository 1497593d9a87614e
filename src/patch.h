/*
 * patch.h: the PATCH engine of RFC 7644 section 3.5.2.
 *
 * patch_apply() applies the operations of a PatchOp message, in order, to
 * a resource object that the caller has copied; if any operation fails the
 * caller discards the copy, so a PATCH is all or nothing.  The engine
 * never touches the store.  An attribute that the caller keeps outside the
 * resource object (Group.members, which lives in the membership index) is
 * handed to a callback instead of being edited in the object.
 *
 * Accepted forms, beyond the RFC's own:
 *	- op names in any case ("Replace", "Add", "Remove": Entra);
 *	- boolean values sent as strings "True"/"False" (Entra);
 *	- remove with path "members" and a value array naming the members to
 *	  remove (Entra);
 *	- a no-path value object whose keys are dotted ("name.givenName") or
 *	  URN-qualified ("urn:...:enterprise:2.0:User:employeeNumber");
 *	- manager given as a bare id string;
 *	- null values meaning "unassigned" (remove);
 *	- a no-path replace that repeats the resource's own "id" (Okta's
 *	  group rename): accepted when equal, mutability when different.
 *
 * An add of a value already there changes nothing (RFC 7644 3.5.2.1):
 * an element with the same sub-attributes, each equal under its own
 * caseExact (booleans also as "True"/"False"), is already there; the
 * other elements' primary flags stay as they were.  A write through a
 * value filter that matches nothing creates the element only when the
 * filter describes it (sub-attribute eq terms joined by and: Entra's
 * emails[type eq "work"].value); any other filter is SCIM_ERR_NO_TARGET,
 * for add as for replace.
 */
#ifndef SCIMD_PATCH_H
#define SCIMD_PATCH_H

#include <jansson.h>

#include "error.h"
#include "filter.h"
#include "schema.h"

enum patch_opcode { PATCH_ADD, PATCH_REMOVE, PATCH_REPLACE };

/*
 * A parsed PATCH path: attrPath [ "[" valFilter "]" ] [ "." subAttr ].
 * ref resolves attr (and sub when written as attr.sub without a filter).
 */
struct patch_path {
	struct attr_ref		 ref;
	/* value filter, owned; NULL if none */
	struct filter_node	*filter;
	/* sub-attribute after "]", or NULL */
	const struct schema_attr *filter_sub;
};

/*
 * Parses a PATCH path for resource type t.  SCIM_OK and *out filled
 * (release with patch_path_clear()), or SCIM_ERR_INVALID_PATH with a
 * detail (SCIM_ERR_INVALID_FILTER for a malformed value filter).
 */
enum scim_err	patch_path_parse(enum rtype t, const char *text, size_t len,
		    struct patch_path *out, struct scim_error *err);
void		patch_path_clear(struct patch_path *p);

/*
 * Called for each operation on an external attribute (hooks->attr).
 *	op:	the operation;
 *	filter:	the value filter of the path (borrowed), or NULL;
 *	value:	the operation's value for that attribute (borrowed; may be
 *		NULL for remove): an array of member objects, or for a no-path
 *		operation the value of the external key.
 * Returns SCIM_OK or an error (with err filled) that fails the PATCH.
 */
struct patch_hooks {
	const char	*attr;		/* e.g. "members"; NULL for none */
	enum scim_err	(*external)(void *ctx, enum patch_opcode op,
			    const struct filter_node *filter, json_t *value,
			    struct scim_error *err);
	void		*ctx;
};

/*
 * Applies the PatchOp message `body` (borrowed: schemas must contain
 * SCHEMA_URN_PATCHOP; Operations a non-empty array of at most
 * LIMIT_PATCH_OPS) to `resource` (a normalised resource of type t, edited
 * in place).  hooks may be NULL.
 * Returns SCIM_OK, or one of SCIM_ERR_INVALID_SYNTAX (message shape),
 * SCIM_ERR_INVALID_PATH, SCIM_ERR_INVALID_FILTER, SCIM_ERR_NO_TARGET,
 * SCIM_ERR_MUTABILITY, SCIM_ERR_INVALID_VALUE, SCIM_ERR_NOMEM,
 * SCIM_ERR_TOO_MANY (the request's work budget is spent: work.h), or an
 * error of the hook; on error `resource` is in an unspecified state and
 * must be discarded.  The caller validates the result afterwards with
 * schema_validate(..., SCHEMA_CHECK, ...).
 */
enum scim_err	patch_apply(enum rtype t, json_t *resource, const json_t *body,
		    const struct patch_hooks *hooks, struct scim_error *err);

#endif
