// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The aarch64 side of arch/arch.h: StratoVirt's aarch64 microVM layout (RAM
 * from 1 GiB), the in-kernel GICv3 (GICv2 fallback), vCPUs with PSCI 0.2
 * through KVM, the Image + initrd + device tree boot.  PL011 and PL031 are
 * devices of their own (pl011.c, pl031.c); PSCI SYSTEM_OFF/RESET come back as
 * KVM_EXIT_SYSTEM_EVENT, which the shared vCPU loop ends the VM on.
 */
#include "arch/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <ucontext.h>

#include "arch/aarch64/boot.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/layout.h"
#include "machine/memory.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "util/log.h"

/* One VM per process. */
static struct a64_gic gic = {.fd = -1};
static struct kvm_vcpu_init preferred;

int arch_preflight(void)
{
	return 0;
}

/* StratoVirt's aarch64 microVM: RAM from 1 GiB, in one piece. */
int arch_ram_layout(uint64_t ram_size, struct gmem_region *regions)
{
	regions[0] = (struct gmem_region){.gpa = A64_RAM_BASE, .size = ram_size};
	return 1;
}

int arch_mmio_slot(int n, uint64_t *base, uint64_t *size, uint32_t *irq)
{
	if (n < 0 || n >= A64_VIRTIO_MAX)
		return -ENOSPC;
	*base = A64_VIRTIO_MMIO + (uint64_t)n * A64_VIRTIO_SIZE;
	*size = A64_VIRTIO_SIZE;
	*irq = A64_VIRTIO_SPI + (uint32_t)n; /* an SPI number: irqfd's GSI and the DT's cell */
	return 0;
}

uint32_t arch_irq_line_number(uint32_t gsi)
{
	return gic_irq_line_number(gsi);
}

int arch_vm_init(struct vm *vm)
{
	if (vm->nr_vcpus > A64_MAX_CPUS) {
		fprintf(stderr, "stratovirt: -smp %u: the aarch64 machine has at most %d vCPUs\n",
			vm->nr_vcpus, A64_MAX_CPUS);
		return -EINVAL;
	}
	if (A64_RAM_BASE + vm->mem.ram_size > A64_RAM_MAX) {
		fprintf(stderr, "stratovirt: -m %llu: RAM from 1 GiB must end below 1 TiB\n",
			(unsigned long long)vm->mem.ram_size);
		return -EINVAL;
	}
	return gic_create(vm->vm_fd, vm->nr_vcpus, &gic);
}

int arch_load_kernel(struct vm *vm, const struct arch_kernel_files *files, struct boot_entry *entry,
		     char *err, size_t errlen)
{
	struct a64_boot_params p = {
	    .nr_cpus = vm->nr_vcpus,
	    .gic_version = gic.version,
	    .cmdline = vm->cfg->cmdline,
	    .devs = vm->mmio_devs,
	    .nr_devs = vm->nr_mmio_devs,
	};
	int ret = a64_boot_setup(&vm->mem, files, &p, entry, err, errlen);

	if (ret == 0)
		pr_info("kernel '%s' entry 0x%llx, device tree at 0x%llx, cmdline '%s'",
			vm->cfg->kernel, (unsigned long long)entry->entry,
			(unsigned long long)entry->info_gpa,
			vm->cfg->cmdline ? vm->cfg->cmdline : "");
	return ret;
}

int arch_vcpus_prepare(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &preferred) < 0) {
		fprintf(stderr, "stratovirt: KVM_ARM_PREFERRED_TARGET: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_vcpu_init init;

	(void)vm;
	a64_vcpu_init_arg(&preferred, vcpu->id, &init);
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		fprintf(stderr, "stratovirt: vcpu%u: KVM_ARM_VCPU_INIT (target %u): %s\n", vcpu->id,
			init.target, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = {.id = id, .addr = (uint64_t)(uintptr_t)&val};

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = {.id = id, .addr = (uint64_t)(uintptr_t)val};

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

int arch_vcpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct a64_reg regs[A64_BOOT_REGS];
	int ret;

	/* every vCPU exists: the GIC can be initialised now */
	ret = gic_finalize(&gic);
	if (ret < 0)
		return ret;
	(void)vm;
	a64_boot_regs(entry, regs);
	for (int i = 0; i < A64_BOOT_REGS; i++) {
		ret = set_reg(vcpu, regs[i].id, regs[i].val);
		if (ret < 0) {
			fprintf(stderr, "stratovirt: vcpu%u: cannot set %s: %s\n", vcpu->id,
				regs[i].name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int arch_handle_exit(struct vcpu *vcpu)
{
	/* MMIO and SYSTEM_EVENT (PSCI SYSTEM_OFF/RESET) are the shared loop's */
	(void)vcpu;
	return -ENOENT;
}

void arch_vcpu_dump_state(struct vcpu *vcpu, const char *why)
{
	static const struct {
		const char *name;
		uint64_t id;
	} regs[] = {
	    {"pc", A64_CORE_REG(regs.pc)},	{"pstate", A64_CORE_REG(regs.pstate)},
	    {"sp", A64_CORE_REG(regs.sp)},	{"sp_el1", A64_CORE_REG(sp_el1)},
	    {"elr_el1", A64_CORE_REG(elr_el1)}, {"x0", A64_CORE_REG(regs.regs[0])},
	    {"x1", A64_CORE_REG(regs.regs[1])}, {"x30", A64_CORE_REG(regs.regs[30])},
	};
	char line[512];
	size_t n = 0;

	n += (size_t)snprintf(line, sizeof(line), "vcpu%u: %s:", vcpu->id, why);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]) && n < sizeof(line); i++) {
		uint64_t v = 0;

		if (get_reg(vcpu, regs[i].id, &v) == 0)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=0x%llx",
					      regs[i].name, (unsigned long long)v);
	}
	pr_err("%s", line);
	fprintf(stderr, "stratovirt: %s\n", line);
}

void arch_syscall_args(const void *ucontext, uint64_t args[3])
{
	const mcontext_t *mc = &((const ucontext_t *)ucontext)->uc_mcontext;

	args[0] = mc->regs[0];
	args[1] = mc->regs[1];
	args[2] = mc->regs[2];
}
