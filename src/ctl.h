/*
 * ctl.h: scimctl's commands and helpers that live outside scimctl.c,
 * split along their seams (scimctl.c keeps main and the small commands).
 *
 * Files scimctl writes hold hashes and personal data: every one of them
 * is a 0600 file in a 0700 folder, whatever the umask (scimctl sets
 * umask 077 first thing) and whatever mode an existing target folder
 * had (ctl_private_dir).
 */
#ifndef SCIMD_CTL_H
#define SCIMD_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "error.h"
#include "store.h"

/* Exit statuses of every command (scimctl(8)). */
enum {
	CTL_OK = 0,		/* done; found */
	CTL_FAILED = 1,		/* the store or a file failed (stderr says) */
	CTL_USAGE = 2,		/* the command line is wrong */
	CTL_NOT_FOUND = 3	/* user/group get|find: no such resource */
};

/*
 * Makes path a private folder for new files (what `backup DEST` and a
 * new store need): created 0700 when missing; an existing empty folder
 * is made 0700 if it was wider, saying so on stderr with `what` naming
 * the command.  For a backup (store false) a folder holding anything is
 * refused (it may be shared: /var/backups, never chmod-ed).  For a
 * store (store true) a folder that already holds one, or other files,
 * is left as the admin made it (with a note on stderr when it is wider
 * than 0700): the store's own files are 0600 in any case.  Refused
 * also: a path that is not a folder, an empty folder wider than 0700
 * owned by someone else.  0, or -1 with err set.
 */
int		ctl_private_dir(const char *path, bool store,
		    const char *what, struct scim_error *err);

/* Opens path for writing as a 0600 file (an existing file is truncated
 * and made 0600).  NULL with err set on failure. */
FILE		*ctl_private_fopen(const char *path, struct scim_error *err);

/* Replaces the file path with text, atomically (a 0600 temporary file
 * in the same folder, fsync, rename, fsync of the folder): a reader
 * sees the old or the new content, never a mix.  0 or -1 with err. */
int		ctl_write_atomic(const char *path, const char *text,
		    struct scim_error *err);

/* What scimctl applies from the site's settings (conf.c). */
struct ctl_site {
	size_t			 audit_keep;	/* entries kept, 0 = all */
	enum conf_password	 password;	/* of imported records */
};

/* scimctl import [--atomic] [FILE] (ctl_import.c): 0 when every record
 * was stored, 1 otherwise (rejects on stderr), 2 usage. */
int		ctl_import(struct store *s, const struct ctl_site *site,
		    int argc, char **argv, struct scim_error *err);

/* scimctl user|group get|find|list [--json] (ctl_read.c): CTL_OK when
 * found (list: always), CTL_NOT_FOUND, CTL_USAGE or CTL_FAILED. */
int		ctl_show(struct store *s, enum rtype t, int argc, char **argv,
		    struct scim_error *err);

/* scimctl watch, on the store s opened from directory dir (whose
 * data.mdb it watches): see ctl_watch.c. 0, 1 (store or program failure), or
 * 2 (usage). */
int		ctl_watch(struct store *s, const char *dir, int argc,
		    char **argv, struct scim_error *err);

#endif
