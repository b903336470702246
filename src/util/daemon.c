// SPDX-License-Identifier: MulanPSL-2.0
#include "util/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/hostpath.h"

static int ready_fd = -1;
static int null_fd = -1; /* opened early: daemon_ready() may run inside -jail */

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int daemon_start(void)
{
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		int status = 0;
		sigset_t set;

		/* The launcher waits here: let SIGTERM/SIGINT end it as usual. */
		stop_set(&set);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) == 1)
			_exit(0);
		/* The child failed before it was ready: pass its status on. */
		waitpid(pid, &status, 0);
		_exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
	}
	close(pipefd[0]);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0); /* the grandchild keeps the pipe; the first parent waits on it */
	ready_fd = pipefd[1];
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (chdir("/") < 0)
		return -errno;
	umask(027);
	return 0;
}

void daemon_ready(void)
{
	int null;

	if (ready_fd < 0)
		return;
	null = null_fd;
	null_fd = -1;
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "r", 1) < 0) {
		/* the launcher went away; nothing to tell */
	}
	close(ready_fd);
	ready_fd = -1;
}

/* The pidfile this process holds: locked (fcntl) from creation to removal. */
static struct {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
} pidf = {.fd = -1};

#define PIDFILE_MAX_TEXT 64

/* An existing file is reused only when empty or holding a process id. */
static bool holds_pid(int fd, long *pid)
{
	char buf[PIDFILE_MAX_TEXT + 1];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	char *p = buf, *end;

	*pid = 0;
	if (n < 0 || n > PIDFILE_MAX_TEXT)
		return false;
	buf[n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n')
		return !p[0] || !p[1];
	if (*p < '0' || *p > '9')
		return false;
	*pid = strtol(p, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	return !*end;
}

/* The process holding a lock on fd (0 when none or unknown). */
static long lock_holder(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	long pid;

	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	if (fl.l_pid > 0)
		return fl.l_pid;
	/* a holder in another pid namespace: its own word for it */
	return holds_pid(fd, &pid) && pid > 0 ? pid : -1;
}

static int in_use(const char *path, long pid, char *err, size_t errlen)
{
	if (pid > 0)
		snprintf(err, errlen, "pidfile '%s' is in use by process %ld", path, pid);
	else
		snprintf(err, errlen, "pidfile '%s' is in use by another process", path);
	return -EBUSY;
}

static int open_error(const char *path, int e, char *err, size_t errlen)
{
	struct stat st;

	if (e == ELOOP || (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))) {
		snprintf(err, errlen, "pidfile '%s' is a symbolic link", path);
		return -ELOOP;
	}
	if (e == ENXIO || e == EISDIR || (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "pidfile '%s' is not a regular file", path);
		return -EINVAL;
	}
	snprintf(err, errlen, "cannot open pidfile '%s': %s", path, strerror(e));
	return -e;
}

int pidfile_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	long pid;
	int fd, ret = 0;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return open_error(path, errno, err, errlen);
		return hostpath_check("-pidfile", path, HOSTPATH_REG, true, err, errlen);
	}
	if (!S_ISREG(st.st_mode))
		return open_error(path, S_ISLNK(st.st_mode) ? ELOOP : ENXIO, err, errlen);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return open_error(path, errno, err, errlen);
	pid = lock_holder(fd);
	if (pid)
		ret = in_use(path, pid, err, errlen);
	else if (!holds_pid(fd, &pid)) {
		snprintf(err, errlen, "pidfile '%s' exists and does not hold a process id", path);
		ret = -EEXIST;
	}
	close(fd); /* no lock of ours on it yet, so none is lost */
	return ret;
}

static int keep(int fd, const char *path, const struct stat *st, char *err, size_t errlen)
{
	pidf.path = strdup(path);
	if (!pidf.path) {
		close(fd);
		snprintf(err, errlen, "cannot write pidfile '%s': out of memory", path);
		return -ENOMEM;
	}
	pidf.fd = fd;
	pidf.dev = st->st_dev;
	pidf.ino = st->st_ino;
	return 0;
}

