/*
 * resource.c: create, read, replace, patch and delete one User or Group,
 * and the rendering of stored records (meta.location, links,
 * projection).
 *
 * Every change runs inside one store_write() callback: the old record is
 * read, the change computed and written with its index and membership
 * changes in the same LMDB transaction, so concurrent writers (other
 * FastCGI processes) serialise and an error leaves nothing behind.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "handlers.h"
#include "jsonx.h"
#include "limits.h"
#include "log.h"
#include "patch.h"
#include "resource.h"
#include "work.h"

/* ---- projection ---------------------------------------------------------- */

/* Adds one attribute name (blanks trimmed) to p; names that resolve to
 * nothing are ignored, as RFC 7644 3.9 allows. */
static enum scim_err
projection_add(enum rtype t, const char *name, size_t len, struct projection *p,
    struct scim_error *err)
{
	while (len > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		len--;
	}
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len == 0)
		return SCIM_OK;
	if (p->n == PROJECTION_MAX)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "At most %d attributes may be listed.", PROJECTION_MAX);
	if (schema_resolve(t, name, len, &p->refs[p->n]) == SCIM_OK)
		p->n++;
	return SCIM_OK;
}

/* Fills p from the attributes or excludedAttributes parameter. */
enum scim_err
projection_parse(enum rtype t, const char *attributes, const char *excluded,
    struct projection *p, struct scim_error *err)
{
	const char *list, *s, *comma;
	enum scim_err e;

	memset(p, 0, sizeof(*p));
	p->include = attributes != NULL && *attributes != '\0';
	list = p->include ? attributes : excluded;
	if (list == NULL)
		return SCIM_OK;
	for (s = list; ; s = comma + 1) {
		comma = strchr(s, ',');
		if ((e = projection_add(t, s, comma ? (size_t)(comma - s) :
		    strlen(s), p, err)) != SCIM_OK)
			return e;
		if (comma == NULL)
			break;
	}
	/* attributes= naming nothing we know returns the minimum. */
	return SCIM_OK;
}

/* Fills p from a SearchRequest's attributes or excludedAttributes
 * arrays; an element that is not a string is SCIM_ERR_INVALID_VALUE. */
