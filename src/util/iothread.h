/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_IOTHREAD_H
#define SV_UTIL_IOTHREAD_H

#include <sys/types.h>

/*
 * I/O threads (-object iothread,id=X): each is a thread named "iothread-X"
 * (cut to the 15 characters Linux keeps) running its own evloop.  Devices
 * created with iothread=X register their fds on that loop, so their queues
 * and completions are served there instead of on the main thread.
 *
 * The VM's threads are started by a device init at order 5, before any
 * device, and stopped and joined before the first device exit runs: no
 * handler runs on an I/O thread while devices are torn down, and no thread
 * outlives the VM.
 */

struct evloop;
struct iothread;
struct vm;

/* Starts a thread running a fresh loop; returns once it runs.  0 or -errno. */
int iothread_create(const char *id, struct iothread **out);
/* Stops the loop and joins the thread (idempotent). */
void iothread_stop(struct iothread *t);
/* Stops if needed and frees the loop. */
void iothread_destroy(struct iothread *t);
struct evloop *iothread_get_loop(const struct iothread *t);
const char *iothread_get_id(const struct iothread *t);
/* The thread's kernel tid (for /proc/self/task/TID). */
pid_t iothread_get_tid(const struct iothread *t);

/*
 * The VM's I/O threads (-object iothread) wait before their loops until
 * this: each calls before_loop(its name) (its seccomp filter; NULL: none)
 * and then runs its loop.  Returns the first error of before_loop.
 */
int iothreads_release(struct vm *vm, int (*before_loop)(const char *name));
/* One thread (iothread_create()'s are released already); idem. */
int iothread_release(struct iothread *t, int (*before_loop)(const char *name));

/* The loop of the VM's I/O thread id, or NULL if there is none. */
struct evloop *iothread_loop(struct vm *vm, const char *id);

#endif
