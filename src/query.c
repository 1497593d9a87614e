/*
 * query.c: GET /Users, GET /Groups and POST .search (RFC 7644 3.4.2,
 * 3.4.3): filter, sort, page, project.
 *
 * The plan (which index lookups, or a scan) is plan_make()'s (plan.h);
 * this file executes it: candidates from the lookups or a scan of the
 * records in id order, re-checked with filter_match() unless the plan
 * is exact, then sorted and paged.  Without sortBy, results are in id
 * order, which is stable across pages.  A list without a filter (and,
 * for startIndex paging, without sortBy) makes no plan: it is counted
 * from the databases and seeks to its page.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "filter.h"
#include "fold.h"
#include "handlers.h"
#include "jsonx.h"
#include "limits.h"
#include "log.h"
#include "plan.h"
#include "render.h"
#include "work.h"

struct query {
	enum rtype		 types[RT__COUNT];	/* the types searched */
	size_t			 ntypes;
	struct filter_node	*filter;	/* owned or NULL */
	const char		*filter_text;	/* borrowed */
	size_t			 filter_len;
	long			 start;		/* 1-based */
	long			 count;
	char			*sort_by;	/* owned or NULL */
	bool			 descending;
	/* SearchRequest lists (borrowed) */
	const json_t		*proj_attrs;
	const json_t		*proj_excluded;
	/* query parameters (borrowed) */
	const char		*attrs_param;
	const char		*excluded_param;
	/* RFC 9865 cursor (borrowed), "" = first page */
	const char		*cursor_text;
	bool			 has_after;	/* resume after this resource */
	struct cursor		 after;
	unsigned char		 query_hash[8];
	/* nextCursor or "" */
	char			 next[CURSOR_TEXT_BYTES];
};

/* One matching resource. */
struct hit {
	enum rtype	 type;
	char		 id[STORE_ID_LEN + 1];
	json_t		*sort_value;	/* owned or NULL */
	const struct schema_attr *sort_attr;
};

struct run {
	struct query		*q;
	struct exchange		*x;
	struct hit		*hits;
	size_t			 nhits, cap;
	size_t			 total;		/* totalResults */
	size_t			 scanned;
	enum rtype		 type;		/* type being collected */
	/* filter needs members/groups */
	bool			 links;
	/* the index lookup is the filter */
	bool			 exact;
	struct attr_ref		 sort_ref;
	bool			 has_sort;
	struct scim_error	*err;
	enum scim_err		 e;
};

/* Parses a decimal parameter into *out (range-checked). */
static enum scim_err
parse_long(const char *name, const char *s, long *out, struct scim_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "%s must be an integer.", name);
	*out = v;
	return SCIM_OK;
}

/* Clamps startIndex and count as RFC 7644 3.4.2.4 says. */
static void
clamp_paging(struct query *q)
{
	if (q->start < 1)
		q->start = 1;
	if (q->count < 0)
		q->count = 0;
	if (q->count > LIMIT_PAGE_COUNT)
		q->count = LIMIT_PAGE_COUNT;
}

/* ---- collection ---------------------------------------------------------- */

/* A sortable value of attribute ref in rec: for a multi-valued one, the
 * primary value or else the first. */
static json_t *
sort_value(const json_t *rec, const struct attr_ref *ref)
{
	json_t *v = schema_value_get(rec, ref), *el, *pick = NULL;
	size_t i;

	if (v == NULL)
		return NULL;
	if (!json_is_array(v))
		return json_incref(v);
	json_array_foreach(v, i, el) {
		if (pick == NULL ||
		    json_is_true(json_object_get(el, "primary")))
			pick = el;
		if (json_is_true(json_object_get(el, "primary")))
			break;
	}
	if (json_is_object(pick))
		pick = json_object_get(pick,
		    ref->sub ? ref->sub->name : "value");
	return pick != NULL ? json_incref(pick) : NULL;
}

/* Appends id (and its sort key) to the run's hits, doubling the array;
 * false with r->e set when out of memory. */