enum scim_err
projection_parse_json(enum rtype t, const json_t *attributes,
    const json_t *excluded, struct projection *p, struct scim_error *err)
{
	const json_t *list, *v;
	enum scim_err e;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (attributes != NULL && !json_is_array(attributes))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "attributes must be an array of strings.");
	if (excluded != NULL && !json_is_array(excluded))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "excludedAttributes must be an array of strings.");
	p->include = json_array_size(attributes) > 0;
	list = p->include ? attributes : excluded;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "Attribute lists hold strings.");
		if ((e = projection_add(t, json_string_value(v),
		    json_string_length(v), p, err)) != SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* Applies RFC 7643's returned rules and p to one top-level name. */
bool
projection_wants(enum rtype t, const struct projection *p, const char *name)
{
	size_t i;

	(void)t;
	if (p == NULL)
		return true;
	for (i = 0; i < p->n; i++) {
		const struct attr_ref *r = &p->refs[i];

		if (r->is_ext || r->attr == NULL ||
		    strcmp(r->attr->name, name) != 0)
			continue;
		/* Excluding a sub-attribute keeps the attribute. */
		return p->include ? true : r->sub != NULL;
	}
	return !p->include;
}

/* Copies attribute ref of src into dst (both resource objects). */
static void
copy_ref(const struct attr_ref *r, const json_t *src, json_t *dst)
{
	json_t *from = (json_t *)src, *to = dst, *v, *el, *o, *arr;
	size_t i;

	if (r->is_ext) {
		from = json_object_get(src, r->schema->urn);
		if (from == NULL)
			return;
		if (r->attr == NULL) {
			json_object_set(dst, r->schema->urn, from);
			return;
		}
		if ((to = json_object_get(dst, r->schema->urn)) == NULL) {
			to = json_object();
			json_object_set_new(dst, r->schema->urn, to);
		}
	}
	if ((v = json_object_get(from, r->attr->name)) == NULL)
		return;
	if (r->sub == NULL) {
		json_object_set(to, r->attr->name, v);
		return;
	}
	if (json_is_object(v)) {
		if ((o = json_object_get(to, r->attr->name)) == NULL ||
		    !json_is_object(o)) {
			o = json_object();
			json_object_set_new(to, r->attr->name, o);
		}
		if ((el = json_object_get(v, r->sub->name)) != NULL)
			json_object_set(o, r->sub->name, el);
		return;
	}
	if (!json_is_array(v))
		return;
	/* Multi-valued: the sub-attribute of each element, merged with
	 * other sub-attributes already copied (same index). */
	if ((arr = json_object_get(to, r->attr->name)) == NULL ||
	    !json_is_array(arr)) {
		arr = json_array();
		json_array_foreach(v, i, el)
			json_array_append_new(arr, json_object());
		json_object_set_new(to, r->attr->name, arr);
	}
	json_array_foreach(v, i, el) {
		json_t *sv = json_object_get(el, r->sub->name);

		if (sv != NULL && (o = json_array_get(arr, i)) != NULL)
			json_object_set(o, r->sub->name, sv);
	}
}

/* Removes attribute ref from resource obj, unless it is returned always. */
static void
drop_ref(const struct attr_ref *r, json_t *obj)
{
	json_t *at = obj, *v, *el;
	size_t i;

	if (r->attr != NULL && r->sub == NULL &&
	    r->attr->returned == RET_ALWAYS)
		return;
	if (r->sub != NULL && r->sub->returned == RET_ALWAYS)
		return;
	if (r->is_ext) {
		if (r->attr == NULL) {
			json_object_del(obj, r->schema->urn);
			return;
		}
		if ((at = json_object_get(obj, r->schema->urn)) == NULL)
			return;
	}
	if (r->sub == NULL) {
		json_object_del(at, r->attr->name);
		return;
	}
	v = json_object_get(at, r->attr->name);
	if (json_is_object(v))
		json_object_del(v, r->sub->name);
	json_array_foreach(v, i, el)
		json_object_del(el, r->sub->name);
}

/* Applies p to full, returning a new reference. */
static json_t *
project(enum rtype t, const struct projection *p, json_t *full)
{
	const struct schema *core = schema_resource_type(t)->core;
	json_t *out;
	size_t i;

	if (p == NULL || p->n == 0) {
		if (p != NULL && p->include) {
			/* Nothing known was asked for: id and schemas. */
			return json_pack("{s:O, s:O}", "schemas",
			    json_object_get(full, "schemas"), "id",
			    json_object_get(full, "id"));
		}
		return json_incref(full);
	}
	if (!p->include) {
		for (i = 0; i < p->n; i++)
			drop_ref(&p->refs[i], full);
		return json_incref(full);
	}
	out = json_object();
	json_object_set(out, "schemas", json_object_get(full, "schemas"));
	json_object_set(out, "id", json_object_get(full, "id"));
	for (i = 0; i < p->n; i++)
		copy_ref(&p->refs[i], full, out);
	/* Attributes returned always (none in the core tables but id). */
	for (i = 0; i < core->nattrs; i++)
		if (core->attrs[i].returned == RET_ALWAYS &&
		    json_object_get(full, core->attrs[i].name) != NULL)
			json_object_set(out, core->attrs[i].name,
			    json_object_get(full, core->attrs[i].name));
	return out;
}

/* ---- rendering ----------------------------------------------------------- */

struct link_ctx {
	struct store_txn	*txn;
	const char		*base_url;
	json_t			*list;
	enum scim_err		 e;	/* first failure; stops the walk */
	struct scim_error	*err;
};

/* Adds one member of a group: value, $ref and type. */
static bool
member_link(const char *id, void *vctx)
{
	struct link_ctx *c = vctx;
	bool user;
	char ref[LIMIT_URL_BYTES];
	json_t *m;

	if ((c->e = store_exists(c->txn, RT_USER, id, &user, c->err)) !=
	    SCIM_OK)
		return false;
	snprintf(ref, sizeof(ref), "%s/%s/%s", c->base_url,
	    user ? "Users" : "Groups", id);
	m = json_pack("{s:s, s:s, s:s}", "value", id, "$ref", ref, "type",
	    user ? "User" : "Group");
	if (m == NULL || json_array_append_new(c->list, m) != 0)
		c->e = err_set(c->err, SCIM_ERR_NOMEM, NULL);
	return c->e == SCIM_OK;
}

/* Adds one group of a user: value, $ref, display and type "direct".  The
 * display name is read from the group's stored bytes, not parsed from
 * the whole record. */
static bool
group_link(const char *id, void *vctx)
{
	struct link_ctx *c = vctx;
	char ref[LIMIT_URL_BYTES];
	json_t *m, *display = NULL;
	const char *raw, *v;
	size_t len, vlen;

	if ((c->e = store_get_raw(c->txn, RT_GROUP, id, &raw, &len,
	    c->err)) == SCIM_OK &&
	    jsonx_find_member(raw, len, "displayName", &v, &vlen))
		display = json_loadb(v, vlen, JSON_DECODE_ANY, NULL);
	/* A membership left by a group that is gone shows no display. */
	if (c->e == SCIM_ERR_NOT_FOUND)
		c->e = SCIM_OK;
	if (c->e != SCIM_OK)
		return false;
	snprintf(ref, sizeof(ref), "%s/Groups/%s", c->base_url, id);
	m = json_pack("{s:s, s:s, s:s}", "value", id, "$ref", ref, "type",
	    "direct");
	if (m != NULL && json_is_string(display))
		json_object_set(m, "display", display);
	json_decref(display);
	if (m == NULL || json_array_append_new(c->list, m) != 0)
		c->e = err_set(c->err, SCIM_ERR_NOMEM, NULL);
	return c->e == SCIM_OK;
}

/* Inserts key=value into obj before "meta", keeping meta last. */
static void
set_before_meta(json_t *obj, const char *key, json_t *value)
{
	json_t *meta = json_incref(json_object_get(obj, "meta"));

	if (meta != NULL)
		json_object_del(obj, "meta");
	json_object_set_new(obj, key, value);
	if (meta != NULL)
		json_object_set_new(obj, "meta", meta);
}

/* Reads the links of rec's id from the membership databases and puts
 * them before meta; a store error is returned, never an empty list. */
enum scim_err
resource_add_links(struct store_txn *txn, enum rtype t, const char *base_url,
    json_t *rec, struct scim_error *err)
{
	struct link_ctx c = { txn, base_url, json_array(), SCIM_OK, err };
	const char *id = json_string_value(json_object_get(rec, "id"));
	enum scim_err e;

	if (c.list == NULL || id == NULL) {
		json_decref(c.list);
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	}
	if (t == RT_GROUP)
		e = store_members(txn, id, member_link, &c, err);
	else
		e = store_memberof(txn, id, group_link, &c, err);
	if (e == SCIM_OK)
		e = c.e;
	if (e != SCIM_OK) {
		json_decref(c.list);
		return e;
	}
	/* A user in no group and an empty group show no attribute
	 * (RFC 7643 2.5: unassigned). */
	if (json_array_size(c.list) == 0) {
		json_decref(c.list);
		return SCIM_OK;
	}
	set_before_meta(rec, t == RT_GROUP ? "members" : "groups", c.list);
	return SCIM_OK;
}

/* The answer for a stored record: a copy with meta.location, the links
 * when p wants them, projected by p. */
enum scim_err
resource_render(struct store_txn *txn, enum rtype t, const char *base_url,
    const json_t *rec, const struct projection *p, json_t **out,
    struct scim_error *err)
{
	const char *links = t == RT_GROUP ? "members" : "groups";
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *full, *meta;
	char loc[LIMIT_URL_BYTES];
	enum scim_err e;

	*out = NULL;
	if ((full = json_deep_copy(rec)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if ((meta = json_object_get(full, "meta")) != NULL && id != NULL) {
		snprintf(loc, sizeof(loc), "%s%s/%s", base_url,
		    schema_resource_type(t)->endpoint, id);
		json_object_set_new(meta, "location", json_string(loc));
	}
	if (projection_wants(t, p, links) &&
	    (e = resource_add_links(txn, t, base_url, full, err)) != SCIM_OK) {
		json_decref(full);
		return e;
	}
	*out = project(t, p, full);
	json_decref(full);
	return *out != NULL ? SCIM_OK : err_set(err, SCIM_ERR_NOMEM, NULL);
}

/* ---- responses ----------------------------------------------------------- */

/* Serialises j as the response body with the SCIM content type. */
enum scim_err
respond_json(struct exchange *x, int status, const json_t *j,
    struct scim_error *err)
{
	x->res->status = status;
	if (http_response_header(x->res, "Content-Type",
	    "application/scim+json; charset=utf-8") != SCIM_OK ||
	    jsonx_dump(j, &x->res->body) != SCIM_OK)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	return SCIM_OK;
}

/* The projection asked for by the query parameters. */
static enum scim_err
request_projection(struct exchange *x, struct projection *p,
    struct scim_error *err)
{
	return projection_parse(x->type, http_param(x->req, "attributes"),
	    http_param(x->req, "excludedAttributes"), p, err);
}

/* Answers with the rendered resource, its ETag and (on create) Location. */
static enum scim_err
respond_resource(struct exchange *x, int status, const json_t *rendered,
    struct scim_error *err)
{
	const json_t *meta = json_object_get(rendered, "meta");
	const char *v = json_string_value(json_object_get(meta, "version"));
	const char *loc = json_string_value(json_object_get(meta, "location"));

	if ((v != NULL && http_response_header(x->res, "ETag", v) !=
	    SCIM_OK) || (status == 201 && loc != NULL &&
	    http_response_header(x->res, "Location", loc) != SCIM_OK))
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	return respond_json(x, status, rendered, err);
}

/* ---- preconditions (RFC 7644 3.14) --------------------------------------- */

/* The opaque part of an entity tag: without W/ and quotes. */
static void
etag_opaque(const char *s, size_t n, const char **out, size_t *outlen)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && (s[0] == 'W' || s[0] == 'w') && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	*out = s;
	*outlen = n;
}

/* Whether header (a list of entity tags, or "*") names version. */
static bool
etag_listed(const char *header, const char *version)
{
	const char *p = header, *comma, *a, *b;
	size_t alen, blen;

	etag_opaque(version, strlen(version), &b, &blen);
	for (;;) {
		comma = strchr(p, ',');
		etag_opaque(p, comma ? (size_t)(comma - p) : strlen(p), &a,
		    &alen);
		if ((alen == 1 && *a == '*') ||
		    (alen == blen && memcmp(a, b, alen) == 0))
			return true;
		if (comma == NULL)
			return false;
		p = comma + 1;
	}
}

/* 412 unless If-Match (when given) names the record's version. */
static enum scim_err
check_if_match(const struct exchange *x, const json_t *rec,
    struct scim_error *err)
{
	const char *v;

	if (x->req->if_match == NULL)
		return SCIM_OK;
	v = json_string_value(json_object_get(json_object_get(rec, "meta"),
	    "version"));
	if (v != NULL && etag_listed(x->req->if_match, v))
		return SCIM_OK;
	return err_set(err, SCIM_ERR_PRECONDITION,
	    "If-Match does not match the current version %s.", v ? v : "");
}

/* ---- building records ---------------------------------------------------- */

/*
 * The stored form of a validated resource: schemas, id, the attributes,
 * then meta (created kept from old when given).  New reference or NULL.
 */
static json_t *
build_record(enum rtype t, const char *id, const json_t *valid,
    const json_t *old, const char *version)
{
	const char *key, *created = NULL;
	json_t *rec, *v, *meta;
	char now[32];

	store_now(now, sizeof(now));
	if (old != NULL)
		created = json_string_value(json_object_get(
		    json_object_get(old, "meta"), "created"));
	/* Every set is checked: a record silently missing an attribute
	 * (jansson out of memory) must never be stored. */
	if ((rec = json_object()) == NULL)
		return NULL;
	if (json_object_set(rec, "schemas", json_object_get(valid,
	    "schemas")) != 0 ||
	    json_object_set_new(rec, "id", json_string(id)) != 0)
		goto fail;
	json_object_foreach((json_t *)valid, key, v)
		if (strcmp(key, "schemas") != 0 &&
		    strcmp(key, "members") != 0 &&
		    json_object_set(rec, key, v) != 0)
			goto fail;
	meta = json_pack("{s:s, s:s, s:s, s:s}", "resourceType",
	    schema_resource_type(t)->name, "created", created ? created : now,
	    "lastModified", now, "version", version);
	if (meta == NULL || json_object_set_new(rec, "meta", meta) != 0)
		goto fail;
	return rec;
fail:
	json_decref(rec);
	return NULL;
}

/* ---- group members ------------------------------------------------------- */

/* The id named by a member object {"value": id}, checked to exist. */
static enum scim_err
member_id(struct store_txn *txn, const char *gid, const json_t *m,
    const char **id, struct scim_error *err)
{
	char esc[64];
	enum scim_err e;
	bool user, group = false;

	*id = json_string_value(json_object_get(m, "value"));
	if (*id == NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Each member needs a string \"value\".");
	if (strcasecmp(*id, gid) == 0)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "A group cannot be a member of itself.");
	if ((e = store_exists(txn, RT_USER, *id, &user, err)) != SCIM_OK ||
	    (!user && (e = store_exists(txn, RT_GROUP, *id, &group, err)) !=
	    SCIM_OK))
		return e;
	if (!user && !group) {
		err_escape(esc, sizeof(esc), *id, strlen(*id));
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Member %s is not a known User or Group.", esc);
	}
	return SCIM_OK;
}

/* Adds each member of the array (or single object) members to gid. */
static enum scim_err
members_add(struct store_txn *txn, const char *gid, const json_t *members,
    struct scim_error *err)
{
	const json_t *m;
	const char *id;
	enum scim_err e;
	size_t i;

	if (json_is_object(members))
		members = json_pack("[O]", members);
	else
		json_incref((json_t *)members);
	if (members != NULL && !json_is_array(members)) {
		json_decref((json_t *)members);
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "members must be an array of {\"value\": id}.");
	}
	json_array_foreach(members, i, m) {
		if ((e = member_id(txn, gid, m, &id, err)) != SCIM_OK ||
		    (e = store_member_add(txn, gid, id, err)) != SCIM_OK) {
			json_decref((json_t *)members);
			return e;
		}
	}
	json_decref((json_t *)members);
	return SCIM_OK;
}

