/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_PARK_H
#define SV_UTIL_PARK_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Threads that end without exit(2): a vCPU or I/O thread whose work is done
 * sets its flag and blocks in FUTEX_WAIT for ever; the thread that would have
 * joined it waits for the flag instead, and the process ends (exit_group)
 * with the parked threads in it.  glibc's thread exit would need exit(2) and
 * rt_sigprocmask(2), two syscalls no seccomp filter then has to allow
 * (docs/security.md).  The flag may be freed once thread_wait_parked()
 * returns: the parked thread touches only a static word after that.
 */
static inline void thread_park(atomic_int *done)
{
	static atomic_int never;

	atomic_store(done, 1);
	syscall(SYS_futex, done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (;;) /* a kick (SIGUSR1) only interrupts the wait */
		syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static inline void thread_wait_parked(atomic_int *done)
{
	while (!atomic_load(done))
		syscall(SYS_futex, done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

#endif
