/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_EVLOOP_H
#define SV_UTIL_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * An epoll loop.  Handlers run on the thread that calls evloop_run().
 *
 * evloop_add/mod/del may be called from any thread, before or while the loop
 * runs, and from a handler (its own fd or another).  An event fetched in the
 * same epoll_wait batch for an fd removed meanwhile is dropped.  When another
 * thread removes an fd, a handler call the loop had already started may still
 * be running when evloop_del() returns: keep opaque valid until the loop has
 * stopped, and let the handler check its state under its own lock.
 */
struct evloop;
typedef void (*ev_handler_fn)(void *opaque, uint32_t events);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *loop);
/* events: EPOLLIN/EPOLLOUT/... ; returns 0 or -errno (-EEXIST: fd already added) */
int evloop_add(struct evloop *loop, int fd, uint32_t events, ev_handler_fn fn, void *opaque);
int evloop_mod(struct evloop *loop, int fd, uint32_t events);
int evloop_del(struct evloop *loop, int fd);
/* Runs until evloop_stop(); returns 0 or -errno. */
int evloop_run(struct evloop *loop);
/* Safe from any thread or a signal handler. */
void evloop_stop(struct evloop *loop);
bool evloop_stopped(struct evloop *loop);

/*
 * One-shot timers run by the loop itself: evloop_run() sleeps in epoll_wait
 * until the earliest armed deadline (rounded up to the millisecond), so no
 * timerfd is needed (docs/security.md).  The caller owns the struct; fn runs
 * on the loop's thread like an fd handler.  Arm and disarm from any thread
 * (another thread's arm wakes the loop); as with fds, a call the loop had
 * already started may still run after a disarm from another thread.
 */
typedef void (*ev_timer_fn)(void *opaque);
struct evloop_timer {
	struct evloop *loop;
	struct evloop_timer *next;
	uint64_t deadline; /* CLOCK_MONOTONIC ns; 0: disarmed */
	ev_timer_fn fn;
	void *opaque;
};

void evloop_timer_add(struct evloop *loop, struct evloop_timer *t, ev_timer_fn fn, void *opaque);
/* Fires once, ns from now (0: at the loop's next turn); re-arming moves it. */
void evloop_timer_arm(struct evloop_timer *t, uint64_t ns);
void evloop_timer_disarm(struct evloop_timer *t);
bool evloop_timer_armed(struct evloop_timer *t);
/* Unlinks t (no-op if never added); the caller may free it once the loop has stopped. */
void evloop_timer_del(struct evloop_timer *t);

#endif
