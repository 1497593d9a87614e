/*
 * store.h: the LMDB store, the one source of truth of scimd.
 *
 * One LMDB environment (a directory) holds named databases:
 *	meta		"layout" -> "2", "seq" -> 8-byte big-endian write
 *			counter
 *	users, groups	id (36-char lower-case UUID) -> canonical SCIM JSON
 *	idx_username	userName folded per RFC 8265 -> user id (unique)
 *	idx_email	case-folded emails[].value -> user id (dupsort)
 *	idx_user_extid	externalId -> user id (dupsort, case-exact)
 *	idx_group_name	case-folded displayName -> group id (dupsort)
 *	idx_group_extid	externalId -> group id (dupsort, case-exact)
 *	idx_user_unique, idx_group_unique
 *			"<path>\0<value>" of the schemas' unique attributes
 *			-> user / group id (unique; store_unique_sync())
 *	members		group id -> member id (dupsort)
 *	memberof	member id -> group id (dupsort)
 *	tokens		token name -> JSON {"hash","created"}
 *	token_hash	SHA-256 of token (32 bytes) -> token name
 *	passwords	user id -> Argon2id string (only when enabled)
 *	audit		8-byte big-endian sequence -> JSON change entry
 *	id_counts	"u"/"g" + first hex digit of an id -> 256 big-endian
 *			32-bit counts of ids per next two digits (may be
 *			absent in a store made before it: then nothing
 *			keeps it and startIndex paging walks)
 * docs/storage.md describes the layout for other programs.
 *
 * Every write goes through store_write(): the callback runs inside one
 * write transaction; any error it returns, or any error of a store
 * function inside it, aborts the whole transaction, so records and
 * indexes never disagree.  store_write() grows the map when it is full
 * and retries the callback, so callbacks must be repeatable (no side
 * effects outside the transaction beyond what they reset on entry).
 *
 * Caveats (from lmdb.h): open the store once per process, after any
 * fork; never across fork.  A CGI process must call store_close() before
 * it exits, on every path.  No network filesystems.
 */
#ifndef SCIMD_STORE_H
#define SCIMD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "error.h"
#include "schema.h"

/* docs/storage.md; migrations: store_migrate.c */
#define STORE_LAYOUT_VERSION	4
#define STORE_ID_LEN		36	/* textual UUID */
#define STORE_HASH_LEN		32	/* SHA-256 of a token */

struct store;
struct store_txn;
struct rtype_unique;

/* enum store_index, the indexes, is rtype.h's (with their table). */

/* The database name of an index ("idx_username"...), for logs. */
const char	*store_index_name(enum store_index idx);

/*
 * Opens (creating when create is true) the environment in directory
 * path.  SCIM_OK and *out (caller owns, store_close()), or
 * SCIM_ERR_UNAVAILABLE with a detail (missing, unreadable, a layout
 * version newer than STORE_LAYOUT_VERSION, an older one that cannot be
 * migrated, network filesystem).  Clears stale reader slots.  A store of
 * an older layout is migrated first (store_migrate, one write
 * transaction); when that fails (a userName collision, say) the open
 * fails with the migration's detail and the store is unchanged.
 * store_open(p, c, ...) is store_open_flags(p, c ? STORE_CREATE : 0, ...).
 */
enum scim_err	store_open(const char *path, bool create, struct store **out,
		    struct scim_error *err);

#define STORE_CREATE		0x1	/* make the store when missing */
#define STORE_READ_ONLY		0x2	/* MDB_RDONLY: never writes; an older
					 * layout is refused, naming
					 * `scimctl migrate` */
#define STORE_NO_MIGRATE	0x4	/* open an older layout as it is
					 * (restore's source, scimctl migrate
					 * and user rename); databases it
					 * lacks stay unopened */
enum scim_err	store_open_flags(const char *path, unsigned flags,
		    struct store **out, struct scim_error *err);

/* The layout version of the open store (STORE_LAYOUT_VERSION unless it
 * was opened with STORE_NO_MIGRATE). */
int		store_layout(const struct store *s);

/*
 * Brings the store to STORE_LAYOUT_VERSION: the migration steps from its
 * layout, in one write transaction (nothing changes unless all succeed).
 * report, when not NULL, gets one line (borrowed for the call) for each
 * problem found, e.g. each pair of users whose userNames the new
 * folding makes equal; any problem fails the migration with
 * SCIM_ERR_UNAVAILABLE and a detail naming the first.  SCIM_OK at once
 * for a store already at the current layout.
 */
