/*
 * conf.h: scimd's settings, from a small file and the environment.
 *
 * Apache's suEXEC strips most environment variables, so every setting
 * can come from a file.  The file is found at, in order: the path given
 * with -c, $SCIMD_CONF, "scimd.conf" beside the binary, or
 * SCIMD_SYSCONF_FILE (configure: $sysconfdir/scimd/scimd.conf, so
 * /etc/scimd/scimd.conf for the Debian package).  Lines are
 * "key = value"; '#' starts a comment.  Keys (docs/scimd.8):
 *	db		LMDB store directory ($SCIMD_DB overrides)
 *	base_url	absolute URL of the SCIM root, for meta.location
 *	mount		URL path of the SCIM root (default: found per request)
 *	password	"discard" (default) or "argon2id"
 *	schemas		JSON file with extension schemas
 *	log_level	"error", "info" (default) or "debug"
 *	log		"stderr" (default: the web server's error log) or
 *			"syslog"
 *	audit_keep	entries kept in the audit trail (default 100000;
 *			0 = all)
 *	sandbox		"auto" (default: seccomp when built with it and
 *			the kernel takes the filter; unconfined with a log
 *			line if the kernel refuses, silently if not built),
 *			"seccomp" (required: 503 without it),
 *			"none", or "seccomp-selftest" (enter it, then make
 *			one forbidden call: the process must die of SIGSYS)
 *	allow_root	"no" (default) or "yes": scimd refuses to serve when
 *			run as root unless this says yes ($SCIMD_ALLOW_ROOT
 *			overrides, for test rigs that run everything as root)
 *	require		"PATH-PREFIX GROUP[, GROUP...]" (repeatable): in the
 *			authorizer role (authz.h), a path under the prefix
 *			is open only to members of one of the groups
 */
#ifndef SCIMD_CONF_H
#define SCIMD_CONF_H

/* The system-wide settings file: configure's -D (Makefile.am) sets it
 * from $sysconfdir; a build outside make (the fuzz harnesses) gets the
 * Debian path. */
#ifndef SCIMD_SYSCONF_FILE
#define SCIMD_SYSCONF_FILE	"/etc/scimd/scimd.conf"
#endif

#include <stdbool.h>

#include "error.h"
#include "limits.h"

/* The last place the settings file is looked for; Makefile.am sets it
 * from $(sysconfdir).  Builds outside automake (the fuzzers) get the
 * Debian package's path. */
#ifndef SCIMD_SYSCONF_FILE
#define SCIMD_SYSCONF_FILE	"/etc/scimd/scimd.conf"
#endif

enum conf_password { CONF_PASSWORD_DISCARD, CONF_PASSWORD_ARGON2ID };
enum conf_sandbox { CONF_SANDBOX_AUTO, CONF_SANDBOX_NONE,
	CONF_SANDBOX_SECCOMP, CONF_SANDBOX_SELFTEST };

/*
 * One `require` rule.  prefix starts with '/', has no trailing '/'
 * (except the root "/"), no "//", no "." or ".." segment and no '%',
 * '?' or '#': it is compared byte for byte with a request path made
 * the same way (authz_path_clean).  groups are displayNames as written
 * (trimmed), matched case-insensitively through the group index.
 */
struct conf_require {
	char	*prefix;				/* owned */
	size_t	 prefix_len;
	char	*groups[LIMIT_AUTHZ_RULE_GROUPS];	/* owned */
	size_t	 ngroups;				/* 1.. */
};

struct conf {
	/* owned: the file read, or NULL */
	char			*file;
	char			*db;		/* owned */
	char			*base_url;	/* owned or NULL */
	char			*mount;		/* owned or NULL */
	char			*schemas;	/* owned or NULL */
	enum conf_password	 password;
	int			 log_level;	/* LVL_ERROR..LVL_DEBUG */
	bool			 log_syslog;	/* log = syslog */
	/* audit entries kept, 0 = all */
	size_t			 audit_keep;
	enum conf_sandbox	 sandbox;
	bool			 allow_root;	/* serve even with euid 0 */
	struct conf_require	*require;	/* owned, nrequire entries */
	size_t			 nrequire;	/* at most LIMIT_AUTHZ_RULES */
};

/*
 * Loads settings: defaults, then the file (path may be NULL: then
 * $SCIMD_CONF, then scimd.conf beside argv0, then SCIMD_SYSCONF_FILE,
 * the last two only if they exist),
 * then $SCIMD_DB and $SCIMD_ALLOW_ROOT. SCIM_OK, or SCIM_ERR_INVALID_VALUE
 * naming the file,
 * line and key.  conf_free() releases it in every case.
 */
enum scim_err	conf_load(struct conf *c, const char *path, const char *argv0,
		    struct scim_error *err);
void		conf_free(struct conf *c);

#endif
