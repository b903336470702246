// SPDX-License-Identifier: MulanPSL-2.0
#include "machine/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"
#include "machine/seccomp_policy.h"
#include "machine/vm.h"
#include "util/log.h"
#include "util/park.h"

#define SIG_VCPU_KICK	SIGUSR1
#define VCPU_STACK_SIZE (512 * 1024)

static pid_t vmm_pid; /* for tgkill: pthread_kill would ask getpid() on every kick */

/*
 * The kick (SIGUSR1, tgkill to the vCPU thread) is blocked in every thread
 * from the start (stop_signals_block()) and unblocked only while the vCPU is
 * in KVM_RUN (KVM_SET_SIGNAL_MASK): KVM_RUN then returns EINTR, or at once
 * when the kick came before it, and the pending signal is taken from the
 * thread's signalfd.  No handler ever runs, so no filter needs rt_sigreturn.
 */
static int kick_setup(struct vcpu *vcpu)
{
	union {
		struct kvm_signal_mask m;
		uint8_t buf[sizeof(struct kvm_signal_mask) + 8];
	} km;
	sigset_t cur, kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIG_VCPU_KICK);
	if (pthread_sigmask(SIG_BLOCK, &kick, &cur))
		return -EINVAL;
	vcpu->kick_fd = signalfd(-1, &kick, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vcpu->kick_fd < 0)
		return -errno;
	sigdelset(&cur, SIG_VCPU_KICK);
	km.m.len = 8; /* the kernel's sigset_t on x86-64 and aarch64 */
	memcpy(km.m.sigset, &cur, 8);
	if (ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &km.m) < 0)
		return -errno;
	return 0;
}

static void kick_take(struct vcpu *vcpu)
{
	struct signalfd_siginfo si;

	while (read(vcpu->kick_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *vcpu)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->kick_fd = -1;
	vmm_pid = getpid();
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = -errno;

		close(vcpu->fd);
		vcpu->fd = -1;
		return err;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run && vcpu->run != MAP_FAILED)
		munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	if (vcpu->kick_fd >= 0)
		close(vcpu->kick_fd);
	vcpu->fd = vcpu->kick_fd = -1;
	vcpu->run = NULL;
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->mmio.len > 8)
		return;
	if (!bus_dispatch(&vcpu->vm->mmio_bus, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			  run->mmio.is_write))
		pr_debug("vcpu%u: unclaimed mmio %s 0x%llx len %u", vcpu->id,
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_shutdown(vm,
				    run->system_event.type == KVM_SYSTEM_EVENT_CRASH
					? SHUTDOWN_ERROR
					: SHUTDOWN_GUEST_POWEROFF,
				    run->system_event.type == KVM_SYSTEM_EVENT_CRASH ? 1 : 0);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		arch_vcpu_dump_state(vcpu, run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
					       ? "KVM internal error: emulation failure"
					       : "KVM internal error");
		vm_request_shutdown(vm, SHUTDOWN_ERROR, 1);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		arch_vcpu_dump_state(vcpu, "KVM entry failure");
		vm_request_shutdown(vm, SHUTDOWN_ERROR, 1);
		return false;
	default: {
		char why[64];
		int ret = arch_handle_exit(vcpu);

		if (ret >= 0)
			return ret > 0;
		snprintf(why, sizeof(why), "unexpected KVM exit reason %u", run->exit_reason);
		arch_vcpu_dump_state(vcpu, why);
		vm_request_shutdown(vm, SHUTDOWN_ERROR, 1);
		return false;
	}
	}
}

/* Blocks while the VM is paused; false once it is shutting down. */
static bool wait_runnable(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool ok;

	pthread_mutex_lock(&vm->lock);
	while (vm->state == VM_PAUSED || vm->state == VM_CREATED)
		pthread_cond_wait(&vm->cond, &vm->lock);
	ok = vm->state == VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];
	int err;

	atomic_store(&vcpu->tid, (int)syscall(SYS_gettid));
	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	err = kick_setup(vcpu);
	if (err < 0)
		pr_err("vcpu%u: kick set-up: %s", vcpu->id, strerror(-err));
	/* before the guest runs a single instruction on this vCPU */
	if (err < 0 || seccomp_policy_install(&sc_policy_vcpu, name) < 0) {
		vm_request_shutdown(vcpu->vm, SHUTDOWN_ERROR, 1);
		thread_park(&vcpu->parked);
	}

	while (wait_runnable(vcpu)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			err = errno;
			if (err == EINTR) {
				kick_take(vcpu);
				continue;
			}
			if (err == EAGAIN)
				continue;
			pr_err("vcpu%u: KVM_RUN failed: %s", vcpu->id, strerror(err));
			fprintf(stderr, "stratovirt: vcpu%u: KVM_RUN failed: %s\n", vcpu->id,
				strerror(err));
			vm_request_shutdown(vcpu->vm, SHUTDOWN_ERROR, 1);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	thread_park(&vcpu->parked); /* no thread exit: see util/park.h */
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	pthread_attr_t attr;
	int err;

	/* KVM_RUN and the device handlers need little stack: 8 MiB is waste. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	err = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (err)
		return -err;
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	int tid = atomic_load(&vcpu->tid);

	/* tid is set by the thread itself; until then it has not reached KVM_RUN */
	if (vcpu->started && tid > 0)
		syscall(SYS_tgkill, vmm_pid, tid, SIG_VCPU_KICK);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		thread_wait_parked(&vcpu->parked);
	vcpu->started = false;
}
