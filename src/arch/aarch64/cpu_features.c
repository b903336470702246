// SPDX-License-Identifier: MulanPSL-2.0
/* -cpu host,+feat/-feat: no aarch64 feature names yet, so every name is refused as unknown. */
#include "arch/arch.h"

#include <stddef.h>

const char *arch_cpu_feature_name(const char *name)
{
	(void)name;
	return NULL;
}