static bool
add_hit(struct run *r, const char *id, const json_t *rec)
{
	struct hit *h;

	if (r->nhits == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct hit *n = realloc(r->hits, cap * sizeof(*n));

		if (n == NULL) {
			r->e = err_set(r->err, SCIM_ERR_NOMEM, NULL);
			return false;
		}
		r->hits = n;
		r->cap = cap;
	}
	h = &r->hits[r->nhits++];
	h->type = r->type;
	memcpy(h->id, id, STORE_ID_LEN + 1);
	h->sort_value = r->has_sort && rec != NULL ?
	    sort_value(rec, &r->sort_ref) : NULL;
	h->sort_attr = r->has_sort ? (r->sort_ref.sub ? r->sort_ref.sub :
	    r->sort_ref.attr) : NULL;
	return true;
}

/* Counts one examined record; false (and tooMany) past the budget. */
static bool
scan_budget(struct run *r)
{
	if (++r->scanned <= LIMIT_SCAN_RESOURCES)
		return true;
	r->e = err_set(r->err, SCIM_ERR_TOO_MANY,
	    "The filter would examine more than %d resources; "
	    "narrow it with an indexed attribute.", LIMIT_SCAN_RESOURCES);
	return false;
}

/* Context for collect_fn with the transaction. */
struct collect {
	struct run		*r;
	struct store_txn	*txn;
};

/*
 * Store callback: one candidate id, re-checked with the full filter unless
 * the index lookup was the filter; false stops the walk (error or scan
 * budget spent).
 */
static bool
collect_one(const char *id, void *ctx)
{
	struct collect *c = ctx;
	struct run *r = c->r;
	json_t *rec = NULL;
	bool ok = true;

	if (!scan_budget(r))
		return false;
	if ((r->q->filter == NULL || r->exact) && !r->has_sort)
		return add_hit(r, id, NULL);
	if ((r->e = store_get(c->txn, r->type, id, &rec, r->err)) ==
	    SCIM_ERR_NOT_FOUND) {
		r->e = SCIM_OK;
		return true;	/* an index entry without record: skip */
	}
	if (r->e != SCIM_OK)
		return false;
	if (r->links && resource_add_links(c->txn, r->type,
	    r->x->req->base_url, rec, NULL) != SCIM_OK) {
		json_decref(rec);
		r->e = err_set(r->err, SCIM_ERR_NOMEM, NULL);
		return false;
	}
	if (r->q->filter == NULL || filter_match(r->q->filter, r->type, rec))
		ok = add_hit(r, id, rec);
	json_decref(rec);
	if (ok && (r->e = work_check(r->err)) != SCIM_OK)
		ok = false;	/* the filter's verdicts are not trusted */
	return ok;
}

/* Compares two hits by sort value, then type and id (a total order). */
static int
hit_compare(const struct hit *a, const struct hit *b)
{
	const json_t *x = a->sort_value, *y = b->sort_value;
	int c = 0;

	if (x == NULL && y != NULL)
		c = 1;
	else if (x != NULL && y == NULL)
		c = -1;
	else if (x != NULL && y != NULL) {
		if (json_is_string(x) && json_is_string(y)) {
			char *fx = NULL, *fy = NULL;
			size_t lx, ly;

			if (a->sort_attr != NULL && !a->sort_attr->case_exact &&
			    fold_utf8(json_string_value(x),
			    json_string_length(x),
			    &fx, &lx) == SCIM_OK &&
			    fold_utf8(json_string_value(y),
			    json_string_length(y),
			    &fy, &ly) == SCIM_OK)
				c = strcmp(fx, fy);
			else
				c = strcmp(json_string_value(x),
				    json_string_value(y));
			free(fx);
			free(fy);
		} else if (json_is_number(x) && json_is_number(y)) {
			double dx = json_number_value(x),
			    dy = json_number_value(y);

			c = dx < dy ? -1 : dx > dy;
		} else if (json_is_boolean(x) && json_is_boolean(y))
			c = json_is_true(x) - json_is_true(y);
	}
	return c;
}

