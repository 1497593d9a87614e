/*
 * plan.h: the query planner of GET /Users, /Groups and .search: which
 * index lookups answer a filter for one resource type, or a scan.
 *
 * plan_make() is a pure function of (resource type, filter AST): no
 * store, no transaction, no allocation.  query.c executes the plan
 * (lookups or scan, re-check, sort, paging); tests/t_plan.c prints plans
 * with plan_print() against tests/golden/plan.txt.
 *
 * The rules (docs/architecture.md, "Queries"), the indexes being the
 * type's table (rtype.c):
 *	attr eq "s"	on an indexed attribute of type t (User: userName,
 *			emails.value, externalId; Group: displayName,
 *			externalId): one lookup of s in that index (the
 *			store folds s as the index folds its keys); `id eq`
 *			reads the record by id.
 *	attr eq v	on a unique attribute of the schemas (uniqueness
 *			"server", an extension's too; v a string, number
 *			or boolean): one lookup in the type's unique index.
 *			Other non-string values scan.
 *	userName sw "s"	User: every key of idx_username starting with s
 *			(the indexes the table marks prefix).
 *	emails[value eq "s" ...]  User: the lookup of s in idx_email, with
 *			`value eq` alone or an "and" term of the inner filter
 *			(Entra's emails[type eq "work"].value eq "s" parses
 *			to that); likewise ATTR[SUB eq v] for a unique
 *			sub-attribute SUB.
 *	a and b		a's lookups if a has a plan, else b's.
 *	a or b		the union of a's and b's lookups when both have a
 *			plan (at most LIMIT_PLAN_LOOKUPS), else a scan.
 *	anything else	(not, ne, co, gt..., pr, other attributes) a scan
 *			of every record of t in id order.
 * Candidates are re-checked with the whole filter, except when the
 * filter is exactly the one equality its single index lookup answers
 * (a PLAN_KEY one).  The executor scans instead of a PLAN_UNIQUE lookup
 * whose attribute the store's unique index was not built for
 * (store_unique_indexed()).
 */
#ifndef SCIMD_PLAN_H
#define SCIMD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "filter.h"
#include "limits.h"
#include "schema.h"
#include "store.h"

/* How one lookup finds its candidates. */
enum plan_how {
	PLAN_KEY,	/* every id under the value's key in idx */
	PLAN_PREFIX,	/* every id whose key in idx starts with the value's */
	PLAN_ID,	/* the record whose id is the value (any case) */
	PLAN_UNIQUE	/* the id under the value of a unique attribute of
			 * the schemas in the type's unique index idx */
};

/* One index lookup; value is borrowed from the filter (a JSON string). */
struct plan_lookup {
	enum plan_how	 how;
	/* PLAN_KEY, PLAN_PREFIX; IDX__COUNT for PLAN_ID */
	enum store_index idx;
	const json_t	*value;
	/* PLAN_UNIQUE: the attribute (rtype.h, borrowed from the type's
	 * table); NULL for the others. */
	const struct rtype_unique *unique;
	/* PLAN_ID: the value lower-cased (ids are stored so), or "" when
	 * the value is no id (no record has it). */
	char		 id[STORE_ID_LEN + 1];
};

/*
 * A plan for one resource type.  n == 0: scan every record.  Otherwise
 * the union of the n lookups holds every resource the filter matches.
 */
struct plan {
	size_t			 n;
	struct plan_lookup	 l[LIMIT_PLAN_LOOKUPS];
	/* The filter is the one PLAN_KEY equality: its index key is the
	 * comparison (same folding, never truncated), no re-check. */
	bool			 exact;
	/* The lookups' ids are not in id order (a union, a prefix): sort
	 * them and drop repeats. */
	bool			 reorder;
	/* The filter names Group.members or User.groups: the re-check
	 * needs the record's links. */
	bool			 links;
};

/*
 * Fills *pl with the plan for filter f (borrowed, may be NULL: no
 * filter, a scan) over resource type t.  *pl borrows values from f:
 * valid while f lives.  Never fails.
 */
void		plan_make(enum rtype t, const struct filter_node *f,
		    struct plan *pl);

/*
 * Appends one line describing pl to b, e.g.
 *	idx_username "bjensen"; exact
 *	union idx_email "a@x" | idx_email "b@x"; sort by id; recheck
 *	scan User; recheck
 * Each key is printed as the store looks it up (folded as its index
 * folds, as JSON; "no key" when the value cannot be one), id lookups as
 * `id` and the lower-case id, unique ones as the index, the attribute's
 * path and the key after it (store_unique_key()).  SCIM_OK or
 * SCIM_ERR_NOMEM (b full).
 */
enum scim_err	plan_print(enum rtype t, const struct plan *pl,
		    struct buf *b);

#endif
