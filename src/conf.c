/*
 * conf.c: the settings file.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "limits.h"
#include "log.h"

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Sets *slot to a copy of value. */
static enum scim_err
set_string(char **slot, const char *value, struct scim_error *err)
{
	free(*slot);
	if ((*slot = strdup(value)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	return SCIM_OK;
}

/* Sets *flag from "yes" or "no"; -1 for anything else. */
static int
yes_or_no(const char *value, bool *flag)
{
	if (strcmp(value, "yes") == 0)
		*flag = true;
	else if (strcmp(value, "no") == 0)
		*flag = false;
	else
		return -1;
	return 0;
}

/*
 * Whether prefix[0..len) is a plain path: starts with '/', no empty, "."
 * or ".." segment, none of "%?#\\" and no control character or space.
 * A trailing '/' is allowed (the caller strips it).
 */
static bool
plain_prefix(const char *p, size_t len)
{
	size_t i, seg = 1;

	if (len == 0 || p[0] != '/')
		return false;
	for (i = 1; i <= len; i++) {
		if (i == len || p[i] == '/') {
			size_t n = i - seg;

			if ((n == 0 && i != len) ||
			    (n == 1 && p[seg] == '.') ||
			    (n == 2 && p[seg] == '.' && p[seg + 1] == '.'))
				return false;
			seg = i + 1;
			continue;
		}
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f ||
		    strchr("%?#\\", p[i]) != NULL)
			return false;
	}
	return true;
}

/*
 * Adds the rule "PREFIX GROUP[, GROUP...]" in value.  SCIM_OK, or
 * SCIM_ERR_INVALID_VALUE naming the line (bad prefix, no group, an
 * empty or over-long group name, too many groups or rules, a prefix
 * given twice), or SCIM_ERR_NOMEM.
 */
static enum scim_err
add_require(struct conf *c, const char *value, const char *file, int line,
    struct scim_error *err)
{
	struct conf_require *r, *grown;
	const char *p, *end, *comma;
	size_t plen, i;

	plen = strcspn(value, " \t");
	if (!plain_prefix(value, plen))
		return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: require "
		    "wants a path prefix starting with /, without %%, ?, #, "
		    "//, . or .. segments, then the groups.", file, line);
	while (plen > 1 && value[plen - 1] == '/')
		plen--;
	for (i = 0; i < c->nrequire; i++)
		if (c->require[i].prefix_len == plen &&
		    memcmp(c->require[i].prefix, value, plen) == 0)
			return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: "
			    "require: prefix %.*s given twice.", file, line,
			    (int)(plen > 200 ? 200 : plen), value);
	if (c->nrequire >= LIMIT_AUTHZ_RULES)
		return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: more than "
		    "%d require rules.", file, line, LIMIT_AUTHZ_RULES);
	if ((grown = realloc(c->require, (c->nrequire + 1) *
	    sizeof(*grown))) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	c->require = grown;
	r = &c->require[c->nrequire];
	memset(r, 0, sizeof(*r));
	if ((r->prefix = strndup(value, plen)) == NULL)
		return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
	r->prefix_len = plen;
	c->nrequire++;		/* from here conf_free() releases it */
	for (p = value + strcspn(value, " \t"); ; p = comma + 1) {
		while (*p == ' ' || *p == '\t')
			p++;
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		end = comma;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == p)
			return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: "
			    "require: an empty group name (the form is PREFIX "
			    "GROUP[, GROUP...]).", file, line);
		if ((size_t)(end - p) > LIMIT_INDEX_KEY_BYTES)
			return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: "
			    "require: a group name longer than %d bytes.",
			    file, line, LIMIT_INDEX_KEY_BYTES);
		if (r->ngroups >= LIMIT_AUTHZ_RULE_GROUPS)
			return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: "
			    "require: more than %d groups.", file, line,
			    LIMIT_AUTHZ_RULE_GROUPS);
		if ((r->groups[r->ngroups] = strndup(p, (size_t)(end - p))) ==
		    NULL)
			return err_set(err, SCIM_ERR_NOMEM, "Out of memory.");
		r->ngroups++;
		if (*comma == '\0')
			break;
	}
	return SCIM_OK;
}

/* Applies one "key = value" line of the settings file to c; an unknown
 * key or a bad value is SCIM_ERR_INVALID_VALUE naming the file and line. */
