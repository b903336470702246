/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_CPU_FEATURES_H
#define SV_X86_CPU_FEATURES_H

#include <linux/kvm.h>
#include <stdbool.h>

#define CPU_FEATURES_MAX_ENTRIES 256

/* arch_cpu_feature_name() (arch/arch.h) knows one name per CPUID bit. */
/* Clears the named feature bits in a CPUID table. */
void cpu_features_hide(struct kvm_cpuid_entry2 *entries, unsigned nent, const char *const *names,
		       int nr_names);
/* The first of names whose bit is clear (or whose leaf is absent) in the table, or NULL. */
const char *cpu_features_missing(const struct kvm_cpuid_entry2 *entries, unsigned nent,
				 const char *const *names, int nr_names);
/*
 * Checks that KVM offers every named feature on this host: 0, -ENOTSUP with
 * *missing set to the first one it does not offer, or -errno of the ioctl.
 */
int cpu_features_check_host(int kvm_fd, const char *const *names, int nr_names,
			    const char **missing);

#endif
