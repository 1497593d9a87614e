/*
 * render.c: a stored record made into the representation a client asked
 * for (render.h): meta.location, Group.members / User.groups from the
 * membership databases, `attributes` / `excludedAttributes`; and the
 * stored bytes spliced out without a parse when nothing is projected.
 * Reads only: no function here writes the store.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "limits.h"
#include "render.h"

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
	if (rtype_get(t)->has_members)
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
	set_before_meta(rec, rtype_get(t)->links, c.list);
	return SCIM_OK;
}

/* render.h: as resource_render() writes it. */
void
resource_location(const char *base_url, enum rtype t, const char *id,
    char *out, size_t outsz)
{
	snprintf(out, outsz, "%s%s/%s", base_url,
	    schema_resource_type(t)->endpoint, id);
}

/* The answer for a stored record: a copy with meta.location, the links
 * when p wants them, projected by p. */
enum scim_err
resource_render(struct store_txn *txn, enum rtype t, const char *base_url,
    const json_t *rec, const struct projection *p, json_t **out,
    struct scim_error *err)
{
	const char *links = rtype_get(t)->links;
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *full, *meta;
	char loc[LIMIT_URL_BYTES];
	enum scim_err e;

	*out = NULL;
	if ((full = json_deep_copy(rec)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if ((meta = json_object_get(full, "meta")) != NULL && id != NULL) {
		resource_location(base_url, t, id, loc, sizeof(loc));
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
	const char *link = rtype_get(t)->links;
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
		e = rtype_get(t)->has_members ?
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

