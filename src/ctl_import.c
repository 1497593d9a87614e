/*
 * ctl_import.c: scimctl import [--atomic] [FILE] (ctl.h): NDJSON or a
 * ListResponse, validated against the site's schemas and written
 * through the operations layer (op.h: the same record builder, password
 * policy and audit trail as scimd) in batches (the next read in one
 * thread while the last is written in another), memberships last.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "limits.h"
#include "op.h"
#include "store.h"

struct import_item {
	struct op_record	 o;	/* the record, as op.h prepares it */
	size_t			 line;
};

/* Validates one resource from the input into item through the
 * operations layer (as POST validates, keeping the id and meta, the
 * password hashed by the site's policy); false with a message on stderr
 * when rejected. */
static bool
import_prepare(const struct op_ctx *c, json_t *in, size_t line,
    struct import_item *item)
{
	struct scim_error err;

	err_clear(&err);
	item->line = line;
	if (op_import_prepare(c, in, &item->o, &err) != SCIM_OK) {
		fprintf(stderr, "scimctl: import: line %zu rejected: %s\n",
		    line, err.detail);
		return false;
	}
	return true;
}

/*
 * The import streams: records are read, validated and written a batch at
 * a time (LIMIT_IMPORT_BATCH per transaction), so memory stays bounded
 * by a batch whatever the size of the input.  Memberships are written after
 * every record, because a member may come later in the input than its
 * group; only the groups' member lists are kept until then.  With
 * --atomic everything is held and written in one transaction.
 */

struct import_batch {
	const struct op_ctx	*op;		/* the site's settings */
	struct import_item	*items;		/* owned, with their records */
	size_t			 n, cap;
	bool			 records;	/* write the records */
	bool			 members;	/* write the memberships */
};

struct import_state {
	struct store		*store;
	struct op_ctx		 op;		/* who, audit and password */
	bool			 atomic;
	struct import_batch	 batch;		/* records not yet written */
	struct import_batch	 groups;	/* groups with members, later */
	size_t			 imported, rejected;
};

/* Writes b's records and/or memberships in the caller's transaction. */
static enum scim_err
import_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct import_batch *b = ctx;
	struct import_item *it;
	const json_t *mv;
	const char *gid;
	enum scim_err e;
	size_t i, j;

	for (i = 0; b->records && i < b->n; i++) {
		it = &b->items[i];
		if ((e = op_import(b->op, txn, &it->o, err)) != SCIM_OK) {
			char why[SCIM_ERROR_DETAIL_BYTES];

			/* err_set() writes err->detail: not from itself. */
			snprintf(why, sizeof(why), "%s", err->detail);
			return err_set(err, e, "line %zu: %s", it->line, why);
		}
	}
	for (i = 0; b->members && i < b->n; i++) {
		it = &b->items[i];
		gid = json_string_value(json_object_get(it->o.rec, "id"));
		json_array_foreach(it->o.members, j, mv) {
			const char *mid = json_string_value(
			    json_object_get(mv, "value"));
			bool user = false, group = false;

			if (mid != NULL && ((e = store_exists(txn, RT_USER,
			    mid, &user, err)) != SCIM_OK || (!user &&
			    (e = store_exists(txn, RT_GROUP, mid, &group,
			    err)) != SCIM_OK)))
				return e;
			if (!user && !group) {
				fprintf(stderr, "scimctl: import: line %zu: "
				    "member %.40s unknown, skipped\n",
				    it->line, mid ? mid : "?");
				continue;
			}
			if ((e = store_member_add(txn, gid, mid, err)) !=
			    SCIM_OK)
				return e;
		}
		/* Written after the record (an earlier transaction): the
		 * group's version must change with its members, unless the
		 * version came with the input, which describes the group
		 * with these members (export, import, export: the same). */
		if (!b->records && !it->o.kept_version &&
		    json_array_size(it->o.members) > 0 &&
		    (e = store_touch(txn, RT_GROUP, gid, false, err)) !=
		    SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/* Appends item to b (taking its references); false when out of memory. */
static bool
import_push(struct import_batch *b, const struct import_item *item)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct import_item *p = realloc(b->items, cap * sizeof(*p));

		if (p == NULL)
			return false;
		b->items = p;
		b->cap = cap;
	}
	b->items[b->n++] = *item;
	return true;
}