struct member_hook {
	struct store_txn	*txn;
	const char		*gid;
	const char		*base_url;
};

struct member_match {
	struct store_txn		*txn;
	const struct filter_node	*vp;	/* members[filter] */
	const char			*base_url;
	json_t				*remove;	/* ids matched */
	enum scim_err			 e;	/* first failure */
	struct scim_error		*err;
};

/* Collects the members of a group that the value filter matches. */
static bool
member_match_fn(const char *id, void *vctx)
{
	struct member_match *mm = vctx;
	bool user;
	json_t *g;

	if (!work_spend(1 + STORE_ID_LEN))	/* the budget: stop the walk */
		return false;
	if ((mm->e = store_exists(mm->txn, RT_USER, id, &user, mm->err)) !=
	    SCIM_OK)
		return false;
	g = json_pack("{s:[{s:s, s:s}]}", "members", "value", id, "type",
	    user ? "User" : "Group");
	if (g == NULL || (filter_match(mm->vp, RT_GROUP, g) &&
	    json_array_append_new(mm->remove, json_string(id)) != 0))
		mm->e = err_set(mm->err, SCIM_ERR_NOMEM, NULL);
	json_decref(g);
	return mm->e == SCIM_OK;
}

/*
 * When filter is `value eq "id"`, or such comparisons joined by `or` (the
 * shape Okta and Entra send), appends the ids to out and returns true:
 * the members can then be removed by key, without reading the whole
 * member list.  value is caseExact, so the match is the exact string.
 */
