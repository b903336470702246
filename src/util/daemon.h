/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_DAEMON_H
#define SV_UTIL_DAEMON_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>

/*
 * Detaches from the terminal.  The parent waits until the child calls
 * daemon_ready() (then exits 0) or exits itself (then exits with its status),
 * so start-up errors still reach the launcher.  Returns in the child only.
 */
int daemon_start(void);
void daemon_ready(void);

/*
 * The pidfile: a regular file, created or reused (only when it is empty or
 * holds a process id, and no process holds its lock), locked with fcntl() for
 * the VMM's lifetime.  A symbolic link, a device, a FIFO or a directory is
 * refused; so is a pidfile another process holds ("pidfile 'P' is in use by
 * process N").  pidfile_check() is the same test without touching the file,
 * for the pre-flight; pidfile_write() must run in the process that stays
 * (after daemon_start()), since fcntl locks are not inherited.  Both return 0
 * or a negative errno with one line in err.
 */
int pidfile_check(const char *path, char *err, size_t errlen);
int pidfile_write(const char *path, char *err, size_t errlen);
/* Unlinks the pidfile only if the path is still our file (same dev/inode). */
void pidfile_remove(void);

/*
 * SIGTERM, SIGINT and SIGHUP are blocked from the start (before any thread)
 * and read by a signalfd once the VM runs; during start-up, this tells
 * whether one is waiting, so that start-up stops and cleans up.
 */
void stop_signals_block(void);

static inline bool stop_signal_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return false;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
	       sigismember(&pending, SIGHUP) == 1;
}

#endif
