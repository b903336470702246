// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The boot structure the VMM wrote: boot_params (64-bit entry) or
 * hvm_start_info (PVH), its command line pointer and its memory map.
 */
#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"

#define MIB (1024ULL * 1024)

extern char _image_start[], _image_end[];

static uint64_t cmdline_len_at(uint64_t addr, uint64_t max)
{
	return strnlen((const char *)addr, max);
}

static bool in_memmap(uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < boot.nr_mem; i++) {
		if (boot.mem[i].type && addr >= boot.mem[i].addr &&
		    addr - boot.mem[i].addr < boot.mem[i].size)
			return true;
	}
	return false;
}

/* A pointer the VMM hands over must lead to RAM (strict) or at least into the map. */
static bool pointer_ok(uint64_t addr)
{
	return strict_mode() ? boot_is_ram(addr, 1) : in_memmap(addr);
}

/* Lax mode only: QEMU's firmware lists regions out of order and adds an empty one. */
static void sort_memmap(struct mem_region *m, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++) {
		struct mem_region r = m[i];

		for (j = i; j && m[j - 1].addr > r.addr; j--)
			m[j] = m[j - 1];
		m[j] = r;
	}
}

static enum check_result check_memmap(struct check_ctx *ctx)
{
	static struct mem_region map[E820_MAX];
	uint64_t total = 0, mem_mib;
	unsigned int i, n = 0;

	if (!boot.nr_mem)
		return check_fail(ctx, "empty memory map");
	if (boot.nr_mem_reported > E820_MAX)
		return check_fail(ctx, "%u memory map entries, at most %u allowed",
				  boot.nr_mem_reported, E820_MAX);
	for (i = 0; i < boot.nr_mem; i++) {
		if (boot.mem[i].size || strict_mode())
			map[n++] = boot.mem[i];
	}
	if (!strict_mode())
		sort_memmap(map, n);
	for (i = 0; i < n; i++) {
		const struct mem_region *r = &map[i];

		if (!r->size)
			return check_fail(ctx, "memory map entry %u is empty", i);
		if (r->addr + r->size < r->addr)
			return check_fail(ctx, "memory map entry %u wraps", i);
		if (i && r->addr < map[i - 1].addr + map[i - 1].size)
			return check_fail(ctx,
					  "memory map entry %u (0x%lx) overlaps or is out of order"
					  " after 0x%lx+0x%lx",
					  i, r->addr, map[i - 1].addr, map[i - 1].size);
		if (r->type == E820_RAM)
			total += r->size;
	}
	if (!boot_is_ram(0, 0x1000))
		return check_fail(ctx, "no RAM at address 0");
	if (!boot_is_ram(0x100000, 0x1000))
		return check_fail(ctx, "no RAM at 1 MiB");
	if (!boot_is_ram((uintptr_t)_image_start, (uintptr_t)(_image_end - _image_start)))
		return check_fail(ctx, "the guest image 0x%lx-0x%lx is not in RAM",
				  (uint64_t)(uintptr_t)_image_start,
				  (uint64_t)(uintptr_t)_image_end);
	if (cmdline_get_u64("mem", &mem_mib)) {
		/* BIOS area and similar holes may take a few MiB, never more */
		if (total > mem_mib * MIB || total + 4 * MIB < mem_mib * MIB)
			return check_fail(ctx, "RAM in the memory map is 0x%lx bytes, mem=%lu MiB",
					  total, mem_mib);
	} else if (total < 32 * MIB) {
		return check_fail(ctx, "only 0x%lx bytes of RAM in the memory map", total);
	}
	return CHECK_PASS;
}

#define LOADFLAG_CAN_USE_HEAP 0x80
#define SETUP_DATA_MAX	      32

/*
 * Fields a loader writes, which a kernel follows: the setup_data list (walked
 * node by node), the initrd range and the platform (hardware_subarch).  Junk
 * passed through from a bzImage's own header shows up here.
 */
static enum check_result check_loader_fields(struct check_ctx *ctx)
{
	const uint8_t *bp = boot.params;
	uint64_t sd = *(const uint64_t *)(bp + BP_SETUP_DATA);
	uint64_t rd = *(const uint32_t *)(bp + BP_RAMDISK_IMAGE) |
		      (uint64_t) * (const uint32_t *)(bp + BP_EXT_RAMDISK_IMG) << 32;
	uint64_t rd_len = *(const uint32_t *)(bp + BP_RAMDISK_SIZE) |
			  (uint64_t) * (const uint32_t *)(bp + BP_EXT_RAMDISK_SIZE) << 32;
	uint32_t subarch = *(const uint32_t *)(bp + BP_HW_SUBARCH);
	unsigned int n = 0;

