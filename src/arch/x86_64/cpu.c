// SPDX-License-Identifier: MulanPSL-2.0
/* x86 vCPU set-up: CPUID, MSRs, LAPIC, FPU, boot registers and tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/layout.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "util/log.h"

#define CPUID_MAX_ENTRIES 256

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_TSC	      0x10
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff
#define MSR_STAR	      0xc0000081
#define MSR_LSTAR	      0xc0000082
#define MSR_CSTAR	      0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102

#define X86_CR0_PE  0x1ULL
#define X86_CR0_ET  0x10ULL
#define X86_CR0_PG  0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME    0x100ULL
#define EFER_LMA    0x400ULL

#define GDT_ENTRY(flags, base, limit)                                                              \
	((((base)&0xff000000ULL) << (56 - 24)) | (((flags)&0x0000f0ffULL) << 40) |                 \
	 (((limit)&0x000f0000ULL) << (48 - 16)) | (((base)&0x00ffffffULL) << 16) |                 \
	 (((limit)&0x0000ffffULL)))

/* GDT: 0x08 32-bit code (PVH), 0x10 64-bit code, 0x18 data, 0x20 TSS. */
enum { SEL_CODE32 = 0x08, SEL_CODE64 = 0x10, SEL_DATA = 0x18, SEL_TSS = 0x20 };
static const uint64_t boot_gdt[] = {
    0,
    GDT_ENTRY(0xc09b, 0, 0xfffff),
    GDT_ENTRY(0xa09b, 0, 0xfffff),
    GDT_ENTRY(0xc093, 0, 0xfffff),
    GDT_ENTRY(0x808b, 0, 0xfffff),
};

static int setup_boot_tables(struct vm *vm)
{
	uint64_t *pml4 = gmem_ptr(&vm->mem, LAYOUT_PML4, 4096);
	uint64_t *pdpt = gmem_ptr(&vm->mem, LAYOUT_PDPT, 4096);
	uint64_t *pd = gmem_ptr(&vm->mem, LAYOUT_PD, 4 * 4096);

	if (!pml4 || !pdpt || !pd ||
	    gmem_write(&vm->mem, LAYOUT_GDT, boot_gdt, sizeof(boot_gdt)) < 0)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | 0x3;
	/* Identity-map the first 4 GiB with 2 MiB pages. */
	for (int i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096ULL) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;
	return 0;
}

int arch_vcpus_prepare(struct vm *vm)
{
	const char *missing;
	int ret;

	/* feature names were checked by the parser; +feat needs the host's support */
	ret = cpu_features_check_host(vm->kvm_fd, (const char *const *)vm->cfg->cpu_need,
				      vm->cfg->nr_cpu_need, &missing);
	if (ret == -ENOTSUP) {
		user_err("-cpu: CPU feature '%s' is asked for (+%s or %s=on) but this host "
			 "(KVM) does not offer it",
			 missing, missing, missing);
		return ret;
	}
	if (ret < 0) {
		user_err("-cpu: cannot read the CPUID features KVM offers: %s", strerror(-ret));
		return ret;
	}
	return setup_boot_tables(vm);
}

static struct kvm_segment seg_from_gdt(uint16_t sel)
{
	uint64_t e = boot_gdt[sel >> 3];
	struct kvm_segment s = {
	    .base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24),
	    .limit = (uint32_t)((e & 0xffff) | (((e >> 48) & 0xf) << 16)),
	    .selector = sel,
	    .type = (e >> 40) & 0xf,
	    .present = (e >> 47) & 1,
	    .dpl = (e >> 45) & 3,
	    .db = (e >> 54) & 1,
	    .s = (e >> 44) & 1,
	    .l = (e >> 53) & 1,
	    .g = (e >> 55) & 1,
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

static int set_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	const struct vm_config *cfg = vm->cfg;
	unsigned threads = cfg->threads ? cfg->threads : 1;
	unsigned cores = cfg->cores ? cfg->cores : vm->nr_vcpus / threads;
	struct kvm_cpuid2 *cpuid;
	int ret;

	if (!cores)
		cores = 1;
	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		ret = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (vcpu->id << 24) |
				 ((vm->nr_vcpus > 255 ? 255 : vm->nr_vcpus) << 16);
			e->ecx |= 1u << 31; /* hypervisor present */
			if (vm->nr_vcpus > 1)
				e->edx |= 1u << 28; /* HTT: the count in ebx is valid */
			break;
		case 4:
			/* cores per package - 1 in 31:26; threads sharing the cache in 25:14 */
			e->eax &= 0x3fff;
			e->eax |= ((cores - 1) & 0x3f) << 26;
			if (e->eax & 0x1f)
				e->eax |=
				    (((e->eax >> 5) & 7) <= 2 ? threads - 1 : cores * threads - 1)
				    << 14;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: level 0 SMT, level 1 core. */
			e->edx = vcpu->id;
			if (e->index == 0) {
				e->eax = threads > 1 ? 32 - __builtin_clz(threads - 1) : 0;
				e->ebx = threads;
				e->ecx = 0x100;
			} else if (e->index == 1) {
				unsigned n = cores * threads;

				e->eax = n > 1 ? 32 - __builtin_clz(n - 1) : 0;
				e->ebx = n;
				e->ecx = 0x201;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		}
	}
	cpu_features_hide(cpuid->entries, cpuid->nent, (const char *const *)cfg->cpu_hide,
			  cfg->nr_cpu_hide);
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
out:
	free(cpuid);
	return ret;
}

