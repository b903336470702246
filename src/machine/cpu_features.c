// SPDX-License-Identifier: MulanPSL-2.0
#include "machine/cpu_features.h"

#include <stdint.h>
#include <string.h>

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

bool cpu_feature_known(const char *name)
{
	return find(name) != NULL;
}

void cpu_features_hide(struct kvm_cpuid_entry2 *entries, unsigned nent, const char *const *names,
		       int nr_names)
{
	for (int n = 0; n < nr_names; n++) {
		const struct cpu_feature *f = find(names[n]);

		if (!f)
			continue;
		for (unsigned i = 0; i < nent; i++) {
			struct kvm_cpuid_entry2 *e = &entries[i];
			uint32_t *regs[] = {&e->eax, &e->ebx, &e->ecx, &e->edx};

			if (e->function == f->leaf && e->index == f->index)
				*regs[f->reg] &= ~(1u << f->bit);
		}
	}
}