/* Drops b's items and their references; keeps its allocation. */
static void
import_clear(struct import_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		op_record_free(&b->items[i].o);
	b->n = 0;
}

/* Writes the pending records in one transaction, then keeps the groups
 * that have members for the membership pass; with clear, drops the
 * batch's records (else the caller does, maybe in another thread). */
static enum scim_err
import_flush(struct import_state *st, bool clear, struct scim_error *err)
{
	struct import_batch *b = &st->batch;
	enum scim_err e;
	size_t i;

	if (b->n == 0)
		return SCIM_OK;
	b->records = true;
	b->members = st->atomic;
	if ((e = store_write(st->store, import_fn, b, err)) != SCIM_OK)
		return e;
	st->imported += b->n;
	for (i = 0; !st->atomic && i < b->n; i++) {
		struct import_item *it = &b->items[i];

		if (json_array_size(it->o.members) == 0)
			continue;
		if (!import_push(&st->groups, it))
			return err_set(err, SCIM_ERR_NOMEM, "out of memory");
		memset(&it->o, 0, sizeof(it->o));	/* st->groups owns it */
	}
	if (clear)
		import_clear(b);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rrecords %zu", st->imported);
	return SCIM_OK;
}

/* Validates one input resource into the pending batch, writing the batch
 * when it is full. */
static enum scim_err
import_one(struct import_state *st, json_t *doc, size_t line,
    struct scim_error *err)
{
	struct import_item item;

	if (!import_prepare(&st->op, doc, line, &item)) {
		st->rejected++;
		return SCIM_OK;
	}
	if (!import_push(&st->batch, &item)) {
		op_record_free(&item.o);
		return err_set(err, SCIM_ERR_NOMEM, "out of memory");
	}
	if (!st->atomic && st->batch.n >= LIMIT_IMPORT_BATCH)
		return import_flush(st, true, err);
	return SCIM_OK;
}

/* Writes the kept groups' memberships, LIMIT_IMPORT_BATCH groups at a time. */
static enum scim_err
import_memberships(struct import_state *st, struct scim_error *err)
{
	struct import_batch part;
	size_t start;
	enum scim_err e;

	for (start = 0; start < st->groups.n; start += LIMIT_IMPORT_BATCH) {
		part = st->groups;
		part.items = st->groups.items + start;
		part.n = st->groups.n - start < LIMIT_IMPORT_BATCH ?
		    st->groups.n - start : LIMIT_IMPORT_BATCH;
		part.records = false;
		part.members = true;
		if ((e = store_write(st->store, import_fn, &part, err)) !=
		    SCIM_OK)
			return e;
	}
	return SCIM_OK;
}

/*
 * The streaming import in two threads: a reader parses and validates
 * NDJSON lines into the next batch while the main thread writes the one
 * before (parsing is half the work; docs/performance.md).  A written
 * batch is handed back and freed by the reader (freeing a batch's
 * records was a sixteenth of the writer's work), so at most four batches
 * exist at once (being filled, handed over, being written, written and
 * not yet freed): memory stays bounded by 4 * LIMIT_IMPORT_BATCH
 * records.  The reader stops at a line holding a
 * ListResponse (handed back in list) and at a first line that is not
 * JSON (whole: the input may be one multi-line document).
 */
struct import_reader {
	FILE			*in;
	const struct op_ctx	*op;		/* the site's settings */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct import_batch	 fill;		/* the reader's */
	struct import_batch	 ready;		/* handed over when has_ready */
	struct import_batch	 spent;		/* written, when has_spent */
	bool			 has_ready, has_spent, done, stop, whole;
	json_t			*list;
	size_t			 seen, rejected;
	bool			 nomem;
};

/* Frees a batch's records and its array. */
static void
import_drop(struct import_batch *b)
{
	import_clear(b);
	free(b->items);
	memset(b, 0, sizeof(*b));
}

/* Hands the reader's batch to the writer, waiting while the previous
 * one is still there, and frees the batch the writer handed back;
 * false when the writer has stopped. */
