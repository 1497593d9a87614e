/*
 * authz.c: the FastCGI Authorizer role (authz.h, docs/access.md).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <unistr.h>

#include "authz.h"
#include "jsonx.h"
#include "log.h"

/* ---- the role ------------------------------------------------------------ */

/* Whether FCGI_ROLE or SCIMD_ROLE is exactly AUTHORIZER (authz.h). */
bool
authz_requested(const struct http_io *io)
{
	const char *r;

	/* libfcgi puts its own FCGI_ROLE, from the begin-request record,
	 * before the server's parameters: a parameter of that name sent
	 * by the server cannot override it. */
	if ((r = io->getenv(io->ctx, "FCGI_ROLE")) != NULL &&
	    strcmp(r, "AUTHORIZER") == 0)
		return true;
	return (r = io->getenv(io->ctx, "SCIMD_ROLE")) != NULL &&
	    strcmp(r, "AUTHORIZER") == 0;
}

/* ---- paths and rules ----------------------------------------------------- */

/*
 * Normalises REQUEST_URI as the web servers map it to files (decode
 * once, drop empty and "." segments, resolve ".." never above /);
 * SCIM_ERR_BAD_REQUEST for what cannot be judged (authz.h).
 */
enum scim_err
authz_path_clean(const char *uri, char *out, size_t outsz)
{
	const char *p = uri, *end;
	size_t o = 0, q, n;

	if (outsz < 2)
		return SCIM_ERR_TOO_LARGE;
	if (strncasecmp(p, "http://", 7) == 0 ||
	    strncasecmp(p, "https://", 8) == 0) {
		p += p[4] == ':' ? 7 : 8;
		p += strcspn(p, "/?#");
		if (*p != '/')
			p = "/";
	}
	if (*p != '/')
		return SCIM_ERR_BAD_REQUEST;
	end = p + strcspn(p, "?#");
	if ((size_t)(end - p) > LIMIT_AUTHZ_URI_BYTES)
		return SCIM_ERR_TOO_LARGE;
	/* out[0..o) holds the kept segments, each as "/seg". */
	while (p < end) {
		p++;			/* the '/' that starts this segment */
		if (o + 1 >= outsz)
			return SCIM_ERR_TOO_LARGE;
		out[o] = '/';
		q = o + 1;
		for (; p < end && *p != '/'; p++) {
			int c = (unsigned char)*p;

			if (c == '%') {
				int hi, lo;

				if (end - p < 3 ||
				    (hi = http_hex_digit(p[1])) < 0 ||
				    (lo = http_hex_digit(p[2])) < 0)
					return SCIM_ERR_BAD_REQUEST;
				c = hi << 4 | lo;
				p += 2;
				/* Servers differ on an encoded '/': refuse. */
				if (c == '/')
					return SCIM_ERR_BAD_REQUEST;
			}
			if (c < 0x20 || c == 0x7f)
				return SCIM_ERR_BAD_REQUEST;
			if (q + 1 >= outsz)
				return SCIM_ERR_TOO_LARGE;
			out[q++] = (char)c;
		}
		n = q - o - 1;
		if (n == 0 || (n == 1 && out[o + 1] == '.'))
			continue;		/* "//" or "/./" */
		if (n == 2 && out[o + 1] == '.' && out[o + 2] == '.') {
			if (o == 0)		/* above the root */
				return SCIM_ERR_BAD_REQUEST;
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		o = q;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return SCIM_OK;
}

/* Equal, or a prefix ending at a '/' of path; "/" covers everything. */
bool
authz_prefix_covers(const char *prefix, size_t plen, const char *path)
{
	if (plen == 1 && prefix[0] == '/')
		return true;
	return strncmp(path, prefix, plen) == 0 &&
	    (path[plen] == '\0' || path[plen] == '/');
}

/* A linear scan of the rules for the longest covering prefix. */
const struct conf_require *
authz_rule_for(const struct conf *conf, const char *path)
{
	const struct conf_require *best = NULL;
	size_t i;

	for (i = 0; conf != NULL && i < conf->nrequire; i++) {
		const struct conf_require *r = &conf->require[i];

		if ((best == NULL || r->prefix_len > best->prefix_len) &&
		    authz_prefix_covers(r->prefix, r->prefix_len, path))
			best = r;
	}
	return best;
}

/* ---- header values ------------------------------------------------------- */

/* Whether code point uc is a C0 or C1 control or DEL. */
static bool
is_control(ucs4_t uc)
{
	return uc < 0x20 || (uc >= 0x7f && uc <= 0x9f);
}

/* Walks s as UTF-8, refusing C0, DEL and C1 controls and bad bytes. */
bool
authz_value_safe(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	ucs4_t uc;
	int n;

	while (p < end) {
		if (*p < 0x80) {	/* ASCII: one byte, no decoding */
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((n = u8_mbtoucr(&uc, p, (size_t)(end - p))) < 0 ||
		    is_control(uc))
			return false;
		p += n;
	}
	return true;
}

/* Appends one percent-encoded list element to b (buffer errors leave b
 * as it was). */
enum scim_err
authz_list_append(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t old = b->len;
	enum scim_err e = SCIM_OK;
	ucs4_t uc;
	int n, i;

	if (old > 0)
		e = buf_putc(b, ',');
	while (e == SCIM_OK && p < end) {
		n = u8_mbtoucr(&uc, p, (size_t)(end - p));
		if (n > 0 && !is_control(uc) && uc != '%' && uc != ',') {
			e = buf_append(b, p, (size_t)n);
			p += n;
			continue;
		}
		/* Escape the whole character, or one byte of bad UTF-8. */
		for (i = 0; e == SCIM_OK && i < (n > 0 ? n : 1); i++) {
			char esc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };

			e = buf_append(b, esc, sizeof(esc));
		}
		p += n > 0 ? n : 1;
	}
	if (e != SCIM_OK && b->data != NULL) {
		b->len = old;		/* as it was, still NUL-terminated */
		b->data[old] = '\0';
	}
	return e;
}

/* ---- the log ------------------------------------------------------------- */

/* Rate limit of refusal lines, as for refused tokens (app.c). */
static time_t	log_second;
static unsigned	log_count;
static unsigned long log_held;

/* Whether a refusal line may be written now (LIMIT_AUTH_LOG_PER_SECOND
 * a second; those held back are counted in one line later). */
static bool
log_allowed(void)
{
	time_t now = time(NULL);

	if (now != log_second) {
		if (log_held > 0)
			log_msg(LVL_INFO, "authz: %lu refusals not logged "
			    "(limit %d a second)", log_held,
			    LIMIT_AUTH_LOG_PER_SECOND);
		log_second = now;
		log_count = 0;
		log_held = 0;
	}
	if (log_count < LIMIT_AUTH_LOG_PER_SECOND) {
		log_count++;
		return true;
	}
	log_held++;
	return false;
}

/* ---- the decision -------------------------------------------------------- */

enum verdict {
	V_GRANTED,
	V_UNKNOWN,		/* no such userName or email */
	V_AMBIGUOUS,		/* the email belongs to several users */
	V_INACTIVE,		/* active is not true */
	V_OUTSIDE		/* in none of the rule's groups */
};

static const char *const verdict_text[] = {
	[V_GRANTED] = "granted",
	[V_UNKNOWN] = "unknown user",
	[V_AMBIGUOUS] = "email shared by several users",
	[V_INACTIVE] = "inactive user",
	[V_OUTSIDE] = "in none of the required groups"
};

/* One decision: its inputs, the user found, the user's groups (direct,
 * then through nesting, each once), the verdict and the answer. */
struct decide {
	/* Zeroed per request: everything before gids. */
	const char			*user;
	const struct conf_require	*rule;
	struct store_txn		*txn;
	struct http_response		*res;
	char				 id[STORE_ID_LEN + 1];
	int				 found;
	size_t				 ngroups;
	/* more than LIMIT_AUTHZ_GROUPS */
	bool				 truncated;
	bool				 in_rule;
	enum verdict			 v;
	char				 omitted[128];	/* variables not sent */
	/* Not zeroed: gids[0..ngroups) are written before being read. */
	char		 gids[LIMIT_AUTHZ_GROUPS][STORE_ID_LEN + 1];
};

/* Keeps the first id of a lookup; stops at the second. */
static bool
found_id(const char *id, void *ctx)
{
	struct decide *d = ctx;

	if (d->found++ == 0)
		memcpy(d->id, id, sizeof(d->id));
	return d->found < 2;
}

/* Whether group id is already in the user's set. */
static bool
has_group(const struct decide *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->ngroups; i++)
		if (memcmp(d->gids[i], id, STORE_ID_LEN) == 0)
			return true;
	return false;
}

/* Adds group id once; stops the scan when the set is full. */
static bool
add_group(const char *id, void *ctx)
{
	struct decide *d = ctx;

	if (has_group(d, id))
		return true;
	if (d->ngroups == LIMIT_AUTHZ_GROUPS) {
		d->truncated = true;
		return false;
	}
	memcpy(d->gids[d->ngroups++], id, STORE_ID_LEN + 1);
	return true;
}

/* Notes that a group named by the rule is one of the user's. */
static bool
rule_hit(const char *id, void *ctx)
{
	struct decide *d = ctx;

	if (has_group(d, id))
		d->in_rule = true;
	return !d->in_rule;
}

/*
 * The string a stored JSON value val[0..vlen) holds: *s and *n borrow
 * the map's bytes when it has no escape (the JSON grammar makes those
 * bytes the value), else jansson decodes it into *hold (the caller
 * json_decref()s it).  false when it is not a string without NUL.
 */
static bool
raw_string(const char *val, size_t vlen, const char **s, size_t *n,
    json_t **hold)
{
	json_t *j;

	if (vlen < 2 || val[0] != '"' || val[vlen - 1] != '"')
		return false;
	if (memchr(val, '\\', vlen) == NULL) {
		*s = val + 1;
		*n = vlen - 2;
		return true;
	}
	if ((j = json_loadb(val, vlen, JSON_DECODE_ANY, NULL)) == NULL ||
	    !json_is_string(j)) {
		json_decref(j);
		return false;
	}
	*hold = j;
	*s = json_string_value(j);
	*n = json_string_length(j);
	return memchr(*s, '\0', *n) == NULL;
}

/* Notes name in d->omitted (for one log line). */
static void
omit(struct decide *d, const char *name)
{
	size_t len = strlen(d->omitted);

	snprintf(d->omitted + len, sizeof(d->omitted) - len, "%s%s",
	    len ? "," : "", name);
}

/*
 * Adds the header "Variable-name: s[0..n)".  The value must already be
 * authz_value_safe(), which is stricter than http_response_header()'s
 * CR/LF check, so the bytes are appended as they are, without a format.
 */
static enum scim_err
add_variable(struct http_response *res, const char *name, const char *s,
    size_t n)
{
	struct buf *h = &res->headers;
	size_t old = h->len;
	enum scim_err e;

	if ((e = buf_append(h, "Variable-", 9)) != SCIM_OK ||
	    (e = buf_puts(h, name)) != SCIM_OK ||
	    (e = buf_append(h, ": ", 2)) != SCIM_OK ||
	    (e = buf_append(h, s, n)) != SCIM_OK ||
	    (e = buf_append(h, "\r\n", 2)) != SCIM_OK) {
		if (h->data != NULL) {
			h->len = old;	/* no half header */
			h->data[old] = '\0';
		}
	}
	return e;
}

/* Adds Variable-name: s[0..n) unless empty, too long or unsafe. */
static enum scim_err
put_var(struct decide *d, const char *name, const char *s, size_t n)
{
	if (n == 0)
		return SCIM_OK;
	if (n > LIMIT_AUTHZ_VARIABLE_BYTES || !authz_value_safe(s, n)) {
		omit(d, name);
		return SCIM_OK;
	}
	return add_variable(d->res, name, s, n);
}

/* Adds Variable-name for the stored JSON string val[0..vlen) (val may
 * be NULL: absent). */
static enum scim_err
put_string(struct decide *d, const char *name, const char *val, size_t vlen)
{
	const char *s;
	size_t n;
	json_t *hold = NULL;
	enum scim_err e = SCIM_OK;

	if (val != NULL && raw_string(val, vlen, &s, &n, &hold))
		e = put_var(d, name, s, n);
	json_decref(hold);
	return e;
}

/* SCIM_EMAIL: the primary email value, else the first, from the stored
 * emails array arr[0..alen) (NULL: none), scanned in place. */
static enum scim_err
put_email(struct decide *d, const char *arr, size_t alen)
{
	const char *el, *val, *pick = NULL, *s;
	size_t elen, vlen, picklen = 0, pos = 0, n;
	json_t *hold = NULL;
	enum scim_err e = SCIM_OK;

	if (arr == NULL)
		return SCIM_OK;
	while (jsonx_next_element(arr, alen, &pos, &el, &elen)) {
		if (!jsonx_find_member(el, elen, "value", &val, &vlen))
			continue;
		if (pick == NULL) {
			pick = val;
			picklen = vlen;
		}
		if (jsonx_find_member(el, elen, "primary", &s, &n) && n == 4 &&
		    memcmp(s, "true", 4) == 0) {
			pick = val;
			picklen = vlen;
			break;
		}
	}
	if (pick != NULL && raw_string(pick, picklen, &s, &n, &hold))
		e = put_var(d, "SCIM_EMAIL", s, n);
	json_decref(hold);
	return e;
}

/* SCIM_GROUPS and SCIM_GROUP_IDS, whole or not at all. */
static enum scim_err
put_groups(struct decide *d, struct scim_error *err)
{
	struct buf names, ids;
	const char *rec, *val, *s;
	size_t i, len, vlen, n;
	bool names_ok = true, ids_ok = true;
	enum scim_err e = SCIM_OK;

	if (d->ngroups == 0)
		return SCIM_OK;
	if (d->truncated) {
		omit(d, "SCIM_GROUPS");
		omit(d, "SCIM_GROUP_IDS");
		return SCIM_OK;
	}
	buf_init(&names, LIMIT_AUTHZ_VARIABLE_BYTES);
	buf_init(&ids, LIMIT_AUTHZ_VARIABLE_BYTES);
	for (i = 0; i < d->ngroups; i++) {
		json_t *hold = NULL;

		if (ids_ok && buf_printf(&ids, "%s%s", i ? "," : "",
		    d->gids[i]) != SCIM_OK)
			ids_ok = false;
		if (!names_ok)
			continue;
		if ((e = store_get_raw(d->txn, RT_GROUP, d->gids[i], &rec,
		    &len, err)) == SCIM_ERR_NOT_FOUND) {
			err_clear(err);	/* a link without its group: skip it */
			continue;
		}
		if (e != SCIM_OK)
			goto done;
		if (jsonx_find_member(rec, len, "displayName", &val, &vlen) &&
		    raw_string(val, vlen, &s, &n, &hold) &&
		    authz_list_append(&names, s, n) != SCIM_OK)
			names_ok = false;
		json_decref(hold);
	}
	e = SCIM_OK;
	if (!names_ok)
		omit(d, "SCIM_GROUPS");
	else if (names.len > 0)
		e = add_variable(d->res, "SCIM_GROUPS", names.data, names.len);
	if (e == SCIM_OK && !ids_ok)
		omit(d, "SCIM_GROUP_IDS");
	else if (e == SCIM_OK)
		e = add_variable(d->res, "SCIM_GROUP_IDS", ids.data, ids.len);
done:
	buf_free(&names);
	buf_free(&ids);
	return e;
}

/* The members of a user record the decision reads. */
enum { M_ACTIVE, M_USERNAME, M_DISPLAYNAME, M_EMAILS, M_EXTERNALID, M__COUNT };
static const char *const members[M__COUNT] = {
	[M_ACTIVE] = "active", [M_USERNAME] = "userName",
	[M_DISPLAYNAME] = "displayName", [M_EMAILS] = "emails",
	[M_EXTERNALID] = "externalId"
};

/* The decision, in one read transaction (store_fn). */
static enum scim_err
decide_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct decide *d = ctx;
	const char *rec, *val[M__COUNT];
	size_t len, vlen[M__COUNT], i, from, to, level;
	enum scim_err e;

	d->txn = txn;
	if ((e = store_lookup(txn, IDX_USERNAME, d->user, strlen(d->user),
	    found_id, d, err)) != SCIM_OK)
		return e;
	if (d->found == 0 && (e = store_lookup(txn, IDX_EMAIL, d->user,
	    strlen(d->user), found_id, d, err)) != SCIM_OK)
		return e;
	if (d->found != 1) {
		d->v = d->found == 0 ? V_UNKNOWN : V_AMBIGUOUS;
		return SCIM_OK;
	}
	if ((e = store_get_raw(txn, RT_USER, d->id, &rec, &len, err)) ==
	    SCIM_ERR_NOT_FOUND) {
		err_clear(err);
		d->v = V_UNKNOWN;
		return SCIM_OK;
	}
	if (e != SCIM_OK)
		return e;
	/* One pass over the record for every member the answer needs. */
	jsonx_find_members(rec, len, members, M__COUNT, val, vlen);
	/* Only active=false deactivates (RFC 7643 gives no default);
	 * anything but true or absent counts as inactive. */
	if (val[M_ACTIVE] != NULL && !(vlen[M_ACTIVE] == 4 &&
	    memcmp(val[M_ACTIVE], "true", 4) == 0)) {
		d->v = V_INACTIVE;
		return SCIM_OK;
	}
	/* The user's groups: direct ones, then LIMIT_AUTHZ_NESTING - 1
	 * levels of groups holding those. */
	if ((e = store_memberof(txn, d->id, add_group, d, err)) != SCIM_OK)
		return e;
	for (from = 0, level = 1; level < LIMIT_AUTHZ_NESTING &&
	    !d->truncated && from < d->ngroups; level++) {
		to = d->ngroups;
		for (i = from; i < to && !d->truncated; i++)
			if ((e = store_memberof(txn, d->gids[i], add_group, d,
			    err)) != SCIM_OK)
				return e;
		from = to;
	}
	if (d->rule != NULL) {
		for (i = 0; i < d->rule->ngroups && !d->in_rule; i++)
			if ((e = store_lookup(txn, IDX_GROUP_NAME,
			    d->rule->groups[i], strlen(d->rule->groups[i]),
			    rule_hit, d, err)) != SCIM_OK)
				return e;
		if (!d->in_rule) {
			d->v = V_OUTSIDE;
			return SCIM_OK;
		}
	}
	d->v = V_GRANTED;
	if ((e = put_var(d, "SCIM_ID", d->id, STORE_ID_LEN)) != SCIM_OK ||
	    (e = put_string(d, "SCIM_USERNAME", val[M_USERNAME],
	    vlen[M_USERNAME])) != SCIM_OK ||
	    (e = put_string(d, "SCIM_DISPLAYNAME", val[M_DISPLAYNAME],
	    vlen[M_DISPLAYNAME])) != SCIM_OK ||
	    (e = put_email(d, val[M_EMAILS], vlen[M_EMAILS])) != SCIM_OK ||
	    (e = put_string(d, "SCIM_EXTERNAL_ID", val[M_EXTERNALID],
	    vlen[M_EXTERNALID])) != SCIM_OK ||
	    (e = put_groups(d, err)) != SCIM_OK)
		return err->code == SCIM_OK ? err_set(err, e, "Cannot make "
		    "the variables.") : e;
	return SCIM_OK;
}

