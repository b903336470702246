/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_CPU_H
#define SV_AARCH64_CPU_H

#include <linux/kvm.h>
#include <stdint.h>

#include "arch/arch.h"

/* KVM_{GET,SET}_ONE_REG id of a 64-bit field of struct kvm_regs. */
#define A64_CORE_REG(field)                                                                        \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))

/* PSTATE at the kernel's entry: EL1 with SP_EL1, debug, SError, IRQ and FIQ masked. */
#define A64_BOOT_PSTATE 0x3c5ULL

struct a64_reg {
	uint64_t id;
	uint64_t val;
	const char *name;
};

#define A64_BOOT_REGS 6

/*
 * The boot vCPU's registers as Documentation/arch/arm64/booting.rst wants
 * them: PSTATE, PC the Image's first byte, X0 the device tree, X1-X3 zero.
 * Fills A64_BOOT_REGS entries.
 */
void a64_boot_regs(const struct boot_entry *entry, struct a64_reg *regs);

/*
 * The KVM_ARM_VCPU_INIT argument of vCPU id from KVM_ARM_PREFERRED_TARGET's
 * answer: PSCI 0.2 for every vCPU, the secondaries powered off until the guest
 * starts them with PSCI CPU_ON.
 */
void a64_vcpu_init_arg(const struct kvm_vcpu_init *preferred, unsigned id,
		       struct kvm_vcpu_init *out);

#endif
