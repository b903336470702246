// SPDX-License-Identifier: MulanPSL-2.0
/* getfd/closefd: named fds received with SCM_RIGHTS. */
#include "qmp/fdtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp/commands.h"

#define FDNAME_MAX 128

struct named_fd {
	char *name;
	int fd;
};

static struct named_fd table[QMP_MAX_NAMED_FDS];

static struct named_fd *lookup(const char *name)
{
	for (int i = 0; i < QMP_MAX_NAMED_FDS; i++)
		if (table[i].name && !strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

int qmp_fd_take(const char *name)
{
	struct named_fd *e = lookup(name);
	int fd;

	if (!e)
		return -ENOENT;
	fd = e->fd;
	free(e->name);
	e->name = NULL;
	e->fd = -1;
	return fd;
}

int qmp_fd_get(const char *name)
{
	struct named_fd *e = lookup(name);

	return e ? e->fd : -ENOENT;
}

bool qmp_fd_exists(const char *name)
{
	return lookup(name) != NULL;
}

bool qmp_fd_held(int fd)
{
	for (int i = 0; i < QMP_MAX_NAMED_FDS; i++)
		if (table[i].name && table[i].fd == fd)
			return true;
	return false;
}

void qmp_fd_clear(void)
{
	for (int i = 0; i < QMP_MAX_NAMED_FDS; i++) {
		if (!table[i].name)
			continue;
		close(table[i].fd);
		free(table[i].name);
		table[i].name = NULL;
	}
}

/* A name is what a later command quotes: no ':' (the fds list separator), not all digits. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= FDNAME_MAX && !strchr(name, ':') && strspn(name, "0123456789") != n;
}

int qmp_cmd_getfd(struct qmp_req *r)
{
	const char *name = qmp_arg_str(r, "fdname");
	struct named_fd *e;
	int i, fd = -1;

	if (!name_ok(name))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'fdname': must be 1..%d characters, not all "
				"digits, without ':'",
				FDNAME_MAX);
	for (i = 0; i < r->nr_fds && fd < 0; i++) {
		if (r->fds[i] >= 0) {
			fd = r->fds[i];
			r->fds[i] = -1;
		}
	}
	if (fd < 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"getfd: no file descriptor was sent with the request (SCM_RIGHTS)");
	e = lookup(name);
	if (e) { /* the new fd replaces the old one, as QEMU does */
		close(e->fd);
		e->fd = fd;
		return 0;
	}
	for (i = 0; i < QMP_MAX_NAMED_FDS; i++) {
		if (!table[i].name) {
			table[i].name = strdup(name);
			if (!table[i].name)
				break;
			table[i].fd = fd;
			return 0;
		}
	}
	close(fd);
	return qmp_fail(r, QMP_ERR_GENERIC, "getfd: more than %d named fds; closefd some first",
			QMP_MAX_NAMED_FDS);
}

int qmp_cmd_closefd(struct qmp_req *r)
{
	const char *name = qmp_arg_str(r, "fdname");
	int fd = qmp_fd_take(name);

	if (fd < 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "File descriptor named '%s' not found", name);
	close(fd);
	return 0;
}
