// SPDX-License-Identifier: MulanPSL-2.0
#include "arch/x86_64/cpu_features.h"

#include "arch/arch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

enum cpuid_reg { R_EAX, R_EBX, R_ECX, R_EDX };

struct cpu_feature {
	const char *name;
	unsigned leaf, index;
	enum cpuid_reg reg;
	unsigned bit;
};

/* Names as Linux's /proc/cpuinfo and QEMU's -cpu spell them. */
static const struct cpu_feature features[] = {
    {"sse3", 1, 0, R_ECX, 0},
    {"pclmulqdq", 1, 0, R_ECX, 1},
    {"monitor", 1, 0, R_ECX, 3},
    {"vmx", 1, 0, R_ECX, 5},
    {"ssse3", 1, 0, R_ECX, 9},
    {"fma", 1, 0, R_ECX, 12},
    {"cx16", 1, 0, R_ECX, 13},
    {"pcid", 1, 0, R_ECX, 17},
    {"sse4.1", 1, 0, R_ECX, 19},
    {"sse4_1", 1, 0, R_ECX, 19},
    {"sse4.2", 1, 0, R_ECX, 20},
    {"sse4_2", 1, 0, R_ECX, 20},
    {"x2apic", 1, 0, R_ECX, 21},
    {"movbe", 1, 0, R_ECX, 22},
    {"popcnt", 1, 0, R_ECX, 23},
    {"tsc-deadline", 1, 0, R_ECX, 24},
    {"aes", 1, 0, R_ECX, 25},
    {"xsave", 1, 0, R_ECX, 26},
    {"avx", 1, 0, R_ECX, 28},
    {"f16c", 1, 0, R_ECX, 29},
    {"rdrand", 1, 0, R_ECX, 30},
    {"mce", 1, 0, R_EDX, 7},
    {"mtrr", 1, 0, R_EDX, 12},
    {"pat", 1, 0, R_EDX, 16},
    {"fsgsbase", 7, 0, R_EBX, 0},
    {"bmi1", 7, 0, R_EBX, 3},
    {"hle", 7, 0, R_EBX, 4},
    {"avx2", 7, 0, R_EBX, 5},
    {"smep", 7, 0, R_EBX, 7},
    {"bmi2", 7, 0, R_EBX, 8},
    {"erms", 7, 0, R_EBX, 9},
    {"invpcid", 7, 0, R_EBX, 10},
    {"rtm", 7, 0, R_EBX, 11},
    {"avx512f", 7, 0, R_EBX, 16},
    {"rdseed", 7, 0, R_EBX, 18},
    {"adx", 7, 0, R_EBX, 19},
    {"smap", 7, 0, R_EBX, 20},
    {"clflushopt", 7, 0, R_EBX, 23},
    {"clwb", 7, 0, R_EBX, 24},
    {"sha-ni", 7, 0, R_EBX, 29},
    {"umip", 7, 0, R_ECX, 2},
    {"pku", 7, 0, R_ECX, 3},
    {"la57", 7, 0, R_ECX, 16},
    {"rdpid", 7, 0, R_ECX, 22},
    {"md-clear", 7, 0, R_EDX, 10},
    {"arch-capabilities", 7, 0, R_EDX, 29},
    {"ssbd", 7, 0, R_EDX, 31},
    {"xsaveopt", 0xd, 1, R_EAX, 0},
    {"xsavec", 0xd, 1, R_EAX, 1},
    {"xsaves", 0xd, 1, R_EAX, 3},
    {"lahf-lm", 0x80000001, 0, R_ECX, 0},
    {"svm", 0x80000001, 0, R_ECX, 2},
    {"abm", 0x80000001, 0, R_ECX, 5},
    {"sse4a", 0x80000001, 0, R_ECX, 6},
    {"pdpe1gb", 0x80000001, 0, R_EDX, 26},
    {"rdtscp", 0x80000001, 0, R_EDX, 27},
};

static const struct cpu_feature *find(const char *name)
{
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (!strcmp(features[i].name, name))
			return &features[i];
	return NULL;
}

const char *arch_cpu_feature_name(const char *name)
{
	const struct cpu_feature *f = name ? find(name) : NULL;

	if (!f)
		return NULL;
	/* two spellings of one bit (sse4.1, sse4_1) share the first one's name */
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct cpu_feature *g = &features[i];

		if (g->leaf == f->leaf && g->index == f->index && g->reg == f->reg &&
		    g->bit == f->bit)
			return g->name;
	}
	return f->name;
}

static uint32_t *feature_reg(struct kvm_cpuid_entry2 *entries, unsigned nent,
			     const struct cpu_feature *f, unsigned *from)
{
	for (unsigned i = *from; i < nent; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];
		uint32_t *regs[] = {&e->eax, &e->ebx, &e->ecx, &e->edx};

		if (e->function == f->leaf && e->index == f->index) {
			*from = i + 1;
			return regs[f->reg];
		}
	}
	return NULL;
}

void cpu_features_hide(struct kvm_cpuid_entry2 *entries, unsigned nent, const char *const *names,
		       int nr_names)
{
	for (int n = 0; n < nr_names; n++) {
		const struct cpu_feature *f = find(names[n]);
		unsigned from = 0;
		uint32_t *reg;

		if (!f)
			continue;
		while ((reg = feature_reg(entries, nent, f, &from)))
			*reg &= ~(1u << f->bit);
	}
}

const char *cpu_features_missing(const struct kvm_cpuid_entry2 *entries, unsigned nent,
				 const char *const *names, int nr_names)
{
	for (int n = 0; n < nr_names; n++) {
		const struct cpu_feature *f = find(names[n]);
		bool offered = false;

		for (unsigned i = 0; f && i < nent; i++) {
			const struct kvm_cpuid_entry2 *e = &entries[i];
			const uint32_t regs[] = {e->eax, e->ebx, e->ecx, e->edx};

			if (e->function == f->leaf && e->index == f->index &&
			    (regs[f->reg] >> f->bit & 1))
				offered = true;
		}
		if (!offered)
			return names[n];
	}
	return NULL;
}

int cpu_features_check_host(int kvm_fd, const char *const *names, int nr_names,
			    const char **missing)
{
	struct kvm_cpuid2 *cpuid;
	int ret = 0;

	*missing = NULL;
	if (nr_names == 0)
		return 0;
	cpuid = calloc(1, sizeof(*cpuid) + CPU_FEATURES_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPU_FEATURES_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		ret = -errno;
	else
		*missing = cpu_features_missing(cpuid->entries, cpuid->nent, names, nr_names);
	free(cpuid);
	if (!ret && *missing)
		ret = -ENOTSUP;
	return ret;
}
