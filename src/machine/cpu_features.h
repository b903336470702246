/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_CPU_FEATURES_H
#define SV_MACHINE_CPU_FEATURES_H

#include <linux/kvm.h>
#include <stdbool.h>

/* True when name is a CPUID feature that -cpu host,-name can hide. */
bool cpu_feature_known(const char *name);
/* Clears the named feature bits in a CPUID table. */
void cpu_features_hide(struct kvm_cpuid_entry2 *entries, unsigned nent, const char *const *names,
		       int nr_names);

#endif
