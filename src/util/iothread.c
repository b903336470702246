// SPDX-License-Identifier: MulanPSL-2.0
/* I/O threads: one named thread and one evloop each. */
#include "util/iothread.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/log.h"
#include "util/park.h"

#define IOTHREAD_NAME_MAX 16 /* TASK_COMM_LEN, with the NUL */

struct iothread {
	char *id;
	struct evloop *loop;
	pthread_t thread;
	bool joinable;
	atomic_int parked; /* the loop has ended (util/park.h) */
	pid_t tid;
	int run_ret;
	/* start-up handshake */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;
	/* the gate: the loop starts once iothreads_release() (or a stop) opens it */
	bool released;
	int (*before_loop)(const char *name);
	bool hook_done;
	int hook_ret;
};

static void *iothread_main(void *opaque)
{
	struct iothread *t = opaque;
	char name[IOTHREAD_NAME_MAX];

	snprintf(name, sizeof(name), "iothread-%s", t->id);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&t->lock);
	t->tid = gettid();
	t->running = true;
	pthread_cond_broadcast(&t->cond);
	/* the thread's own seccomp filter, once every fd is open (and the jail set) */
	while (!t->released)
		pthread_cond_wait(&t->cond, &t->lock);
	if (t->before_loop) {
		t->hook_ret = t->before_loop(name);
		t->hook_done = true;
		pthread_cond_broadcast(&t->cond);
	}
	pthread_mutex_unlock(&t->lock);
	if (t->hook_ret >= 0) {
		t->run_ret = evloop_run(t->loop);
		if (t->run_ret < 0)
			pr_err("iothread '%s': event loop failed: %s\n", t->id,
			       strerror(-t->run_ret));
	}
	thread_park(&t->parked); /* no thread exit: see util/park.h */
	return NULL;
}

static int iothread_start(const char *id, bool gated, struct iothread **out)
{
	struct iothread *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	int ret;

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->released = !gated;
	t->id = strdup(id);
	t->loop = evloop_new();
	if (!t->id || !t->loop) {
		ret = -ENOMEM;
		goto err;
	}
	/* Signals belong to the main thread's signalfd and the vCPUs' kicks. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&t->thread, NULL, iothread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		goto err;
	t->joinable = true;
	pthread_mutex_lock(&t->lock);
	while (!t->running)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	*out = t;
	return 0;
err:
	iothread_destroy(t);
	return ret;
}

int iothread_release(struct iothread *t, int (*before_loop)(const char *name))
{
	int ret;

	pthread_mutex_lock(&t->lock);
	if (t->released) {
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	t->before_loop = before_loop;
	t->released = true;
	pthread_cond_broadcast(&t->cond);
	while (before_loop && !t->hook_done)
		pthread_cond_wait(&t->cond, &t->lock);
	ret = t->hook_ret;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int iothread_create(const char *id, struct iothread **out)
{
	return iothread_start(id, false, out);
}

void iothread_stop(struct iothread *t)
{
	if (!t || !t->joinable)
		return;
	iothread_release(t, NULL);
	evloop_stop(t->loop);
	thread_wait_parked(&t->parked);
	t->joinable = false;
}

void iothread_destroy(struct iothread *t)
{
	if (!t)
		return;
	iothread_stop(t);
	evloop_free(t->loop);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->id);
	free(t);
}

struct evloop *iothread_get_loop(const struct iothread *t)
{
	return t->loop;
}

const char *iothread_get_id(const struct iothread *t)
{
	return t->id;
}

pid_t iothread_get_tid(const struct iothread *t)
{
	return t->tid;
}

/* ---- the VM's I/O threads (one VM a process) ---- */

static struct iothread *vm_threads[CFG_MAX_IOTHREADS];
static int nr_vm_threads;
static struct vm *threads_vm;

struct evloop *iothread_loop(struct vm *vm, const char *id)
{
	if (!id || vm != threads_vm)
		return NULL;
	for (int i = 0; i < nr_vm_threads; i++)
		if (!strcmp(vm_threads[i]->id, id))
			return vm_threads[i]->loop;
	return NULL;
}

int iothreads_release(struct vm *vm, int (*before_loop)(const char *name))
{
	if (vm != threads_vm)
		return 0;
	for (int i = 0; i < nr_vm_threads; i++) {
		int ret = iothread_release(vm_threads[i], before_loop);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static void iothreads_stop(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < nr_vm_threads; i++)
		iothread_stop(vm_threads[i]);
}

static void iothreads_free(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < nr_vm_threads; i++) {
		iothread_destroy(vm_threads[i]);
		vm_threads[i] = NULL;
	}
	nr_vm_threads = 0;
	threads_vm = NULL;
}

static int iothreads_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	if (cfg->nr_iothreads == 0)
		return 1;
	threads_vm = vm;
	for (int i = 0; i < cfg->nr_iothreads && i < CFG_MAX_IOTHREADS; i++) {
		/* the loop waits for iothreads_release() */
		int ret = iothread_start(cfg->iothreads[i], true, &vm_threads[i]);

		if (ret < 0) {
			user_err("iothread '%s': cannot start: %s\n", cfg->iothreads[i],
				 strerror(-ret));
			return ret; /* vm_destroy() runs the exits */
		}
		nr_vm_threads++;
	}
	return 0;
}

static int iothreads_join_init(struct vm *vm)
{
	(void)vm;
	return 1;
}

/* Threads start before the devices (order 5)... */
static const struct vm_device_ops iothread_vm_ops = {
    .name = "iothread",
    .order = 5,
    .init = iothreads_init,
    .exit = iothreads_free,
};
VM_DEVICE_REGISTER(iothread_vm_ops);

/* ...and, exits running in reverse order, are joined before any device exit. */
static const struct vm_device_ops iothread_join_ops = {
    .name = "iothread-join",
    .order = INT_MAX,
    .init = iothreads_join_init,
    .exit = iothreads_stop,
};
VM_DEVICE_REGISTER(iothread_join_ops);
