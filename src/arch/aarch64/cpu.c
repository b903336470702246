// SPDX-License-Identifier: MulanPSL-2.0
/* aarch64 vCPU set-up values: the KVM_ARM_VCPU_INIT features and the boot registers. */
#include "arch/aarch64/cpu.h"

#include <stddef.h>
#include <string.h>

void a64_boot_regs(const struct boot_entry *entry, struct a64_reg *regs)
{
	const struct a64_reg r[A64_BOOT_REGS] = {
	    {A64_CORE_REG(regs.pstate), A64_BOOT_PSTATE, "pstate"},
	    {A64_CORE_REG(regs.regs[0]), entry->info_gpa, "x0"},
	    {A64_CORE_REG(regs.regs[1]), 0, "x1"},
	    {A64_CORE_REG(regs.regs[2]), 0, "x2"},
	    {A64_CORE_REG(regs.regs[3]), 0, "x3"},
	    {A64_CORE_REG(regs.pc), entry->entry, "pc"},
	};

	memcpy(regs, r, sizeof(r));
}

void a64_vcpu_init_arg(const struct kvm_vcpu_init *preferred, unsigned id,
		       struct kvm_vcpu_init *out)
{
	*out = *preferred;
	out->features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (id > 0)
		out->features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
}
