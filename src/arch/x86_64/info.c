// SPDX-License-Identifier: MulanPSL-2.0
/* The names QMP reports for this architecture (own file: the QMP unit test links it alone). */
#include "arch/arch.h"

const struct arch_info arch_info = {
    .target = "x86_64",
    .cpu_arch = "x86",
    .cpu_type = "host-x86-cpu",
};
