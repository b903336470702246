// SPDX-License-Identifier: MulanPSL-2.0
/* The VM: KVM objects, guest memory, devices, lifecycle. */
#include "machine/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "machine/machine.h"
#include "machine/vcpu.h"
#include "util/log.h"

#define MAX_DEVICE_OPS 64

static const struct vm_device_ops *device_ops[MAX_DEVICE_OPS];
static struct timespec process_start;

void vm_mark_process_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &process_start);
}

struct timespec vm_process_start_time(void)
{
	return process_start;
}

double vm_elapsed_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - process_start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - process_start.tv_nsec) / 1e6;
}
static int nr_device_ops;

void vm_device_register(const struct vm_device_ops *ops)
{
	int i;

	if (nr_device_ops == MAX_DEVICE_OPS)
		abort(); /* a build-time mistake, not a run-time condition */
	/* keep sorted by order */
	for (i = nr_device_ops; i > 0 && device_ops[i - 1]->order > ops->order; i--)
		device_ops[i] = device_ops[i - 1];
	device_ops[i] = ops;
	nr_device_ops++;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = arch_irq_line_number(gsi), .level = level};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

int vm_irq_pulse(struct vm *vm, uint32_t gsi)
{
	int ret = vm_irq_line(vm, gsi, 1);

	return ret ? ret : vm_irq_line(vm, gsi, 0);
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason, int status)
{
	uint64_t one = 1;
	bool first = false;

	pthread_mutex_lock(&vm->lock);
	if (vm->shutdown_reason == SHUTDOWN_NONE) {
		vm->shutdown_reason = reason;
		vm->shutdown_status = status;
		first = true;
	}
	vm->state = VM_SHUTDOWN;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (first && write(vm->shutdown_efd, &one, sizeof(one)) < 0)
		pr_err("cannot signal shutdown: %s", strerror(errno));
}

int vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, uint32_t *irq)
{
	int n = vm->nr_mmio_devs;
	struct mmio_dev_desc d;
	int ret;

	if (n >= (int)(sizeof(vm->mmio_devs) / sizeof(vm->mmio_devs[0])))
		return -ENOSPC;
	ret = arch_mmio_slot(n, &d.base, &d.size, &d.irq);
	if (ret < 0)
		return ret;
	vm->mmio_devs[n] = d;
	vm->nr_mmio_devs++;
	*base = d.base;
	*irq = d.irq;
	return 0;
}

static void set_state(struct vm *vm, enum vm_state state)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_SHUTDOWN)
		vm->state = state;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

enum vm_state vm_get_state(struct vm *vm)
{
	enum vm_state s;

	pthread_mutex_lock(&vm->lock);
	s = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

int vm_pause(struct vm *vm)
{
	if (vm_get_state(vm) != VM_RUNNING)
		return -EINVAL;
	set_state(vm, VM_PAUSED);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	return 0;
}

int vm_resume(struct vm *vm)
{
	enum vm_state s = vm_get_state(vm);

	if (s != VM_PAUSED && s != VM_CREATED)
		return -EINVAL;
	set_state(vm, VM_RUNNING);
	return 0;
}

static int kvm_open(struct vm *vm)
{
	int api;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		fprintf(stderr, "stratovirt: cannot open /dev/kvm: %s\n", strerror(errno));
		return -errno;
	}
	api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr, "stratovirt: KVM API version %d, need %d\n", api, KVM_API_VERSION);
		return -ENOTSUP;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0) {
		fprintf(stderr, "stratovirt: KVM lacks irqchip, ioeventfd or irqfd support\n");
		return -ENOTSUP;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0)
		return -ENOTSUP;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "stratovirt: cannot create VM: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_map_memory(struct vm *vm)
{
	for (int i = 0; i < vm->mem.nr_regions; i++) {
		struct gmem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region region = {
		    .slot = (uint32_t)i,
		    .guest_phys_addr = r->gpa,
		    .memory_size = r->size,
		    .userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			fprintf(stderr, "stratovirt: cannot map guest memory into KVM: %s\n",
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	sigset_t set;

	/* Before any thread exists: vm_run() takes these through a signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->shutdown_efd = -1;
	vm->mem.memfd = -1;
	vm->guest_exit_code = -1;
	vm->nr_vcpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	bus_init(&vm->pio_bus);
	bus_init(&vm->mmio_bus);
	vm->state = VM_CREATED;

	vm->loop = evloop_new();
	vm->shutdown_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!vm->loop || vm->shutdown_efd < 0)
		return -ENOMEM;
	/*
	 * Guest RAM goes into KVM before the irqchip and timers: a memory-slot
	 * update waits for an SRCU grace period, and right after another such
	 * wait (PIT, ioeventfd) it costs several timer ticks; first, it is
	 * almost free (see docs/benchmarks.md).
	 */
	ret = kvm_open(vm);
	if (!ret)
		ret = gmem_init(&vm->mem, cfg, arch_ram_layout);
	if (!ret)
		ret = kvm_map_memory(vm);
	if (!ret)
		ret = arch_vm_init(vm);
	return ret;
}

int vm_create_devices(struct vm *vm)
{
	for (int i = 0; i < nr_device_ops; i++) {
		int ret = device_ops[i]->init(vm);

		if (ret < 0)
			return ret;
	}
	return 0;
}

int vm_create_vcpus(struct vm *vm, const struct boot_entry *entry)
{
	int ret;

	ret = arch_vcpus_prepare(vm);
	if (ret < 0)
		return ret;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus && !ret; i++) {
		ret = vcpu_create(vm, i, &vm->vcpus[i]);
		if (ret < 0) {
			fprintf(stderr, "stratovirt: cannot create vcpu%u: %s\n", i,
				strerror(-ret));
			return ret;
		}
		ret = arch_vcpu_init(vm, &vm->vcpus[i]);
	}
	/* Only the boot vCPU gets registers; the others wait for the guest to start them. */
	if (!ret)
		ret = arch_vcpu_set_boot_regs(vm, &vm->vcpus[0], entry);
	return ret;
}

int vm_start_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int ret = vcpu_start(&vm->vcpus[i]);

		if (ret < 0) {
			fprintf(stderr, "stratovirt: cannot start vcpu%u thread: %s\n", i,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void vm_stop_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_SHUTDOWN;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	/* Devices need not detach ioeventfds/irqfds one by one from a dying VM. */
	vm->exiting = true;
	vm_stop_vcpus(vm);
	for (int i = nr_device_ops - 1; i >= 0; i--)
		if (device_ops[i]->exit)
			device_ops[i]->exit(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	gmem_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->shutdown_efd >= 0)
		close(vm->shutdown_efd);
	evloop_free(vm->loop);
	vm->loop = NULL;
	vm->vm_fd = vm->kvm_fd = vm->shutdown_efd = -1;
}
