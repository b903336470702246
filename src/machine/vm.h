/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_VM_H
#define SV_MACHINE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "machine/bus.h"
#include "machine/memory.h"
#include "util/evloop.h"

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_SHUTDOWN };

enum vm_shutdown_reason {
	SHUTDOWN_NONE = 0,
	SHUTDOWN_GUEST_RESET,	 /* i8042 reset, triple fault: exit status 0 */
	SHUTDOWN_GUEST_POWEROFF, /* ACPI/debug exit: exit status 0 */
	SHUTDOWN_HOST_SIGNAL,	 /* SIGTERM/SIGINT: 0 */
	SHUTDOWN_HOST_QMP,	 /* quit: 0 */
	SHUTDOWN_ERROR,		 /* KVM error, emulation failure: non-zero */
};

/* A virtio-mmio transport as the guest must be told of it. */
struct mmio_dev_desc {
	uint64_t base;
	uint64_t size;
	uint32_t irq;
};

struct vcpu;

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct evloop *loop;

	struct vcpu *vcpus;
	unsigned nr_vcpus;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_state state;
	enum vm_shutdown_reason shutdown_reason;
	int shutdown_status; /* exit status of the process */
	int shutdown_efd;    /* eventfd: wakes the main loop */

	struct mmio_dev_desc mmio_devs[16];
	int nr_mmio_devs;

	/* Set once the VM is being torn down: per-object KVM detach is skipped. */
	bool exiting;

	/* Debug-port status written by a guest (test guest exit code), -1 if none. */
	int guest_exit_code;

	/*
	 * Presses the guest's power button (QMP system_powerdown): set by the
	 * device that has one (x86 ACPI GED, src/devices/acpi_ged.c), NULL when
	 * the machine has none.  0 or -errno.
	 */
	int (*power_button)(struct vm *vm);
};

/* Raise/lower a GSI of the in-kernel irqchip. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
/* Edge: high then low. */
int vm_irq_pulse(struct vm *vm, uint32_t gsi);
/* Thread-safe; the first reason wins.  status is the process exit status. */
void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason, int status);
/* Reserve the next virtio-mmio window and its IRQ (-ENOSPC when none). */
int vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, uint32_t *irq);

int vm_pause(struct vm *vm);
/* CLOCK_MONOTONIC time at which main() started (for boot-time figures). */
struct timespec vm_process_start_time(void);
void vm_mark_process_start(void);
/* Milliseconds since vm_mark_process_start(). */
double vm_elapsed_ms(void);
int vm_resume(struct vm *vm);
enum vm_state vm_get_state(struct vm *vm);

/*
 * Devices register themselves: a device file declares
 *     static const struct vm_device_ops serial_ops = { ... };
 *     VM_DEVICE_REGISTER(serial_ops);
 * and is created with the machine in ascending order.  init returns 0, a
 * negative errno (error already printed), or 1 when not configured.
 */
struct vm_device_ops {
	const char *name;
	int order;
	int (*init)(struct vm *vm);
	void (*exit)(struct vm *vm);
};

void vm_device_register(const struct vm_device_ops *ops);
#define VM_DEVICE_REGISTER(ops)                                                                    \
	static void __attribute__((constructor)) ops##_register(void)                              \
	{                                                                                          \
		vm_device_register(&(ops));                                                        \
	}

#endif
