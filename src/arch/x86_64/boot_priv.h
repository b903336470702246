/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_BOOT_PRIV_H
#define SV_X86_BOOT_PRIV_H

/* Pieces of the x86 boot path shared between boot.c and its helpers. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/boot.h"
#include "machine/memory.h"

/* No loader accepts more program or section headers than this. */
#define BOOT_MAX_SEGMENTS 64

/* PVH start info layout inside the page at LAYOUT_PVH_START_INFO. */
#define PVH_MODLIST_OFFSET 0x40
#define PVH_MEMMAP_OFFSET  0x80

#define E820_TYPE_RAM	   1
#define E820_TYPE_RESERVED 2
#define BOOT_E820_MAX	   16

struct e820_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* What a format loader found and put into guest memory. */
struct kernel_image {
	enum kernel_format format;
	enum boot_mode mode;
	uint64_t entry;
	uint64_t kernel_end;   /* first byte the kernel may use after loading */
	const void *setup_hdr; /* bzImage: its setup header inside the file */
	size_t setup_hdr_len;
	uint64_t cmdline_max;  /* longest command line, NUL excluded */
	uint64_t initrd_limit; /* highest address the initrd may end at (exclusive) */
};

void boot_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Each returns 0 or -errno with one line in err. */
int load_bzimage(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
		 char *err, size_t errlen);
int load_elf(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
	     char *err, size_t errlen);
int load_raw(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
	     char *err, size_t errlen);

/* True when [gpa, gpa+len) is RAM at or above 1 MiB and below the RAM end. */
bool boot_range_is_kernel_ram(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* The e820 map as the guest is told it; returns the number of entries or -errno. */
int boot_build_e820(const struct guest_mem *mem, unsigned nr_cpus, struct e820_range *map, int max);

/* MP table: lowest address it uses, and the builder. */
uint64_t mptable_start(unsigned nr_cpus);
size_t mptable_size(unsigned nr_cpus);
int mptable_build(struct guest_mem *mem, unsigned nr_cpus, char *err, size_t errlen);

/* ACPI: writes RSDP, XSDT, FADT, MADT, DSDT; *rsdp gets the RSDP address. */
int acpi_build_tables(struct guest_mem *mem, const struct boot_request *req, uint64_t *rsdp,
		      char *err, size_t errlen);

/* Byte sum that makes a table's checksum come out zero. */
uint8_t boot_checksum(const void *data, size_t len);

#endif
