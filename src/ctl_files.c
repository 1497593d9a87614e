/*
 * ctl_files.c: private folders and files for what scimctl writes
 * (ctl.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

/* Whether folder path holds anything but "." and ".." (true on error,
 * so that an unreadable folder is never taken). */
static bool
dir_has_entries(const char *path)
{
	DIR *d;
	struct dirent *de;
	bool any = false;

	if ((d = opendir(path)) == NULL)
		return true;
	while (!any && (de = readdir(d)) != NULL)
		any = strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return any;
}

/* ctl.h: a new folder, an empty one made private, or an existing
 * store's. */
int
ctl_private_dir(const char *path, bool store, const char *what,
    struct scim_error *err)
{
	char data[PATH_MAX];
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return chmod(path, 0700) == 0 ? 0 : (err_set(err,
		    SCIM_ERR_UNAVAILABLE, "cannot make %s private: %s", path,
		    strerror(errno)), -1);
	if (errno != EEXIST || stat(path, &st) != 0) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "%s is not a folder", path);
		return -1;
	}
	if (snprintf(data, sizeof(data), "%s/data.mdb", path) >=
	    (int)sizeof(data)) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "%s: path too long", path);
		return -1;
	}
	if (store && access(data, F_OK) == 0)
		return 0;	/* a store already: its folder is the admin's */
	if (store && dir_has_entries(path)) {
		/* The admin's folder (even a document root, which scimd then
		 * refuses to serve): not ours to chmod; the files are 0600. */
		if ((st.st_mode & 077) != 0)
			fprintf(stderr, "scimctl: %s: %s is mode %04o and "
			    "holds other files: left as it is (the store's "
			    "files are 0600)\n", what, path,
			    (unsigned)(st.st_mode & 07777));
		return 0;
	}
	if (dir_has_entries(path)) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "%s is not empty: give a "
		    "new or empty folder (its files would share a folder "
		    "others may read)", path);
		return -1;
	}
	if ((st.st_mode & 077) == 0)
		return 0;
	if (st.st_uid != geteuid()) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "%s is mode %04o and owned "
		    "by another user: give a folder of your own", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (chmod(path, 0700) != 0) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "cannot make %s private: %s",
		    path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "scimctl: %s: %s was mode %04o; made it 0700\n", what,
	    path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* ctl.h: open(2) with mode 0600, fchmod for a file already there. */
FILE *
ctl_private_fopen(const char *path, struct scim_error *err)
{
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		err_set(err, SCIM_ERR_UNAVAILABLE, "cannot write %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

/* ctl.h: temporary file, fsync, rename, fsync of the folder. */
int
ctl_write_atomic(const char *path, const char *text, struct scim_error *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	size_t len = strlen(text);
	int fd = -1, dfd;
	const char *step = "write";

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		goto fail;
	step = "create";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0)
		goto fail;
	step = "write";
	if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	err_set(err, SCIM_ERR_UNAVAILABLE, "cannot %s %s: %s", step, path,
	    strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return -1;
}
