// SPDX-License-Identifier: MulanPSL-2.0
/* I/O threads and the evloop's thread safety. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/iothread.h"

/* ---- stand-ins for the machine ---- */

static const struct vm_device_ops *registered[4];
static int nr_registered;

void vm_device_register(const struct vm_device_ops *ops)
{
	if (nr_registered < 4)
		registered[nr_registered++] = ops;
}

static const struct vm_device_ops *find_ops(const char *name)
{
	for (int i = 0; i < nr_registered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

/* ---- helpers ---- */

static void read_comm(pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/*
 * A stopped I/O thread does not exit (util/park.h): it sits in FUTEX_WAIT
 * for ever, and its loop no longer runs.  /proc/self/task/TID/syscall starts
 * with the number of the syscall it is blocked in (202 on x86-64, 98 on
 * aarch64: futex).  Allow it a second to get there.
 */
/*
 * Under qemu-user (the aarch64 build's tests on an x86-64 host) the file
 * shows the host's own syscall: x86-64's futex is 202.
 */
#if defined(__aarch64__)
#define HOST_FUTEX 202
#else
#define HOST_FUTEX SYS_futex
#endif

static bool task_parked(pid_t tid)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		bool in_futex = false;

		if (f) {
			in_futex = fgets(buf, sizeof(buf), f) &&
				   (atoi(buf) == SYS_futex || atoi(buf) == HOST_FUTEX);
			fclose(f);
		}
		if (in_futex)
			return true;
		usleep(1000);
	}
	return false;
}

/* Any thread (so no cmocka assert inside). */
static bool signal_efd(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one);
}

static void drain_efd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

