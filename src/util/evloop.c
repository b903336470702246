// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The entry table is shared between the loop's thread (dispatch) and any
 * thread that adds or removes fds, so it is guarded by a mutex that is never
 * held while a handler runs (handlers may add and remove fds themselves).
 *
 * epoll carries (generation << 32 | slot) rather than a pointer: an event
 * fetched in a batch whose entry was removed, or whose slot was reused for
 * another fd, by an earlier handler of the same batch (or another thread)
 * no longer matches the slot's generation and is dropped.
 */
#include "util/evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVLOOP_MAX_HANDLERS 256
#define EVLOOP_BATCH	    32
#define STOP_TOKEN	    UINT64_MAX

struct ev_entry {
	int fd;
	uint32_t gen;
	ev_handler_fn fn;
	void *opaque;
};

struct evloop {
	int epfd;
	int stop_efd;
	atomic_bool stop;
	pthread_mutex_t lock; /* entries */
	struct ev_entry entries[EVLOOP_MAX_HANDLERS];
};

static uint64_t entry_token(struct evloop *loop, struct ev_entry *e)
{
	return (uint64_t)e->gen << 32 | (uint64_t)(e - loop->entries);
}

struct evloop *evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_TOKEN};

	if (!loop)
		return NULL;
	pthread_mutex_init(&loop->lock, NULL);
	for (int i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		loop->entries[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_efd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_efd, &ev) < 0) {
		evloop_free(loop);
		return NULL;
	}
	return loop;
}

void evloop_free(struct evloop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stop_efd >= 0)
		close(loop->stop_efd);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

/* Lock held. */
static struct ev_entry *find_entry(struct evloop *loop, int fd)
{
	for (int i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		if (loop->entries[i].fd == fd)
			return &loop->entries[i];
	return NULL;
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, ev_handler_fn fn, void *opaque)
{
	struct epoll_event ev = {.events = events};
	struct ev_entry *e;
	int ret = 0;

	if (fd < 0 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&loop->lock);
	if (find_entry(loop, fd)) {
		ret = -EEXIST;
		goto out;
	}
	e = find_entry(loop, -1);
	if (!e) {
		ret = -ENOSPC;
		goto out;
	}
	e->gen++;
	ev.data.u64 = entry_token(loop, e);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		goto out;
	}
	e->fn = fn;
	e->opaque = opaque;
	e->fd = fd;
out:
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};
	struct ev_entry *e;
	int ret = 0;

	if (fd < 0)
		return -ENOENT;
	pthread_mutex_lock(&loop->lock);
	e = find_entry(loop, fd);
	if (!e) {
		ret = -ENOENT;
	} else {
		ev.data.u64 = entry_token(loop, e);
		if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			ret = -errno;
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_del(struct evloop *loop, int fd)
{
	struct ev_entry *e;
	int ret = 0;

	if (fd < 0)
		return -ENOENT;
	pthread_mutex_lock(&loop->lock);
	e = find_entry(loop, fd);
	if (!e) {
		ret = -ENOENT;
	} else {
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		e->fd = -1;
		e->gen++;
		e->fn = NULL;
		e->opaque = NULL;
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

/* Copies out the handler for a fetched event, or returns false if it went stale. */
static bool entry_lookup(struct evloop *loop, uint64_t token, ev_handler_fn *fn, void **opaque)
{
	uint32_t slot = (uint32_t)token, gen = (uint32_t)(token >> 32);
	struct ev_entry *e;
	bool live;

	if (token == STOP_TOKEN || slot >= EVLOOP_MAX_HANDLERS)
		return false;
	pthread_mutex_lock(&loop->lock);
	e = &loop->entries[slot];
	live = e->fd >= 0 && e->gen == gen && e->fn;
	if (live) {
		*fn = e->fn;
		*opaque = e->opaque;
	}
	pthread_mutex_unlock(&loop->lock);
	return live;
}

int evloop_run(struct evloop *loop)
{
	struct epoll_event evs[EVLOOP_BATCH];

	while (!atomic_load(&loop->stop)) {
		int n = epoll_wait(loop->epfd, evs, EVLOOP_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stop); i++) {
			ev_handler_fn fn;
			void *opaque;

			if (entry_lookup(loop, evs[i].data.u64, &fn, &opaque))
				fn(opaque, evs[i].events);
		}
	}
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	uint64_t one = 1;

	atomic_store(&loop->stop, true);
	if (write(loop->stop_efd, &one, sizeof(one)) < 0) {
		/* the flag alone is enough once epoll_wait returns */
	}
}

bool evloop_stopped(struct evloop *loop)
{
	return atomic_load(&loop->stop);
}
