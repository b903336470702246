/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_VCPU_H
#define SV_MACHINE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/types.h>

struct vm;
struct boot_entry;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_int tid;
	bool started;
};

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Makes a vCPU thread leave KVM_RUN so it sees a state change. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
/* Prints registers and the bytes at rip to the log and stderr. */
void vcpu_dump_state(struct vcpu *vcpu, const char *why);

/* x86: CPUID, MSRs, LAPIC, FPU for every vCPU; registers for the boot vCPU. */
int x86_cpu_init(struct vm *vm, struct vcpu *vcpu);
int x86_cpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu, const struct boot_entry *entry);
/* Writes the GDT and identity page tables used to enter a kernel. */
int x86_setup_boot_tables(struct vm *vm);

#endif
