/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Where the virtio-mmio transports are: the VMM's descriptions (ACPI DSDT
 * LNRO0005 devices, `virtio_mmio.device=` command-line tokens) and our
 * VMM's fixed windows at VIRTIO_MMIO_BASE, probed.
 */
#ifndef SVGUEST_VIRTIO_DISCOVER_H
#define SVGUEST_VIRTIO_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>

#define VIO_MAX_DESC 32

struct vio_res {
	uint64_t base, size;
	uint32_t irq;
};

/* The DSDT's (Memory32Fixed, Extended Interrupt) pairs; -1 without ACPI. */
int vio_dsdt_resources(struct vio_res *out, unsigned int max, unsigned int *hids);
/* The `virtio_mmio.device=<size>@<base>:<irq>` tokens of our command line. */
unsigned int vio_cmdline_resources(struct vio_res *out, unsigned int max);

#endif