/*
 * A new pidfile appears whole: a temporary file in the same directory is
 * locked and written, then linked to the path (link() never replaces).
 * Returns the fd (the path is ours), -EEXIST when the path exists, -ENOTSUP
 * when the file system cannot link, or another negative errno with err set.
 */
static int create_linked(const char *path, const char *pid, struct stat *st, char *err,
			 size_t errlen)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t n = strlen(pid);
	char *tmp = malloc(strlen(path) + 16);
	mode_t mask;
	int fd, e;

	if (!tmp)
		return -ENOMEM;
	sprintf(tmp, "%.*s.%s.XXXXXX", (int)dlen, path, slash ? slash + 1 : path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return open_error(path, e, err, errlen);
	}
	mask = umask(0); /* no other thread runs yet */
	umask(mask);
	if (fchmod(fd, 0644 & ~mask) < 0 || fcntl(fd, F_SETLK, &fl) < 0 ||
	    write(fd, pid, n) != (ssize_t)n || fstat(fd, st) < 0) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "cannot write pidfile '%s': %s", path, strerror(e));
		goto fail;
	}
	if (link(tmp, path) < 0) {
		e = errno;
		if (e == EEXIST || e == EPERM || e == EOPNOTSUPP) {
			unlink(tmp);
			close(fd);
			free(tmp);
			return e == EEXIST ? -EEXIST : -ENOTSUP;
		}
		open_error(path, e, err, errlen);
		goto fail;
	}
	unlink(tmp);
	free(tmp);
	return fd;
fail:
	unlink(tmp);
	close(fd);
	free(tmp);
	return -e;
}

int pidfile_write(const char *path, char *err, size_t errlen)
{
	const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	bool can_link = true;
	struct stat st, now;
	char buf[32];
	long pid;
	int fd, n;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	for (int tries = 0; tries < 8; tries++) {
		bool created = true;

		if (can_link) {
			fd = create_linked(path, buf, &st, err, errlen);
			if (fd >= 0)
				return keep(fd, path, &st, err, errlen);
			if (fd == -ENOTSUP)
				can_link = false;
			else if (fd != -EEXIST)
				return fd;
		}
		fd = can_link ? -1 : open(path, flags | O_CREAT | O_EXCL, 0644);
		if (fd < 0 && (can_link || errno == EEXIST)) {
			created = false;
			fd = open(path, flags);
			if (fd < 0 && errno == ENOENT)
				continue; /* removed meanwhile: create it */
		}
		if (fd < 0)
			return open_error(path, errno, err, errlen);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return open_error(path, ENXIO, err, errlen);
		}
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			pid = lock_holder(fd);
			close(fd);
			return in_use(path, pid, err, errlen);
		}
		/* Locked; but if the path was removed or replaced meanwhile, start over. */
		if (lstat(path, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
			close(fd);
			continue;
		}
		if (!created && !holds_pid(fd, &pid)) {
			close(fd);
			snprintf(err, errlen, "pidfile '%s' exists and does not hold a process id",
				 path);
			return -EEXIST;
		}
		/* a stale pidfile (its process is gone) is reused in place */
		if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
			snprintf(err, errlen, "cannot write pidfile '%s': %s", path,
				 strerror(errno));
			if (created)
				unlink(path);
			close(fd);
			return -EIO;
		}
		return keep(fd, path, &st, err, errlen);
	}
	snprintf(err, errlen, "pidfile '%s' keeps changing under us", path);
	return -EAGAIN;
}

void pidfile_remove(void)
{
	struct stat st;

	if (pidf.fd < 0)
		return;
	/* Only our own file, and while we still hold its lock (close comes after). */
	if (lstat(pidf.path, &st) == 0 && st.st_dev == pidf.dev && st.st_ino == pidf.ino)
		unlink(pidf.path);
	close(pidf.fd);
	pidf.fd = -1;
	free(pidf.path);
	pidf.path = NULL;
}

void stop_signals_block(void)
{
	sigset_t set;

	stop_set(&set);
	/* the vCPU kick too: it is only ever taken inside KVM_RUN (machine/vcpu.c) */
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}
