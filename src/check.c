/*
 * check.c: `scimd --check`.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "schema.h"
#include "store.h"

struct check {
	char	user[64];	/* the effective user, by name */
	int	problems;
};

static void
found(struct check *k, int problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints one finding; a problem is counted. */
static void
found(struct check *k, int problem, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", problem ? "problem" : "ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	k->problems += problem != 0;
}

/* True when the effective user may access path with mode (R_OK...). */
static int
may(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0;
}

/* Checks one file of the store: present (unless optional) and readable
 * and writable by the effective user.  0 when usable. */
static int
check_file(struct check *k, const char *dir, const char *name, int optional,
    const char *why)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		found(k, 1, "store %s: path too long", dir);
		return -1;
	}
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && optional)
			return 0;
		found(k, 1, "%s: %s (user %s)%s", path, strerror(errno),
		    k->user, errno == ENOENT ? ": not a store yet; create it "
		    "with `scimctl --db DIR init` as that user" : "");
		return -1;
	}
	if (!may(path, R_OK | W_OK)) {
		found(k, 1, "%s is not readable and writable by user %s (%s; "
		    "owner uid %ld, mode %04o)", path, k->user, why,
		    (long)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Checks the store directory and its files, then opens it without
 * creating anything and reads its layout. */
static void
check_store(struct check *k, const struct conf *c)
{
	struct store *s = NULL;
	struct scim_error err;
	struct stat st;
	int layout;

	if (c->db == NULL) {
		found(k, 1, "no store configured: set db in %s (or SCIMD_DB)",
		    c->file != NULL ? c->file : "scimd.conf");
		return;
	}
	if (stat(c->db, &st) != 0) {
		found(k, 1, "store %s: %s (user %s)%s", c->db, strerror(errno),
		    k->user, errno == ENOENT ? ": create it with `scimctl --db "
		    "DIR init` as that user" : "");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		found(k, 1, "store %s is not a directory (user %s)", c->db,
		    k->user);
		return;
	}
	if (!may(c->db, R_OK | W_OK | X_OK)) {
		found(k, 1, "store directory %s is not readable, writable and "
		    "searchable by user %s (owner uid %ld, mode %04o)", c->db,
		    k->user, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (check_file(k, c->db, "data.mdb", 0, "scimd writes it") != 0 ||
	    check_file(k, c->db, "lock.mdb", 1, "every reader writes it") != 0)
		return;
	/* Read-only and as it is: the check never writes, and never runs
	 * the migration a serving scimd would run at its first start. */
	err_clear(&err);
	if (store_open_flags(c->db, STORE_READ_ONLY | STORE_NO_MIGRATE, &s,
	    &err) != SCIM_OK) {
		found(k, 1, "store %s (user %s): %s", c->db, k->user,
		    err.detail[0] ? err.detail : err_default_detail(err.code));
		return;
	}
	layout = store_layout(s);
	store_close(s);
	if (layout < STORE_LAYOUT_VERSION)
		found(k, 0, "store %s opens for user %s (layout %d: scimd "
		    "migrates it to %d when it first opens it; `scimctl --db "
		    "%s migrate` does it now and lists anything that stops "
		    "it)", c->db, k->user, layout, STORE_LAYOUT_VERSION, c->db);
	else
		found(k, 0, "store %s opens for user %s (layout %d)", c->db,
		    k->user, layout);
}

/* Checks the settings, the schemas and the store as the running user,
 * one line per finding, then prints the count of problems. */
int
check_run(const char *conf_path, const char *argv0)
{
	struct check k;
	struct conf c;
	struct scim_error err;
	struct passwd *pw;
	uid_t uid = geteuid();

	memset(&k, 0, sizeof(k));
	if ((pw = getpwuid(uid)) != NULL)
		snprintf(k.user, sizeof(k.user), "%s", pw->pw_name);
	else
		snprintf(k.user, sizeof(k.user), "uid %ld", (long)uid);
	err_clear(&err);
	if (conf_load(&c, conf_path, argv0, &err) != SCIM_OK) {
		found(&k, 1, "settings (user %s): %s", k.user, err.detail);
		goto done;
	}
	if (c.file != NULL)
		found(&k, 0, "settings read from %s by user %s", c.file,
		    k.user);
	else
		found(&k, 0, "no settings file found (-c, SCIMD_CONF, "
		    "scimd.conf beside %s, %s); defaults and environment only",
		    argv0, SCIMD_SYSCONF_FILE);
	if (uid == 0 && !c.allow_root)
		found(&k, 1, "running as user %s: scimd refuses to serve as "
		    "root; run it (and this check) as the web server's user, "
		    "e.g. runuser -u www-data -- scimd --check", k.user);
	if (c.schemas != NULL && !may(c.schemas, R_OK))
		found(&k, 1, "schemas %s is not readable by user %s: %s",
		    c.schemas, k.user, strerror(errno));
	else if (schema_init(c.schemas, &err) != SCIM_OK)
		found(&k, 1, "schemas %s (user %s): %s", c.schemas != NULL ?
		    c.schemas : "(built in)", k.user, err.detail);
	else if (c.schemas != NULL)
		found(&k, 0, "schemas %s loaded", c.schemas);
	check_store(&k, &c);
done:
	conf_free(&c);
	printf("%d problem%s\n", k.problems, k.problems == 1 ? "" : "s");
	return k.problems == 0 ? 0 : 1;
}