static int set_msrs(struct vcpu *vcpu)
{
	static const uint32_t idx[] = {MSR_IA32_SYSENTER_CS,
				       MSR_IA32_SYSENTER_ESP,
				       MSR_IA32_SYSENTER_EIP,
				       MSR_STAR,
				       MSR_CSTAR,
				       MSR_KERNEL_GS_BASE,
				       MSR_SYSCALL_MASK,
				       MSR_LSTAR,
				       MSR_IA32_TSC,
				       MSR_IA32_MISC_ENABLE,
				       MSR_MTRR_DEF_TYPE};
	const unsigned n = sizeof(idx) / sizeof(idx[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(idx) / sizeof(idx[0])];
	} m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++)
		m.e[i].index = idx[i];
	m.e[9].data = 1;	      /* fast strings */
	m.e[10].data = (1 << 11) | 6; /* MTRRs on, default write-back */
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, &m);
	if (ret < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses; the rest are optional. */
	return 0;
}

static int set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0 = (uint32_t *)&lapic.regs[0x350];
	uint32_t *lvt1 = (uint32_t *)&lapic.regs[0x360];

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	*lvt0 = (*lvt0 & ~0x700u) | (7u << 8); /* LINT0: ExtINT */
	*lvt1 = (*lvt1 & ~0x700u) | (4u << 8); /* LINT1: NMI */
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	int ret;

	ret = set_cpuid(vm, vcpu);
	if (ret < 0) {
		fprintf(stderr, "stratovirt: vcpu%u: cannot set CPUID: %s\n", vcpu->id,
			strerror(-ret));
		return ret;
	}
	ret = set_msrs(vcpu);
	if (!ret)
		ret = set_lapic(vcpu);
	if (!ret)
		ret = set_fpu(vcpu);
	if (ret < 0)
		fprintf(stderr, "stratovirt: vcpu%u: cannot initialise: %s\n", vcpu->id,
			strerror(-ret));
	return ret;
}

int arch_vcpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rflags = 2};
	bool pvh = entry->mode == BOOT_MODE_PVH;
	struct kvm_segment code = seg_from_gdt(pvh ? SEL_CODE32 : SEL_CODE64);
	struct kvm_segment data = seg_from_gdt(SEL_DATA);

	(void)vm;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = seg_from_gdt(SEL_TSS);
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.idt.base = LAYOUT_IDT;
	sregs.idt.limit = 0;
	if (pvh) {
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rbx = entry->info_gpa;
	} else {
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
		sregs.cr3 = LAYOUT_PML4;
		sregs.cr4 = X86_CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		regs.rsi = entry->info_gpa;
		regs.rsp = regs.rbp = LAYOUT_STACK_TOP;
	}
	regs.rip = entry->entry;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

void arch_vcpu_dump_state(struct vcpu *vcpu, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_run *run = vcpu->run;
	char line[512];
	int n = 0;

	fprintf(stderr, "stratovirt: vcpu%u: %s (exit reason %u", vcpu->id, why, run->exit_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(stderr, ", suberror %u", run->internal.suberror);
		for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, " data[%u]=0x%llx", i,
				(unsigned long long)run->internal.data[i]);
	} else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
		fprintf(stderr, ", hardware reason 0x%llx",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	}
	fprintf(stderr, ")\n");
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	fprintf(stderr,
		"  rip=%016llx rsp=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  cs=%04x(base %llx l=%u db=%u) ss=%04x cr0=%llx cr2=%llx cr3=%llx cr4=%llx "
		"efer=%llx\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8, r.r9,
		r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cs.selector, s.cs.base, s.cs.l, s.cs.db,
		s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);

	/* The instruction bytes: translate rip through the guest's page tables. */
	struct kvm_translation tr = {.linear_address = s.cs.base + r.rip};

	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
		uint8_t *p = gmem_ptr(&vcpu->vm->mem, tr.physical_address, 16);

		n += snprintf(line + n, sizeof(line) - n,
			      "  code at gpa %llx:", (unsigned long long)tr.physical_address);
		for (int i = 0; p && i < 16; i++)
			n += snprintf(line + n, sizeof(line) - n, " %02x", p[i]);
		if (!p)
			n += snprintf(line + n, sizeof(line) - n, " (not guest RAM)");
		fprintf(stderr, "%s\n", line);
	} else {
		fprintf(stderr, "  code: rip does not translate\n");
	}
	pr_err("vcpu%u: %s at rip %llx", vcpu->id, why, (unsigned long long)r.rip);
}
