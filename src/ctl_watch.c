/*
 * ctl_watch.c: scimctl watch, the change hook.
 *
 *	scimctl watch [--state FILE] [--after SEQ] --exec PROGRAM [ARG...]
 *
 * Runs PROGRAM once for each committed change, in sequence order, with
 * the change as one line of JSON on its standard input: the audit
 * entry (docs/storage.md: seq, time, token, op, id, version, ...) with
 * "type" named "resourceType"; also in the environment as SCIM_SEQ,
 * SCIM_OP, SCIM_RESOURCE_TYPE and SCIM_ID.
 *
 * Delivery is at least once: the sequence number of a change is written
 * to FILE (atomically) only after PROGRAM exits 0 for it, and a restart
 * resumes after the number in FILE.  A program that fails (exit status
 * other than 0, or killed) is run again for the same change after
 * LIMIT_WATCH_RETRY_MIN_MS, doubling up to LIMIT_WATCH_RETRY_MAX_MS; a
 * change is never skipped.  Without FILE, or before FILE exists, it
 * starts after the newest change (--after SEQ starts elsewhere: 0 for
 * the whole trail).
 *
 * Waiting costs nothing: LMDB writes data.mdb on every commit, so an
 * inotify watch on it wakes the loop; the trail is also read every
 * LIMIT_WATCH_FALLBACK_MS in case an event was missed.  No read
 * transaction is held while PROGRAM runs.  SIGTERM and SIGINT stop it
 * between changes (a running PROGRAM is waited for), exit status 0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "jsonx.h"
#include "limits.h"

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* One change read from the trail, copied out of the transaction. */
struct change {
	unsigned long long seq;
	char		*json;		/* owned */
	size_t		 len;
};

struct batch {
	struct change	 c[LIMIT_WATCH_BATCH];
	size_t		 n;
	unsigned long long after;
	unsigned long long first;	/* the trail's oldest entry, or 0 */
	bool		 nomem;
};

static bool
batch_add(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	struct batch *b = ctx;

	if ((b->c[b->n].json = malloc(len + 1)) == NULL) {
		b->nomem = true;
		return false;
	}
	memcpy(b->c[b->n].json, json, len);
	b->c[b->n].json[len] = '\0';
	b->c[b->n].len = len;
	b->c[b->n].seq = seq;
	return ++b->n < LIMIT_WATCH_BATCH;
}

static bool
first_seq(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	(void)json;
	(void)len;
	*(unsigned long long *)ctx = seq;
	return false;
}

/* Reads the changes after b->after (at most LIMIT_WATCH_BATCH) and the
 * trail's oldest sequence number. */
static enum scim_err
batch_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	struct batch *b = ctx;
	enum scim_err e;

	b->first = 0;
	if ((e = store_audit_list(txn, 0, first_seq, &b->first, err)) !=
	    SCIM_OK)
		return e;
	return store_audit_list(txn, b->after, batch_add, b, err);
}

static bool
last_seq(unsigned long long seq, const char *json, size_t len, void *ctx)
{
	(void)json;
	(void)len;
	*(unsigned long long *)ctx = seq;
	return true;
}

/* The newest sequence number in the trail (0 when empty). */
static enum scim_err
newest_fn(struct store_txn *txn, void *ctx, struct scim_error *err)
{
	return store_audit_list(txn, 0, last_seq, ctx, err);
}

static void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->c[i].json);
	b->n = 0;
}

/* The sequence number saved in path: 1 read, 0 no file, -1 unreadable
 * (err set). */
