// SPDX-License-Identifier: MulanPSL-2.0
#include "util/sockpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static int fill_addr(struct sockaddr_un *addr, const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);

	if (!len) {
		snprintf(err, errlen, "socket path is empty");
		return -EINVAL;
	}
	if (len > SUN_PATH_MAX) {
		snprintf(err, errlen, "socket path '%s' is too long (%zu bytes, at most %zu)", path,
			 len, SUN_PATH_MAX);
		return -ENAMETOOLONG;
	}
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len);
	return 0;
}

/* The directory that will hold the socket must exist. */
static int check_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (!slash)
		return 0; /* the current directory */
	if (slash == path)
		return 0; /* "/" */
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "socket path '%s': directory '%s': %s", path, dir,
			 strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "socket path '%s': '%s' is not a directory", path, dir);
		return -ENOTDIR;
	}
	return 0;
}

/*
 * 1 when the socket at addr has a live listener, 0 when stale (nobody
 * listens), negative errno when it cannot be told.
 */
static int probe_listener(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		ret = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		ret = 1; /* a listener whose backlog is full */
	else if (errno == ECONNREFUSED || errno == ENOENT)
		ret = 0;
	else
		ret = -errno;
	close(fd);
	return ret;
}

/* Returns 0 (absent), 1 (stale socket, replaceable) or a negative errno. */
static int check_path(const char *path, const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0) {
		int e = errno;

		if (e == ENOENT)
			return check_dir(path, err, errlen);
		snprintf(err, errlen, "socket path '%s': %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "socket path '%s' exists and is not a socket", path);
		return -ENOTSOCK;
	}
	ret = probe_listener(addr);
	if (ret == 1) {
		snprintf(err, errlen, "socket path '%s' is in use by a running listener", path);
		return -EADDRINUSE;
	}
	if (ret < 0) {
		snprintf(err, errlen, "socket path '%s': cannot tell whether it is in use: %s",
			 path, strerror(-ret));
		return ret;
	}
	return 1;
}

int sockpath_check(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	int ret;

	if (!path) {
		snprintf(err, errlen, "socket path is missing");
		return -EINVAL;
	}
	ret = fill_addr(&addr, path, err, errlen);
	if (ret < 0)
		return ret;
	ret = check_path(path, &addr, err, errlen);
	return ret < 0 ? ret : 0;
}

/* Removes path only while it is still the socket file dev/ino names. */
static void unlink_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat now;

	if (lstat(path, &now) == 0 && S_ISSOCK(now.st_mode) && now.st_dev == dev &&
	    now.st_ino == ino)
		unlink(path);
}

/*
 * A new socket bound at addr and listening; its file's stat in *st.  Returns
 * the fd or a negative errno with err filled, and then leaves no file behind.
 * path is the name the user gave, for the messages.
 */
static int bind_listen(const char *path, const struct sockaddr_un *addr, int backlog,
		       struct stat *st, char *err, size_t errlen)
{
	int fd, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create socket for '%s': %s", path, strerror(e));
		return -e;
	}
	/* bind() never replaces a file: if something appeared meanwhile, it fails. */
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot bind socket '%s': %s", addr->sun_path, strerror(e));
		close(fd);
		return -e;
	}
	if (lstat(addr->sun_path, st) < 0 || !S_ISSOCK(st->st_mode)) {
		/* removed or replaced between bind() and lstat(): not ours to touch */
		snprintf(err, errlen, "socket '%s' disappeared after bind", addr->sun_path);
		close(fd);
		return -EAGAIN;
	}
	if (listen(fd, backlog) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot listen on socket '%s': %s", path, strerror(e));
		unlink_ours(addr->sun_path, st->st_dev, st->st_ino);
		close(fd);
		return -e;
	}
	return fd;
}

/*
 * The temporary name beside path the socket is bound at before it is shown:
 * "PATH.<pid>~".  False when it does not fit in sun_path or a file has that
 * name already (not ours to touch): then the socket is bound at path itself.
 */
static bool temp_addr(const char *path, struct sockaddr_un *tmp)
{
	struct stat st;
	int n;

	memset(tmp, 0, sizeof(*tmp));
	tmp->sun_family = AF_UNIX;
	n = snprintf(tmp->sun_path, sizeof(tmp->sun_path), "%s.%d~", path, (int)getpid());
	if (n < 0 || (size_t)n > SUN_PATH_MAX)
		return false;
	return lstat(tmp->sun_path, &st) < 0 && errno == ENOENT;
}

/*
 * The path appears only once the socket listens: a client that polls for the
 * file and connects at once (as container runtimes do) would otherwise be
 * refused between bind() and listen().  So the socket is bound and listening
 * at a temporary name beside path, then link()ed into place (link() never
 * replaces a file: one that appeared meanwhile is an error) and the temporary
 * name removed.  A directory whose file system has no hard links gets the
 * direct bind, as does a path too long for the temporary name.
 */
int sockpath_listen(const char *path, int backlog, struct sockpath_owned *owned, char *err,
		    size_t errlen)
{
	struct sockaddr_un addr, tmp;
	struct stat st;
	int fd, ret, e;

	owned->path = NULL;
	if (!path) {
		snprintf(err, errlen, "socket path is missing");
		return -EINVAL;
	}
	ret = fill_addr(&addr, path, err, errlen);
	if (ret < 0)
		return ret;
	ret = check_path(path, &addr, err, errlen);
	if (ret < 0)
		return ret;
	/* allocated first, so that running out of memory leaves nothing behind */
	owned->path = strdup(path);
	if (!owned->path) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* Only a socket nobody listens on is removed; anything else was refused above. */
	if (ret == 1 && unlink(path) < 0 && errno != ENOENT) {
		e = errno;
		snprintf(err, errlen, "cannot replace stale socket '%s': %s", path, strerror(e));
		goto fail;
	}
	if (temp_addr(path, &tmp)) {
		fd = bind_listen(path, &tmp, backlog, &st, err, errlen);
		if (fd < 0) {
			e = -fd;
			goto fail;
		}
		e = link(tmp.sun_path, path) < 0 ? errno : 0;
		unlink_ours(tmp.sun_path, st.st_dev, st.st_ino);
		if (!e)
			goto done;
		close(fd);
		if (e != EPERM && e != EOPNOTSUPP && e != ENOSYS) {
			snprintf(err, errlen, "cannot create socket '%s': %s", path, strerror(e));
			goto fail;
		}
	}
	fd = bind_listen(path, &addr, backlog, &st, err, errlen);
	if (fd < 0) {
		e = -fd;
		goto fail;
	}
done:
	owned->dev = st.st_dev;
	owned->ino = st.st_ino;
	return fd;
fail:
	free(owned->path);
	owned->path = NULL;
	return -e;
}

void sockpath_release(struct sockpath_owned *owned)
{
	if (!owned || !owned->path)
		return;
	unlink_ours(owned->path, owned->dev, owned->ino);
	free(owned->path);
	owned->path = NULL;
}

ssize_t sock_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	return sendmsg(fd, &msg, flags);
}

ssize_t sock_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	return recvmsg(fd, &msg, flags);
}