static int sem_wait_ms(sem_t *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(s, &ts) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* ---- start / stop ---- */

static void test_start_stop(void **state)
{
	struct iothread *t;
	char comm[32];
	pid_t tid;

	(void)state;
	assert_int_equal(iothread_create("io1", &t), 0);
	tid = iothread_get_tid(t);
	assert_true(tid > 0);
	assert_int_not_equal(tid, gettid());
	assert_string_equal(iothread_get_id(t), "io1");
	read_comm(tid, comm, sizeof(comm));
	assert_string_equal(comm, "iothread-io1");
	iothread_stop(t);
	assert_true(task_parked(tid));
	iothread_stop(t); /* idempotent */
	iothread_destroy(t);
}

static void test_long_id_name_truncated(void **state)
{
	struct iothread *t;
	char comm[32];

	(void)state;
	assert_int_equal(iothread_create("a-rather-long-iothread-id", &t), 0);
	read_comm(iothread_get_tid(t), comm, sizeof(comm));
	assert_string_equal(comm, "iothread-a-rath");
	iothread_destroy(t);
}

/* ---- a handler runs on the I/O thread ---- */

struct on_thread {
	int efd;
	pid_t tid;
	char name[16];
	sem_t done;
};

static void record_thread(void *opaque, uint32_t events)
{
	struct on_thread *o = opaque;

	(void)events;
	drain_efd(o->efd);
	o->tid = gettid();
	pthread_getname_np(pthread_self(), o->name, sizeof(o->name));
	sem_post(&o->done);
}

static void test_handler_runs_on_iothread(void **state)
{
	struct on_thread o = {0};
	struct iothread *t;

	(void)state;
	sem_init(&o.done, 0, 0);
	o.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(o.efd >= 0);
	assert_int_equal(iothread_create("io2", &t), 0);
	/* added from this thread while the loop already waits in epoll_wait */
	assert_int_equal(evloop_add(iothread_get_loop(t), o.efd, EPOLLIN, record_thread, &o), 0);
	assert_true(signal_efd(o.efd));
	assert_int_equal(sem_wait_ms(&o.done, 5000), 0);
	assert_int_equal(o.tid, iothread_get_tid(t));
	assert_int_not_equal(o.tid, gettid());
	assert_string_equal(o.name, "iothread-io2");
	assert_int_equal(evloop_del(iothread_get_loop(t), o.efd), 0);
	iothread_destroy(t);
	close(o.efd);
	sem_destroy(&o.done);
}

/* ---- add/del from other threads while the loop runs ---- */

#define CHURN_THREADS 4
#define CHURN_ROUNDS  500

struct churn {
	struct evloop *loop;
	int efd;
	atomic_int calls;
	sem_t done;
	int failures;
};

static void churn_handler(void *opaque, uint32_t events)
{
	struct churn *c = opaque;

	(void)events;
	drain_efd(c->efd);
	atomic_fetch_add(&c->calls, 1);
	sem_post(&c->done);
}

static void *churn_main(void *opaque)
{
	struct churn *c = opaque;

	for (int i = 0; i < CHURN_ROUNDS; i++) {
		c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (c->efd < 0 || evloop_add(c->loop, c->efd, EPOLLIN, churn_handler, c) < 0) {
			c->failures++;
			break;
		}
		if (!signal_efd(c->efd) || sem_wait_ms(&c->done, 5000) < 0)
			c->failures++;
		if (evloop_del(c->loop, c->efd) < 0)
			c->failures++;
		close(c->efd);
	}
	return NULL;
}

static void test_add_del_while_running(void **state)
{
	struct churn c[CHURN_THREADS];
	pthread_t th[CHURN_THREADS];
	struct iothread *t;

	(void)state;
	assert_int_equal(iothread_create("churn", &t), 0);
	for (int i = 0; i < CHURN_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].loop = iothread_get_loop(t);
		sem_init(&c[i].done, 0, 0);
		assert_int_equal(pthread_create(&th[i], NULL, churn_main, &c[i]), 0);
	}
	for (int i = 0; i < CHURN_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(c[i].failures, 0);
		assert_int_equal(atomic_load(&c[i].calls), CHURN_ROUNDS);
		sem_destroy(&c[i].done);
	}
	/* a duplicate or unknown fd is refused */
	{
		int fd = eventfd(0, EFD_CLOEXEC);

		assert_int_equal(
		    evloop_add(iothread_get_loop(t), fd, EPOLLIN, churn_handler, &c[0]), 0);
		assert_int_equal(
		    evloop_add(iothread_get_loop(t), fd, EPOLLIN, churn_handler, &c[0]), -EEXIST);
		assert_int_equal(evloop_del(iothread_get_loop(t), fd), 0);
		assert_int_equal(evloop_del(iothread_get_loop(t), fd), -ENOENT);
		close(fd);
	}
	iothread_destroy(t);
}

/* ---- an entry removed during the batch that fetched its event ---- */

struct pair {
	struct evloop *loop;
	int fd[2];
	int calls[2];
	int newfd;
	int stale_calls;
	int failures; /* handlers run on the loop thread: no cmocka asserts there */
};

static struct pair pair;

static void stale_handler(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
	pair.stale_calls++;
}

/* Whichever runs first removes the other and reuses its slot for a new fd. */
static void pair_handler(void *opaque, uint32_t events)
{
	int me = (int)(intptr_t)opaque, other = !me;

	(void)events;
	pair.calls[me]++;
	drain_efd(pair.fd[me]);
	if (pair.fd[other] < 0)
		return;
	if (evloop_del(pair.loop, pair.fd[other]) < 0)
		pair.failures++;
	close(pair.fd[other]);
	pair.fd[other] = -1;
	pair.newfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (evloop_add(pair.loop, pair.newfd, EPOLLIN, stale_handler, NULL) < 0)
		pair.failures++;
}

static void *run_loop(void *opaque)
{
	evloop_run(opaque);
	return NULL;
}