/* qsort_r comparator; ctx points at the descending flag. */
static int
hit_cmp_qsort(const void *pa, const void *pb, void *ctx)
{
	const struct hit *a = pa, *b = pb;
	int c = hit_compare(a, b);

	if (c != 0)
		return *(const bool *)ctx ? -c : c;
	if (a->type != b->type)
		return (int)a->type - (int)b->type;
	return strcmp(a->id, b->id);
}

static int
hit_cmp_id(const void *pa, const void *pb)
{
	return strcmp(((const struct hit *)pa)->id,
	    ((const struct hit *)pb)->id);
}

/* Puts hits[from..] (one type, from several lookups) in id order, the
 * order of every other plan, dropping repeats. */
static void
hits_sort_unique(struct run *r, size_t from)
{
	size_t i, out = from;

	if (r->nhits - from < 2)
		/* nothing to order; hits may be NULL (qsort would be UB) */
		return;
	qsort(r->hits + from, r->nhits - from, sizeof(*r->hits), hit_cmp_id);
	for (i = from; i < r->nhits; i++) {
		if (out > from && strcmp(r->hits[out - 1].id,
		    r->hits[i].id) == 0) {
			json_decref(r->hits[i].sort_value);
			continue;
		}
		r->hits[out++] = r->hits[i];
	}
	r->nhits = out;
}

/* Collects the hits of one type into r, as plan_make() plans it. */
static enum scim_err
collect_type(struct store_txn *txn, struct run *r, struct scim_error *err)
{
	struct collect c = { r, txn };
	struct plan pl;
	size_t i, from;
	enum scim_err e;
	bool found;

	plan_make(r->type, r->q->filter, &pl);
	r->exact = pl.exact;
	r->links = pl.links;
	r->has_sort = false;
	if (r->q->sort_by != NULL && schema_resolve(r->type, r->q->sort_by,
	    strlen(r->q->sort_by), &r->sort_ref) == SCIM_OK &&
	    r->sort_ref.attr != NULL)
		r->has_sort = true;
	if (pl.n == 0) {
		log_msg(LVL_DEBUG, "plan %s: scan", schema_resource_type(
		    r->type)->name);
		e = store_scan(txn, r->type, NULL, collect_one, &c, err);
		return e != SCIM_OK ? e : r->e;
	}
	/* A unique attribute the store's index was not built for (another
	 * process rebuilt it for other schemas): the filter scans. */
	for (i = 0; i < pl.n; i++)
		if (pl.l[i].how == PLAN_UNIQUE && !store_unique_indexed(txn,
		    r->type, pl.l[i].unique->path)) {
			log_msg(LVL_DEBUG, "plan %s: scan",
			    schema_resource_type(r->type)->name);
			e = store_scan(txn, r->type, NULL, collect_one, &c,
			    err);
			return e != SCIM_OK ? e : r->e;
		}
	from = r->nhits;
	for (i = 0; i < pl.n && r->e == SCIM_OK; i++) {
		const struct plan_lookup *l = &pl.l[i];
		const char *v = json_string_value(l->value);
		size_t n = json_string_length(l->value);

		log_msg(LVL_DEBUG, "plan %s: %s %s", schema_resource_type(
		    r->type)->name, l->how == PLAN_PREFIX ? "prefix" : "index",
		    l->how == PLAN_ID ? "id" : store_index_name(l->idx));
		if (l->how == PLAN_ID) {
			if (l->id[0] == '\0')
				continue;	/* not an id: no record */
			if ((e = store_exists(txn, r->type, l->id, &found,
			    err)) != SCIM_OK)
				return e;
			if (found)
				collect_one(l->id, &c);
			continue;
		}
		if (l->how == PLAN_UNIQUE)
			e = store_lookup_unique(txn, r->type, l->unique->path,
			    l->value, collect_one, &c, err);
		else if (l->how == PLAN_PREFIX)
			e = store_lookup_prefix(txn, l->idx, v, n, collect_one,
			    &c, err);
		else
			e = store_lookup(txn, l->idx, v, n, collect_one, &c,
			    err);
		if (e != SCIM_OK)
			return e;
	}
	if (r->e == SCIM_OK && pl.reorder)
		hits_sort_unique(r, from);
	return r->e;
}

