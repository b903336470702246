/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_JAIL_H
#define SV_MACHINE_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

/* -jail or -rlimit given */
bool jail_wanted(const struct jail_config *j);
/*
 * pidns=on: before any thread exists.  Returns 0 or -errno; *child is the
 * child's pid in the parent (which then only calls jail_supervise()), 0 in
 * the child and without pidns.
 */
int jail_pidns_fork(const struct jail_config *j, pid_t *child);
/* The parent: pass stop signals on, return the child's exit status. */
int jail_supervise(pid_t child);
/* Main thread, everything open: rlimits, namespaces, new root.  0 or -errno (printed). */
int jail_enter(const struct jail_config *j);
/* Every thread alive at that point (main last): namespaces, ids, capabilities. */
int jail_enter_thread(void);
/* Once every thread has entered. */
void jail_done(void);

#endif
