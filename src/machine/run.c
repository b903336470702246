// SPDX-License-Identifier: MulanPSL-2.0
/* The main thread's loop: shutdown requests and signals. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "machine/machine.h"
#include "machine/qmp_vm.h"
#include "machine/seccomp_policy.h"
#include "util/log.h"

static void on_shutdown(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	(void)events;
	if (read(vm->shutdown_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("shutdown eventfd: %s", strerror(errno));
	qmp_vm_shutdown_event(vm);
	evloop_stop(vm->loop);
}

struct signal_ctx {
	struct vm *vm;
	int fd;
};

static void on_signal(void *opaque, uint32_t events)
{
	struct signal_ctx *ctx = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(ctx->fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("received signal %u, shutting down", si.ssi_signo);
	vm_request_shutdown(ctx->vm, SHUTDOWN_HOST_SIGNAL, 0);
}

int vm_run(struct vm *vm)
{
	struct signal_ctx sig = {.vm = vm, .fd = -1};
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so every thread inherits it. */
	sig.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig.fd < 0)
		return 1;
	ret = evloop_add(vm->loop, sig.fd, EPOLLIN, on_signal, &sig);
	if (!ret)
		ret = evloop_add(vm->loop, vm->shutdown_efd, EPOLLIN, on_shutdown, vm);
	/* everything is open: the main thread's filter goes on before QMP reads a byte */
	if (!ret && seccomp_policy_install(&sc_policy_main, "main") < 0) {
		evloop_del(vm->loop, sig.fd);
		close(sig.fd);
		vm_stop_vcpus(vm);
		return 1;
	}
	/*
	 * Start-up is over: hand the free heap back.  Building the seccomp
	 * filters (here, and in the vCPU threads started just before) leaves
	 * 30-50 KiB of freed memory resident in the one malloc arena; the
	 * trim's madvise and brk are on every list (docs/benchmarks.md).
	 */
	malloc_trim(0);
	if (!ret && vm_get_state(vm) == VM_SHUTDOWN)
		evloop_stop(vm->loop);
	if (!ret)
		ret = evloop_run(vm->loop);
	evloop_del(vm->loop, sig.fd);
	close(sig.fd);
	vm_stop_vcpus(vm);
	if (ret < 0) {
		fprintf(stderr, "stratovirt: event loop failed: %s\n", strerror(-ret));
		return 1;
	}
	return vm->shutdown_status;
}