/* Fast path: no filter, no sort: count from the database, page by cursor. */
struct page_ctx {
	struct run		*r;
	struct store_txn	*txn;
	long			 skip;
	long			 left;
};

static bool
page_one(const char *id, void *ctx)
{
	struct page_ctx *p = ctx;

	if (p->skip > 0) {
		p->skip--;
		return true;
	}
	if (p->left <= 0)
		return false;
	p->left--;
	return add_hit(p->r, id, NULL);
}

/*
 * Writes the ListResponse of hits[first..last) into the response body.
 * A resource whose projection allows it goes out as its stored bytes
 * (resource_splice); the others are parsed and rendered.  Either way each
 * record is read once.
 */
static enum scim_err
write_page(struct store_txn *txn, struct run *r, size_t first, size_t last,
    struct scim_error *err)
{
	struct buf *b = &r->x->res->body;
	struct projection proj[RT__COUNT];
	bool parsed[RT__COUNT] = { false }, links;
	const char *raw;
	char version[64];
	size_t i, len;
	json_t *rec, *out;
	enum scim_err e;

	if ((e = buf_printf(b, "{\"schemas\":[\"%s\"],\"totalResults\":%zu,"
	    "\"itemsPerPage\":%zu,", SCHEMA_URN_LIST, r->total,
	    last - first)) !=
	    SCIM_OK || (r->q->cursor_text == NULL && (e = buf_printf(b,
	    "\"startIndex\":%ld,", r->q->start)) != SCIM_OK) ||
	    (e = buf_puts(b, "\"Resources\":[")) != SCIM_OK)
		goto fail;
	for (i = first; i < last; i++) {
		struct hit *h = &r->hits[i];
		struct projection *p = &proj[h->type];

		if (!parsed[h->type]) {
			if (r->q->proj_attrs != NULL ||
			    r->q->proj_excluded != NULL)
				e = projection_parse_json(h->type,
				    r->q->proj_attrs, r->q->proj_excluded, p,
				    err);
			else
				e = projection_parse(h->type, r->q->attrs_param,
				    r->q->excluded_param, p, err);
			if (e != SCIM_OK)
				return e;
			parsed[h->type] = true;
		}
		if (i > first && (e = buf_putc(b, ',')) != SCIM_OK)
			goto fail;
		if ((e = store_get_raw(txn, h->type, h->id, &raw, &len, err)) !=
		    SCIM_OK)
			return e;
		if (projection_splice(h->type, p, &links)) {
			e = resource_splice(txn, h->type, h->id,
			    r->x->req->base_url, raw, len, links, b, version,
			    sizeof(version), err);
			if (e != SCIM_ERR_INTERNAL) {
				if (e != SCIM_OK)
					return e;
				continue;
			}
		}
		if ((rec = json_loadb(raw, len, 0, NULL)) == NULL)
			return err_set(err, SCIM_ERR_INTERNAL, "Stored record "
			    "%s is not JSON.", h->id);
		e = resource_render(txn, h->type, r->x->req->base_url, rec, p,
		    &out, err);
		json_decref(rec);
		if (e != SCIM_OK)
			return e;
		e = jsonx_dump(out, b);
		json_decref(out);
		if (e != SCIM_OK)
			goto fail;
	}
	if ((e = buf_putc(b, ']')) != SCIM_OK ||
	    (r->q->next[0] != '\0' && (e = buf_printf(b,
	    ",\"nextCursor\":\"%s\"", r->q->next)) != SCIM_OK) ||
	    (e = buf_putc(b, '}')) != SCIM_OK)
		goto fail;
	return SCIM_OK;
fail:
	return err_set(err, SCIM_ERR_NOMEM, "The response is too large; "
	    "ask for fewer resources with count.");
}

/*
 * The query in one read transaction: counts and seeks when unfiltered,
 * otherwise collects, sorts and pages the hits, then writes the
 * ListResponse.
 */
