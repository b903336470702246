// SPDX-License-Identifier: MulanPSL-2.0
#include "util/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready_fd = -1;

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
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
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

int pidfile_write(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "stratovirt: cannot create pidfile '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		fprintf(stderr, "stratovirt: cannot write pidfile '%s'\n", path);
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

void pidfile_remove(const char *path)
{
	if (path)
		unlink(path);
}
