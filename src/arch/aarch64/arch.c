// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The aarch64 side of arch/arch.h.  The shared code builds for aarch64, but
 * the machine (vCPU init, GIC, PSCI, PL011/PL031) is not written yet: start-up
 * stops at arch_preflight() with one line, and nothing below is reached.
 */
#include "arch/arch.h"

#include <errno.h>
#include <stdio.h>
#include <ucontext.h>

#include "machine/memory.h"

int arch_preflight(void)
{
	fprintf(stderr, "stratovirt: aarch64 machine: not supported yet\n");
	return -ENOTSUP;
}

/* StratoVirt's aarch64 microVM: RAM from 1 GiB. */
int arch_ram_layout(uint64_t ram_size, struct gmem_region *regions)
{
	regions[0] = (struct gmem_region){.gpa = 0x40000000ULL, .size = ram_size};
	return 1;
}

int arch_mmio_slot(int n, uint64_t *base, uint64_t *size, uint32_t *irq)
{
	(void)n;
	(void)base;
	(void)size;
	(void)irq;
	return -ENOTSUP;
}

int arch_vm_init(struct vm *vm)
{
	(void)vm;
	return -ENOTSUP;
}

int arch_load_kernel(struct vm *vm, const struct arch_kernel_files *files, struct boot_entry *entry,
		     char *err, size_t errlen)
{
	(void)vm;
	(void)files;
	(void)entry;
	snprintf(err, errlen, "aarch64 machine: not supported yet");
	return -ENOTSUP;
}

int arch_vcpus_prepare(struct vm *vm)
{
	(void)vm;
	return -ENOTSUP;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	(void)vm;
	(void)vcpu;
	return -ENOTSUP;
}

int arch_vcpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu, const struct boot_entry *entry)
{
	(void)vm;
	(void)vcpu;
	(void)entry;
	return -ENOTSUP;
}

int arch_handle_exit(struct vcpu *vcpu)
{
	(void)vcpu;
	return -ENOENT;
}

void arch_vcpu_dump_state(struct vcpu *vcpu, const char *why)
{
	(void)vcpu;
	fprintf(stderr, "stratovirt: %s\n", why);
}

void arch_syscall_args(const void *ucontext, uint64_t args[3])
{
	const mcontext_t *mc = &((const ucontext_t *)ucontext)->uc_mcontext;

	args[0] = mc->regs[0];
	args[1] = mc->regs[1];
	args[2] = mc->regs[2];
}