static enum scim_err
run_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct run *r = ctx;
	size_t i, total = 0, first, last;
	enum scim_err e;

	r->nhits = 0;
	if (r->q->cursor_text != NULL && r->q->filter == NULL) {
		/* Cursor paging: count from the databases, seek to the
		 * position by key, fetch one more to know if a page follows. */
		long left = r->q->count + 1;

		for (i = 0; i < r->q->ntypes; i++) {
			enum rtype t = r->q->types[i];
			struct page_ctx p = { r, txn, 0, left };
			size_t n;

			if ((e = store_count(txn, t, &n, err)) != SCIM_OK)
				return e;
			total += n;
			if (r->q->has_after && t < r->q->after.type)
				continue;
			r->type = t;
			if (left > 0 && (e = store_scan(txn, t,
			    r->q->has_after && t == r->q->after.type ?
			    r->q->after.id : NULL, page_one, &p,
			    err)) != SCIM_OK)
				return e;
			if (r->e != SCIM_OK)
				return r->e;
			left = p.left;
		}
		first = 0;
		last = r->nhits < (size_t)r->q->count ? r->nhits :
		    (size_t)r->q->count;
	} else if (r->q->filter == NULL && r->q->sort_by == NULL) {
		/* Count from the databases; walk only to the page. */
		long skip = r->q->start - 1, left = r->q->count;

		for (i = 0; i < r->q->ntypes; i++) {
			struct page_ctx p = { r, txn, skip, left };
			size_t n;

			if ((e = store_count(txn, r->q->types[i], &n, err)) !=
			    SCIM_OK)
				return e;
			total += n;
			r->type = r->q->types[i];
			if ((long)n <= skip) {
				skip -= (long)n;
				continue;
			}
			p.skip = 0;	/* store_scan_at seeks to it */
			if (left > 0 && (e = store_scan_at(txn, r->type,
			    (size_t)skip, page_one, &p, err)) != SCIM_OK)
				return e;
			if (r->e != SCIM_OK)
				return r->e;
			skip = 0;
			left = p.left;
		}
		first = 0;
		last = r->nhits;
	} else {
		for (i = 0; i < r->q->ntypes; i++) {
			r->type = r->q->types[i];
			if ((e = collect_type(txn, r, err)) != SCIM_OK)
				return e;
		}
		if (r->q->sort_by != NULL && r->nhits > 1) {
			qsort_r(r->hits, r->nhits, sizeof(*r->hits),
			    hit_cmp_qsort, &r->q->descending);
		}
		total = r->nhits;
		first = (size_t)r->q->start - 1 < r->nhits ?
		    (size_t)r->q->start - 1 : r->nhits;
		if (r->q->cursor_text != NULL) {
			/* Hits are in (type, id) order: resume after the
			 * cursor's resource. */
			first = 0;
			while (r->q->has_after && first < r->nhits &&
			    (r->hits[first].type < r->q->after.type ||
			    (r->hits[first].type == r->q->after.type &&
			    strcmp(r->hits[first].id, r->q->after.id) <= 0)))
				first++;
		}
		last = first + (size_t)r->q->count < r->nhits ?
		    first + (size_t)r->q->count : r->nhits;
	}

	r->total = total;
	r->q->next[0] = '\0';
	if (r->q->cursor_text != NULL && last > first && last < r->nhits) {
		unsigned char key[32];
		struct cursor c;

		if ((e = store_cursor_key(r->x->app->store, key, err)) !=
		    SCIM_OK)
			return e;
		c.type = r->hits[last - 1].type;
		memcpy(c.id, r->hits[last - 1].id, sizeof(c.id));
		cursor_encode(&c, r->q->query_hash, key, time(NULL),
		    r->q->next);
		sodium_memzero(key, sizeof(key));
	}
	return write_page(txn, r, first, last, err);
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nhits; i++)
		json_decref(r->hits[i].sort_value);
	free(r->hits);
}

