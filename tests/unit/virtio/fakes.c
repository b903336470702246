// SPDX-License-Identifier: MulanPSL-2.0
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "fakes.h"
#include "util/iothread.h"
#include "util/log.h"

char fake_last_err[512];
int fake_nr_errs;
int fake_irq_pulses;
const struct vm_device_ops *fake_devices[8];
int fake_nr_devices;

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(fake_last_err, sizeof(fake_last_err), fmt, ap);
	va_end(ap);
	fake_nr_errs++;
}

/* User-facing errors are recorded the same way, so tests can check them. */
void user_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_last_err, sizeof(fake_last_err), fmt, ap);
	va_end(ap);
	fake_nr_errs++;
}

static int next_slot;

int vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, uint32_t *irq)
{
	(void)vm;
	if (next_slot >= 16)
		return -ENOSPC;
	*base = 0xf0100000ULL + 0x200ULL * next_slot;
	*irq = 5 + next_slot;
	next_slot++;
	return 0;
}

int vm_irq_pulse(struct vm *vm, uint32_t gsi)
{
	(void)vm;
	(void)gsi;
	fake_irq_pulses++;
	return 0;
}

static struct {
	uint64_t base;
	void *opaque;
} ranges[32];
static int nr_ranges;

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque,
		 const char *name)
{
	(void)bus, (void)len, (void)fn, (void)name;
	for (int i = 0; i < nr_ranges; i++) {
		if (ranges[i].base == base) {
			ranges[i].opaque = opaque;
			return 0;
		}
	}
	if (nr_ranges < 32) {
		ranges[nr_ranges].base = base;
		ranges[nr_ranges].opaque = opaque;
		nr_ranges++;
	}
	return 0;
}

void *fake_bus_find(uint64_t base)
{
	for (int i = 0; i < nr_ranges; i++)
		if (ranges[i].base == base)
			return ranges[i].opaque;
	return NULL;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	(void)bus, (void)base;
	return 0;
}

void vm_device_register(const struct vm_device_ops *ops)
{
	if (fake_nr_devices < 8)
		fake_devices[fake_nr_devices++] = ops;
}

const struct vm_device_ops *fake_find_device(const char *name)
{
	for (int i = 0; i < fake_nr_devices; i++)
		if (!strcmp(fake_devices[i]->name, name))
			return fake_devices[i];
	return NULL;
}

#define MAX_FDS 64
static struct {
	int fd;
	uint32_t events; /* EPOLLIN / EPOLLOUT, as the device asked */
	ev_handler_fn fn;
	void *opaque;
} fds[MAX_FDS];
static int nr_fds;

int evloop_add(struct evloop *loop, int fd, uint32_t events, ev_handler_fn fn, void *opaque)
{
	(void)loop;
	if (nr_fds >= MAX_FDS)
		return -ENOSPC;
	fds[nr_fds].fd = fd;
	fds[nr_fds].events = events;
	fds[nr_fds].fn = fn;
	fds[nr_fds].opaque = opaque;
	nr_fds++;
	return 0;
}

int evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	(void)loop;
	for (int i = 0; i < nr_fds; i++) {
		if (fds[i].fd == fd) {
			fds[i].events = events;
			return 0;
		}
	}
	return -ENOENT;
}

int evloop_del(struct evloop *loop, int fd)
{
	(void)loop;
	for (int i = 0; i < nr_fds; i++) {
		if (fds[i].fd == fd) {
			fds[i] = fds[--nr_fds];
			return 0;
		}
	}
	return -ENOENT;
}

/* Timers: one list for every fake loop, run by fake_loop_run(). */
static struct evloop_timer *timers;

static uint64_t fake_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void evloop_timer_add(struct evloop *loop, struct evloop_timer *t, ev_timer_fn fn, void *opaque)
{
	*t = (struct evloop_timer){.loop = loop, .next = timers, .fn = fn, .opaque = opaque};
	timers = t;
}

void evloop_timer_arm(struct evloop_timer *t, uint64_t ns)
{
	t->deadline = fake_now_ns() + ns;
}

void evloop_timer_disarm(struct evloop_timer *t)
{
	t->deadline = 0;
}

bool evloop_timer_armed(struct evloop_timer *t)
{
	return t->deadline != 0;
}

void evloop_timer_del(struct evloop_timer *t)
{
	for (struct evloop_timer **pp = &timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->deadline = 0;
}

/* ms until the earliest timer (rounded up), -1: none armed */
static int timers_timeout(void)
{
	uint64_t first = 0, now = fake_now_ns();

	for (struct evloop_timer *t = timers; t; t = t->next)
		if (t->deadline && (!first || t->deadline < first))
			first = t->deadline;
	if (!first)
		return -1;
	return first <= now ? 0 : (int)((first - now + 999999ULL) / 1000000ULL);
}

/* Runs the due timers once each; returns how many ran. */
static int timers_run(void)
{
	uint64_t now = fake_now_ns();
	int ran = 0;

	for (;;) {
		struct evloop_timer *t = timers;

		while (t && !(t->deadline && t->deadline <= now))
			t = t->next;
		if (!t)
			return ran;
		t->deadline = 0;
		t->fn(t->opaque);
		ran++;
	}
}

/*
 * Every iothread id names one fake loop: the fake evloop_* above ignore the
 * loop, so such a device runs from fake_loop_run() like any other.
 */
static char fake_iothread;

struct evloop *iothread_loop(struct vm *vm, const char *id)
{
	(void)vm;
	return id ? (struct evloop *)&fake_iothread : NULL;
}

/*
 * Level-triggered like the real loop, with the events each fd was registered
 * for (a device that waits for EPOLLOUT only is not called for input), and
 * bounded: a handler that leaves its fd ready forever cannot hang a test.
 */
#define FAKE_LOOP_MAX_ROUNDS 1024

int fake_loop_run(int timeout_ms)
{
	int calls = 0;

	for (int round = 0; round < FAKE_LOOP_MAX_ROUNDS; round++) {
		struct pollfd p[MAX_FDS];
		int n = nr_fds, ready, wait = timeout_ms, t_ms = timers_timeout(), fired;

		for (int i = 0; i < n; i++) {
			short ev = 0;

			if (fds[i].events & EPOLLIN)
				ev |= POLLIN;
			if (fds[i].events & EPOLLOUT)
				ev |= POLLOUT;
			p[i] = (struct pollfd){.fd = fds[i].fd, .events = ev};
		}
		/* a timer due within timeout_ms ends the wait like a timerfd would */
		if (t_ms >= 0 && (wait < 0 || t_ms <= wait))
			wait = t_ms;
		ready = poll(p, n, wait);
		if (ready < 0)
			return calls;
		fired = timers_run();
		calls += fired;
		if (ready == 0 && !fired)
			return calls;
		for (int i = 0; i < n; i++) {
			uint32_t got = 0;

			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				got |= EPOLLIN;
			if (p[i].revents & POLLOUT)
				got |= EPOLLOUT;
			if (!got)
				continue;
			for (int j = 0; j < nr_fds; j++) {
				if (fds[j].fd == p[i].fd) {
					fds[j].fn(fds[j].opaque, got);
					calls++;
					break;
				}
			}
		}
	}
	return calls;
}

void fake_vm_init(struct vm *vm, void *ram, uint64_t size, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	gmem_init_flat(&vm->mem, ram, 0, size);
	next_slot = 0;
}