static enum scim_err
set_key(struct conf *c, const char *key, const char *value, const char *file,
    int line, struct scim_error *err)
{
	if (strcmp(key, "db") == 0)
		return set_string(&c->db, value, err);
	if (strcmp(key, "base_url") == 0)
		return set_string(&c->base_url, value, err);
	if (strcmp(key, "mount") == 0)
		return set_string(&c->mount, value, err);
	if (strcmp(key, "schemas") == 0)
		return set_string(&c->schemas, value, err);
	if (strcmp(key, "password") == 0) {
		if (strcmp(value, "discard") == 0)
			c->password = CONF_PASSWORD_DISCARD;
		else if (strcmp(value, "argon2id") == 0)
			c->password = CONF_PASSWORD_ARGON2ID;
		else
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: password must be discard or argon2id.",
			    file, line);
		return SCIM_OK;
	}
	if (strcmp(key, "log") == 0) {
		if (strcmp(value, "stderr") != 0 &&
		    strcmp(value, "syslog") != 0)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: log must be stderr or syslog.", file, line);
		c->log_syslog = strcmp(value, "syslog") == 0;
		return SCIM_OK;
	}
	if (strcmp(key, "audit_keep") == 0) {
		char *end;
		unsigned long long n = strtoull(value, &end, 10);

		if (*value == '\0' || *end != '\0' || n > 1000000000ULL)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: audit_keep must be a number of entries.",
			    file, line);
		c->audit_keep = (size_t)n;
		return SCIM_OK;
	}
	if (strcmp(key, "sandbox") == 0) {
		if (strcmp(value, "auto") == 0)
			c->sandbox = CONF_SANDBOX_AUTO;
		else if (strcmp(value, "none") == 0)
			c->sandbox = CONF_SANDBOX_NONE;
		else if (strcmp(value, "seccomp") == 0)
			c->sandbox = CONF_SANDBOX_SECCOMP;
		else if (strcmp(value, "seccomp-selftest") == 0)
			c->sandbox = CONF_SANDBOX_SELFTEST;
		else
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: sandbox must be auto, none, seccomp or "
			    "seccomp-selftest.", file, line);
		return SCIM_OK;
	}
	if (strcmp(key, "allow_root") == 0) {
		if (yes_or_no(value, &c->allow_root) != 0)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: allow_root must be yes or no.", file, line);
		return SCIM_OK;
	}
	if (strcmp(key, "require") == 0)
		return add_require(c, value, file, line, err);
	if (strcmp(key, "log_level") == 0) {
		if ((c->log_level = log_level_parse(value)) < 0)
			return err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: log_level must be error, info or debug.",
			    file, line);
		return SCIM_OK;
	}
	return err_set(err, SCIM_ERR_INVALID_VALUE, "%s:%d: unknown key %.64s.",
	    file, line, key);
}

/* Reads the settings file at path line by line (comments after '#',
 * blank lines skipped); the first bad line fails the whole file. */
static enum scim_err
read_file(struct conf *c, const char *path, struct scim_error *err)
{
	FILE *f;
	char line[LIMIT_CONF_LINE_BYTES], *p, *eq, *hash;
	int n = 0;
	enum scim_err e = SCIM_OK;

	if ((f = fopen(path, "r")) == NULL)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "Cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		p = trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			e = err_set(err, SCIM_ERR_INVALID_VALUE,
			    "%s:%d: expected key = value.", path, n);
			break;
		}
		*eq = '\0';
		if ((e = set_key(c, trim(p), trim(eq + 1), path, n, err)) !=
		    SCIM_OK)
			break;
	}
	fclose(f);
	return e;
}

/*
 * Defaults, then the first settings file found (the given path,
 * $SCIMD_CONF, scimd.conf beside the binary), then the environment's
 * overrides.
 */
enum scim_err
conf_load(struct conf *c, const char *path, const char *argv0,
    struct scim_error *err)
{
	char beside[LIMIT_FILE_PATH_BYTES];
	const char *slash, *env;
	enum scim_err e;

	memset(c, 0, sizeof(*c));
	c->log_level = LVL_INFO;
	c->audit_keep = 100000;
	c->sandbox = CONF_SANDBOX_AUTO;
	if (path == NULL)
		path = getenv("SCIMD_CONF");
	if (path == NULL && argv0 != NULL &&
	    (slash = strrchr(argv0, '/')) != NULL &&
	    (size_t)(slash - argv0) + sizeof("/scimd.conf") < sizeof(beside)) {
		snprintf(beside, sizeof(beside), "%.*s/scimd.conf",
		    (int)(slash - argv0), argv0);
		if (access(beside, F_OK) == 0)
			path = beside;
	}
	if (path == NULL && access(SCIMD_SYSCONF_FILE, F_OK) == 0)
		path = SCIMD_SYSCONF_FILE;
	if (path != NULL && (e = set_string(&c->file, path, err)) != SCIM_OK)
		return e;
	if (path != NULL && (e = read_file(c, path, err)) != SCIM_OK)
		return e;
	if ((env = getenv("SCIMD_DB")) != NULL && *env != '\0' &&
	    (e = set_string(&c->db, env, err)) != SCIM_OK)
		return e;
	if ((env = getenv("SCIMD_ALLOW_ROOT")) != NULL && *env != '\0' &&
	    yes_or_no(env, &c->allow_root) != 0)
		return err_set(err, SCIM_ERR_INVALID_VALUE,
		    "SCIMD_ALLOW_ROOT must be yes or no.");
	return SCIM_OK;
}

/* Frees the strings c owns; c is zeroed. */
void
conf_free(struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->nrequire; i++) {
		free(c->require[i].prefix);
		for (j = 0; j < c->require[i].ngroups; j++)
			free(c->require[i].groups[j]);
	}
	free(c->require);
	free(c->file);
	free(c->db);
	free(c->base_url);
	free(c->mount);
	free(c->schemas);
	memset(c, 0, sizeof(*c));
}