/* Runs q and answers with a ListResponse. */
static enum scim_err
run_query(struct exchange *x, struct query *q, struct scim_error *err)
{
	struct run r;
	enum scim_err e;
	size_t i, checked = 0;
	struct scim_error first, ferr;

	clamp_paging(q);
	if (q->filter_text != NULL) {
		if ((e = filter_parse(q->filter_text, q->filter_len, &q->filter,
		    err)) != SCIM_OK)
			return e;
		/* The filter must make sense for at least one type searched.
		 * Across types (the root), a term naming an attribute of one
		 * type only is simply false for the other. */
		for (i = 0; i < q->ntypes; i++) {
			err_clear(&ferr);
			if (filter_check(q->filter, q->types[i], &ferr) ==
			    SCIM_OK)
				checked++;
			else if (i == 0)
				first = ferr;
		}
		if (checked == 0) {
			*err = first;
			return first.code;
		}
	}
	if (q->cursor_text != NULL) {
		unsigned types = 0;

		if (q->sort_by != NULL)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "Cursor paging returns resources in id order; "
			    "sortBy cannot be combined with cursor.");
		for (i = 0; i < q->ntypes; i++)
			types |= 1u << q->types[i];
		cursor_query_hash(q->filter_text, q->filter_len, types,
		    q->query_hash);
		if (q->cursor_text[0] != '\0') {
			unsigned char key[32];

			if ((e = store_cursor_key(x->app->store, key, err)) !=
			    SCIM_OK)
				return e;
			e = cursor_decode(q->cursor_text, q->query_hash, key,
			    time(NULL), &q->after, err);
			sodium_memzero(key, sizeof(key));
			if (e != SCIM_OK)
				return e;
			q->has_after = true;
		}
	}
	memset(&r, 0, sizeof(r));
	r.q = q;
	r.x = x;
	r.err = err;
	e = store_read(x->app->store, run_fn, &r, err);
	if (e != SCIM_OK) {
		run_free(&r);
		return e;
	}
	run_free(&r);
	x->res->status = 200;
	http_response_header(x->res, "Content-Type",
	    "application/scim+json; charset=utf-8");
	return SCIM_OK;
}

static void
query_free(struct query *q)
{
	filter_free(q->filter);
	free(q->sort_by);
}

/* Reads sortBy / sortOrder. */
static enum scim_err
set_sort(struct query *q, const char *by, const char *order,
    struct scim_error *err)
{
	if (by != NULL && *by != '\0' && (q->sort_by = strdup(by)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, NULL);
	if (order == NULL || *order == '\0' ||
	    strcasecmp(order, "ascending") == 0)
		q->descending = false;
	else if (strcasecmp(order, "descending") == 0)
		q->descending = true;
	else
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "sortOrder must be ascending or descending.");
	return SCIM_OK;
}

/* GET with query parameters over the given types. */
static enum scim_err
list_types(struct exchange *x, const enum rtype *types, size_t ntypes,
    struct scim_error *err)
{
	struct query q;
	const char *s;
	enum scim_err e;

	memset(&q, 0, sizeof(q));
	memcpy(q.types, types, ntypes * sizeof(*types));
	q.ntypes = ntypes;
	q.start = 1;
	q.count = LIMIT_PAGE_DEFAULT;
	if ((s = http_param(x->req, "filter")) != NULL) {
		q.filter_text = s;
		q.filter_len = strlen(s);
	}
	if ((s = http_param(x->req, "startIndex")) != NULL &&
	    (e = parse_long("startIndex", s, &q.start, err)) != SCIM_OK)
		goto fail;
	if ((q.cursor_text = http_param(x->req, "cursor")) != NULL &&
	    s != NULL) {
		e = err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Use either startIndex or cursor, not both.");
		goto fail;
	}
	if ((s = http_param(x->req, "count")) != NULL &&
	    (e = parse_long("count", s, &q.count, err)) != SCIM_OK)
		goto fail;
	if ((e = set_sort(&q, http_param(x->req, "sortBy"),
	    http_param(x->req, "sortOrder"), err)) != SCIM_OK)
		goto fail;
	q.attrs_param = http_param(x->req, "attributes");
	q.excluded_param = http_param(x->req, "excludedAttributes");
	e = run_query(x, &q, err);
fail:
	query_free(&q);
	return e;
}

