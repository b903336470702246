/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_BOOT_H
#define SV_AARCH64_BOOT_H

#include <stddef.h>

#include "arch/arch.h"
#include "machine/memory.h"

struct mmio_dev_desc;

struct a64_boot_params {
	unsigned nr_cpus;
	int gic_version;
	const char *cmdline;
	const struct mmio_dev_desc *devs; /* irq: the transport's SPI */
	int nr_devs;
};

/*
 * Loads the arm64 Image at RAM base + 2 MiB (header checked), the initrd at
 * the page-aligned end of RAM, and the device tree at A64_FDT; fills entry
 * (entry: the Image's first byte, info_gpa: the device tree).  -errno with
 * one line in err.
 */
int a64_boot_setup(struct guest_mem *mem, const struct arch_kernel_files *files,
		   const struct a64_boot_params *p, struct boot_entry *entry, char *err,
		   size_t errlen);

#endif
