/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_DAEMON_H
#define SV_UTIL_DAEMON_H

/*
 * Detaches from the terminal.  The parent waits until the child calls
 * daemon_ready() (then exits 0) or exits itself (then exits with its status),
 * so start-up errors still reach the launcher.  Returns in the child only.
 */
int daemon_start(void);
void daemon_ready(void);

int pidfile_write(const char *path);
void pidfile_remove(const char *path);

#endif
