/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_ARCH_ARCH_H
#define SV_ARCH_ARCH_H

/*
 * What the shared code (machine/, virtio/, config/, qmp/, main.c) asks of the
 * architecture.  Each src/arch/<cpu family>/ implements all of it; meson picks
 * the one of host_machine.cpu_family().  Functions return 0 or -errno and
 * print their own one-line "stratovirt:" message.
 */
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct gmem_region;

/* Names the QMP commands report (query-target, query-cpus, query-hotpluggable-cpus). */
struct arch_info {
	const char *target;   /* "x86_64", "aarch64" */
	const char *cpu_arch; /* query-cpus "arch" */
	const char *cpu_type; /* query-hotpluggable-cpus "type" */
};
extern const struct arch_info arch_info;

/* What the vCPU set-up needs to enter the loaded kernel. */
struct boot_entry {
	int mode;	     /* the arch's boot mode (x86: enum boot_mode) */
	int format;	     /* the arch's kernel format (x86: enum kernel_format) */
	uint64_t entry;	     /* first instruction */
	uint64_t info_gpa;   /* x86: boot_params / hvm_start_info; arm64: device tree */
	uint64_t kernel_end; /* first byte after the loaded kernel */
};

/* A kernel and an initrd as read from their files (initrd may be NULL). */
struct arch_kernel_files {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;
	size_t initrd_len;
};

/* First of the start-up checks: 0, or -ENOTSUP (message printed) when this machine cannot run. */
int arch_preflight(void);

#define ARCH_MAX_RAM_REGIONS 2

/*
 * Where ram_size bytes of RAM go in guest physical memory: fills up to
 * ARCH_MAX_RAM_REGIONS regions (gpa and size; one host mapping backs them
 * in this order) and returns how many.
 */
int arch_ram_layout(uint64_t ram_size, struct gmem_region *regions);

/* The n-th virtio-mmio window and its interrupt; -ENOSPC past the last. */
int arch_mmio_slot(int n, uint64_t *base, uint64_t *size, uint32_t *irq);

/*
 * kvm_irq_level.irq of KVM_IRQ_LINE for an interrupt numbered as
 * arch_mmio_slot() and irqfd number it (x86: the GSI; aarch64: an SPI).
 */
uint32_t arch_irq_line_number(uint32_t gsi);

/* After guest RAM is in KVM: the in-kernel interrupt controller and timers. */
int arch_vm_init(struct vm *vm);

/*
 * Loads the kernel and initrd into guest memory with the boot structures
 * (command line, firmware tables, device tree) for the devices created so far.
 * err gets one line on failure.
 */
int arch_load_kernel(struct vm *vm, const struct arch_kernel_files *files, struct boot_entry *entry,
		     char *err, size_t errlen);

/* Before the first vCPU is created: host checks and shared boot structures. */
int arch_vcpus_prepare(struct vm *vm);
/* Each vCPU right after KVM_CREATE_VCPU. */
int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu);
/* The boot vCPU's registers, once every vCPU is initialised. */
int arch_vcpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu, const struct boot_entry *entry);

/*
 * A KVM exit the shared loop does not handle (port I/O, HLT, ...): 1 to go
 * on running, 0 when the vCPU must stop, -ENOENT for an exit the arch does
 * not know either.
 */
int arch_handle_exit(struct vcpu *vcpu);

/* Prints registers and the bytes at the program counter to the log and stderr. */
void arch_vcpu_dump_state(struct vcpu *vcpu, const char *why);

/* The first three syscall arguments of a signal's ucontext (the SIGSYS report). */
void arch_syscall_args(const void *ucontext, uint64_t args[3]);

/*
 * The canonical spelling of a CPU feature that -cpu host,+name/-name knows,
 * or NULL for an unknown name.
 */
const char *arch_cpu_feature_name(const char *name);

#endif