typedef void (*store_report_fn)(const char *line, void *ctx);
enum scim_err	store_migrate(struct store *s, store_report_fn report,
		    void *ctx, struct scim_error *err);

/*
 * The unique attributes of the schemas (rtype.h: uniqueness "server" on
 * an extension's attribute, say) are kept in one unique index per type.
 * The store holds the list its indexes were built for (meta "unique")
 * and every write makes keys from that list, whatever schemas the
 * writing program loaded.  store_unique_sync() compares it with the
 * list the loaded schemas declare (rtype_get(t)->unique) and, when they
 * differ, rebuilds both indexes from the records and stores the new
 * list, in one write transaction (*rebuilt, when not NULL, says whether
 * it did).  Two records sharing a value of a newly unique attribute (or
 * a value too long to be a key) are problems: each goes to report (a
 * line naming both ids, the attribute and the value; borrowed for the
 * call) and the rebuild fails with SCIM_ERR_UNAVAILABLE and a detail
 * naming the first, changing nothing: values are never merged.  scimd
 * calls it at start; a program that did not load the site's schemas
 * must not (it would drop the site's indexes).
 */
enum scim_err	store_unique_sync(struct store *s, store_report_fn report,
		    void *ctx, bool *rebuilt, struct scim_error *err);

/* Whether the store's unique indexes are built for the list the loaded
 * schemas declare (as of the last transaction). */
bool		store_unique_current(struct store *s);

/* Closes the environment; NULL is a no-op. */
void		store_close(struct store *s);

/*
 * Runs fn(txn, ctx, err) in a write transaction and commits when fn
 * returns SCIM_OK; aborts otherwise.  On MDB_MAP_FULL the map is doubled
 * (up to LIMIT_MAP_MAX) and fn runs again, at most LIMIT_WRITE_RETRIES
 * times.  Returns fn's result, SCIM_ERR_STORE_FULL, or
 * SCIM_ERR_UNAVAILABLE.
 */
typedef enum scim_err (*store_fn)(struct store_txn *txn, void *ctx,
		    struct scim_error *err);
enum scim_err	store_write(struct store *s, store_fn fn, void *ctx,
		    struct scim_error *err);

/* Runs fn in a read-only transaction (a consistent snapshot). */
enum scim_err	store_read(struct store *s, store_fn fn, void *ctx,
		    struct scim_error *err);

/* ---- records ---------------------------------------------------------- */

/*
 * The stored JSON of resource id of type t.  SCIM_OK with data and len
 * pointing into the map (borrowed: valid only until the transaction
 * ends), or SCIM_ERR_NOT_FOUND.
 */
enum scim_err	store_get_raw(struct store_txn *txn, enum rtype t,
		    const char *id, const char **data, size_t *len,
		    struct scim_error *err);

/* Same, parsed: *out is a new reference (caller owns). */
enum scim_err	store_get(struct store_txn *txn, enum rtype t, const char *id,
		    json_t **out, struct scim_error *err);

/*
 * Whether a resource of type t with this id exists: SCIM_OK with *found
 * (false also for an id that is not one), or a store error
 * (SCIM_ERR_UNAVAILABLE, SCIM_ERR_NOMEM...), never reported as absent.
 */
enum scim_err	store_exists(struct store_txn *txn, enum rtype t,
		    const char *id, bool *found, struct scim_error *err);

/*
 * Writes resource `rec` (borrowed; must carry "id") of type t, replacing
 * `old` (borrowed; the record as stored, or NULL for a create).  The
 * index entries of old are removed and those of rec added in the same
 * transaction.  Returns SCIM_OK, SCIM_ERR_UNIQUENESS (userName taken),
 * SCIM_ERR_INVALID_VALUE (an index key too long, naming the attribute),
 * SCIM_ERR_CONFLICT (create of an existing id), or a store error.
 */
enum scim_err	store_put(struct store_txn *txn, enum rtype t,
		    const json_t *old, const json_t *rec,
		    struct scim_error *err);

/*
 * Deletes resource `old` (borrowed, as stored) of type t with its index
 * entries, its memberships (both directions) and its password hash.
 * Each group it was a member of gets a new version (store_touch).
 */
enum scim_err	store_delete(struct store_txn *txn, enum rtype t,
		    const json_t *old, struct scim_error *err);

/* Number of resources of type t in *n: SCIM_OK, or a store error. */
enum scim_err	store_count(struct store_txn *txn, enum rtype t, size_t *n,
		    struct scim_error *err);

