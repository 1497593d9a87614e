/*
 * authz.h: the FastCGI Authorizer role: scimd decides whether the web
 * server may serve a request, from what the IdP provisioned.
 *
 * The role is chosen only by what the web server itself sends, never by
 * anything a client can: FCGI_ROLE=AUTHORIZER, which libfcgi sets from
 * the FastCGI begin-request record (lighttpd "mode" => "authorizer",
 * mod_fcgid FcgidAuthorizer, mod_authnz_fcgi), or the parameter
 * SCIMD_ROLE=AUTHORIZER, which only a `fastcgi_param` line can set
 * (nginx, whose auth_request subrequests are plain responder requests).
 * Request headers reach scimd as HTTP_* variables and cannot collide
 * with either name.
 *
 * The decision (docs/access.md):
 *	200	REMOTE_USER names a provisioned user (userName, else a unique
 *		email value, both case-insensitive through the store's
 *		indexes), not active=false, and the `require` rule with the
 *		longest prefix of the request path (conf.h) names a group
 *		the user is in, directly or through up to LIMIT_AUTHZ_NESTING
 *		levels of nesting; no rule: any such user.  The answer
 *		carries Variable-SCIM_* headers.
 *	401	no REMOTE_USER: the server's login is not configured in front
 *		of the authorizer (logged once per process).
 *	403	anything else: unknown, inactive, outside the groups, an
 *		email shared by several users, a path that cannot be judged.
 *	503	the store failed (logged): fail closed, never open.
 * The authorizer reads no body, takes no bearer token, and opens one
 * read transaction per request: nothing is cached across requests, so
 * a committed deactivation, deletion or removal from a group decides
 * the very next request.
 */
#ifndef SCIMD_AUTHZ_H
#define SCIMD_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "http.h"
#include "store.h"

/* Whether the web server asked for a decision rather than SCIM. */
bool		authz_requested(const struct http_io *io);

/*
 * Decides the request in io against store s (may be NULL: then the
 * answer is 503) and the rules of conf, and writes the answer.
 * reqno numbers the request in this process, for the log.  Returns
 * the status sent.
 */
int		authz_serve(struct store *s, const struct conf *conf,
		    const struct http_io *io, unsigned long reqno);

/*
 * Makes the path a request is judged by from its REQUEST_URI: an
 * absolute-form "http(s)://host" is dropped, the query cut, escapes
 * decoded once, empty and "." segments dropped and ".." resolved (never
 * above the root), no trailing '/' (except "/").  This is what
 * lighttpd, Apache and nginx map to files, so a path cannot slip out
 * of a guarded prefix with %2e%2e or //.  Writes a NUL-terminated
 * result to out[outsz].  SCIM_OK, or SCIM_ERR_BAD_REQUEST for what
 * cannot be judged the same way by every server (no leading '/', a bad
 * escape, an encoded '/' or NUL, a control character), or
 * SCIM_ERR_TOO_LARGE when it does not fit.
 */
enum scim_err	authz_path_clean(const char *uri, char *out, size_t outsz);

/* Whether prefix[0..plen) (a conf_require prefix) covers path: equal,
 * or followed in path by '/'; "/" covers everything.  "/admin" covers
 * "/admin" and "/admin/x", never "/administrator". */
bool		authz_prefix_covers(const char *prefix, size_t plen,
		    const char *path);

/* The rule with the longest prefix covering path, or NULL (borrowed
 * from conf). */
const struct conf_require *authz_rule_for(const struct conf *conf,
		    const char *path);

/*
 * Whether s[0..len) may be a header value: valid UTF-8 without C0
 * controls (CR, LF, TAB, NUL...), DEL or C1 controls (U+0080..U+009F).
 */
bool		authz_value_safe(const char *s, size_t len);

/*
 * Appends one element of a SCIM_GROUPS list to b: a ',' first unless b
 * is empty, then s[0..len) with '%', ',' and every byte that is not
 * safe in a header (controls, and any byte of invalid UTF-8)
 * percent-encoded as %XX.  SCIM_OK, or SCIM_ERR_TOO_LARGE /
 * SCIM_ERR_NOMEM from the buffer (b then holds what it had).
 */
enum scim_err	authz_list_append(struct buf *b, const char *s, size_t len);

#endif
