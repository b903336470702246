// SPDX-License-Identifier: MulanPSL-2.0
#include "machine/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"
#include "machine/seccomp_policy.h"
#include "machine/vm.h"
#include "util/log.h"

#define SIG_VCPU_KICK	SIGUSR1
#define VCPU_STACK_SIZE (512 * 1024)

static __thread struct vcpu *current_vcpu;
static pid_t vmm_pid; /* for tgkill: pthread_kill would ask getpid() on every kick */

static void kick_handler(int sig)
{
	(void)sig;
	if (current_vcpu)
		current_vcpu->run->immediate_exit = 1;
}

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *vcpu)
{
	static bool handler_installed;

	memset(vcpu, 0, sizeof(*vcpu));
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
	if (!handler_installed) {
		struct sigaction sa = {.sa_handler = kick_handler};

		sigemptyset(&sa.sa_mask);
		sigaction(SIG_VCPU_KICK, &sa, NULL);
		handler_installed = true;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run && vcpu->run != MAP_FAILED)
		munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
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
	sigset_t set;

	current_vcpu = vcpu;
	atomic_store(&vcpu->tid, (int)syscall(SYS_gettid));
	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* before the guest runs a single instruction on this vCPU */
	if (seccomp_policy_install(&sc_policy_vcpu, name) < 0) {
		vm_request_shutdown(vcpu->vm, SHUTDOWN_ERROR, 1);
		return NULL;
	}

	while (wait_runnable(vcpu)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			vcpu->run->immediate_exit = 0;
			if (err == EINTR || err == EAGAIN)
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
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