static bool
import_handoff(struct import_reader *r)
{
	struct import_batch spent;
	bool has_spent;

	pthread_mutex_lock(&r->mu);
	while (r->has_ready && !r->stop)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->stop) {
		pthread_mutex_unlock(&r->mu);
		return false;
	}
	r->ready = r->fill;
	r->has_ready = true;
	memset(&r->fill, 0, sizeof(r->fill));
	r->fill.op = r->op;
	spent = r->spent;
	has_spent = r->has_spent;
	r->has_spent = false;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (has_spent)
		import_drop(&spent);
	return true;
}

/* The reader thread: r->in's lines into batches of LIMIT_IMPORT_BATCH. */
static void *
import_read(void *arg)
{
	struct import_reader *r = arg;
	struct import_item item;
	char *buf = NULL;
	size_t bufsz = 0, line = 0;
	ssize_t n;

	while ((n = getline(&buf, &bufsz, r->in)) > 0) {
		json_t *doc;

		line++;
		if (strspn(buf, " \t\r\n") == (size_t)n)
			continue;
		doc = json_loadb(buf, (size_t)n, 0, NULL);
		if (doc == NULL && r->seen == 0) {
			r->whole = true;
			break;
		}
		r->seen++;
		if (doc == NULL) {
			fprintf(stderr, "scimctl: import: line %zu rejected: "
			    "not JSON\n", line);
			r->rejected++;
			continue;
		}
		if (json_is_array(json_object_get(doc, "Resources"))) {
			r->list = doc;
			break;
		}
		if (!import_prepare(r->op, doc, line, &item)) {
			json_decref(doc);
			r->rejected++;
			continue;
		}
		json_decref(doc);
		if (!import_push(&r->fill, &item)) {
			op_record_free(&item.o);
			r->nomem = true;
			break;
		}
		if (r->fill.n >= LIMIT_IMPORT_BATCH && !import_handoff(r))
			break;
	}
	free(buf);
	if (r->fill.n > 0 && !r->nomem)
		(void)import_handoff(r);
	pthread_mutex_lock(&r->mu);
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * Imports the NDJSON stream in, writing each batch the reader hands
 * over.  SCIM_OK or the first write's error; *list gets a ListResponse
 * line met (caller owns), *whole is set when the first line was not
 * JSON (nothing was read into the store then).
 */
static enum scim_err
import_stream(struct import_state *st, FILE *in, json_t **list, bool *whole,
    struct scim_error *err)
{
	struct import_reader r;
	struct import_batch spent;
	pthread_t tid;
	enum scim_err e = SCIM_OK;

	memset(&r, 0, sizeof(r));
	r.in = in;
	r.op = st->batch.op;
	r.fill.op = r.op;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	json_decref(json_object());	/* jansson seeds its hash here, once */
	if (pthread_create(&tid, NULL, import_read, &r) != 0) {
		e = err_set(err, SCIM_ERR_NOMEM, "cannot start a thread");
		goto done;
	}
	for (;;) {
		pthread_mutex_lock(&r.mu);
		while (!r.has_ready && !r.done)
			pthread_cond_wait(&r.cv, &r.mu);
		if (!r.has_ready) {
			pthread_mutex_unlock(&r.mu);
			break;
		}
		st->batch = r.ready;
		r.has_ready = false;
		pthread_cond_broadcast(&r.cv);
		pthread_mutex_unlock(&r.mu);
		e = import_flush(st, false, err);
		/* The written batch goes back to the reader to free; one
		 * it has not taken yet is freed here. */
		pthread_mutex_lock(&r.mu);
		if (r.has_spent)
			spent = r.spent;
		else
			memset(&spent, 0, sizeof(spent));
		r.spent = st->batch;
		r.has_spent = true;
		pthread_mutex_unlock(&r.mu);
		import_drop(&spent);
		memset(&st->batch, 0, sizeof(st->batch));
		st->batch.op = r.op;
		if (e != SCIM_OK) {
			pthread_mutex_lock(&r.mu);
			r.stop = true;
			pthread_cond_broadcast(&r.cv);
			pthread_mutex_unlock(&r.mu);
			break;
		}
	}
	pthread_join(tid, NULL);
	if (e == SCIM_OK && r.nomem)
		e = err_set(err, SCIM_ERR_NOMEM, "out of memory");
done:
	import_clear(&r.fill);
	free(r.fill.items);
	if (r.has_ready) {
		import_clear(&r.ready);
		free(r.ready.items);
	}
	if (r.has_spent)
		import_drop(&r.spent);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	st->rejected += r.rejected;
	*list = r.list;
	*whole = r.whole;
	return e;
}

/* The whole of in, rewound, as one JSON document: an import that is not
 * NDJSON may be a multi-line ListResponse.  NULL (the parse error told
 * on stderr) when it is not JSON either. */
static json_t *
load_whole(FILE *in)
{
	json_error_t je;
	json_t *doc;

	rewind(in);
	if ((doc = json_loadf(in, 0, &je)) == NULL)
		fprintf(stderr, "scimctl: import: line %d: %s\n", je.line,
		    je.text);
	return doc;
}

/* import [--atomic] [FILE]: NDJSON, or one ListResponse document. */
int
ctl_import(struct store *s, const struct ctl_site *site, int argc, char **argv,
    struct scim_error *err)
{
	struct import_state st;
	size_t line = 0, i;
	FILE *in = stdin;
	char *buf = NULL;
	size_t bufsz = 0;
	ssize_t n;
	json_t *list = NULL, *r;
	int rc = 0, a;

	memset(&st, 0, sizeof(st));
	st.store = s;
	/* The site's settings, applied as scimd applies them (op.h). */
	op_ctx_init(&st.op, s, "scimctl", NULL, NULL);
	st.op.audit_keep = site->audit_keep;
	st.op.password = site->password;
	st.batch.op = st.groups.op = &st.op;
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--atomic") == 0)
			st.atomic = true;
		else if ((in = fopen(argv[a], "r")) == NULL) {
			err_set(err, SCIM_ERR_UNAVAILABLE, "cannot read %s: %s",
			    argv[a], strerror(errno));
			return 1;
		}
	}
	if (!st.atomic) {
		bool whole = false;

		if (import_stream(&st, in, &list, &whole, err) != SCIM_OK) {
			rc = 1;
			goto done;
		}
		if (whole && (list = load_whole(in)) == NULL) {
			rc = 1;
			goto done;
		}
	}
	while (st.atomic && (n = getline(&buf, &bufsz, in)) > 0) {
		json_t *doc;
		json_error_t je;

		line++;
		if (strspn(buf, " \t\r\n") == (size_t)n)
			continue;
		doc = json_loadb(buf, (size_t)n, 0, &je);
		if (doc == NULL &&
		    st.imported + st.batch.n + st.rejected == 0) {
			if ((list = load_whole(in)) == NULL) {
				rc = 1;
				goto done;
			}
			break;
		}
		if (doc == NULL) {
			fprintf(stderr, "scimctl: import: line %zu rejected: "
			    "not JSON\n", line);
			st.rejected++;
			continue;
		}
		if (json_is_array(json_object_get(doc, "Resources"))) {
			list = doc;
			break;
		}
		if (import_one(&st, doc, line, err) != SCIM_OK) {
			json_decref(doc);
			rc = 1;
			goto done;
		}
		json_decref(doc);
	}
	json_array_foreach(json_object_get(list, "Resources"), i, r)
		if (import_one(&st, r, i + 1, err) != SCIM_OK) {
			rc = 1;
			goto done;
		}
	if (st.atomic && st.rejected > 0) {
		err_set(err, SCIM_ERR_INVALID_VALUE, "%zu records rejected; "
		    "nothing imported (--atomic)", st.rejected);
		rc = 1;
		goto done;
	}
	if (import_flush(&st, true, err) != SCIM_OK ||
	    import_memberships(&st, err) != SCIM_OK) {
		rc = 1;
		goto done;
	}
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	printf("%zu imported, %zu rejected\n", st.imported, st.rejected);
	if (st.rejected > 0)
		rc = 1;
done:
	if (rc != 0 && st.imported > 0 && !st.atomic)
		fprintf(stderr, "scimctl: import: %zu records were stored "
		    "before the failure\n", st.imported);
	import_clear(&st.batch);
	import_clear(&st.groups);
	free(st.batch.items);
	free(st.groups.items);
	free(buf);
	json_decref(list);
	if (in != stdin)
		fclose(in);
	return rc;
}
