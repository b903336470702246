/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_BOOT_H
#define SV_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h" /* struct boot_entry: mode is an enum boot_mode, format a kernel_format */
#include "machine/memory.h"

struct mmio_dev_desc;

enum boot_mode {
	BOOT_MODE_LINUX64, /* 64-bit long mode, rsi = boot_params */
	BOOT_MODE_PVH,	   /* 32-bit protected mode, paging off, ebx = hvm_start_info */
};

enum kernel_format { KERNEL_BZIMAGE, KERNEL_ELF, KERNEL_ELF_PVH, KERNEL_RAW };

struct boot_request {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* may be NULL */
	size_t initrd_len;
	const char *cmdline; /* full command line, devices already appended */
	unsigned nr_cpus;
	bool acpi;
	const struct mmio_dev_desc *devs;
	int nr_devs;
};

/*
 * Loads kernel and initrd into guest memory and writes boot_params (or the PVH
 * start info), e820, command line, MP table and (when acpi) ACPI tables.
 * Every malformed or truncated image gives -EINVAL/-E2BIG/-ENOEXEC and one
 * line in err; nothing is ever read outside the given buffers.
 */
int x86_boot_setup(struct guest_mem *mem, const struct boot_request *req, struct boot_entry *out,
		   char *err, size_t errlen);

#endif