static bool
member_ids_by_value(const struct filter_node *f, json_t *out)
{
	if (f->op == FILTER_OR)
		return member_ids_by_value(f->left, out) &&
		    member_ids_by_value(f->right, out);
	if (f->op != FILTER_EQ || f->path.urn != NULL || f->path.sub != NULL ||
	    strcasecmp(f->path.attr, "value") != 0 || !json_is_string(f->value))
		return false;
	return json_array_append(out, f->value) == 0;
}

/* Removes the members of gid that filter (inside members[...]) matches. */
static enum scim_err
members_remove_matching(struct member_hook *h, const struct filter_node *filter,
    struct scim_error *err)
{
	struct filter_node vp;
	struct member_match mm;
	enum scim_err e = SCIM_OK;
	json_t *v;
	size_t i;

	if ((mm.remove = json_array()) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if (member_ids_by_value(filter, mm.remove)) {
		json_array_foreach(mm.remove, i, v)
			if (e == SCIM_OK)
				e = store_member_remove(h->txn, h->gid,
				    json_string_value(v), err);
		json_decref(mm.remove);
		return e;
	}
	json_array_clear(mm.remove);
	memset(&vp, 0, sizeof(vp));
	vp.op = FILTER_VALUEPATH;
	vp.path.attr = (char *)"members";
	vp.left = (struct filter_node *)filter;
	mm.txn = h->txn;
	mm.vp = &vp;
	mm.base_url = h->base_url;
	mm.e = SCIM_OK;
	mm.err = err;
	e = store_members(h->txn, h->gid, member_match_fn, &mm, err);
	if (e == SCIM_OK)
		e = mm.e;
	if (e == SCIM_OK)
		e = work_check(err);	/* a walk cut short removes nothing */
	json_array_foreach(mm.remove, i, v)
		if (e == SCIM_OK)
			e = store_member_remove(h->txn, h->gid,
			    json_string_value(v), err);
	json_decref(mm.remove);
	return e;
}

/* The PATCH engine's callback for Group.members (patch.h). */
static enum scim_err
members_hook(void *ctx, enum patch_opcode op, const struct filter_node *filter,
    json_t *value, struct scim_error *err)
{
	struct member_hook *h = ctx;
	const json_t *m;
	enum scim_err e;
	size_t i;

	switch (op) {
	case PATCH_ADD:
		if (filter != NULL)
			return err_set(err, SCIM_ERR_INVALID_PATH,
			    "add takes the path \"members\" without a filter.");
		return members_add(h->txn, h->gid, value, err);
	case PATCH_REPLACE:
		if (filter != NULL &&
		    (e = members_remove_matching(h, filter, err)) != SCIM_OK)
			return e;
		if (filter == NULL &&
		    (e = store_member_clear(h->txn, h->gid, err)) != SCIM_OK)
			return e;
		if (value == NULL || json_is_null(value))
			return SCIM_OK;
		return members_add(h->txn, h->gid, value, err);
	case PATCH_REMOVE:
		if (filter != NULL)
			return members_remove_matching(h, filter, err);
		if (value == NULL || json_is_null(value))
			return store_member_clear(h->txn, h->gid, err);
		/* Entra: remove with path "members" and the members to drop. */
		if (json_is_object(value))
			value = json_pack("[O]", value);
		else
			json_incref(value);
		if (!json_is_array(value)) {
			json_decref(value);
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "members must be an array of {\"value\": id}.");
		}
		e = SCIM_OK;
		json_array_foreach(value, i, m) {
			const char *id = json_string_value(
			    json_object_get(m, "value"));

			if (id == NULL)
				e = err_set(err, SCIM_ERR_INVALID_VALUE,
				    "Each member needs a string \"value\".");
			else
				e = store_member_remove(h->txn, h->gid, id,
				    err);
			if (e != SCIM_OK)
				break;
		}
		json_decref(value);
		return e;
	}
	return err_set(err, SCIM_ERR_INTERNAL, "Unknown PATCH op.");
}

/* ---- passwords ----------------------------------------------------------- */

