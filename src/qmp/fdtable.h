/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_FDTABLE_H
#define SV_QMP_FDTABLE_H

/* fds a client passed with getfd, by name, until a command takes them. */

#include <stdbool.h>

#define QMP_MAX_NAMED_FDS 64

/* Removes the fd named name from the table and returns it, or -ENOENT. */
int qmp_fd_take(const char *name);
bool qmp_fd_exists(const char *name);
/* The fd named name, left in the table, or -ENOENT. */
int qmp_fd_get(const char *name);
/* true when fd is one of the table's. */
bool qmp_fd_held(int fd);
/* Closes every fd in the table. */
void qmp_fd_clear(void);

#endif
