/*
 * ctl_import.c: scimctl import [--atomic] [FILE] (ctl.h): NDJSON or a
 * ListResponse, validated against the site's schemas, written in
 * batches, memberships last.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "ctl.h"
#include "schema.h"
#include "store.h"

struct import_item {
	enum rtype	 type;
	char		*hash;		/* Argon2id of its password, or NULL */
	bool		 kept_version;	/* meta.version came with the input */
	json_t		*rec;		/* validated record with id and meta */
	json_t		*members;	/* group members (ids), or NULL */
	size_t		 line;
};

/* The number n of a version W/"n" (0 when s is not one). */
static unsigned long long
version_number(const char *s)
{
	unsigned long long n;
	char *end;

	if (s == NULL || strncmp(s, "W/\"", 3) != 0 || s[3] < '0' || s[3] > '9')
		return 0;
	errno = 0;
	n = strtoull(s + 3, &end, 10);
	return errno == 0 && strcmp(end, "\"") == 0 ? n : 0;
}

/* Raises the store's version counter (meta "seq") to at least n, so
 * that an imported version is never handed out again. */
static enum scim_err
raise_version(struct store_txn *txn, unsigned long long n,
    struct scim_error *err)
{
	const void *v;
	size_t len, i;
	unsigned long long cur = 0;
	unsigned char be[8];
	enum scim_err e;

	e = store_raw_get(txn, "meta", "seq", 3, &v, &len, err);
	if (e != SCIM_OK && e != SCIM_ERR_NOT_FOUND)
		return e;
	for (i = 0; e == SCIM_OK && len == 8 && i < 8; i++)
		cur = cur << 8 | ((const unsigned char *)v)[i];
	if (cur >= n)
		return SCIM_OK;
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(n >> (56 - 8 * i));
	return store_raw_put(txn, "meta", "seq", 3, be, 8, err);
}

/* Validates one resource from the input into item; false with a message
 * on stderr when rejected.  Its id, meta.created, meta.lastModified and
 * meta.version are kept (a version only when it is W/"n"); with
 * password = argon2id in the settings, a password is hashed into
 * item->hash, else dropped. */
static bool
import_prepare(json_t *in, size_t line, const struct ctl_site *site,
    struct import_item *item)
{
	struct scim_error err;
	const json_t *schemas = json_object_get(in, "schemas"), *v;
	const char *id = json_string_value(json_object_get(in, "id"));
	const json_t *meta = json_object_get(in, "meta");
	const char *version = json_string_value(json_object_get(meta,
	    "version"));
	json_t *valid = NULL, *rec, *m;
	char *password = NULL;
	enum scim_err e;
	char newid[STORE_ID_LEN + 1], now[32], lower[STORE_ID_LEN + 1];
	size_t i;
	bool group = false;

	json_array_foreach(schemas, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    SCHEMA_URN_GROUP) == 0)
			group = true;
	item->type = group ? RT_GROUP : RT_USER;
	item->line = line;
	err_clear(&err);
	item->hash = NULL;
	if (schema_validate(item->type, in, SCHEMA_CREATE, &valid,
	    item->type == RT_USER && site->password ==
	    CONF_PASSWORD_ARGON2ID ? &password : NULL, &err) != SCIM_OK) {
		fprintf(stderr, "scimctl: import: line %zu rejected: %s\n",
		    line, err.detail);
		return false;
	}
	/* Hashed here, before any write transaction (Argon2id is slow). */
	if (password != NULL) {
		e = auth_password_hash(password, &item->hash, &err);
		free(password);
		if (e != SCIM_OK) {
			fprintf(stderr, "scimctl: import: line %zu: %s\n", line,
			    err.detail);
			json_decref(valid);
			return false;
		}
	}
	if (id != NULL && !store_id_valid(id, strlen(id))) {
		fprintf(stderr, "scimctl: import: line %zu rejected: id is "
		    "not a UUID\n", line);
		json_decref(valid);
		free(item->hash);
		return false;
	}
	if (id == NULL)
		store_new_id(newid);
	else {
		for (i = 0; i <= STORE_ID_LEN; i++)
			lower[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ?
			    id[i] - 'A' + 'a' : id[i]);
		memcpy(newid, lower, sizeof(newid));
	}
	store_now(now, sizeof(now));
	rec = json_object();
	json_object_set(rec, "schemas", json_object_get(valid, "schemas"));
	json_object_set_new(rec, "id", json_string(newid));
	item->members = NULL;
	{
		const char *k;

		json_object_foreach(valid, k, v) {
			if (strcmp(k, "schemas") == 0)
				continue;
			if (strcmp(k, "members") == 0) {
				item->members = json_incref((json_t *)v);
				continue;
			}
			json_object_set(rec, k, (json_t *)v);
		}
	}
	m = json_pack("{s:s, s:s, s:s, s:s}", "resourceType",
	    group ? "Group" : "User", "created",
	    json_string_value(json_object_get(meta, "created")) ?
	    json_string_value(json_object_get(meta, "created")) : now,
	    "lastModified", json_string_value(json_object_get(meta,
	    "lastModified")) ? json_string_value(json_object_get(meta,
	    "lastModified")) : now, "version", version_number(version) > 0 ?
	    version : "");
	json_object_set_new(rec, "meta", m);
	item->kept_version = version_number(version) > 0;
	json_decref(valid);
	item->rec = rec;
	return true;
}

/*
 * The import streams: records are read, validated and written a batch at
 * a time (IMPORT_BATCH per transaction), so memory stays bounded by a
 * batch whatever the size of the input.  Memberships are written after
 * every record, because a member may come later in the input than its
 * group; only the groups' member lists are kept until then.  With
 * --atomic everything is held and written in one transaction.
 */
