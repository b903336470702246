// SPDX-License-Identifier: MulanPSL-2.0
/* Copies the boot structures the VMM gave us into struct boot_info. */
#include "boot.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/string.h"

struct boot_info boot;

static void init_linux64(uint64_t addr)
{
	const uint8_t *bp = (const uint8_t *)addr;
	unsigned int i, n;

	memcpy(boot.params, bp, BP_SIZE);
	boot.cmdline_addr = *(const uint32_t *)(bp + BP_CMD_LINE_PTR) |
			    (uint64_t) * (const uint32_t *)(bp + BP_EXT_CMD_LINE_PTR) << 32;
	boot.rsdp_addr = *(const uint64_t *)(bp + BP_ACPI_RSDP_ADDR);
	n = bp[BP_E820_ENTRIES];
	boot.nr_mem_reported = n;
	if (n > E820_MAX)
		n = E820_MAX;
	for (i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + i * 20;

		boot.mem[i].addr = *(const uint64_t *)e;
		boot.mem[i].size = *(const uint64_t *)(e + 8);
		boot.mem[i].type = *(const uint32_t *)(e + 16);
	}
	boot.nr_mem = n;
}

static void init_pvh(uint64_t addr)
{
	const struct hvm_start_info *si = (const void *)addr;
	const struct hvm_memmap_entry *mm;
	unsigned int i, n;

	memcpy(&boot.start, si, sizeof(*si));
	if (si->magic != PVH_START_MAGIC)
		return;
	boot.cmdline_addr = si->cmdline_paddr;
	boot.rsdp_addr = si->rsdp_paddr;
	if (si->version < 1 || !si->memmap_paddr)
		return;
	mm = (const void *)si->memmap_paddr;
	n = si->memmap_entries;
	boot.nr_mem_reported = n;
	if (n > E820_MAX)
		n = E820_MAX;
	for (i = 0; i < n; i++) {
		boot.mem[i].addr = mm[i].addr;
		boot.mem[i].size = mm[i].size;
		boot.mem[i].type = mm[i].type;
	}
	boot.nr_mem = n;
}

void boot_info_init(int kind, uint64_t info_addr)
{
	boot.kind = kind;
	boot.info_addr = info_addr;
	if (info_addr && kind == BOOT_KIND_LINUX64)
		init_linux64(info_addr);
	else if (info_addr && kind == BOOT_KIND_PVH)
		init_pvh(info_addr);
	/* Our map covers 4 GiB; a pointer above that would fault. */
	if (boot.cmdline_addr && boot.cmdline_addr < 0x100000000ULL)
		cmdline_init((const char *)boot.cmdline_addr);
	else
		cmdline_init(NULL);
}

bool boot_is_ram(uint64_t addr, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < boot.nr_mem; i++) {
		const struct mem_region *r = &boot.mem[i];

		if (r->type == E820_RAM && addr >= r->addr && addr + size <= r->addr + r->size)
			return true;
	}
	return false;
}

const char *boot_kind_name(void)
{
	switch (boot.kind) {
	case BOOT_KIND_PVH:
		return "pvh";
	case BOOT_KIND_LINUX64:
		return "linux64";
	default:
		return "unknown";
	}
}