static void test_removed_during_batch(void **state)
{
	pthread_t th;

	(void)state;
	memset(&pair, 0, sizeof(pair));
	pair.newfd = -1;
	pair.loop = evloop_new();
	assert_non_null(pair.loop);
	for (int i = 0; i < 2; i++) {
		pair.fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_int_equal(
		    evloop_add(pair.loop, pair.fd[i], EPOLLIN, pair_handler, (void *)(intptr_t)i),
		    0);
		/* both ready before the loop runs: one epoll_wait batch fetches both */
		assert_true(signal_efd(pair.fd[i]));
	}
	assert_int_equal(pthread_create(&th, NULL, run_loop, pair.loop), 0);
	usleep(100 * 1000);
	evloop_stop(pair.loop);
	pthread_join(th, NULL);
	assert_int_equal(pair.calls[0] + pair.calls[1], 1);
	assert_int_equal(pair.stale_calls, 0);
	assert_int_equal(pair.failures, 0);
	for (int i = 0; i < 2; i++)
		if (pair.fd[i] >= 0) {
			evloop_del(pair.loop, pair.fd[i]);
			close(pair.fd[i]);
		}
	evloop_del(pair.loop, pair.newfd);
	close(pair.newfd);
	evloop_free(pair.loop);
}

/* ---- timers: the loop's epoll timeout, no timerfd ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct {
	atomic_int calls[2];
	uint64_t at[2]; /* when each timer last ran */
	int order[4], nr_order;
	int rearm; /* timer 0 re-arms itself this many times */
	struct evloop_timer t[2];
	pthread_t loop_thread;
	int wrong_thread;
} tm;

static void timer_fn(void *opaque)
{
	int i = (int)(intptr_t)opaque;

	if (!pthread_equal(pthread_self(), tm.loop_thread))
		tm.wrong_thread++;
	tm.at[i] = mono_ns();
	if (tm.nr_order < 4)
		tm.order[tm.nr_order++] = i;
	atomic_fetch_add(&tm.calls[i], 1);
	if (i == 0 && tm.rearm > 0) {
		tm.rearm--;
		evloop_timer_arm(&tm.t[0], 10 * 1000000ULL);
	}
}

static struct evloop *timer_loop_start(void)
{
	struct evloop *loop = evloop_new();

	assert_non_null(loop);
	memset(&tm, 0, sizeof(tm));
	for (int i = 0; i < 2; i++)
		evloop_timer_add(loop, &tm.t[i], timer_fn, (void *)(intptr_t)i);
	assert_int_equal(pthread_create(&tm.loop_thread, NULL, run_loop, loop), 0);
	usleep(20 * 1000); /* the loop sleeps in epoll_wait with no timeout */
	return loop;
}

static void timer_loop_stop(struct evloop *loop)
{
	evloop_stop(loop);
	pthread_join(tm.loop_thread, NULL);
	for (int i = 0; i < 2; i++)
		evloop_timer_del(&tm.t[i]);
	evloop_free(loop);
}

/* Armed from another thread: the loop wakes, recomputes its timeout, runs it once. */
static void test_timer_fires_once_after_deadline(void **state)
{
	struct evloop *loop = timer_loop_start();
	uint64_t t0 = mono_ns();

	(void)state;
	evloop_timer_arm(&tm.t[0], 50 * 1000000ULL);
	assert_true(evloop_timer_armed(&tm.t[0]));
	usleep(300 * 1000);
	assert_int_equal(atomic_load(&tm.calls[0]), 1);
	assert_false(evloop_timer_armed(&tm.t[0]));
	assert_true(tm.at[0] - t0 >= 50 * 1000000ULL);
	assert_true(tm.at[0] - t0 < 250 * 1000000ULL);
	assert_int_equal(atomic_load(&tm.calls[1]), 0);
	assert_int_equal(tm.wrong_thread, 0);
	timer_loop_stop(loop);
}

