// SPDX-License-Identifier: MulanPSL-2.0
/* The names QMP reports for this architecture (own file: the QMP unit test links it alone). */
#include "arch/arch.h"

const struct arch_info arch_info = {
    .target = "aarch64",
    .cpu_arch = "arm",
    .cpu_type = "host-aarch64-cpu",
};