/*
 * Calls fn(id, ctx) for each resource id of type t in id order, starting
 * at the first id greater than `after` (NULL: from the start), until fn
 * returns false.  ids are NUL-terminated copies on the stack (borrowed
 * for the call).
 */
typedef bool (*store_id_fn)(const char *id, void *ctx);
enum scim_err	store_scan(struct store_txn *txn, enum rtype t,
		    const char *after, store_id_fn fn, void *ctx,
		    struct scim_error *err);

/*
 * Calls fn(id, ctx) for each resource id of type t in id order from the
 * pos-th (0 is the first), until fn returns false.  With id_counts the
 * cost does not depend on pos (a seek to pos's bucket and a walk inside
 * it); without, or when the counts do not add up to the records, it
 * walks from the first id.
 */
enum scim_err	store_scan_at(struct store_txn *txn, enum rtype t, size_t pos,
		    store_id_fn fn, void *ctx, struct scim_error *err);

/*
 * Compares id_counts with the records (both types), counting each
 * bucket that differs into *problems (set, not added to); with repair,
 * rewrites the counts from the records.  A no-op for a store without
 * id_counts.  store_verify() calls it; `scimctl verify` reports it.
 */
enum scim_err	store_counts_verify(struct store_txn *txn, bool repair,
		    size_t *problems, struct scim_error *err);

/*
 * Layout step: creates id_counts if missing and builds it from the
 * records, in the caller's write transaction.  On failure the
 * transaction must be aborted and the store closed.
 */
enum scim_err	store_migrate_counts(struct store_txn *txn,
		    struct scim_error *err);

/*
 * Calls fn for each id whose key in index idx starts with prefix (folded
 * like the keys), in key order, not id order.
 */
enum scim_err	store_lookup_prefix(struct store_txn *txn,
		    enum store_index idx, const char *prefix, size_t len,
		    store_id_fn fn, void *ctx, struct scim_error *err);

/*
 * Calls fn for each id under key in index idx (key is the raw attribute
 * value: folded here for the case-insensitive indexes), in id order.
 * A key that cannot be indexed (too long, bad UTF-8) has no entries.
 */
enum scim_err	store_lookup(struct store_txn *txn, enum store_index idx,
		    const char *key, size_t keylen, store_id_fn fn, void *ctx,
		    struct scim_error *err);

/*
 * The key index idx holds for value s[0..len), folded as the index folds
 * (the key store_lookup() seeks), into out[0..*outlen) (outsz at least
 * LIMIT_INDEX_KEY_BYTES, no NUL written): SCIM_OK, SCIM_ERR_NOMEM, or
 * SCIM_ERR_INVALID_VALUE when it cannot be a key (too long, not UTF-8:
 * a lookup of it finds nothing).  Needs no store (plan_print()).
 */
enum scim_err	store_index_key(enum store_index idx, const char *s,
		    size_t len, char *out, size_t outsz, size_t *outlen);

/*
 * The unique attributes (rtype.h) by their index: whether the unique
 * index of type t holds the attribute path names (as rtype_unique's
 * path spells it; the list the store holds, store_unique_sync()), and
 * fn for the id (at most one) whose value of it is v (borrowed; keyed
 * as that attribute's rule says; no call when none or when v cannot be
 * a key).
 */
bool		store_unique_indexed(struct store_txn *txn, enum rtype t,
		    const char *path);
enum scim_err	store_lookup_unique(struct store_txn *txn, enum rtype t,
		    const char *path, const json_t *v, store_id_fn fn,
		    void *ctx, struct scim_error *err);

/*
 * The key store_lookup_unique() seeks for value v of unique attribute u
 * (rtype.h) of type t, past its "<path>\0" (folded by u's rule, a
 * dateTime as milliseconds, a number or boolean as JSON writes it), into
 * out[0..*outlen) (no NUL): SCIM_OK, SCIM_ERR_NOMEM, or
 * SCIM_ERR_INVALID_VALUE when v has no key (null, "", too long).  Needs
 * no store (plan_print()).
 */
enum scim_err	store_unique_key(enum rtype t, const struct rtype_unique *u,
		    const json_t *v, char *out, size_t outsz, size_t *outlen);

/*
 * Fills buf (at least 32 bytes) with the next version tag, W/"<n>",
 * where n counts writes over the store's life.
 */
enum scim_err	store_next_version(struct store_txn *txn, char *buf,
		    size_t bufsz, struct scim_error *err);

/* Raises the write counter to n when it is lower, so that version W/"n"
 * (one kept by an import) is never handed out again. */
enum scim_err	store_version_raise(struct store_txn *txn,
		    unsigned long long n, struct scim_error *err);

