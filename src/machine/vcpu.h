/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_VCPU_H
#define SV_MACHINE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/types.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_int tid;
	bool started;
	atomic_int parked; /* its work is done (util/park.h) */
	int kick_fd;	   /* signalfd that takes the kick (SIGUSR1) after KVM_RUN */
};

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Makes a vCPU thread leave KVM_RUN so it sees a state change. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
/* The arch's part of a vCPU's life is in arch/arch.h. */

#endif
