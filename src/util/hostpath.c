// SPDX-License-Identifier: MulanPSL-2.0
#include "util/hostpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *hostpath_types_name(unsigned types)
{
	switch (types) {
	case HOSTPATH_REG:
		return "a regular file";
	case HOSTPATH_REG | HOSTPATH_CHR:
		return "a regular file or a character device";
	case HOSTPATH_REG | HOSTPATH_DIR:
		return "a regular file or a directory";
	case HOSTPATH_REG | HOSTPATH_BLK:
		return "a regular file or a block device";
	case HOSTPATH_CHR:
		return "a character device";
	case HOSTPATH_DIR:
		return "a directory";
	default:
		return "of an accepted type";
	}
}

static bool type_ok(mode_t mode, unsigned types)
{
	return ((types & HOSTPATH_REG) && S_ISREG(mode)) ||
	       ((types & HOSTPATH_CHR) && S_ISCHR(mode)) ||
	       ((types & HOSTPATH_DIR) && S_ISDIR(mode)) ||
	       ((types & HOSTPATH_BLK) && S_ISBLK(mode));
}

static int wrong_type(const char *what, const char *path, unsigned types, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s '%s' is not %s", what, path, hostpath_types_name(types));
	return -EINVAL;
}

int hostpath_open(const char *what, const char *path, int flags, mode_t mode, unsigned types,
		  bool *created, char *err, size_t errlen)
{
	int oflags = flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	bool made = false;
	struct stat st;
	int fd, e;

	if (created)
		*created = false;
	if (!path || !*path) {
		snprintf(err, errlen, "%s needs a path", what);
		return -EINVAL;
	}
	if ((flags & O_CREAT) && !(flags & O_EXCL)) {
		/* Try to make it first, so that we know whether it was ours. */
		fd = open(path, oflags | O_EXCL, mode);
		if (fd >= 0)
			made = true;
		else if (errno == EEXIST)
			fd = open(path, oflags & ~O_CREAT);
	} else {
		fd = open(path, oflags, mode);
		made = fd >= 0 && (flags & O_CREAT);
	}
	if (fd < 0) {
		e = errno;
		/* ENXIO: a FIFO without a reader, or a socket; EISDIR: a directory */
		if ((e == ENXIO || e == EISDIR || e == ELOOP || e == EOPNOTSUPP) &&
		    stat(path, &st) == 0 && !type_ok(st.st_mode, types))
			return wrong_type(what, path, types, err, errlen);
		snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !type_ok(st.st_mode, types)) {
		close(fd);
		if (made)
			unlink(path);
		return wrong_type(what, path, types, err, errlen);
	}
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		if (made)
			unlink(path);
		snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(e));
		return -e;
	}
	if (created)
		*created = made;
	return fd;
}

int hostpath_check(const char *what, const char *path, unsigned types, bool may_be_absent,
		   char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (!path || !*path) {
		snprintf(err, errlen, "%s needs a path", what);
		return -EINVAL;
	}
	if (stat(path, &st) == 0)
		return type_ok(st.st_mode, types) ? 0 : wrong_type(what, path, types, err, errlen);
	e = errno;
	if (e == ENOENT && may_be_absent) {
		const char *slash = strrchr(path, '/');
		char *dir;
		int ret = 0;

		if (!slash || slash == path)
			return 0;
		dir = strndup(path, (size_t)(slash - path));
		if (!dir)
			return -ENOMEM;
		if (stat(dir, &st) < 0)
			ret = -errno;
		else if (!S_ISDIR(st.st_mode))
			ret = -ENOTDIR;
		if (ret) {
			snprintf(err, errlen, "cannot create %s '%s': %s", what, path,
				 strerror(-ret));
		}
		free(dir);
		return ret;
	}
	snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(e));
	return -e;
}

char *hostpath_absolute(const char *cwd, const char *path)
{
	size_t lc, lp;
	char *s;

	if (!path)
		return NULL;
	if (path[0] == '/' || !cwd)
		return strdup(path);
	lc = strlen(cwd);
	lp = strlen(path);
	while (lp >= 2 && path[0] == '.' && path[1] == '/') {
		path += 2; /* "./x" -> "x" */
		lp -= 2;
		while (*path == '/') {
			path++;
			lp--;
		}
	}
	if (!strcmp(path, "."))
		return strdup(cwd);
	s = malloc(lc + 1 + lp + 1);
	if (!s)
		return NULL;
	memcpy(s, cwd, lc);
	if (!lc || cwd[lc - 1] != '/')
		s[lc++] = '/';
	memcpy(s + lc, path, lp + 1);
	return s;
}