/* The earlier deadline runs first; a disarmed timer never runs; re-arming repeats it. */
static void test_timer_order_disarm_rearm(void **state)
{
	struct evloop *loop = timer_loop_start();

	(void)state;
	evloop_timer_arm(&tm.t[1], 80 * 1000000ULL);
	evloop_timer_arm(&tm.t[0], 20 * 1000000ULL);
	usleep(200 * 1000);
	assert_int_equal(tm.nr_order, 2);
	assert_int_equal(tm.order[0], 0);
	assert_int_equal(tm.order[1], 1);

	evloop_timer_arm(&tm.t[1], 30 * 1000000ULL);
	evloop_timer_disarm(&tm.t[1]);
	tm.rearm = 3;
	evloop_timer_arm(&tm.t[0], 10 * 1000000ULL);
	usleep(300 * 1000);
	assert_int_equal(atomic_load(&tm.calls[1]), 1); /* only the first round's */
	assert_int_equal(atomic_load(&tm.calls[0]), 1 + 4);
	assert_false(evloop_timer_armed(&tm.t[0]));
	assert_int_equal(tm.wrong_thread, 0);
	timer_loop_stop(loop);
}

/* ---- the VM's threads, as the machine creates and tears them down ---- */

static void test_vm_iothreads(void **state)
{
	const struct vm_device_ops *start = find_ops("iothread");
	const struct vm_device_ops *join = find_ops("iothread-join");
	char id_a[] = "a", id_b[] = "b";
	struct vm_config cfg;
	struct vm vm;
	struct evloop *a, *b;
	pid_t tids[2] = {0};
	int n = 0;
	char comm[32];

	(void)state;
	assert_non_null(start);
	assert_non_null(join);
	/* threads before every device; joined before every device exit */
	assert_true(start->order < 10);
	assert_true(join->order > 1000);

	memset(&cfg, 0, sizeof(cfg));
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &cfg;
	assert_int_equal(start->init(&vm), 1); /* none configured */
	assert_null(iothread_loop(&vm, "a"));
	start->exit(&vm);

	cfg.iothreads[0] = id_a;
	cfg.iothreads[1] = id_b;
	cfg.nr_iothreads = 2;
	assert_int_equal(start->init(&vm), 0);
	a = iothread_loop(&vm, "a");
	b = iothread_loop(&vm, "b");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_null(iothread_loop(&vm, "c"));
	assert_null(iothread_loop(&vm, NULL));

	/* the threads exist under their names */
	{
		DIR *dir = opendir("/proc/self/task");
		struct dirent *de;

		assert_non_null(dir);
		while ((de = readdir(dir)) && n < 2) {
			pid_t tid = atoi(de->d_name);

			if (tid <= 0)
				continue;
			read_comm(tid, comm, sizeof(comm));
			if (!strcmp(comm, "iothread-a") || !strcmp(comm, "iothread-b"))
				tids[n++] = tid;
		}
		closedir(dir);
	}
	assert_int_equal(n, 2);

	join->exit(&vm); /* vm_destroy: first exit */
	assert_true(task_parked(tids[0]));
	assert_true(task_parked(tids[1]));
	/* a device exit may still remove its fds from a stopped thread's loop */
	{
		int fd = eventfd(0, EFD_CLOEXEC);

		assert_int_equal(evloop_add(a, fd, EPOLLIN, stale_handler, NULL), 0);
		assert_int_equal(evloop_del(a, fd), 0);
		close(fd);
	}
	start->exit(&vm); /* last exit */
	assert_null(iothread_loop(&vm, "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_stop),
	    cmocka_unit_test(test_long_id_name_truncated),
	    cmocka_unit_test(test_handler_runs_on_iothread),
	    cmocka_unit_test(test_add_del_while_running),
	    cmocka_unit_test(test_removed_during_batch),
	    cmocka_unit_test(test_timer_fires_once_after_deadline),
	    cmocka_unit_test(test_timer_order_disarm_rearm),
	    cmocka_unit_test(test_vm_iothreads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
