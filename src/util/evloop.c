// SPDX-License-Identifier: MulanPSL-2.0
#include "util/evloop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVLOOP_MAX_HANDLERS 256

struct ev_entry {
	int fd;
	ev_handler_fn fn;
	void *opaque;
};

struct evloop {
	int epfd;
	int stop_efd;
	atomic_bool stop;
	struct ev_entry entries[EVLOOP_MAX_HANDLERS];
};

struct evloop *evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!loop)
		return NULL;
	for (int i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		loop->entries[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = NULL;
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
	free(loop);
}

static struct ev_entry *find_entry(struct evloop *loop, int fd)
{
	for (int i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		if (loop->entries[i].fd == fd)
			return &loop->entries[i];
	return NULL;
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, ev_handler_fn fn, void *opaque)
{
	struct ev_entry *e;
	struct epoll_event ev = { .events = events };

	if (fd < 0 || find_entry(loop, fd))
		return -EINVAL;
	e = find_entry(loop, -1);
	if (!e)
		return -ENOSPC;
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	e->fn = fn;
	e->opaque = opaque;
	e->fd = fd;
	return 0;
}

int evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct ev_entry *e = find_entry(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!e || fd < 0)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int evloop_del(struct evloop *loop, int fd)
{
	struct ev_entry *e = find_entry(loop, fd);

	if (!e || fd < 0)
		return -ENOENT;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->fd = -1;
	e->fn = NULL;
	return 0;
}

int evloop_run(struct evloop *loop)
{
	struct epoll_event evs[32];

	while (!atomic_load(&loop->stop)) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stop); i++) {
			struct ev_entry *e = evs[i].data.ptr;

			if (!e || e->fd < 0 || !e->fn)
				continue;
			e->fn(e->opaque, evs[i].events);
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