/* ---- group membership ------------------------------------------------- */

/* Adds member_id (a user or group) to group gid; no-op when present. */
enum scim_err	store_member_add(struct store_txn *txn, const char *gid,
		    const char *member_id, struct scim_error *err);

/* Removes member_id from gid; no-op when absent. */
enum scim_err	store_member_remove(struct store_txn *txn, const char *gid,
		    const char *member_id, struct scim_error *err);

/* Removes every member of gid. */
enum scim_err	store_member_clear(struct store_txn *txn, const char *gid,
		    struct scim_error *err);

/* Calls fn for each member id of gid (fn returns false to stop). */
enum scim_err	store_members(struct store_txn *txn, const char *gid,
		    store_id_fn fn, void *ctx, struct scim_error *err);

/* Calls fn for each group id that member_id belongs to directly. */
enum scim_err	store_memberof(struct store_txn *txn, const char *member_id,
		    store_id_fn fn, void *ctx, struct scim_error *err);

/*
 * Gives group (or user) id a new meta.version, and with modified a new
 * meta.lastModified, changing nothing else: for membership changes made
 * outside a write of the record itself (a member deleted: modified;
 * memberships imported after their group, which keeps the imported
 * lastModified).  SCIM_OK also when there is no such record.
 */
enum scim_err	store_touch(struct store_txn *txn, enum rtype t,
		    const char *id, bool modified, struct scim_error *err);

/* ---- passwords -------------------------------------------------------- */

/* Stores (hash != NULL) or removes the password hash of user id. */
enum scim_err	store_password_put(struct store_txn *txn, const char *id,
		    const char *hash, struct scim_error *err);

/* ---- tokens ----------------------------------------------------------- */

/* Records token `name` with the SHA-256 of its secret and, unless
 * expires is NULL, the moment it stops being accepted (RFC 3339 UTC in
 * store_now()'s form, so that times compare as strings); CONFLICT if the
 * name is taken. */
enum scim_err	store_token_put(struct store_txn *txn, const char *name,
		    const unsigned char hash[STORE_HASH_LEN],
		    const char *expires, struct scim_error *err);

/* Removes token name; NOT_FOUND if there is none. */
enum scim_err	store_token_delete(struct store_txn *txn, const char *name,
		    struct scim_error *err);

/*
 * Looks up the token with this hash: SCIM_OK with *found, and when found
 * its name in name[namesz] and its expiry in expires[expiressz] ("" when
 * it never expires); a token whose record is missing or unreadable is
 * not found.  A store error (SCIM_ERR_UNAVAILABLE...) is returned as
 * such, never as "no such token".
 */
enum scim_err	store_token_find(struct store_txn *txn,
		    const unsigned char hash[STORE_HASH_LEN], bool *found,
		    char *name, size_t namesz, char *expires, size_t expiressz,
		    struct scim_error *err);

/* Calls fn(name, created, expires, ctx) for each token in name order;
 * expires is NULL for a token that never expires. */
typedef void (*store_token_fn)(const char *name, const char *created,
		    const char *expires, void *ctx);
enum scim_err	store_token_list(struct store_txn *txn, store_token_fn fn,
		    void *ctx, struct scim_error *err);

/*
 * The store's 32-byte secret for signing cursors, made on first use and
 * shared by every process (meta "cursor_key").
 */
enum scim_err	store_cursor_key(struct store *s, unsigned char key[32],
		    struct scim_error *err);

/* ---- audit trail ------------------------------------------------------ */

/*
 * Appends a change entry {seq, time, token, op, type, id, version} in
 * the caller's transaction, so it commits or aborts with the change.
 * keep > 0 bounds the trail: it holds at least the newest min(keep,
 * all) entries and never more than keep + keep/64 (the oldest are
 * dropped in one batch when that bound is reached).
 */
enum scim_err	store_audit(struct store_txn *txn, const char *who,
		    const char *op, const char *type, const char *id,
		    const char *version, size_t keep, struct scim_error *err);

/* Calls fn(seq, json, len, ctx) for each entry with seq > after, in
 * order, until fn returns false.  json is borrowed for the call. */
typedef bool (*store_audit_fn)(unsigned long long seq, const char *json,
		    size_t len, void *ctx);
enum scim_err	store_audit_list(struct store_txn *txn,
    unsigned long long after,
		    store_audit_fn fn, void *ctx, struct scim_error *err);

/* ---- maintenance (scimctl) -------------------------------------------- */

/* Copies a consistent snapshot of the live store into directory dir
 * (which must exist and be empty), compacting it. */
