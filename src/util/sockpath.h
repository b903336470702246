/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_SOCKPATH_H
#define SV_UTIL_SOCKPATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Listening unix sockets that never damage a host file.
 *
 * sockpath_check() looks at a path without touching it.  Returns 0 when the
 * path is absent or holds a stale socket (nobody listens: it may be replaced),
 * or a negative errno with one line in err naming the path:
 *   -ENOTSOCK      the path exists and is not a socket
 *   -EADDRINUSE    a live listener answers on it
 *   -ENAMETOOLONG  longer than sun_path allows (107 bytes)
 *   -ENOENT/-ENOTDIR  its directory does not exist
 *   other          lstat()/connect() failed (e.g. -EACCES)
 */
int sockpath_check(const char *path, char *err, size_t errlen);

/*
 * send()/recv() through sendmsg()/recvmsg(): glibc's send and recv are the
 * sendto and recvfrom syscalls, two more for the seccomp lists to allow.
 */
ssize_t sock_send(int fd, const void *buf, size_t len, int flags);
ssize_t sock_recv(int fd, void *buf, size_t len, int flags);

/* What sockpath_listen() created, so that only that is ever removed. */
struct sockpath_owned {
	char *path; /* NULL when nothing is owned */
	dev_t dev;
	ino_t ino;
};

/*
 * Re-checks the path, replaces a stale socket, binds and listens
 * (SOCK_CLOEXEC | SOCK_NONBLOCK); records the socket file's dev/ino in *owned.
 * The path appears only once the socket listens (bound at "PATH.<pid>~",
 * listening, then link()ed into place; see sockpath.c for when it is bound
 * at the path directly).
 * Returns the listening fd, or a negative errno with err filled (then *owned
 * owns nothing and nothing was left on the host).
 */
int sockpath_listen(const char *path, int backlog, struct sockpath_owned *owned, char *err,
		    size_t errlen);

/*
 * Unlinks owned->path only if it is still the socket we bound (same dev and
 * inode), then frees owned->path.  Safe on a zeroed or released struct.
 */
void sockpath_release(struct sockpath_owned *owned);

#endif