/* Replaces res with a short plain-text refusal of the given status. */
static void
refuse(struct http_response *res, int status)
{
	buf_reset(&res->headers);
	buf_reset(&res->body);
	res->status = status;
	http_response_header(res, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(res, "Cache-Control", "no-store");
	buf_printf(&res->body, "%d %s\n", status, http_reason(status));
}

/*
 * One authorizer decision: the path cleaned, the rule for it found, the
 * user's groups checked against it, the answer written; anything that
 * cannot be decided is refused.
 */
int
authz_serve(struct store *s, const struct conf *conf,
    const struct http_io *io, unsigned long reqno)
{
	static bool no_user_logged;
	struct http_response res;
	struct scim_error err;
	struct decide dd, *d = NULL;
	const char *user, *uri;
	char path[LIMIT_AUTHZ_URI_BYTES + 1], euser[128], epath[256];
	const char *why = NULL;
	enum scim_err e;
	int status;

	err_clear(&err);
	http_response_init(&res);
	user = io->getenv(io->ctx, "REMOTE_USER");
	uri = io->getenv(io->ctx, "REQUEST_URI");
	err_escape(euser, sizeof(euser), user ? user : "-",
	    user ? strlen(user) : 1);
	err_escape(epath, sizeof(epath), uri ? uri : "-",
	    uri ? strlen(uri) : 1);
	if (s == NULL) {
		refuse(&res, 503);
		why = "the store is not open (see the start-up error)";
		goto answer;
	}
	if (user == NULL || *user == '\0') {
		refuse(&res, 401);
		if (!no_user_logged)
			log_msg(LVL_ERROR, "authz: no REMOTE_USER reached the "
			    "authorizer: put the web server's login in front "
			    "of it (docs/access.md); answering 401 (logged "
			    "once per process)");
		no_user_logged = true;
		goto answer;
	}
	if (uri == NULL || authz_path_clean(uri, path, sizeof(path)) !=
	    SCIM_OK) {
		refuse(&res, 403);
		why = "a path that cannot be judged";
		goto answer;
	}
	d = &dd;
	memset(d, 0, offsetof(struct decide, gids));
	d->user = user;
	d->rule = authz_rule_for(conf, path);
	d->res = &res;
	res.status = 200;
	if ((e = store_read(s, decide_fn, d, &err)) != SCIM_OK) {
		refuse(&res, 503);
		why = err.detail[0] ? err.detail : "store error";
		goto answer;
	}
	if (d->v != V_GRANTED) {
		refuse(&res, 403);
		why = verdict_text[d->v];
	}
answer:
	status = res.status;
	if (status == 200 && d->omitted[0] != '\0' && log_allowed())
		log_msg(LVL_INFO, "authz req=%d-%lu user=%s path=%s 200, "
		    "not sent (a control character, or too long): %s",
		    (int)getpid(), reqno, euser, epath, d->omitted);
	else if (status == 200)
		log_msg(LVL_DEBUG, "authz req=%d-%lu user=%s path=%s 200",
		    (int)getpid(), reqno, euser, epath);
	else if (why != NULL && log_allowed())
		log_msg(status >= 500 ? LVL_ERROR : LVL_INFO,
		    "authz req=%d-%lu user=%s path=%s %d: %s%s%s",
		    (int)getpid(), reqno, euser, epath, status, why,
		    d != NULL && d->v == V_OUTSIDE ? " of the rule for " : "",
		    d != NULL && d->v == V_OUTSIDE ? d->rule->prefix : "");
	http_response_send(io, &res, false);
	http_response_free(&res);
	return status;
}