/* GET /Users, /Groups: the list with the request's parameters. */
enum scim_err
query_list(struct exchange *x, struct scim_error *err)
{
	return list_types(x, &x->type, 1, err);
}

/* GET / (the root): both types in one list. */
enum scim_err
query_list_all(struct exchange *x, struct scim_error *err)
{
	enum rtype all[RT__COUNT];
	int i;

	for (i = 0; i < RT__COUNT; i++)
		all[i] = (enum rtype)i;
	return list_types(x, all, RT__COUNT, err);
}

/* Reads a SearchRequest body (RFC 7644 3.4.3) into q. */
static enum scim_err
search_request(struct exchange *x, struct query *q, struct scim_error *err)
{
	const json_t *b = x->body, *v, *schemas;
	const char *key;
	bool ok = false;
	size_t i;

	schemas = json_object_get(b, "schemas");
	json_array_foreach(schemas, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), SCHEMA_URN_SEARCH) == 0)
			ok = true;
	if (!ok)
		return err_set(err, SCIM_ERR_INVALID_SYNTAX,
		    "A search body must list schema %s.", SCHEMA_URN_SEARCH);
	q->start = 1;
	q->count = LIMIT_PAGE_DEFAULT;
	json_object_foreach((json_t *)b, key, v) {
		if (strcasecmp(key, "filter") == 0) {
			if (!json_is_string(v))
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "filter must be a string.");
			q->filter_text = json_string_value(v);
			q->filter_len = json_string_length(v);
		} else if (strcasecmp(key, "startIndex") == 0 ||
		    strcasecmp(key, "count") == 0) {
			if (!json_is_integer(v))
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "%s must be an integer.", key);
			if (json_integer_value(v) > LIMIT_SEARCH_INTEGER ||
			    json_integer_value(v) < -LIMIT_SEARCH_INTEGER)
				return err_set(err, SCIM_ERR_INVALID_VALUE,
				    "%s is out of range.", key);
			if (strcasecmp(key, "count") == 0)
				q->count = (long)json_integer_value(v);
			else
				q->start = (long)json_integer_value(v);
		} else if (strcasecmp(key, "cursor") == 0) {
			if (!json_is_string(v))
				return err_set(err, SCIM_ERR_INVALID_CURSOR,
				    "cursor must be a string.");
			q->cursor_text = json_string_value(v);
		} else if (strcasecmp(key, "attributes") == 0)
			q->proj_attrs = v;
		else if (strcasecmp(key, "excludedAttributes") == 0)
			q->proj_excluded = v;
	}
	v = json_object_get(b, "sortBy");
	if (v != NULL && !json_is_string(v))
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "sortBy must be a string.");
	return set_sort(q, json_string_value(v),
	    json_string_value(json_object_get(b, "sortOrder")), err);
}

/* POST /Users/.search, /Groups/.search: parameters from a SearchRequest. */
enum scim_err
query_search(struct exchange *x, struct scim_error *err)
{
	struct query q;
	enum scim_err e;

	memset(&q, 0, sizeof(q));
	q.types[0] = x->type;
	q.ntypes = 1;
	if ((e = search_request(x, &q, err)) == SCIM_OK)
		e = run_query(x, &q, err);
	query_free(&q);
	return e;
}

/* POST /.search: a SearchRequest over every type. */
enum scim_err
query_search_all(struct exchange *x, struct scim_error *err)
{
	struct query q;
	enum scim_err e;

	memset(&q, 0, sizeof(q));
	for (q.ntypes = 0; q.ntypes < RT__COUNT; q.ntypes++)
		q.types[q.ntypes] = (enum rtype)q.ntypes;
	if ((e = search_request(x, &q, err)) == SCIM_OK)
		e = run_query(x, &q, err);
	query_free(&q);
	return e;
}