#define IMPORT_BATCH	10000

struct import_batch {
	const struct ctl_site	*site;
	struct import_item	*items;		/* owned, with their records */
	size_t			 n, cap;
	bool			 records;	/* write the records */
	bool			 members;	/* write the memberships */
};

struct import_state {
	struct store		*store;
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
	char version[32];
	enum scim_err e;
	size_t i, j;

	for (i = 0; b->records && i < b->n; i++) {
		json_t *meta;
		const char *id;
		unsigned long long n;

		it = &b->items[i];
		meta = json_object_get(it->rec, "meta");
		id = json_string_value(json_object_get(it->rec, "id"));
		snprintf(version, sizeof(version), "%s", json_string_value(
		    json_object_get(meta, "version")));
		if ((n = version_number(version)) > 0)
			e = raise_version(txn, n, err);
		else if ((e = store_next_version(txn, version, sizeof(version),
		    err)) == SCIM_OK && json_object_set_new(meta, "version",
		    json_string(version)) != 0)
			e = err_set(err, SCIM_ERR_NOMEM, "out of memory");
		if (e != SCIM_OK)
			return e;
		if ((e = store_put(txn, it->type, NULL, it->rec, err)) !=
		    SCIM_OK) {
			char why[SCIM_ERROR_DETAIL_BYTES];

			/* err_set() writes err->detail: not from itself. */
			snprintf(why, sizeof(why), "%s", err->detail);
			return err_set(err, e, "line %zu: %s", it->line, why);
		}
		if (it->hash != NULL && (e = store_password_put(txn, id,
		    it->hash, err)) != SCIM_OK)
			return e;
		if ((e = store_audit(txn, "scimctl", "import", it->type ==
		    RT_USER ? "User" : "Group", id, version,
		    b->site->audit_keep, err)) != SCIM_OK)
			return e;
	}
	for (i = 0; b->members && i < b->n; i++) {
		it = &b->items[i];
		json_array_foreach(it->members, j, mv) {
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
			if ((e = store_member_add(txn, json_string_value(
			    json_object_get(it->rec, "id")), mid, err)) !=
			    SCIM_OK)
				return e;
		}
		/* Written after the record (an earlier transaction): the
		 * group's version must change with its members, unless the
		 * version came with the input, which describes the group
		 * with these members (export, import, export: the same). */
		if (!b->records && !it->kept_version &&
		    json_array_size(it->members) > 0 &&
		    (e = store_touch(txn, RT_GROUP, json_string_value(
		    json_object_get(it->rec, "id")), false, err)) != SCIM_OK)
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

	for (i = 0; i < b->n; i++) {
		json_decref(b->items[i].rec);
		json_decref(b->items[i].members);
		if (b->items[i].hash != NULL) {
			sodium_memzero(b->items[i].hash,
			    strlen(b->items[i].hash));
			free(b->items[i].hash);
		}
	}
	b->n = 0;
}

/* Writes the pending records in one transaction, then keeps the groups
 * that have members for the membership pass. */
static enum scim_err
import_flush(struct import_state *st, struct scim_error *err)
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

		if (json_array_size(it->members) == 0)
			continue;
		free(it->hash);		/* groups have none */
		it->hash = NULL;
		if (!import_push(&st->groups, it))
			return err_set(err, SCIM_ERR_NOMEM, "out of memory");
		it->rec = NULL;		/* now owned by st->groups */
		it->members = NULL;
	}
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

	if (!import_prepare(doc, line, st->batch.site, &item)) {
		st->rejected++;
		return SCIM_OK;
	}
	if (!import_push(&st->batch, &item)) {
		json_decref(item.rec);
		json_decref(item.members);
		free(item.hash);
		return err_set(err, SCIM_ERR_NOMEM, "out of memory");
	}
	if (!st->atomic && st->batch.n >= IMPORT_BATCH)
		return import_flush(st, err);
	return SCIM_OK;
}

/* Writes the kept groups' memberships, IMPORT_BATCH groups at a time. */
static enum scim_err
import_memberships(struct import_state *st, struct scim_error *err)
{
	struct import_batch part;
	size_t start;
	enum scim_err e;

	for (start = 0; start < st->groups.n; start += IMPORT_BATCH) {
		part = st->groups;
		part.items = st->groups.items + start;
		part.n = st->groups.n - start < IMPORT_BATCH ?
		    st->groups.n - start : IMPORT_BATCH;
		part.records = false;
		part.members = true;
		if ((e = store_write(st->store, import_fn, &part, err)) !=
		    SCIM_OK)
			return e;
	}
	return SCIM_OK;
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
	st.batch.site = site;
	st.groups.site = site;
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--atomic") == 0)
			st.atomic = true;
		else if ((in = fopen(argv[a], "r")) == NULL) {
			err_set(err, SCIM_ERR_UNAVAILABLE, "cannot read %s: %s",
			    argv[a], strerror(errno));
			return 1;
		}
	}
	while ((n = getline(&buf, &bufsz, in)) > 0) {
		json_t *doc;
		json_error_t je;

		line++;
		if (strspn(buf, " \t\r\n") == (size_t)n)
			continue;
		doc = json_loadb(buf, (size_t)n, 0, &je);
		if (doc == NULL &&
		    st.imported + st.batch.n + st.rejected == 0) {
			/* Maybe a multi-line ListResponse: read it whole. */
			rewind(in);
			if ((list = json_loadf(in, 0, &je)) == NULL) {
				fprintf(stderr, "scimctl: import: line %d: "
				    "%s\n", je.line, je.text);
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
	if (import_flush(&st, err) != SCIM_OK ||
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
