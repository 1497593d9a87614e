/*
 * scimstore.h: read-only access to a scimd store for the site's own
 * programs (installed with `make install`; link with
 * `pkg-config --libs scimstore`).
 *
 * Everything is read inside LMDB read transactions: readers never block
 * scimd's writers and always see a consistent snapshot.  The process
 * needs read access to data.mdb and write access to lock.mdb.
 *
 * Strings returned as `char *` are the stored SCIM JSON of a resource
 * (see docs/storage.md), NUL-terminated; the caller frees them with
 * free().  Ids given to callbacks are borrowed for the call.
 * Functions returning int give 0 on success and -1 on failure.
 */
#ifndef SCIMSTORE_H
#define SCIMSTORE_H

struct scimstore;

/* Opens the store in directory dir; 0 and *out, or -1. */
int	scimstore_open(const char *dir, struct scimstore **out);
void	scimstore_close(struct scimstore *s);

/* One resource as JSON, or NULL when there is none. */
char	*scimstore_user_by_id(struct scimstore *s, const char *id);
char	*scimstore_user_by_username(struct scimstore *s, const char *name);
char	*scimstore_user_by_email(struct scimstore *s, const char *email);
char	*scimstore_group_by_id(struct scimstore *s, const char *id);

/* Calls fn(json, ctx) for each user / group in id order; fn returns
 * nonzero to stop. */
int	scimstore_users(struct scimstore *s,
	    int (*fn)(const char *json, void *ctx), void *ctx);
int	scimstore_groups(struct scimstore *s,
	    int (*fn)(const char *json, void *ctx), void *ctx);

/* Calls fn(id, ctx) for each group of user_id / member of group_id. */
int	scimstore_groups_of(struct scimstore *s, const char *user_id,
	    int (*fn)(const char *id, void *ctx), void *ctx);
int	scimstore_members_of(struct scimstore *s, const char *group_id,
	    int (*fn)(const char *id, void *ctx), void *ctx);

/*
 * Calls fn(seq, json, ctx) for each change with a sequence number above
 * `after` (the audit trail: {"seq","time","token","op","type","id",
 * "version"}), so a program can react to deactivations: remember the
 * last seq seen and ask again.
 */
int	scimstore_changes_since(struct scimstore *s, unsigned long long after,
	    int (*fn)(unsigned long long seq, const char *json, void *ctx),
	    void *ctx);

#endif