enum scim_err	store_backup(struct store *s, const char *dir,
		    struct scim_error *err);

/*
 * Checks the store's internal agreement (verify.c, which says what it
 * checks and repairs); *problems counts what it found.  With repair,
 * in a write transaction, fixes what can be fixed.
 */
enum scim_err	store_verify(struct store_txn *txn, bool repair,
		    size_t *problems, struct scim_error *err);

/*
 * Replaces the content of s with the store in directory src (opened
 * read-only), in one write transaction: running processes see either
 * the old or the restored data, never a mix.  What does not go back in
 * time: the audit trail stays the live one and gets an entry {op
 * "restore", type "Store", id src, tokens "kept"|"restored"} numbered
 * above the last entry of both trails; meta "seq" (versions) becomes the
 * larger of the two; the cursor key stays; the tokens stay unless
 * tokens is true (then the backup's replace them).
 */
enum scim_err	store_restore(struct store *s, const char *src, bool tokens,
		    struct scim_error *err);

/* ---- raw access (verify.c) --------------------------------------------- */
/*
 * Databases are named as in docs/storage.md ("users", "idx_email",
 * "members"...).  An unknown name is SCIM_ERR_INTERNAL.  Pointers handed
 * to callbacks or returned point into the map: borrowed, valid only
 * until the transaction ends (for callbacks: for the call).
 */

/* Calls fn(key, klen, val, vlen, ctx) for every pair of database db in
 * key (then value) order, until fn returns false. */
typedef bool (*store_raw_fn)(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx);
enum scim_err	store_raw_scan(struct store_txn *txn, const char *db,
		    store_raw_fn fn, void *ctx, struct scim_error *err);

/* The (first) value under key: SCIM_OK with *val, *vlen, or NOT_FOUND. */
enum scim_err	store_raw_get(struct store_txn *txn, const char *db,
		    const void *key, size_t klen, const void **val,
		    size_t *vlen, struct scim_error *err);

/* Whether db holds exactly the pair (key, val). */
bool		store_raw_has(struct store_txn *txn, const char *db,
		    const void *key, size_t klen, const void *val,
		    size_t vlen);

/* Adds the pair (replacing the value in a database without duplicates);
 * a pair already present is no error. */
enum scim_err	store_raw_put(struct store_txn *txn, const char *db,
		    const void *key, size_t klen, const void *val,
		    size_t vlen, struct scim_error *err);

/* Removes exactly the pair (key, val); an absent pair is no error. */
enum scim_err	store_raw_del(struct store_txn *txn, const char *db,
		    const void *key, size_t klen, const void *val,
		    size_t vlen, struct scim_error *err);

/* Calls fn(idx, key, len, ctx) for every index key record rec of type t
 * has, as store_put() would write them in txn (folded where the index
 * folds; with the unique attributes txn's store holds).
 * SCIM_ERR_INVALID_VALUE when a value cannot be indexed. */
typedef void (*store_key_fn)(enum store_index idx, const char *key,
		    size_t len, void *ctx);
enum scim_err	store_record_keys(struct store_txn *txn, enum rtype t,
		    const json_t *rec, store_key_fn fn, void *ctx,
		    struct scim_error *err);

/* What index idx covers: its resource type, whether a key has one id,
 * the attribute it holds (for messages). */
enum rtype	store_index_type(enum store_index idx);
bool		store_index_unique(enum store_index idx);
const char	*store_index_attr(enum store_index idx);

/* Facts about the environment for `scimctl stats`. */
struct store_info {
	size_t	map_size;	/* bytes mapped */
	size_t	used;		/* bytes of pages in use */
	size_t	file_size;	/* size of data.mdb */
	unsigned readers;	/* reader slots in use */
	unsigned max_readers;
	int	stale_readers;	/* cleared by this call */
};
void		store_info(struct store *s, struct store_info *info);

/* Entries per database, for `scimctl stats`: calls fn(name, entries). */
typedef void (*store_stat_fn)(const char *name, size_t entries, void *ctx);
enum scim_err	store_stats(struct store_txn *txn, store_stat_fn fn,
		    void *ctx, struct scim_error *err);

/* Current time as RFC 3339 with milliseconds in UTC into buf[32]. */
void		store_now(char *buf, size_t bufsz);

/* A new random UUID (version 4) as 36 lower-case chars + NUL in buf. */
void		store_new_id(char buf[STORE_ID_LEN + 1]);

/* Whether s is a syntactically valid lower- or upper-case UUID. */
bool		store_id_valid(const char *s, size_t len);

#endif
