/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_FDT_H
#define SV_AARCH64_FDT_H

#include <stddef.h>
#include <stdint.h>

struct mmio_dev_desc;

/* What the device tree describes; mmio_dev_desc.irq is the transport's SPI number. */
struct fdt_params {
	uint64_t ram_base;
	uint64_t ram_size;
	unsigned nr_cpus;
	int gic_version; /* 3, or 2 where the host has no GICv3 */
	const char *bootargs;
	uint64_t initrd_start; /* initrd_size 0: none */
	uint64_t initrd_size;
	const struct mmio_dev_desc *devs;
	int nr_devs;
};

/*
 * Writes the flattened device tree (memory, cpus with PSCI, the GIC, the arch
 * timer, PL011, PL031, the virtio-mmio transports, chosen) into buf.  Returns
 * the blob's size, or -EINVAL (bad parameters) / -ENOSPC (buf too small) with
 * one line in err.
 */
int fdt_build(const struct fdt_params *p, void *buf, size_t bufsize, char *err, size_t errlen);

#endif
