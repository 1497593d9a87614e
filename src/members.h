/*
 * members.h: the writes of Group.members, for the operations (op.c).
 *
 * A group's members are not part of its record: they live in the
 * members / memberof databases (store.h), written here inside the
 * caller's write transaction.  A member must exist as a User or a Group
 * when it is added; a group cannot be its own member.
 */
#ifndef SCIMD_MEMBERS_H
#define SCIMD_MEMBERS_H

#include <jansson.h>

#include "error.h"
#include "patch.h"
#include "store.h"

/*
 * Adds each member of members (borrowed: an array of {"value": id}, or
 * one such object) to group gid.  SCIM_OK; SCIM_ERR_INVALID_VALUE for a
 * member without a value, unknown, or the group itself; a store error.
 */
enum scim_err	members_add(struct store_txn *txn, const char *gid,
		    const json_t *members, struct scim_error *err);

/* The context of members_hook: the transaction and the group. */
struct member_hook {
	struct store_txn	*txn;
	const char		*gid;		/* borrowed */
	const char		*base_url;	/* borrowed */
};

/*
 * The PATCH engine's callback for Group.members (patch.h, ctx a struct
 * member_hook): add (no filter), replace (all, or those the filter
 * matches, then the value added), remove (all, those the filter
 * matches, or those listed in value, as Entra sends).  SCIM_OK,
 * SCIM_ERR_INVALID_PATH, SCIM_ERR_INVALID_VALUE, a store error.
 */
enum scim_err	members_hook(void *ctx, enum patch_opcode op,
		    const struct filter_node *filter, json_t *value,
		    struct scim_error *err);

#endif
