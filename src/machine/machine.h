/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_MACHINE_H
#define SV_MACHINE_MACHINE_H

#include "machine/vm.h"

struct boot_entry;

/* Steps of building a VM, in this order (main.c drives them). */
int vm_create(struct vm *vm, const struct vm_config *cfg);
int vm_create_devices(struct vm *vm);
/* Reads kernel/initrd, appends device cmdline, writes boot structures. */
int vm_load_kernel(struct vm *vm, struct boot_entry *entry);
int vm_create_vcpus(struct vm *vm, const struct boot_entry *entry);
int vm_start_vcpus(struct vm *vm);
/* Runs the event loop until shutdown; returns the exit status. */
int vm_run(struct vm *vm);
void vm_stop_vcpus(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