static int
state_read(const char *path, unsigned long long *seq, struct scim_error *err)
{
	char buf[32], *end;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		err_set(err, SCIM_ERR_UNAVAILABLE, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	*seq = strtoull(buf, &end, 10);
	if (n == 0 || buf[0] < '0' || buf[0] > '9' || errno != 0 ||
	    (*end != '\0' && strcmp(end, "\n") != 0)) {
		err_set(err, SCIM_ERR_INVALID_VALUE, "%s does not hold a "
		    "sequence number; remove it to start after the newest "
		    "change, or give --after SEQ", path);
		return -1;
	}
	return 1;
}

static int
state_write(const char *path, unsigned long long seq, struct scim_error *err)
{
	char text[32];

	if (path == NULL)
		return 0;
	snprintf(text, sizeof(text), "%llu\n", seq);
	return ctl_write_atomic(path, text, err);
}

/* The hook's view of an audit entry: "type" named "resourceType", in
 * its place.  Caller frees; NULL when the entry is not a JSON object or
 * memory ran out. */
static char *
hook_json(const struct change *c, json_t **out)
{
	json_t *e = json_loadb(c->json, c->len, 0, NULL), *h, *v;
	const char *k;
	char *text = NULL;

	*out = NULL;
	if (!json_is_object(e) || (h = json_object()) == NULL) {
		json_decref(e);
		return NULL;
	}
	json_object_foreach(e, k, v)
		if (json_object_set(h, strcmp(k, "type") == 0 ? "resourceType" :
		    k, v) != 0)
			goto done;
	text = jsonx_dumps(h);
done:
	json_decref(e);
	if (text == NULL)
		json_decref(h);
	else
		*out = h;
	return text;
}

/* Runs argv once with text on its standard input; its wait status, or
 * -1 when it could not be started. */
static int
run_once(char **argv, const char *text, const json_t *entry)
{
	char seq[32];
	int fds[2], status;
	size_t len = strlen(text), off = 0;
	ssize_t w;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		const json_t *v;

		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		v = json_object_get(entry, "seq");
		snprintf(seq, sizeof(seq), "%lld",
		    (long long)json_integer_value(v));
		setenv("SCIM_SEQ", seq, 1);
		if ((v = json_object_get(entry, "op")) != NULL &&
		    json_is_string(v))
			setenv("SCIM_OP", json_string_value(v), 1);
		if ((v = json_object_get(entry, "resourceType")) != NULL &&
		    json_is_string(v))
			setenv("SCIM_RESOURCE_TYPE", json_string_value(v), 1);
		if ((v = json_object_get(entry, "id")) != NULL &&
		    json_is_string(v))
			setenv("SCIM_ID", json_string_value(v), 1);
		execvp(argv[0], argv);
		fprintf(stderr, "scimctl: watch: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	/* A program that does not read its input gets EPIPE, not us. */
	while (off < len && (w = write(fds[1], text + off, len - off)) != 0) {
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off == len)
		(void)!write(fds[1], "\n", 1);
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Sleeps ms milliseconds, or less when told to stop. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (!stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Delivers one change until the program takes it (exit 0): true, or
 * false when told to stop first. */
static bool
deliver(char **argv, const struct change *c)
{
	json_t *entry;
	char *text = hook_json(c, &entry);
	long wait_ms = LIMIT_WATCH_RETRY_MIN_MS;
	int status;

	if (text == NULL) {
		fprintf(stderr, "scimctl: watch: seq %llu: the trail entry is "
		    "not a JSON object; passed on as it is\n", c->seq);
		if ((text = strdup(c->json)) == NULL)
			return false;
	}
	for (;;) {
		status = run_once(argv, text, entry);
		if (status >= 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			break;
		if (status < 0)
			fprintf(stderr, "scimctl: watch: seq %llu: cannot "
			    "start %s: %s", c->seq, argv[0], strerror(errno));
		else if (WIFEXITED(status))
			fprintf(stderr, "scimctl: watch: seq %llu: %s exited "
			    "with status %d", c->seq, argv[0],
			    WEXITSTATUS(status));
		else
			fprintf(stderr, "scimctl: watch: seq %llu: %s killed "
			    "by signal %d", c->seq, argv[0], WTERMSIG(status));
		fprintf(stderr, "; again in %ld ms\n", wait_ms);
		nap(wait_ms);
		if (stop) {
			free(text);
			json_decref(entry);
			return false;
		}
		wait_ms = wait_ms * 2 > LIMIT_WATCH_RETRY_MAX_MS ?
		    LIMIT_WATCH_RETRY_MAX_MS : wait_ms * 2;
	}
	free(text);
	json_decref(entry);
	return true;
}

/* An inotify watch on the store's data.mdb (-1 when unavailable: the
 * fallback timeout still reads the trail). */
static int
watch_data(int ifd, const char *dir)
{
	char path[4096];

	if (ifd < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return inotify_add_watch(ifd, path, IN_MODIFY | IN_CLOSE_WRITE |
	    IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB);
}

/* Waits for a commit (or the fallback timeout, or a signal), then drains
 * the events; re-adds the watch if data.mdb was replaced. */
static void
wait_commit(int ifd, int *wd, const char *dir)
{
	struct pollfd p = { ifd, POLLIN, 0 };
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *q;

	if (ifd < 0 || *wd < 0) {
		if (ifd >= 0)
			*wd = watch_data(ifd, dir);
		nap(ifd >= 0 && *wd >= 0 ? 0 : LIMIT_WATCH_FALLBACK_MS);
		return;
	}
	if (poll(&p, 1, LIMIT_WATCH_FALLBACK_MS) <= 0)
		return;
	while ((n = read(ifd, buf, sizeof(buf))) > 0)
		for (q = buf; q < buf + n; q += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)q;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF))
				*wd = -1;
		}
	if (*wd < 0)
		*wd = watch_data(ifd, dir);
}

/* ctl.h and the header comment: the watch loop. */
int
ctl_watch(struct store *s, const char *dir, int argc, char **argv,
    struct scim_error *err)
{
	const char *state = NULL;
	struct batch *b;
	struct sigaction sa;
	unsigned long long after = 0;
	bool have_after = false;
	char **prog = NULL, *end;
	int i, ifd, wd, rc = 1, got;

	for (i = 0; i < argc && prog == NULL; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			errno = 0;
			after = strtoull(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || argv[i][0] < '0' ||
			    argv[i][0] > '9')
				return 2;
			have_after = true;
		} else if (strcmp(argv[i], "--exec") == 0 && i + 1 < argc)
			prog = argv + i + 1;
		else
			return 2;
	}
	if (prog == NULL)
		return 2;
	if (!have_after && state != NULL &&
	    (got = state_read(state, &after, err)) != 0) {
		if (got < 0)
			return 1;
		have_after = true;
	}
	if (!have_after && store_read(s, newest_fn, &after, err) != SCIM_OK)
		return 1;
	if (state_write(state, after, err) != 0)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: poll and sleeps end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	wd = watch_data(ifd, dir);
	if (wd < 0)
		fprintf(stderr, "scimctl: watch: no inotify on %s/data.mdb "
		    "(%s): reading the trail every %d s\n", dir,
		    strerror(errno), LIMIT_WATCH_FALLBACK_MS / 1000);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		err_set(err, SCIM_ERR_NOMEM, "out of memory");
		goto done;
	}
	fprintf(stderr, "scimctl: watch: after seq %llu, running %s for each "
	    "change\n", after, prog[0]);
	while (!stop) {
		b->after = after;
		if (store_read(s, batch_fn, b, err) != SCIM_OK || b->nomem) {
			if (b->nomem)
				err_set(err, SCIM_ERR_NOMEM, "out of memory");
			goto done;
		}
		if (b->first > after + 1 && after > 0)
			fprintf(stderr, "scimctl: watch: changes %llu to %llu "
			    "were dropped from the trail (audit_keep) before "
			    "they were delivered\n", after + 1, b->first - 1);
		for (i = 0; i < (int)b->n && !stop; i++) {
			if (!deliver(prog, &b->c[i]))
				break;
			after = b->c[i].seq;
			if (state_write(state, after, err) != 0)
				goto done;
		}
		if (b->n == 0)
			wait_commit(ifd, &wd, dir);
		batch_clear(b);
	}
	rc = 0;
done:
	if (b != NULL)
		batch_clear(b);
	free(b);
	if (ifd >= 0)
		close(ifd);
	return rc;
}
