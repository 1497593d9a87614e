/*
 * op.h: the SCIM operations on one resource, with no HTTP in them.
 *
 * Every producer of changes enters here: the HTTP handlers (resource.c),
 * /Bulk (bulk.c) and `scimctl import` (scimctl.c).  An operation
 * validates its input (schema.c), hashes a password it sets before any
 * write transaction (Argon2id is slow and LMDB has one writer), then in
 * one store_write() callback reads the old record, checks If-Match,
 * applies the change (PATCH on a copy, patch.c), checks immutables,
 * writes the record, its indexes, memberships and password hash, appends
 * the audit entry, renders the result (render.c) and finally calls the
 * caller's answer function.  Any failure, the answer's included, aborts
 * the transaction: nothing changes, and no change is committed behind a
 * failed answer.
 *
 * An operation context is set up per operation (a struct on the stack):
 * the site's settings that every producer must apply alike (audit
 * trail, password policy), who asks, and what the caller wants back.
 */
#ifndef SCIMD_OP_H
#define SCIMD_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "render.h"
#include "schema.h"
#include "store.h"

/* What an operation reports: status 201 (created), 200 or 204 (deleted),
 * the resource's id and its new meta.version ("" after a delete). */
struct op_result {
	int	 status;
	char	 id[STORE_ID_LEN + 1];
	char	 version[64];
};

/*
 * Called as the last step inside the write transaction with the result
 * (borrowed for the call); SCIM_OK commits, anything else aborts the
 * change and is the operation's error.  store_write() may run a
 * callback again after growing the map: the answer must reset what it
 * wrote before (the rendered body in op_ctx.body is reset by the op).
 */
typedef enum scim_err (*op_answer_fn)(const struct op_result *r, void *ctx,
		    struct scim_error *err);

struct op_ctx {
	struct store		*store;		/* borrowed */
	const char		*who;		/* token name (audit trail) */
	size_t			 audit_keep;	/* conf.audit_keep (0: all) */
	enum conf_password	 password;	/* conf.password */
	const char		*base_url;	/* of meta.location, or "" */
	/* Per operation (op_ctx_init sets them to NULL): */
	const char		*if_match;	/* If-Match header, or NULL */
	const struct projection	*proj;		/* NULL: every attribute */
	/* Receives the rendered resource (JSON text); NULL: none made. */
	struct buf		*body;
	op_answer_fn		 answer;	/* or NULL */
	void			*answer_ctx;
};

/*
 * The one place the site's settings become an operation context: the
 * store, who asks (borrowed: "scimctl" or a token name), the settings
 * (borrowed for the call: the values are copied; NULL leaves audit_keep
 * 0, every entry kept, and password CONF_PASSWORD_DISCARD, for a caller
 * that sets them itself) and the base URL (borrowed; NULL is "").
 */
void		op_ctx_init(struct op_ctx *c, struct store *s, const char *who,
		    const struct conf *conf, const char *base_url);

/*
 * POST: body (borrowed) validated as a new resource of type t, stored
 * with a new id.  SCIM_OK with r filled (201); or the validation's
 * SCIM_ERR_INVALID_VALUE / INVALID_SYNTAX / NO_TARGET..., TOO_LARGE (too
 * many members), UNIQUENESS, a store error, or the answer's error.
 */
enum scim_err	op_create(struct op_ctx *c, enum rtype t, const json_t *body,
		    struct op_result *r, struct scim_error *err);

/* PUT: resource id replaced by body (members too, for a group).  As
 * op_create (200), and NOT_FOUND, PRECONDITION (If-Match),
 * MUTABILITY. */
enum scim_err	op_replace(struct op_ctx *c, enum rtype t, const char *id,
		    const json_t *body, struct op_result *r,
		    struct scim_error *err);

/* PATCH: the PatchOp message (borrowed) applied to resource id, all or
 * nothing.  As op_replace, and the PATCH engine's errors (patch.h). */
enum scim_err	op_patch(struct op_ctx *c, enum rtype t, const char *id,
		    const json_t *patchop, struct op_result *r,
		    struct scim_error *err);

/* DELETE: resource id, its indexes, memberships and password hash.
 * SCIM_OK (204), NOT_FOUND, PRECONDITION, a store error.  Nothing is
 * rendered. */
enum scim_err	op_delete(struct op_ctx *c, enum rtype t, const char *id,
		    struct op_result *r, struct scim_error *err);

/*
 * GET: resource id rendered into c->body (which must be given) under
 * c->proj (the stored bytes spliced when the projection allows), in one
 * read transaction.  SCIM_OK (200) with r->version, NOT_FOUND, a store
 * error; SCIM_ERR_INTERNAL without a body.  c->answer and c->if_match
 * are not used.
 */
enum scim_err	op_get(struct op_ctx *c, enum rtype t, const char *id,
		    struct op_result *r, struct scim_error *err);

/* Whether header (a list of entity tags, or "*") names version
 * (RFC 7232: weak comparison, W/ and quotes ignored). */
bool		op_etag_listed(const char *header, const char *version);

/* ---- import (scimctl) ------------------------------------------------- */

/*
 * One resource of an export, prepared outside any transaction by
 * op_import_prepare() and written by op_import() in the caller's.  All
 * owned (op_record_free()).
 */
struct op_record {
	enum rtype	 type;
	json_t		*rec;		/* the stored form: id, meta kept */
	json_t		*members;	/* a group's members, or NULL */
	char		*pwhash;	/* Argon2id of its password, or NULL */
	bool		 kept_version;	/* meta.version came with the input */
};

/*
 * Validates in (borrowed) as a resource of an export: a Group when its
 * schemas name the Group schema, else a User; the id (lower-cased),
 * meta.created, meta.lastModified and meta.version (W/"n") are kept
 * when given, made otherwise.  The members are not checked here (a
 * member may come later in the input): op_import() leaves them to the
 * caller.  A password is hashed under c->password.  Uses no store and
 * no shared state but the schemas: may run in another thread.  SCIM_OK,
 * or the validation's error (o then holds nothing).
 */
enum scim_err	op_import_prepare(const struct op_ctx *c, const json_t *in,
		    struct op_record *o, struct scim_error *err);

/*
 * Writes o->rec with its indexes and password hash in txn (the caller's
 * write transaction) and the audit entry (op "import"); a kept version
 * raises the store's counter past it, so it is never handed out again.
 * SCIM_OK, UNIQUENESS, CONFLICT (the id exists), INVALID_VALUE (an index
 * key too long), a store error.
 */
enum scim_err	op_import(const struct op_ctx *c, struct store_txn *txn,
		    struct op_record *o, struct scim_error *err);

/* Frees o's parts (the password hash wiped); o itself is the caller's. */
void		op_record_free(struct op_record *o);

#endif
