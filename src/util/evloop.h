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

#endif
