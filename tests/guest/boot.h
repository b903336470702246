/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_BOOT_H
#define SVGUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define E820_MAX      128
#define E820_RAM      1
#define E820_RESERVED 2

/* struct boot_params offsets (Linux Documentation/arch/x86/zero-page.rst) */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMG  0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES	    0x1e8
#define BP_BOOT_FLAG	    0x1fe
#define BP_HEADER	    0x202
#define BP_TYPE_OF_LOADER   0x210
#define BP_LOADFLAGS	    0x211
#define BP_RAMDISK_IMAGE    0x218
#define BP_RAMDISK_SIZE	    0x21c
#define BP_HEAP_END_PTR	    0x224
#define BP_CMD_LINE_PTR	    0x228
#define BP_CMDLINE_SIZE	    0x238
#define BP_HW_SUBARCH	    0x23c
#define BP_SETUP_DATA	    0x250
#define BP_E820_TABLE	    0x2d0
#define BP_SIZE		    0x1000

/* struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct mem_region {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* What the VMM handed over, copied at start-up before anything overwrites it. */
struct boot_info {
	int kind; /* BOOT_KIND_* */
	uint64_t info_addr;
	uint64_t cmdline_addr;
	uint64_t rsdp_addr; /* 0 if the boot structure names none */
	unsigned int nr_mem;
	unsigned int nr_mem_reported; /* as given, may exceed E820_MAX */
	struct mem_region mem[E820_MAX];
	uint8_t params[BP_SIZE];     /* boot_params copy (LINUX64) */
	struct hvm_start_info start; /* start_info copy (PVH) */
};

extern struct boot_info boot;

void boot_info_init(int kind, uint64_t info_addr);
/* True if [addr, addr+size) lies inside one RAM region of the memory map. */
bool boot_is_ram(uint64_t addr, uint64_t size);
/*
 * Starts the AP with that APIC id (INIT-SIPI-SIPI, also after the smp check
 * left it halted) running job(), which halts the AP when it returns; true
 * once the AP runs it (checks/smp.c).
 */
bool smp_start_job(unsigned int apic_id, void (*job)(void));
const char *boot_kind_name(void);

#endif