/*
 * Hashes password with Argon2id when the site asked for it; otherwise
 * the password is discarded.  *hash is NULL or owned by the caller.
 * The clear text is wiped in both cases.
 */
static enum scim_err
password_hash(const struct app *app, char *password, char **hash,
    struct scim_error *err)
{
	*hash = NULL;
	if (password == NULL)
		return SCIM_OK;
	if (app->conf.password == CONF_PASSWORD_ARGON2ID)
		return auth_password_hash(password, hash, err);
	sodium_memzero(password, strlen(password));
	return SCIM_OK;
}

/* Wipes and frees a clear-text password (NULL is a no-op). */
static void
password_free(char *password)
{
	if (password != NULL)
		sodium_memzero(password, strlen(password));
	free(password);
}

/* ---- handlers ------------------------------------------------------------ */

/* Records the change in the audit trail, in the change's transaction. */
static enum scim_err
audit(struct store_txn *txn, const struct exchange *x, const char *op,
    const char *id, const char *version, struct scim_error *err)
{
	return store_audit(txn, x->token, op,
	    schema_resource_type(x->type)->name,
	    id, version, x->app->conf.audit_keep, err);
}

/* What a write callback needs, and what it produces. */
struct change {
	struct exchange		*x;
	/* validated body (create, replace) */
	const json_t		*valid;
	/* Group.members of the body, or NULL */
	const json_t		*members;
	const char		*pwhash;	/* Argon2id string or NULL */
	/* A PATCH's clear password seen before the write, and its hash
	 * (both owned). */
	char			*pre_password;
	char			*pre_hash;
	struct projection	 proj;
	json_t			*out;		/* rendered result (owned) */
	int			 status;
};

/* Resets the outputs of a callback that store_write() may repeat. */
static void
change_reset(struct change *c)
{
	json_decref(c->out);
	c->out = NULL;
	buf_reset(&c->x->res->headers);
	buf_reset(&c->x->res->body);
}

/*
 * Writes the answer to a change from inside its transaction, as the
 * callback's last step: if the answer cannot be made (out of memory),
 * the change is aborted rather than committed behind a 500.
 */
static enum scim_err
change_respond(struct change *c, int status, enum scim_err e,
    struct scim_error *err)
{
	if (e != SCIM_OK)
		return e;
	return respond_resource(c->x, status, c->out, err);
}

/*
 * Write callback of POST: a new id and version, the record and its
 * indexes, password hash and members, the audit entry, the 201 answer;
 * any failure aborts it all.
 */
