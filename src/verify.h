/*
 * verify.h: `scimctl verify` and `scimctl reindex`: does the store agree
 * with itself, and mend what can be mended.
 *
 * verify_run() checks, in one transaction (docs/storage.md names the
 * databases):
 *	records		every users/groups entry is JSON whose "id" is its
 *			key (else VERIFY_UNREADABLE);
 *	indexes		every key a record has (userName, emails[].value,
 *			externalId, displayName, folded as store_put() folds
 *			them) is in its index pointing at the record
 *			(VERIFY_MISSING_KEY; VERIFY_DUPLICATE_KEY when two
 *			records claim one unique key; VERIFY_UNINDEXABLE when
 *			a value cannot be a key), and every index entry
 *			points at an existing record (VERIFY_DANGLING_KEY)
 *			that really has that key (VERIFY_STALE_KEY);
 *	membership	members and memberof mirror each other
 *			(VERIFY_ONE_WAY_MEMBER) and both ends of each pair
 *			exist (VERIFY_DANGLING_MEMBER);
 *	passwords	every hash belongs to a user (VERIFY_DANGLING_PASSWORD);
 *	tokens		tokens and token_hash mirror each other, hash for
 *			hash (VERIFY_TOKEN);
 *	versions	meta "seq" is at least every record's meta.version,
 *			so no version (ETag) is handed out twice
 *			(VERIFY_SEQ_BEHIND);
 *	any database	an entry whose key or value is not the size the
 *			layout says (VERIFY_MALFORMED).
 *
 * With repair (a write transaction), each problem is mended in the same
 * transaction: missing entries added, dangling, stale and malformed ones
 * removed, the version counter raised.  For memberships `members` is
 * authoritative (it is what a Group shows its IdP): a members pair
 * without its memberof mirror gets the mirror; a memberof pair without
 * a members pair is removed; a pair naming a missing group or member is
 * removed from both.  Records are never changed or removed: an
 * unreadable record and a duplicate unique key are reported as not
 * repaired (fix the record through SCIM, or restore a backup).
 */
#ifndef SCIMD_VERIFY_H
#define SCIMD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

enum verify_kind {
	VERIFY_UNREADABLE,		/* a record that is not a record */
	VERIFY_UNINDEXABLE,		/* a value that cannot be a key */
	VERIFY_MISSING_KEY,		/* a record's key not in its index */
	VERIFY_DUPLICATE_KEY,		/* two records, one unique key */
	VERIFY_DANGLING_KEY,		/* an index entry without its record */
	VERIFY_STALE_KEY,		/* an index entry its record lacks */
	VERIFY_MALFORMED,		/* a key or value of the wrong size */
	VERIFY_DANGLING_MEMBER,		/* a membership naming a missing end */
	VERIFY_ONE_WAY_MEMBER,		/* members without memberof, or back */
	VERIFY_DANGLING_PASSWORD,	/* a hash of no user */
	VERIFY_TOKEN,			/* tokens and token_hash disagree */
	VERIFY_SEQ_BEHIND,		/* version counter below a version */
	VERIFY_COUNTS,			/* id_counts disagrees with records */
	VERIFY__COUNT
};

/* The problem's name as printed ("stale index entry"...). */
const char	*verify_kind_name(enum verify_kind kind);

/* One problem, as handed to the report callback (borrowed for the
 * call). */
struct verify_problem {
	enum verify_kind kind;
	const char	*db;		/* the database holding the entry */
	const char	*what;		/* the entry and why, keys escaped */
	bool		 repaired;	/* mended in this transaction */
};

typedef void (*verify_report_fn)(const struct verify_problem *p, void *ctx);

struct verify_result {
	size_t	problems;
	size_t	repaired;
};

/*
 * Checks the store in txn as the header comment says, mending when
 * repair is true (txn must then be a write transaction), and calls
 * fn(problem, ctx) (fn may be NULL) for each problem, after the
 * repairs, in the order found.  SCIM_OK with *res filled, or a store
 * error (SCIM_ERR_NOMEM, SCIM_ERR_UNAVAILABLE...) after which a write
 * transaction must be aborted.  Repeatable: it keeps no state between
 * calls, as store_write() requires.
 */
enum scim_err	verify_run(struct store_txn *txn, bool repair,
		    verify_report_fn fn, void *ctx, struct verify_result *res,
		    struct scim_error *err);

#endif
