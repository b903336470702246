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
 *
 * Timers are a list under the same mutex: the loop sleeps in epoll_wait until
 * the earliest deadline and runs what is due after each batch; an arm from
 * another thread wakes it through the stop eventfd (drained by the loop).
 * Devices used to have a timerfd each; this keeps timerfd_settime off every
 * seccomp list.
 */
#include "util/evloop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/monotonic.h"

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
	atomic_bool running;
	pthread_t owner;      /* the thread in evloop_run(), once running */
	pthread_mutex_t lock; /* entries, timers */
	struct ev_entry entries[EVLOOP_MAX_HANDLERS];
	struct evloop_timer *timers;
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

static void loop_wake(struct evloop *loop)
{
	uint64_t one = 1;

	if (write(loop->stop_efd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the loop wakes anyway */
	}
}

/* epoll_wait's timeout: until the earliest deadline, rounded up; -1: none. */
static int next_timeout(struct evloop *loop)
{
	uint64_t first = 0, now;

	pthread_mutex_lock(&loop->lock);
	for (struct evloop_timer *t = loop->timers; t; t = t->next)
		if (t->deadline && (!first || t->deadline < first))
			first = t->deadline;
	pthread_mutex_unlock(&loop->lock);
	if (!first)
		return -1;
	now = monotonic_ns();
	if (first <= now)
		return 0;
	if ((first - now) / 1000000ULL >= INT_MAX)
		return INT_MAX;
	return (int)((first - now + 999999ULL) / 1000000ULL);
}

/* Runs each due timer once (disarmed first: its handler may re-arm it). */
static void run_timers(struct evloop *loop)
{
	bool armed = false;
	uint64_t now;

	/* no clock read when nothing is armed (the common case) */
	pthread_mutex_lock(&loop->lock);
	for (struct evloop_timer *t = loop->timers; t && !armed; t = t->next)
		armed = t->deadline != 0;
	pthread_mutex_unlock(&loop->lock);
	if (!armed)
		return;
	now = monotonic_ns();
	while (!atomic_load(&loop->stop)) {
		ev_timer_fn fn = NULL;
		void *opaque = NULL;

		pthread_mutex_lock(&loop->lock);
		for (struct evloop_timer *t = loop->timers; t; t = t->next) {
			if (t->deadline && t->deadline <= now) {
				t->deadline = 0;
				fn = t->fn;
				opaque = t->opaque;
				break;
			}
		}
		pthread_mutex_unlock(&loop->lock);
		if (!fn)
			return;
		fn(opaque);
	}
}

int evloop_run(struct evloop *loop)
{
	struct epoll_event evs[EVLOOP_BATCH];

	loop->owner = pthread_self();
	atomic_store(&loop->running, true);
	while (!atomic_load(&loop->stop)) {
		int n = epoll_wait(loop->epfd, evs, EVLOOP_BATCH, next_timeout(loop));

		if (n < 0) {
			if (errno != EINTR)
				return -errno;
			n = 0;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stop); i++) {
			ev_handler_fn fn;
			void *opaque;
			uint64_t cnt;

			if (evs[i].data.u64 == STOP_TOKEN) {
				if (read(loop->stop_efd, &cnt, sizeof(cnt)) < 0) {
					/* EAGAIN: drained by an earlier batch */
				}
			} else if (entry_lookup(loop, evs[i].data.u64, &fn, &opaque)) {
				fn(opaque, evs[i].events);
			}
		}
		run_timers(loop);
	}
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	atomic_store(&loop->stop, true);
	loop_wake(loop);
}

bool evloop_stopped(struct evloop *loop)
{
	return atomic_load(&loop->stop);
}

void evloop_timer_add(struct evloop *loop, struct evloop_timer *t, ev_timer_fn fn, void *opaque)
{
	t->loop = loop;
	t->deadline = 0;
	t->fn = fn;
	t->opaque = opaque;
	pthread_mutex_lock(&loop->lock);
	t->next = loop->timers;
	loop->timers = t;
	pthread_mutex_unlock(&loop->lock);
}

static void timer_set(struct evloop_timer *t, uint64_t deadline)
{
	struct evloop *loop = t->loop;

	if (!loop)
		return; /* never added (a device whose set-up failed) */
	pthread_mutex_lock(&loop->lock);
	t->deadline = deadline;
	pthread_mutex_unlock(&loop->lock);
	/* the loop's own thread recomputes its timeout before it sleeps again */
	if (deadline &&
	    !(atomic_load(&loop->running) && pthread_equal(loop->owner, pthread_self())))
		loop_wake(loop);
}

void evloop_timer_arm(struct evloop_timer *t, uint64_t ns)
{
	timer_set(t, monotonic_ns() + ns);
}

void evloop_timer_disarm(struct evloop_timer *t)
{
	timer_set(t, 0);
}

bool evloop_timer_armed(struct evloop_timer *t)
{
	bool armed;

	if (!t->loop)
		return false;
	pthread_mutex_lock(&t->loop->lock);
	armed = t->deadline != 0;
	pthread_mutex_unlock(&t->loop->lock);
	return armed;
}

void evloop_timer_del(struct evloop_timer *t)
{
	struct evloop *loop = t->loop;

	if (!loop)
		return;
	pthread_mutex_lock(&loop->lock);
	for (struct evloop_timer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&loop->lock);
	t->loop = NULL;
	t->deadline = 0;
}
