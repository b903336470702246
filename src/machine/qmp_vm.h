/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_QMP_VM_H
#define SV_MACHINE_QMP_VM_H

struct vm;

/* The SHUTDOWN event for the reason the VM is ending (main loop, once). */
void qmp_vm_shutdown_event(struct vm *vm);

#endif