static enum scim_err
create_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *c = ctx;
	char id[STORE_ID_LEN + 1], version[32];
	json_t *rec = NULL;
	enum scim_err e;

	change_reset(c);
	store_new_id(id);
	if ((e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		return e;
	if ((rec = build_record(c->x->type, id, c->valid, NULL, version)) ==
	    NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if ((e = store_put(txn, c->x->type, NULL, rec, err)) != SCIM_OK)
		goto fail;
	if (c->members != NULL &&
	    (e = members_add(txn, id, c->members, err)) != SCIM_OK)
		goto fail;
	if (c->pwhash != NULL &&
	    (e = store_password_put(txn, id, c->pwhash, err)) != SCIM_OK)
		goto fail;
	if ((e = audit(txn, c->x, "create", id, version, err)) != SCIM_OK)
		goto fail;
	e = resource_render(txn, c->x->type, c->x->req->base_url, rec,
	    &c->proj, &c->out, err);
	e = change_respond(c, 201, e, err);
fail:
	json_decref(rec);
	return e;
}

/* Validates the body for create or replace into c (valid, members, pwhash). */
static enum scim_err
prepare_body(struct exchange *x, enum schema_mode mode, json_t **valid,
    char **pwhash, struct scim_error *err)
{
	char *password = NULL;
	enum scim_err e;

	*pwhash = NULL;
	if ((e = schema_validate(x->type, x->body, mode, valid, &password,
	    err)) != SCIM_OK)
		return e;
	if (x->type == RT_GROUP) {
		const json_t *m = json_object_get(*valid, "members");

		if (m != NULL && json_array_size(m) > LIMIT_JSON_MEMBERS)
			return err_set(err, SCIM_ERR_TOO_LARGE,
			    "Too many members.");
	}
	e = password_hash(x->app, password, pwhash, err);
	password_free(password);
	return e;
}

/* POST /Users, /Groups: validates and hashes outside the transaction,
 * then writes in one. */
enum scim_err
resource_create(struct exchange *x, struct scim_error *err)
{
	struct change c;
	json_t *valid = NULL;
	char *pwhash = NULL;
	enum scim_err e;

	memset(&c, 0, sizeof(c));
	c.x = x;
	if ((e = request_projection(x, &c.proj, err)) != SCIM_OK)
		return e;
	if ((e = prepare_body(x, SCHEMA_CREATE, &valid, &pwhash, err)) !=
	    SCIM_OK)
		goto fail;
	c.valid = valid;
	c.members = json_object_get(valid, "members");
	c.pwhash = pwhash;
	e = store_write(x->app->store, create_fn, &c, err);
fail:
	json_decref(c.out);	/* the answer itself stays in x->res */
	json_decref(valid);
	free(pwhash);
	return e;
}

struct read_ctx {
	struct exchange		*x;
	struct projection	 proj;
	json_t			*out;		/* rendered (slow path) */
	bool			 spliced;	/* body already in x->res */
	char			 version[64];	/* ETag of the spliced body */
};

struct member_out {
	struct store_txn	*txn;
	struct buf		*b;
	const char		*base;		/* base URL, JSON-escaped */
	size_t			 n;
	enum scim_err		 e;
	struct scim_error	*err;
};

/* Appends the pieces of one link object, NULL-terminated, to m->b; the
 * first time, `open` (",\"groups\":[") comes first, then ",". */
static void
link_puts(struct member_out *m, const char *open, ...)
{
	va_list ap;
	const char *s;

	if (m->e == SCIM_OK)
		m->e = buf_puts(m->b, m->n++ ? "," : open);
	va_start(ap, open);
	while (m->e == SCIM_OK && (s = va_arg(ap, const char *)) != NULL)
		m->e = buf_puts(m->b, s);
	va_end(ap);
}

/* Writes one group of a user straight into the response buffer, its
 * display name copied from the group's stored bytes (already valid JSON). */
static bool
group_write(const char *id, void *ctx)
{
	struct member_out *m = ctx;
	const char *raw, *v;
	size_t len, vlen;

	link_puts(m, ",\"groups\":[", "{\"value\":\"", id, "\",\"$ref\":\"",
	    m->base, "/Groups/", id, "\",\"type\":\"direct\"", NULL);
	if (m->e != SCIM_OK)
		return false;
	/* A membership left by a group that is gone shows no display. */
	if ((m->e = store_get_raw(m->txn, RT_GROUP, id, &raw, &len,
	    m->err)) == SCIM_ERR_NOT_FOUND)
		m->e = SCIM_OK;
	else if (m->e == SCIM_OK &&
	    jsonx_find_member(raw, len, "displayName", &v, &vlen) &&
	    vlen >= 2 && *v == '"' &&
	    (m->e = buf_puts(m->b, ",\"display\":")) == SCIM_OK)
		m->e = buf_append(m->b, v, vlen);
	if (m->e == SCIM_OK)
		m->e = buf_putc(m->b, '}');
	return m->e == SCIM_OK;
}

/* Writes one member object straight into the response buffer. */
static bool
member_write(const char *id, void *ctx)
{
	struct member_out *m = ctx;
	bool user;

	if ((m->e = store_exists(m->txn, RT_USER, id, &user, m->err)) !=
	    SCIM_OK)
		return false;
	link_puts(m, ",\"members\":[", "{\"value\":\"", id, "\",\"$ref\":\"",
	    m->base, user ? "/Users/" : "/Groups/", id, "\",\"type\":\"",
	    user ? "User\"}" : "Group\"}", NULL);
	return m->e == SCIM_OK;
}

/* Whether the stored bytes can be sent as they are under p (only the
 * links may be excluded); *links says whether they are wanted. */
bool
projection_splice(enum rtype t, const struct projection *p, bool *links)
{
	const char *link = t == RT_GROUP ? "members" : "groups";
	size_t i;

	if (p->include)
		return false;
	for (i = 0; i < p->n; i++)
		if (p->refs[i].is_ext || p->refs[i].attr == NULL ||
		    p->refs[i].sub != NULL ||
		    strcmp(p->refs[i].attr->name, link) != 0)
			return false;
	*links = p->n == 0;
	return true;
}

/*
 * The stored bytes go out as they are, with the links inserted before
 * "meta" (always the last member of a stored record) and meta.location
 * appended inside it.  No parse of the record, no re-serialisation.
 */
enum scim_err
resource_splice(struct store_txn *txn, enum rtype t, const char *id,
    const char *base_url, const char *raw, size_t len, bool links,
    struct buf *b, char *version, size_t versionsz, struct scim_error *err)
{
	const char *meta = NULL, *p, *v, *end;
	struct member_out mo;
	struct buf esc;		/* the base URL, JSON-escaped once */
	size_t start = b->len;
	json_t *vj;
	enum scim_err e = SCIM_OK;

	buf_init(&esc, 6 * strlen(base_url) + 1);	/* \uXXXX at worst */

	for (p = raw; (p = memmem(p, (size_t)(raw + len - p),
	    ",\"meta\":{", 9)) != NULL; p++)
		meta = p;
	if (meta == NULL || len < 2 || raw[len - 1] != '}' ||
	    raw[len - 2] != '}')
		return SCIM_ERR_INTERNAL;
	v = memmem(meta, (size_t)(raw + len - meta), "\"version\":\"", 11);
	if (v == NULL)
		return SCIM_ERR_INTERNAL;
	for (end = v + 11; end < raw + len && *end != '"'; end++)
		if (*end == '\\')
			end++;
	vj = json_loadb(v + 10, (size_t)(end + 1 - (v + 10)), JSON_DECODE_ANY,
	    NULL);
	if (!json_is_string(vj) || json_string_length(vj) >= versionsz) {
		json_decref(vj);
		return SCIM_ERR_INTERNAL;
	}
	memcpy(version, json_string_value(vj), json_string_length(vj) + 1);
	json_decref(vj);

	if ((e = buf_append(b, raw, (size_t)(meta - raw))) != SCIM_OK)
		goto fail;
	if (links) {
		memset(&mo, 0, sizeof(mo));
		mo.txn = txn;
		mo.b = b;
		mo.err = err;
		if ((e = buf_json_escape(&esc, base_url, strlen(base_url))) !=
		    SCIM_OK)
			goto fail;
		mo.base = esc.len > 0 ? esc.data : "";
		e = t == RT_GROUP ?
		    store_members(txn, id, member_write, &mo, err) :
		    store_memberof(txn, id, group_write, &mo, err);
		if (e != SCIM_OK || (e = mo.e) != SCIM_OK ||
		    (mo.n > 0 && (e = buf_putc(b, ']')) != SCIM_OK))
			goto fail;
	}
	if ((e = buf_append(b, meta, (size_t)(raw + len - 2 - meta))) !=
	    SCIM_OK || (e = buf_puts(b, ",\"location\":\"")) != SCIM_OK ||
	    (e = buf_json_escape(b, base_url, strlen(base_url))) != SCIM_OK ||
	    (e = buf_printf(b, "%s/%s\"}}", schema_resource_type(t)->endpoint,
	    id)) != SCIM_OK)
		goto fail;
	buf_free(&esc);
	return SCIM_OK;
fail:
	buf_free(&esc);
	b->len = start;
	if (b->data != NULL)
		b->data[start] = '\0';
	return err_set(err, e == SCIM_ERR_TOO_LARGE || e == SCIM_ERR_INTERNAL ?
	    SCIM_ERR_NOMEM : e, NULL);
}

/* Read callback of GET: splices the stored bytes when the projection
 * allows, renders a parsed copy otherwise. */
static enum scim_err
get_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct read_ctx *r = ctx;
	const char *raw;
	size_t len;
	json_t *rec;
	bool links;
	enum scim_err e;

	if ((e = store_get_raw(txn, r->x->type, r->x->arg, &raw, &len, err)) !=
	    SCIM_OK)
		return e;
	if (projection_splice(r->x->type, &r->proj, &links)) {
		e = resource_splice(txn, r->x->type, r->x->arg,
		    r->x->req->base_url, raw, len, links, &r->x->res->body,
		    r->version, sizeof(r->version), err);
		r->spliced = e == SCIM_OK;
		if (e != SCIM_ERR_INTERNAL)
			return e;
	}
	if ((rec = json_loadb(raw, len, 0, NULL)) == NULL)
		return err_set(err, SCIM_ERR_INTERNAL, "Stored record %s is "
		    "not JSON.", r->x->arg);
	e = resource_render(txn, r->x->type, r->x->req->base_url, rec,
	    &r->proj, &r->out, err);
	json_decref(rec);
	return e;
}

/* GET /Users/{id}, /Groups/{id}, with If-None-Match and projection. */
enum scim_err
resource_get(struct exchange *x, struct scim_error *err)
{
	struct read_ctx r;
	const char *v;
	enum scim_err e;

	memset(&r, 0, sizeof(r));
	r.x = x;
	if ((e = request_projection(x, &r.proj, err)) != SCIM_OK)
		return e;
	if ((e = store_read(x->app->store, get_fn, &r, err)) != SCIM_OK)
		return e;
	v = r.spliced ? r.version : json_string_value(json_object_get(
	    json_object_get(r.out, "meta"), "version"));
	if (x->req->if_none_match != NULL && v != NULL &&
	    etag_listed(x->req->if_none_match, v)) {
		x->res->status = 304;
		buf_reset(&x->res->body);
		http_response_header(x->res, "ETag", v);
		json_decref(r.out);
		return SCIM_OK;
	}
	if (r.spliced) {
		x->res->status = 200;
		http_response_header(x->res, "ETag", v);
		http_response_header(x->res, "Content-Type",
		    "application/scim+json; charset=utf-8");
		return SCIM_OK;
	}
	e = respond_resource(x, 200, r.out, err);
	json_decref(r.out);
	return e;
}

/* Write callback of PUT: If-Match, immutables, the record replaced with
 * its indexes, the group's members replaced, the audit entry, the answer. */
static enum scim_err
replace_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *c = ctx;
	struct exchange *x = c->x;
	json_t *old = NULL, *rec = NULL;
	char version[32];
	enum scim_err e;

	change_reset(c);
	if ((e = store_get(txn, x->type, x->arg, &old, err)) != SCIM_OK)
		return e;
	if ((e = check_if_match(x, old, err)) != SCIM_OK ||
	    (e = schema_check_immutable(x->type, old, c->valid, err)) !=
	    SCIM_OK ||
	    (e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	rec = build_record(x->type, json_string_value(json_object_get(old,
	    "id")), c->valid, old, version);
	if (rec == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((e = store_put(txn, x->type, old, rec, err)) != SCIM_OK)
		goto fail;
	/* PUT replaces members too (RFC 7644 3.5.1); absent means none. */
	if (x->type == RT_GROUP) {
		const char *id = json_string_value(json_object_get(rec, "id"));

		if ((e = store_member_clear(txn, id, err)) != SCIM_OK)
			goto fail;
		if (c->members != NULL &&
		    (e = members_add(txn, id, c->members, err)) != SCIM_OK)
			goto fail;
	}
	if (c->pwhash != NULL && (e = store_password_put(txn,
	    json_string_value(json_object_get(rec, "id")), c->pwhash, err)) !=
	    SCIM_OK)
		goto fail;
	if ((e = audit(txn, x, "replace", json_string_value(json_object_get(rec,
	    "id")), version, err)) != SCIM_OK)
		goto fail;
	e = resource_render(txn, x->type, x->req->base_url, rec, &c->proj,
	    &c->out, err);
	e = change_respond(c, 200, e, err);
fail:
	json_decref(old);
	json_decref(rec);
	return e;
}

/* PUT /Users/{id}, /Groups/{id}: validates and hashes outside the
 * transaction, then writes in one. */
enum scim_err
resource_replace(struct exchange *x, struct scim_error *err)
{
	struct change c;
	json_t *valid = NULL;
	char *pwhash = NULL;
	enum scim_err e;

	memset(&c, 0, sizeof(c));
	c.x = x;
	if ((e = request_projection(x, &c.proj, err)) != SCIM_OK)
		return e;
	if ((e = prepare_body(x, SCHEMA_REPLACE, &valid, &pwhash, err)) !=
	    SCIM_OK)
		goto fail;
	c.valid = valid;
	c.members = json_object_get(valid, "members");
	c.pwhash = pwhash;
	e = store_write(x->app->store, replace_fn, &c, err);
fail:
	json_decref(c.out);	/* the answer itself stays in x->res */
	json_decref(valid);
	free(pwhash);
	return e;
}

/* Whether v mentions "password" in any key or string (any case): the
 * only PATCH bodies that can set one. */
static bool
mentions_password(const json_t *v)
{
	const char *key;
	const json_t *x;
	size_t i;

	if (json_is_string(v))
		return strcasestr(json_string_value(v), "password") != NULL;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (mentions_password(x))
				return true;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
			if (strcasestr(key, "password") != NULL ||
			    mentions_password(x))
				return true;
	}
	return false;
}

/* The read-only rehearsal of a PATCH: the clear password it would set,
 * into c->pre_password, when it applies and validates on the record as
 * it is now.  Its errors are not the request's (the write says them). */
static enum scim_err
prepatch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *c = ctx;
	json_t *old = NULL, *work = NULL, *valid = NULL;

	if (store_get(txn, RT_USER, c->x->arg, &old, err) == SCIM_OK &&
	    (work = json_deep_copy(old)) != NULL &&
	    patch_apply(RT_USER, work, c->x->body, NULL, err) == SCIM_OK)
		(void)schema_validate(RT_USER, work, SCHEMA_CHECK, &valid,
		    &c->pre_password, err);
	json_decref(old);
	json_decref(work);
	json_decref(valid);
	return SCIM_OK;
}

/*
 * Argon2id takes about 100 ms by design: made inside the write
 * transaction, it would hold LMDB's one write lock, and every other
 * writer of the site, for that long.  So a PATCH that may set a password
 * is first applied read-only and the password found hashed here, before
 * the write; patch_password() then uses that hash.  SCIM_OK, or
 * SCIM_ERR_NOMEM; a rehearsal that fails is not an error here.
 */
static enum scim_err
patch_prehash(struct change *c, struct scim_error *err)
{
	struct scim_error ignored;
	char *copy;

	if (c->x->type != RT_USER ||
	    c->x->app->conf.password != CONF_PASSWORD_ARGON2ID ||
	    !mentions_password(c->x->body))
		return SCIM_OK;
	if (store_read(c->x->app->store, prepatch_fn, c, &ignored) !=
	    SCIM_OK || c->pre_password == NULL)
		return SCIM_OK;
	/* password_hash() wipes its argument: hash a copy. */
	if ((copy = strdup(c->pre_password)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if (password_hash(c->x->app, copy, &c->pre_hash, &ignored) != SCIM_OK)
		c->pre_hash = NULL;
	free(copy);
	return SCIM_OK;
}

/* The hash to store for the clear password a PATCH sets (NULL: none):
 * patch_prehash()'s when it is for the same password, else made here
 * (the record changed between the two).  *own is the caller's to free;
 * *hash is *own or c's. */
static enum scim_err
patch_password(struct change *c, char *password, char **own,
    const char **hash, struct scim_error *err)
{
	enum scim_err e;

	*own = NULL;
	*hash = NULL;
	if (password != NULL && c->pre_hash != NULL &&
	    strcmp(password, c->pre_password) == 0) {
		sodium_memzero(password, strlen(password));
		*hash = c->pre_hash;
		return SCIM_OK;
	}
	e = password_hash(c->x->app, password, own, err);
	*hash = *own;
	return e;
}

/*
 * Write callback of PATCH: the operations on a copy of the stored
 * record, validated, immutables checked, written with its indexes, the
 * audit entry, the answer.
 */
static enum scim_err
patch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *c = ctx;
	struct exchange *x = c->x;
	struct member_hook mh;
	struct patch_hooks hooks = { "members", members_hook, &mh };
	json_t *old = NULL, *work = NULL, *valid = NULL, *rec = NULL;
	char *password = NULL, *pwhash = NULL, version[32];
	const char *id, *hash;
	enum scim_err e;

	change_reset(c);
	if ((e = store_get(txn, x->type, x->arg, &old, err)) != SCIM_OK)
		return e;
	id = json_string_value(json_object_get(old, "id"));
	if ((e = check_if_match(x, old, err)) != SCIM_OK)
		goto fail;
	if ((work = json_deep_copy(old)) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	mh.txn = txn;
	mh.gid = id;
	mh.base_url = x->req->base_url;
	if ((e = patch_apply(x->type, work, x->body,
	    x->type == RT_GROUP ? &hooks : NULL, err)) != SCIM_OK)
		goto fail;
	if ((e = schema_validate(x->type, work, SCHEMA_CHECK, &valid,
	    &password, err)) != SCIM_OK ||
	    (e = schema_check_immutable(x->type, old, valid, err)) != SCIM_OK ||
	    (e = patch_password(c, password, &pwhash, &hash, err)) !=
	    SCIM_OK ||
	    (e = store_next_version(txn, version, sizeof(version), err)) !=
	    SCIM_OK)
		goto fail;
	if ((rec = build_record(x->type, id, valid, old, version)) == NULL) {
		e = err_set(err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if ((e = store_put(txn, x->type, old, rec, err)) != SCIM_OK)
		goto fail;
	if (hash != NULL &&
	    (e = store_password_put(txn, id, hash, err)) != SCIM_OK)
		goto fail;
	if ((e = audit(txn, x, "patch", id, version, err)) != SCIM_OK)
		goto fail;
	e = resource_render(txn, x->type, x->req->base_url, rec, &c->proj,
	    &c->out, err);
	e = change_respond(c, 200, e, err);
fail:
	password_free(password);
	free(pwhash);
	json_decref(old);
	json_decref(work);
	json_decref(valid);
	json_decref(rec);
	return e;
}

/* PATCH /Users/{id}, /Groups/{id}: a password it sets is hashed before
 * the transaction (patch_prehash), the change made in one. */
enum scim_err
resource_patch(struct exchange *x, struct scim_error *err)
{
	struct change c;
	enum scim_err e;

	memset(&c, 0, sizeof(c));
	c.x = x;
	if ((e = request_projection(x, &c.proj, err)) != SCIM_OK)
		return e;
	if ((e = patch_prehash(&c, err)) == SCIM_OK)
		e = store_write(x->app->store, patch_fn, &c, err);
	if (c.pre_password != NULL)
		sodium_memzero(c.pre_password, strlen(c.pre_password));
	free(c.pre_password);
	free(c.pre_hash);
	json_decref(c.out);
	return e;
}

static enum scim_err
delete_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct change *c = ctx;
	json_t *old;
	enum scim_err e;

	if ((e = store_get(txn, c->x->type, c->x->arg, &old, err)) != SCIM_OK)
		return e;
	if ((e = check_if_match(c->x, old, err)) == SCIM_OK &&
	    (e = store_delete(txn, c->x->type, old, err)) == SCIM_OK)
		e = audit(txn, c->x, "delete", c->x->arg, NULL, err);
	json_decref(old);
	return e;
}

/* DELETE /Users/{id}, /Groups/{id}: record, indexes, memberships and
 * password hash in one transaction; 204. */
enum scim_err
resource_delete(struct exchange *x, struct scim_error *err)
{
	struct change c;
	enum scim_err e;

	memset(&c, 0, sizeof(c));
	c.x = x;
	if ((e = store_write(x->app->store, delete_fn, &c, err)) != SCIM_OK)
		return e;
	x->res->status = 204;
	return SCIM_OK;
}