	printf("INFO boot_params: type_of_loader 0x%x loadflags 0x%x heap_end_ptr 0x%x "
	       "hardware_subarch 0x%x setup_data 0x%lx ramdisk 0x%lx+0x%lx\n",
	       bp[BP_TYPE_OF_LOADER], bp[BP_LOADFLAGS], *(const uint16_t *)(bp + BP_HEAP_END_PTR),
	       subarch, sd, rd, rd_len);
	if (subarch != 0)
		return check_fail(ctx, "hardware_subarch %u is not 0 (PC)", subarch);
	if (rd_len && !boot_is_ram(rd, rd_len))
		return check_fail(ctx, "initrd 0x%lx+0x%lx is not in RAM", rd, rd_len);
	if (!(bp[BP_LOADFLAGS] & LOADFLAG_CAN_USE_HEAP) &&
	    *(const uint16_t *)(bp + BP_HEAP_END_PTR))
		return check_fail(ctx, "heap_end_ptr set without CAN_USE_HEAP");
	for (; sd; n++) {
		/* struct setup_data: next (8), type (4), len (4), data */
		if (n == SETUP_DATA_MAX)
			return check_fail(ctx, "setup_data list longer than %u", SETUP_DATA_MAX);
		if (sd >= 0x100000000ULL || !boot_is_ram(sd, 16) ||
		    !boot_is_ram(sd, 16 + (uint64_t) * (const uint32_t *)(sd + 12)))
			return check_fail(ctx, "setup_data node %u at 0x%lx is not in RAM", n, sd);
		sd = *(const uint64_t *)sd;
	}
	return CHECK_PASS;
}

static enum check_result check_boot_params(struct check_ctx *ctx)
{
	const uint8_t *bp = boot.params;
	uint32_t size = *(const uint32_t *)(bp + BP_CMDLINE_SIZE);
	uint64_t max = size ? (uint64_t)size + 1 : 0x10000;

	if (*(const uint16_t *)(bp + BP_BOOT_FLAG) != 0xaa55)
		return check_fail(ctx, "boot_flag is 0x%x, not 0xaa55",
				  *(const uint16_t *)(bp + BP_BOOT_FLAG));
	if (memcmp(bp + BP_HEADER, "HdrS", 4))
		return check_fail(ctx, "setup header magic is not HdrS");
	if (!boot.cmdline_addr)
		return check_fail(ctx, "cmd_line_ptr is 0");
	if (!pointer_ok(boot.cmdline_addr))
		return check_fail(ctx, "cmd_line_ptr 0x%lx is not in %s", boot.cmdline_addr,
				  strict_mode() ? "RAM" : "the memory map");
	if (cmdline_len_at(boot.cmdline_addr, max) >= max)
		return check_fail(ctx, "command line at 0x%lx is longer than cmdline_size %u",
				  boot.cmdline_addr, size);
	if (check_memmap(ctx) != CHECK_PASS)
		return CHECK_FAIL;
	return check_loader_fields(ctx);
}

static enum check_result check_start_info(struct check_ctx *ctx)
{
	const struct hvm_start_info *si = &boot.start;

	if (si->magic != PVH_START_MAGIC)
		return check_fail(ctx, "start_info magic is 0x%x", si->magic);
	if (!si->cmdline_paddr)
		return check_fail(ctx, "cmdline_paddr is 0");
	if (!pointer_ok(si->cmdline_paddr))
		return check_fail(ctx, "cmdline_paddr 0x%lx is not in %s", si->cmdline_paddr,
				  strict_mode() ? "RAM" : "the memory map");
	if (cmdline_len_at(si->cmdline_paddr, 0x10000) >= 0x10000)
		return check_fail(ctx, "command line at 0x%lx is not terminated",
				  si->cmdline_paddr);
	if (si->version < 1 || !si->memmap_paddr)
		return check_fail(ctx, "start_info version %u has no memory map", si->version);
	return check_memmap(ctx);
}

static enum check_result check_bootinfo(struct check_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < boot.nr_mem; i++)
		printf("INFO memmap %u: 0x%lx-0x%lx type %u\n", i, boot.mem[i].addr,
		       boot.mem[i].addr + boot.mem[i].size - 1, boot.mem[i].type);
	switch (boot.kind) {
	case BOOT_KIND_LINUX64:
		if (!boot.info_addr)
			return check_fail(ctx, "rsi (boot_params) is 0");
		return check_boot_params(ctx);
	case BOOT_KIND_PVH:
		return check_start_info(ctx);
	default:
		return check_fail(ctx, "unknown boot path");
	}
}

DEFINE_CHECK(bootinfo, check_bootinfo, true);
