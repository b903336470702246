// SPDX-License-Identifier: MulanPSL-2.0
/* The x86_64 side of arch/arch.h: layout, irqchip and PIT, kernel loading, port I/O exits. */
#include "arch/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <ucontext.h>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/layout.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "util/log.h"

int arch_preflight(void)
{
	return 0;
}

/* RAM below the MMIO hole (3 GiB), the rest above 4 GiB. */
int arch_ram_layout(uint64_t ram_size, struct gmem_region *regions)
{
	uint64_t low = ram_size < LAYOUT_MEM_BELOW_4G_END ? ram_size : LAYOUT_MEM_BELOW_4G_END;

	regions[0] = (struct gmem_region){.gpa = 0, .size = low};
	if (ram_size == low)
		return 1;
	regions[1] = (struct gmem_region){.gpa = LAYOUT_MEM_ABOVE_4G, .size = ram_size - low};
	return 2;
}

int arch_mmio_slot(int n, uint64_t *base, uint64_t *size, uint32_t *irq)
{
	uint32_t gsi = LAYOUT_VIRTIO_IRQ_FIRST + (uint32_t)n;

	if (n < 0 || n >= LAYOUT_VIRTIO_MMIO_MAX)
		return -ENOSPC;
	/* IRQs 5..15 like StratoVirt, but 8 is the RTC's; then IOAPIC pins 16..23. */
	if (gsi >= 8)
		gsi++;
	if (gsi >= 24)
		return -ENOSPC;
	*base = LAYOUT_VIRTIO_MMIO_BASE + (uint64_t)n * LAYOUT_VIRTIO_MMIO_SIZE;
	*size = LAYOUT_VIRTIO_MMIO_SIZE;
	*irq = gsi;
	return 0;
}

uint32_t arch_irq_line_number(uint32_t gsi)
{
	return gsi; /* the in-kernel PIC/IOAPIC's GSI */
}

int arch_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = 0};
	uint64_t identity = LAYOUT_IDENTITY_MAP;

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		pr_debug("TSS/identity map address not set: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "stratovirt: cannot create the in-kernel irqchip: %s\n",
			strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		fprintf(stderr, "stratovirt: cannot create the in-kernel PIT: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* True when the guest will use ACPI to find devices. */
static bool guest_uses_acpi(const struct vm_config *cfg)
{
	const char *c = cfg->cmdline;

	if (!cfg->acpi)
		return false;
	while (c && (c = strstr(c, "acpi=off")) != NULL) {
		if (c == cfg->cmdline || c[-1] == ' ')
			return false;
		c++;
	}
	return true;
}

/*
 * With ACPI the DSDT lists the transports; without it they go on the command
 * line as virtio_mmio.device=<size>@<base>:<irq>, as StratoVirt does.  Never
 * both, or the kernel would probe every transport twice.
 */
static char *build_cmdline(const struct vm *vm, bool acpi)
{
	const char *base = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	size_t cap = strlen(base) + 1 + (size_t)vm->nr_mmio_devs * 64;
	char *s = malloc(cap);
	size_t n;

	if (!s)
		return NULL;
	n = (size_t)snprintf(s, cap, "%s", base);
	for (int i = 0; !acpi && i < vm->nr_mmio_devs; i++)
		n += (size_t)snprintf(s + n, cap - n, "%svirtio_mmio.device=%llu@0x%llx:%u",
				      n ? " " : "", (unsigned long long)vm->mmio_devs[i].size,
				      (unsigned long long)vm->mmio_devs[i].base,
				      vm->mmio_devs[i].irq);
	return s;
}

int arch_load_kernel(struct vm *vm, const struct arch_kernel_files *files, struct boot_entry *entry,
		     char *err, size_t errlen)
{
	struct boot_request req = {
	    .kernel = files->kernel,
	    .kernel_len = files->kernel_len,
	    .initrd = files->initrd,
	    .initrd_len = files->initrd_len,
	    .nr_cpus = vm->nr_vcpus,
	    .acpi = guest_uses_acpi(vm->cfg),
	    .devs = vm->mmio_devs,
	    .nr_devs = vm->nr_mmio_devs,
	};
	char *cmdline = build_cmdline(vm, req.acpi);
	int ret;

	if (!cmdline)
		return -ENOMEM;
	req.cmdline = cmdline;
	ret = x86_boot_setup(&vm->mem, &req, entry, err, errlen);
	if (ret == 0)
		pr_info("kernel '%s' entry 0x%llx (%s), cmdline '%s'", vm->cfg->kernel,
			(unsigned long long)entry->entry,
			entry->mode == BOOT_MODE_PVH ? "PVH" : "64-bit", cmdline);
	free(cmdline);
	return ret;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	if (run->io.size > 8 || run->io.data_offset + (uint64_t)run->io.size * run->io.count >
				    (uint64_t)vcpu->vm->vcpu_mmap_size)
		return;
	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_dispatch(&vcpu->vm->pio_bus, run->io.port, data, run->io.size, is_write);
		data += run->io.size;
	}
}

int arch_handle_exit(struct vcpu *vcpu)
{
	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return 1;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel irqchip; ours has one. */
		return 1;
	case KVM_EXIT_SHUTDOWN:
		pr_info("vcpu%u: guest triple fault: reset", vcpu->id);
		vm_request_shutdown(vcpu->vm, SHUTDOWN_GUEST_RESET, 0);
		return 0;
	default:
		return -ENOENT;
	}
}

void arch_syscall_args(const void *ucontext, uint64_t args[3])
{
	const greg_t *gr = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;

	args[0] = (uint64_t)gr[REG_RDI];
	args[1] = (uint64_t)gr[REG_RSI];
	args[2] = (uint64_t)gr[REG_RDX];
}
