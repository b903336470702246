/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Stand-ins for the VM, bus, event loop and log used by the virtio unit tests. */
#ifndef SV_TEST_VIRTIO_FAKES_H
#define SV_TEST_VIRTIO_FAKES_H

#include <stdbool.h>

#include "machine/vm.h"

extern char fake_last_err[512]; /* last pr_err text */
extern int fake_nr_errs;
extern int fake_irq_pulses; /* vm_irq_pulse calls */
extern const struct vm_device_ops *fake_devices[8];
extern int fake_nr_devices;

/* A VM with flat RAM of size bytes at gpa 0 and no KVM (vm_fd -1). */
void fake_vm_init(struct vm *vm, void *ram, uint64_t size, const struct vm_config *cfg);
/* Calls the handlers of ready fds until none is ready for timeout_ms. */
int fake_loop_run(int timeout_ms);
const struct vm_device_ops *fake_find_device(const char *name);
/* The opaque registered for an MMIO base. */
void *fake_bus_find(uint64_t base);

#endif
