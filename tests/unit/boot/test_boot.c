// SPDX-License-Identifier: MulanPSL-2.0
/* Kernel formats, command line, initrd, boot_params, PVH start info, e820. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "boot_test.h"

struct hvm_start_info_v1 {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static char err[256];

static struct boot_request request(const uint8_t *k, size_t len)
{
	return (struct boot_request){
	    .kernel = k, .kernel_len = len, .cmdline = "console=ttyS0", .nr_cpus = 1};
}

static int boot(struct test_guest *g, const struct boot_request *req, struct boot_entry *e)
{
	err[0] = 'X';
	err[1] = '\0';
	return x86_boot_setup(&g->mem, req, e, err, sizeof(err));
}

static const struct boot_params *zeropage(struct test_guest *g)
{
	return (const struct boot_params *)(g->ram + LAYOUT_BOOT_PARAMS);
}

static void assert_e820_small(const struct boot_params *bp)
{
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[0].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[1].addr, LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[1].size, LAYOUT_HIMEM_START - LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[1].type, E820_TYPE_RESERVED);
	assert_int_equal(bp->e820_table[2].addr, LAYOUT_HIMEM_START);
	assert_int_equal(bp->e820_table[2].size, TEST_RAM_SIZE - LAYOUT_HIMEM_START);
	assert_int_equal(bp->e820_table[2].type, E820_TYPE_RAM);
}

static void test_bzimage(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_bzimage(0x3000, &len);
	struct boot_request req = request(k, len);
	const struct boot_params *bp;

	(void)state;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_string_equal(err, "");
	assert_int_equal(e.format, KERNEL_BZIMAGE);
	assert_int_equal(e.mode, BOOT_MODE_LINUX64);
	assert_int_equal(e.entry, 0x100200);
	assert_int_equal(e.info_gpa, LAYOUT_BOOT_PARAMS);
	/* pref_address 16 MiB + init_size 16 MiB */
	assert_int_equal(e.kernel_end, 0x2000000);
	assert_memory_equal(g.ram + 0x100000, k + 5 * 512, 0x3000);

	bp = zeropage(&g);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.code32_start, 0x100000);
	assert_int_equal(bp->hdr.cmdline_size, 2047);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal((char *)g.ram + LAYOUT_CMDLINE, "console=ttyS0");
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0);
	assert_e820_small(bp);
	test_guest_free(&g);
	free(k);
}

/*
 * A bzImage whose setup sector is junk: every loader-owned setup header field
 * and everything outside the header (the sentinel at 0x1ef included) 0xff.
 * boot_params must carry the loader's values, and the kernel's own fields
 * must come through unchanged.
 */
static void test_bzimage_loader_fields_not_from_file(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_bzimage(0x1000, &len);
	struct setup_header *h = (struct setup_header *)(k + 0x1f1);
	struct setup_header want;
	uint8_t initrd[3000] = {1};
	struct boot_request req = request(k, len);
	const struct boot_params *bp;
	const uint8_t *raw;
	uint64_t addr;

	(void)state;
	memset(k, 0xff, 0x1f1);			  /* boot sector before the header */
	memset(k + 0x268, 0xff, 5 * 512 - 0x268); /* setup code after it */
	h->vid_mode = 0x1234;
	h->realmode_swtch = 0xffffffff;
	h->type_of_loader = 0x21;
	h->loadflags = 0xff;
	h->setup_move_size = 0xffff;
	h->code32_start = 0xffffffff;
	h->ramdisk_image = 0xffffffff;
	h->ramdisk_size = 0xffffffff;
	h->bootsect_kludge = 0xffffffff;
	h->heap_end_ptr = 0xffff;
	h->ext_loader_ver = 0xff;
	h->ext_loader_type = 0xff;
	h->cmd_line_ptr = 0xffffffff;
	h->hardware_subarch = 0xffffffff;
	h->hardware_subarch_data = UINT64_MAX;
	h->setup_data = UINT64_MAX;
	h->root_flags = 1;
	h->root_dev = 0x0801;
	want = *h;
	req.initrd = initrd;
	req.initrd_len = sizeof(initrd);

	test_guest_init(&g);
	/* A previous boot's leftovers in the zero page must not survive either. */
	memset(g.ram + LAYOUT_BOOT_PARAMS, 0xee, 4096);
	assert_int_equal(boot(&g, &req, &e), 0);
	bp = zeropage(&g);
	raw = (const uint8_t *)bp;
	addr = bp->hdr.ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;

	assert_int_equal(bp->hdr.vid_mode, 0xffff);
	assert_int_equal(bp->hdr.realmode_swtch, 0);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags, LOADED_HIGH);
	assert_int_equal(bp->hdr.setup_move_size, 0);
	assert_int_equal(bp->hdr.code32_start, LAYOUT_HIMEM_START);
	assert_true(addr >= e.kernel_end && addr + sizeof(initrd) <= TEST_RAM_SIZE);
	assert_memory_equal(g.ram + addr, initrd, sizeof(initrd));
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(bp->hdr.bootsect_kludge, 0);
	assert_int_equal(bp->hdr.heap_end_ptr, 0);
	assert_int_equal(bp->hdr.ext_loader_ver, 0);
	assert_int_equal(bp->hdr.ext_loader_type, 0);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.hardware_subarch, 0);
	assert_int_equal(bp->hdr.hardware_subarch_data, 0);
	assert_int_equal(bp->hdr.setup_data, 0);

	/* The kernel's fields, as the file has them. */
	assert_int_equal(bp->hdr.root_flags, 1);
	assert_int_equal(bp->hdr.root_dev, 0x0801);
	assert_int_equal(bp->hdr.setup_sects, want.setup_sects);
	assert_int_equal(bp->hdr.version, want.version);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.initrd_addr_max, want.initrd_addr_max);
	assert_int_equal(bp->hdr.kernel_alignment, want.kernel_alignment);
	assert_int_equal(bp->hdr.relocatable_kernel, want.relocatable_kernel);
	assert_int_equal(bp->hdr.xloadflags, want.xloadflags);
	assert_int_equal(bp->hdr.cmdline_size, want.cmdline_size);
	assert_int_equal(bp->hdr.pref_address, want.pref_address);
	assert_int_equal(bp->hdr.init_size, want.init_size);

	/* Outside the header: zero but for the e820 table and the RSDP (none). */
	for (size_t i = 0; i < offsetof(struct boot_params, hdr); i++) {
		if (i >= offsetof(struct boot_params, e820_entries) &&
		    i < offsetof(struct boot_params, e820_entries) + 1)
			continue;
		if (raw[i])
			fail_msg("boot_params byte 0x%zx is 0x%x, not 0", i, raw[i]);
	}
	assert_int_equal(bp->e820_entries, 3);
	for (size_t i = offsetof(struct boot_params, hdr) + sizeof(struct setup_header);
	     i < offsetof(struct boot_params, e820_table); i++)
		if (raw[i])
			fail_msg("boot_params byte 0x%zx is 0x%x, not 0", i, raw[i]);
	for (size_t i = offsetof(struct boot_params, e820_table) + 3 * sizeof(bp->e820_table[0]);
	     i < sizeof(*bp); i++)
		if (raw[i])
			fail_msg("boot_params byte 0x%zx is 0x%x, not 0", i, raw[i]);
	test_guest_free(&g);
	free(k);
}

static void test_bzimage_setup_sects_zero_means_four(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_bzimage(0x1000, &len);
	struct boot_request req = request(k, len);

	(void)state;
	k[0x1f1] = 0;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_memory_equal(g.ram + 0x100000, k + 5 * 512, 0x1000);
	test_guest_free(&g);
	free(k);
}

static void test_elf(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	struct elf_opts o = {.bss_len = 0x1000};
	size_t len;
	uint8_t *k = make_elf(&o, &len);
	struct boot_request req = request(k, len);

	(void)state;
	test_guest_init(&g);
	memset(g.ram + 0x1000000, 0xcc, 0x2000); /* bss must come back zeroed */
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(e.format, KERNEL_ELF);
	assert_int_equal(e.mode, BOOT_MODE_LINUX64);
	assert_int_equal(e.entry, 0x1000000);
	assert_int_equal(e.kernel_end, 0x1000000 + 0x100 + 0x1000);
	assert_int_equal(e.info_gpa, LAYOUT_BOOT_PARAMS);
	assert_memory_equal(g.ram + 0x1000000, k + ELF_CODE_OFF, 0x100);
	for (int i = 0; i < 0x1000; i++)
		assert_int_equal(g.ram[0x1000100 + i], 0);
	assert_int_equal(g.ram[0x1001100], 0xcc);
	/* No setup header in the image: the loader describes itself. */
	assert_int_equal(zeropage(&g)->hdr.header, 0x53726448);
	assert_int_equal(zeropage(&g)->hdr.boot_flag, 0xaa55);
	assert_int_equal(zeropage(&g)->hdr.type_of_loader, 0xff);
	assert_true(zeropage(&g)->hdr.version >= 0x020c);
	assert_e820_small(zeropage(&g));
	test_guest_free(&g);
	free(k);
}

static void test_elf_virtual_entry(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	struct elf_opts o = {.paddr = 0x200000, .virt_off = 0xffffffff80000000ULL};
	size_t len;
	uint8_t *k = make_elf(&o, &len);
	struct boot_request req = request(k, len);

	(void)state;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(e.entry, 0x200000);
	test_guest_free(&g);
	free(k);
}

static void check_pvh(bool in_section)
{
	struct test_guest g;
	struct boot_entry e;
	struct elf_opts o = {.pvh = true, .pvh_in_section = in_section};
	size_t len;
	uint8_t *k = make_elf(&o, &len);
	uint8_t initrd[5000];
	struct boot_request req = request(k, len);
	const struct hvm_start_info_v1 *si;
	const struct hvm_memmap_entry *mm;
	const uint64_t *mod;

	memset(initrd, 0x42, sizeof(initrd));
	req.initrd = initrd;
	req.initrd_len = sizeof(initrd);
	req.acpi = true;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(e.format, KERNEL_ELF_PVH);
	assert_int_equal(e.mode, BOOT_MODE_PVH);
	assert_int_equal(e.entry, 0x1000000 + ELF_PVH_ENTRY_DELTA);
	assert_int_equal(e.info_gpa, LAYOUT_PVH_START_INFO);

	si = (const void *)(g.ram + LAYOUT_PVH_START_INFO);
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->cmdline_paddr, LAYOUT_CMDLINE);
	assert_int_equal(si->rsdp_paddr, LAYOUT_ACPI_RSDP);
	assert_int_equal(si->nr_modules, 1);
	mod = (const void *)(g.ram + si->modlist_paddr);
	assert_int_equal(mod[1], sizeof(initrd));
	assert_memory_equal(g.ram + mod[0], initrd, sizeof(initrd));
	assert_int_equal(si->memmap_entries, 3);
	mm = (const void *)(g.ram + si->memmap_paddr);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].type, 1);
	assert_int_equal(mm[1].addr, LAYOUT_EBDA_START);
	assert_int_equal(mm[1].type, 2);
	assert_int_equal(mm[2].addr, LAYOUT_HIMEM_START);
	assert_int_equal(mm[2].size, TEST_RAM_SIZE - LAYOUT_HIMEM_START);
	assert_int_equal(mm[2].type, 1);
	test_guest_free(&g);
	free(k);
}

static void test_elf_pvh(void **state)
{
	(void)state;
	check_pvh(false);
}

static void test_elf_pvh_section(void **state)
{
	(void)state;
	check_pvh(true);
}

static void test_raw(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	uint8_t k[1000] = {0};
	struct boot_request req = request(k, sizeof(k));

	(void)state;
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(i * 3);
	k[0] = 0x90;
	req.acpi = true;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(e.format, KERNEL_RAW);
	assert_int_equal(e.mode, BOOT_MODE_LINUX64);
	assert_int_equal(e.entry, LAYOUT_KERNEL_RAW);
	assert_int_equal(e.kernel_end, LAYOUT_KERNEL_RAW + sizeof(k));
	assert_memory_equal(g.ram + LAYOUT_KERNEL_RAW, k, sizeof(k));
	assert_int_equal(zeropage(&g)->acpi_rsdp_addr, LAYOUT_ACPI_RSDP);
	assert_int_equal(zeropage(&g)->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	test_guest_free(&g);
}

static void test_initrd_placement(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_bzimage(0x1000, &len);
	struct boot_request req = request(k, len);
	size_t ilen = 3 * 4096 + 17;
	uint8_t *initrd = malloc(ilen);
	const struct boot_params *bp;
	uint64_t addr;

	(void)state;
	memset(initrd, 0x77, ilen);
	req.initrd = initrd;
	req.initrd_len = ilen;
	test_guest_init(&g);
	assert_int_equal(boot(&g, &req, &e), 0);
	bp = zeropage(&g);
	addr = bp->hdr.ramdisk_image | ((uint64_t)bp->ext_ramdisk_image << 32);
	assert_int_equal(addr % 4096, 0);
	assert_true(addr + ilen <= TEST_RAM_SIZE);
	assert_true(addr + ilen + 4096 > TEST_RAM_SIZE); /* as high as it goes */
	assert_true(addr >= e.kernel_end);
	assert_int_equal(bp->hdr.ramdisk_size, ilen);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_memory_equal(g.ram + addr, initrd, ilen);

	/* The kernel's initrd_addr_max is respected. */
	((struct setup_header *)(k + 0x1f1))->initrd_addr_max = 0x2ffffff;
	assert_int_equal(boot(&g, &req, &e), 0);
	addr = zeropage(&g)->hdr.ramdisk_image;
	assert_true(addr + ilen <= 0x3000000);
	assert_true(addr + ilen + 4096 > 0x3000000);

	/* Too big for the room between the kernel end and RAM end. */
	req.initrd_len = TEST_RAM_SIZE - 0x2000000 + 1;
	req.initrd = calloc(1, req.initrd_len);
	assert_int_equal(boot(&g, &req, &e), -E2BIG);
	assert_non_null(strstr(err, "initrd"));
	free((void *)req.initrd);
	test_guest_free(&g);
	free(initrd);
	free(k);
}

static void test_cmdline_limits(void **state)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_bzimage(0x1000, &len);
	uint8_t raw[64] = {0x90};
	struct boot_request req = request(k, len);
	char *line = malloc(LAYOUT_CMDLINE_MAX + 1);

	(void)state;
	test_guest_init(&g);
	memset(line, 'a', LAYOUT_CMDLINE_MAX);
	/* bzImage: cmdline_size 2047 */
	line[2047] = '\0';
	req.cmdline = line;
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(strlen((char *)g.ram + LAYOUT_CMDLINE), 2047);
	line[2047] = 'a';
	line[2048] = '\0';
	assert_int_equal(boot(&g, &req, &e), -E2BIG);
	assert_non_null(strstr(err, "cmdline_size"));

	/* Raw kernel: only the layout's 64 KiB (NUL included) */
	req = request(raw, sizeof(raw));
	req.cmdline = line;
	line[2048] = 'a';
	line[LAYOUT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(boot(&g, &req, &e), 0);
	line[LAYOUT_CMDLINE_MAX - 1] = 'a';
	line[LAYOUT_CMDLINE_MAX] = '\0';
	assert_int_equal(boot(&g, &req, &e), -E2BIG);
	assert_non_null(strstr(err, "command line"));

	req.cmdline = NULL;
	assert_int_equal(boot(&g, &req, &e), 0);
	assert_int_equal(g.ram[LAYOUT_CMDLINE], 0);
	test_guest_free(&g);
	free(line);
	free(k);
}

static void test_e820_large_guest(void **state)
{
	const uint64_t low = 3ULL << 30, high = 1ULL << 30;
	struct guest_mem mem;
	struct boot_entry e;
	uint8_t k[64] = {0x90};
	struct boot_request req = request(k, sizeof(k));
	const struct boot_params *bp;
	uint8_t *ram;

	(void)state;
	/* Untouched pages of a NORESERVE mapping cost nothing. */
	ram = mmap(NULL, low + high, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&mem, 0, sizeof(mem));
	mem.regions[0] = (struct gmem_region){0, low, ram};
	mem.regions[1] = (struct gmem_region){LAYOUT_MEM_ABOVE_4G, high, ram + low};
	mem.nr_regions = 2;
	mem.ram_size = low + high;
	mem.memfd = -1;
	assert_int_equal(x86_boot_setup(&mem, &req, &e, err, sizeof(err)), 0);
	bp = (const struct boot_params *)(ram + LAYOUT_BOOT_PARAMS);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[2].addr, LAYOUT_HIMEM_START);
	assert_int_equal(bp->e820_table[2].size, low - LAYOUT_HIMEM_START);
	assert_int_equal(bp->e820_table[3].addr, LAYOUT_MEM_ABOVE_4G);
	assert_int_equal(bp->e820_table[3].size, high);
	assert_int_equal(bp->e820_table[3].type, E820_TYPE_RAM);

	/* A 1 GiB initrd lands below LAYOUT_INITRD_MAX, not at the 3 GiB RAM end. */
	req.initrd_len = 1 << 20;
	req.initrd = calloc(1, req.initrd_len);
	assert_int_equal(x86_boot_setup(&mem, &req, &e, err, sizeof(err)), 0);
	assert_int_equal(bp->hdr.ramdisk_image, (LAYOUT_INITRD_MAX + 1) - (1 << 20));
	free((void *)req.initrd);
	munmap(ram, low + high);
}

static void test_e820_many_cpus(void **state)
{
	struct e820_range map[BOOT_E820_MAX];
	struct test_guest g;
	int n;

	(void)state;
	test_guest_init(&g);
	n = boot_build_e820(&g.mem, 254, map, BOOT_E820_MAX);
	assert_int_equal(n, 3);
	assert_true(map[0].size < LAYOUT_EBDA_START);
	assert_int_equal(map[0].size, mptable_start(254));
	assert_int_equal(map[1].addr + map[1].size, LAYOUT_HIMEM_START);
	test_guest_free(&g);
}

/* Runs one corrupted image: must fail with a one-line message containing what. */
static void expect_failure(const uint8_t *k, size_t len, int want, const char *what)
{
	struct test_guest g;
	struct boot_entry e;
	struct boot_request req = request(k, len);
	int ret;

	test_guest_init(&g);
	ret = boot(&g, &req, &e);
	if (ret != want || !strstr(err, what) || strchr(err, '\n'))
		fail_msg("expected %d with \"%s\", got %d: \"%s\"", want, what, ret, err);
	test_guest_free(&g);
}

static uint8_t *elf_with(size_t *len, void (*mutate)(uint8_t *k, size_t *len))
{
	struct elf_opts o = {.pvh = true};
	uint8_t *k = make_elf(&o, len);

	mutate(k, len);
	return k;
}

static Elf64_Ehdr *ehdr(uint8_t *k)
{
	return (Elf64_Ehdr *)k;
}

static Elf64_Phdr *phdr(uint8_t *k, int i)
{
	return (Elf64_Phdr *)(k + ELF_PHDR_OFF) + i;
}

static void m_truncate_ehdr(uint8_t *k, size_t *len)
{
	(void)k;
	*len = 40;
}
static void m_truncate_ident(uint8_t *k, size_t *len)
{
	(void)k;
	*len = 10;
}
static void m_class_bad(uint8_t *k, size_t *len)
{
	(void)len;
	k[EI_CLASS] = 3;
}
static void m_big_endian(uint8_t *k, size_t *len)
{
	(void)len;
	k[EI_DATA] = ELFDATA2MSB;
}
static void m_class32(uint8_t *k, size_t *len)
{
	(void)len;
	k[EI_CLASS] = ELFCLASS32; /* 64-bit headers read as 32-bit ones */
}
static void m_machine386(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_machine = EM_386; /* fine for ELF32 only */
}
static void m_machine(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_machine = EM_AARCH64;
}
static void m_type(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_type = ET_REL;
}
static void m_phentsize(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_phentsize = 32;
}
static void m_phnum0(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_phnum = 0;
}
static void m_phnum_many(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_phnum = 1000;
}
static void m_phoff(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_phoff = 0xfffffffffffffff0ULL;
}
static void m_seg_offset(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_offset = 0x7fffffffffffffffULL;
}
static void m_cut_data(uint8_t *k, size_t *len)
{
	(void)k;
	*len = ELF_CODE_OFF + 0x10; /* the segment says 0x100 bytes */
}
static void m_filesz(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_memsz = 0x10;
}
static void m_low_paddr(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_paddr = LAYOUT_BOOT_PARAMS; /* over the boot structures */
}
static void m_paddr_beyond_ram(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_paddr = TEST_RAM_SIZE - 0x80;
}
static void m_paddr_wrap(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_paddr = 0xffffffffffffff00ULL;
	phdr(k, 0)->p_memsz = 0x200;
}
static void m_no_load(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 0)->p_type = PT_NULL;
}
static void m_note_overrun(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf64_Nhdr *)(k + ELF_NOTE_OFF))->n_namesz = 0xfffffff0;
}
static void m_note_desc(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf64_Nhdr *)(k + ELF_NOTE_OFF))->n_descsz = 2;
}
static void m_note_outside(uint8_t *k, size_t *len)
{
	(void)len;
	phdr(k, 1)->p_filesz = 0x100000;
}
static void m_pvh_entry_outside(uint8_t *k, size_t *len)
{
	uint64_t v = 0x3000000;

	(void)len;
	memcpy(k + ELF_NOTE_OFF + 16, &v, 8);
}
static void m_pvh_entry_high(uint8_t *k, size_t *len)
{
	uint64_t v = 0x100000000ULL;

	(void)len;
	memcpy(k + ELF_NOTE_OFF + 16, &v, 8);
}
static void m_entry_outside(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf64_Nhdr *)(k + ELF_NOTE_OFF))->n_type = 1; /* not PVH: e_entry counts */
	ehdr(k)->e_entry = 0x5000000;
}
static void m_shdrs_outside(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr(k)->e_shnum = 3;
	ehdr(k)->e_shentsize = sizeof(Elf64_Shdr);
	ehdr(k)->e_shoff = *len - 10;
}

static const struct {
	void (*mutate)(uint8_t *k, size_t *len);
	const char *what;
} elf_cases[] = {
    {m_truncate_ehdr, "file of 40 bytes is shorter than the ELF64 header"},
    {m_truncate_ident, "file of 10 bytes is shorter than the ELF header"},
    {m_class_bad, "not a 32- or 64-bit little-endian image (class 3, data 1)"},
    {m_big_endian, "not a 32- or 64-bit little-endian image (class 2, data 2)"},
    {m_class32, "program header size 0 is not 32"},
    {m_machine386, "machine 3 is not x86-64"},
    {m_machine, "not x86-64"},
    {m_type, "not an executable"},
    {m_phentsize, "program header size"},
    {m_phnum0, "0 program headers"},
    {m_phnum_many, "1000 program headers"},
    {m_phoff, "past the file end"},
    {m_seg_offset, "outside the file"},
    {m_cut_data, "outside the file"},
    {m_filesz, "larger than p_memsz"},
    {m_low_paddr, "above 1 MiB"},
    {m_paddr_beyond_ram, "not in guest RAM"},
    {m_paddr_wrap, "not in guest RAM"},
    {m_no_load, "no loadable segment"},
    {m_note_overrun, "overruns"},
    {m_note_desc, "2-byte descriptor"},
    {m_note_outside, "outside the file"},
    {m_pvh_entry_outside, "PVH entry 0x3000000 is not inside"},
    {m_pvh_entry_high, "above 4 GiB"},
    {m_entry_outside, "entry point 0x5000000"},
    {m_shdrs_outside, "section headers"},
};

static void test_corrupt_elf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(elf_cases) / sizeof(elf_cases[0]); i++) {
		size_t len;
		uint8_t *k = elf_with(&len, elf_cases[i].mutate);

		expect_failure(k, len, -ENOEXEC, elf_cases[i].what);
		free(k);
	}
}

static void check_elf32_pvh(const struct elf_opts *o)
{
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_elf32(o, &len);
	struct boot_request req = request(k, len);
	const struct hvm_start_info_v1 *si;

	req.acpi = true;
	test_guest_init(&g);
	memset(g.ram + 0x1000000, 0xcc, 0x2000); /* bss must come back zeroed */
	if (boot(&g, &req, &e) != 0)
		fail_msg("ELF32 (desc %d, section %d, machine %u): %s", o->desc4 ? 4 : 8,
			 o->pvh_in_section, o->machine, err);
	assert_string_equal(err, "");
	assert_int_equal(e.format, KERNEL_ELF_PVH);
	assert_int_equal(e.mode, BOOT_MODE_PVH);
	assert_int_equal(e.entry, 0x1000000 + ELF_PVH_ENTRY_DELTA);
	assert_int_equal(e.info_gpa, LAYOUT_PVH_START_INFO);
	assert_int_equal(e.kernel_end, 0x1000000 + 0x100 + o->bss_len);
	assert_memory_equal(g.ram + 0x1000000, k + ELF_CODE_OFF, 0x100);
	for (size_t i = 0; i < o->bss_len; i++)
		assert_int_equal(g.ram[0x1000100 + i], 0);
	assert_int_equal(g.ram[0x1000100 + o->bss_len], 0xcc);
	si = (const void *)(g.ram + LAYOUT_PVH_START_INFO);
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->rsdp_paddr, LAYOUT_ACPI_RSDP);
	assert_int_equal(si->cmdline_paddr, LAYOUT_CMDLINE);
	test_guest_free(&g);
	free(k);
}

static void test_elf32_pvh(void **state)
{
	struct elf_opts o = {.pvh = true, .bss_len = 0x1000};

	(void)state;
	check_elf32_pvh(&o);
	o.desc4 = true;
	check_elf32_pvh(&o);
	o.machine = EM_X86_64; /* x32 */
	check_elf32_pvh(&o);
	o = (struct elf_opts){.pvh_in_section = true, .desc4 = true};
	check_elf32_pvh(&o);
}

static void test_elf32_without_pvh_note(void **state)
{
	struct elf_opts o = {.bss_len = 0x10};
	size_t len;
	uint8_t *k = make_elf32(&o, &len);

	(void)state;
	expect_failure(k, len, -ENOEXEC, "32-bit image without a PVH entry note");
	free(k);
}

static Elf32_Ehdr *ehdr32(uint8_t *k)
{
	return (Elf32_Ehdr *)k;
}

static Elf32_Phdr *phdr32(uint8_t *k, int i)
{
	return (Elf32_Phdr *)(k + ELF32_PHDR_OFF) + i;
}

static void m32_truncate_ehdr(uint8_t *k, size_t *len)
{
	(void)k;
	*len = 40;
}
static void m32_machine(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_machine = EM_ARM;
}
static void m32_type(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_type = ET_DYN;
}
static void m32_phentsize(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_phentsize = sizeof(Elf64_Phdr);
}
static void m32_phnum0(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_phnum = 0;
}
static void m32_phoff(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_phoff = 0xfffffff0;
}
static void m32_seg_offset(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_offset = 0xffffff00;
}
static void m32_cut_data(uint8_t *k, size_t *len)
{
	(void)k;
	*len = ELF_CODE_OFF + 0x10;
}
static void m32_filesz(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_memsz = 0x10;
}
static void m32_low_paddr(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_paddr = LAYOUT_PVH_START_INFO;
}
static void m32_paddr_beyond_ram(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_paddr = (uint32_t)TEST_RAM_SIZE - 0x80;
}
static void m32_paddr_wrap(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_paddr = 0xffffff00;
	phdr32(k, 0)->p_memsz = 0x200;
}
static void m32_memsz_huge(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_memsz = 0xffffffff;
}
static void m32_no_load(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 0)->p_type = PT_NULL;
}
static void m32_note_overrun(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf32_Nhdr *)(k + ELF32_NOTE_OFF))->n_descsz = 0xfffffff0;
}
static void m32_note_desc(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf32_Nhdr *)(k + ELF32_NOTE_OFF))->n_descsz = 2;
}
static void m32_note_outside(uint8_t *k, size_t *len)
{
	(void)len;
	phdr32(k, 1)->p_offset = (uint32_t)*len - 4;
}
static void m32_pvh_entry_outside(uint8_t *k, size_t *len)
{
	uint64_t v = 0x3000000;

	(void)len;
	memcpy(k + ELF32_NOTE_OFF + 16, &v, 8);
}
static void m32_not_pvh_note(uint8_t *k, size_t *len)
{
	(void)len;
	((Elf32_Nhdr *)(k + ELF32_NOTE_OFF))->n_type = 1;
}
static void m32_shdrs_outside(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_shnum = 3;
	ehdr32(k)->e_shentsize = sizeof(Elf32_Shdr);
	ehdr32(k)->e_shoff = (uint32_t)*len - 10;
}
static void m32_shentsize64(uint8_t *k, size_t *len)
{
	(void)len;
	ehdr32(k)->e_shnum = 1;
	ehdr32(k)->e_shentsize = sizeof(Elf64_Shdr);
	ehdr32(k)->e_shoff = ELF_CODE_OFF;
}

static const struct {
	void (*mutate)(uint8_t *k, size_t *len);
	const char *what;
} elf32_cases[] = {
    {m32_truncate_ehdr, "file of 40 bytes is shorter than the ELF32 header"},
    {m32_machine, "machine 40 is not i386 or x86-64"},
    {m32_type, "type 3 is not an executable"},
    {m32_phentsize, "program header size 56 is not 32"},
    {m32_phnum0, "0 program headers"},
    {m32_phoff, "past the file end"},
    {m32_seg_offset, "segment 0 (offset 0xffffff00, 256 bytes) lies outside the file"},
    {m32_cut_data, "lies outside the file"},
    {m32_filesz, "larger than p_memsz"},
    {m32_low_paddr, "above 1 MiB"},
    {m32_paddr_beyond_ram, "not in guest RAM"},
    {m32_paddr_wrap, "not in guest RAM"},
    {m32_memsz_huge, "not in guest RAM"},
    {m32_no_load, "no loadable segment"},
    {m32_note_overrun, "overruns"},
    {m32_note_desc, "2-byte descriptor"},
    {m32_note_outside, "segment 1"},
    {m32_pvh_entry_outside, "PVH entry 0x3000000 is not inside"},
    {m32_not_pvh_note, "without a PVH entry note"},
    {m32_shdrs_outside, "section headers"},
    {m32_shentsize64, "1 section headers of 64 bytes"},
};

static void test_corrupt_elf32(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(elf32_cases) / sizeof(elf32_cases[0]); i++) {
		struct elf_opts o = {.pvh = true};
		size_t len;
		uint8_t *k = make_elf32(&o, &len);

		elf32_cases[i].mutate(k, &len);
		expect_failure(k, len, -ENOEXEC, elf32_cases[i].what);
		free(k);
	}
}

/* Every prefix of a good ELF32 fails with a one-line ELF error; the whole loads. */
static void test_truncated_elf32(void **state)
{
	struct elf_opts o = {.pvh = true};
	struct test_guest g;
	struct boot_entry e;
	size_t len;
	uint8_t *k = make_elf32(&o, &len);

	(void)state;
	test_guest_init(&g);
	for (size_t n = 4; n <= len; n++) {
		struct boot_request req = request(k, n);
		int ret = boot(&g, &req, &e);

		if (n == len ? ret != 0
			     : ret != -ENOEXEC || strncmp(err, "ELF: ", 5) || strchr(err, '\n'))
			fail_msg("%zu of %zu bytes: %d \"%s\"", n, len, ret, err);
	}
	test_guest_free(&g);
	free(k);
}

static struct setup_header *hdr(uint8_t *k)
{
	return (struct setup_header *)(k + 0x1f1);
}

static void test_corrupt_bzimage(void **state)
{
	size_t len;
	uint8_t *k;

	(void)state;
	k = make_bzimage(0x1000, &len);
	expect_failure(k, 0x220, -ENOEXEC, "shorter than its setup header");
	hdr(k)->version = 0x0205;
	expect_failure(k, len, -ENOEXEC, "older than 2.06");
	free(k);

	k = make_bzimage(0x1000, &len);
	hdr(k)->boot_flag = 0x1234;
	expect_failure(k, len, -ENOEXEC, "boot_flag");
	free(k);

	k = make_bzimage(0x1000, &len);
	hdr(k)->loadflags = 0;
	expect_failure(k, len, -ENOEXEC, "LOADED_HIGH");
	free(k);

	k = make_bzimage(0x1000, &len);
	hdr(k)->xloadflags = 0;
	expect_failure(k, len, -ENOEXEC, "64-bit entry");
	free(k);

	k = make_bzimage(0x1000, &len);
	hdr(k)->setup_sects = 200;
	expect_failure(k, len, -ENOEXEC, "setup_sects 200 exceeds file size 6656");
	/* Only the setup part and a stub: no room for the 64-bit entry. */
	hdr(k)->setup_sects = 4;
	expect_failure(k, 5 * 512 + 0x100, -ENOEXEC, "before its 64-bit entry");
	free(k);

	k = make_bzimage(0x1000, &len);
	hdr(k)->init_size = 0x7fffffff;
	expect_failure(k, len, -E2BIG, "kernel needs RAM");
	hdr(k)->init_size = 0x1000;
	hdr(k)->pref_address = 0xfffffffffffff000ULL;
	expect_failure(k, len, -E2BIG, "kernel needs RAM");
	free(k);
}

static void test_bad_requests(void **state)
{
	uint8_t k[64] = {0x90};
	uint8_t *big = calloc(1, TEST_RAM_SIZE);
	struct test_guest g;
	struct boot_entry e;
	struct boot_request req = request(k, sizeof(k));

	(void)state;
	expect_failure(k, 0, -EINVAL, "kernel image is empty");
	expect_failure(big, TEST_RAM_SIZE - LAYOUT_KERNEL_RAW + 1, -E2BIG, "does not fit");
	free(big);

	test_guest_init(&g);
	req.nr_cpus = 0;
	assert_int_equal(boot(&g, &req, &e), -EINVAL);
	assert_non_null(strstr(err, "vCPUs"));
	req.nr_cpus = 255;
	assert_int_equal(boot(&g, &req, &e), -EINVAL);
	req.nr_cpus = 1;
	req.nr_devs = LAYOUT_VIRTIO_MMIO_MAX + 1;
	assert_int_equal(boot(&g, &req, &e), -EINVAL);
	assert_non_null(strstr(err, "virtio-mmio"));
	req.nr_devs = 0;
	g.mem.regions[0].size = 0x80000;
	assert_int_equal(boot(&g, &req, &e), -EINVAL);
	assert_non_null(strstr(err, "guest RAM"));
	test_guest_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bzimage),
	    cmocka_unit_test(test_bzimage_loader_fields_not_from_file),
	    cmocka_unit_test(test_bzimage_setup_sects_zero_means_four),
	    cmocka_unit_test(test_elf),
	    cmocka_unit_test(test_elf_virtual_entry),
	    cmocka_unit_test(test_elf_pvh),
	    cmocka_unit_test(test_elf_pvh_section),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_initrd_placement),
	    cmocka_unit_test(test_cmdline_limits),
	    cmocka_unit_test(test_e820_large_guest),
	    cmocka_unit_test(test_e820_many_cpus),
	    cmocka_unit_test(test_corrupt_elf),
	    cmocka_unit_test(test_elf32_pvh),
	    cmocka_unit_test(test_elf32_without_pvh_note),
	    cmocka_unit_test(test_corrupt_elf32),
	    cmocka_unit_test(test_truncated_elf32),
	    cmocka_unit_test(test_corrupt_bzimage),
	    cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
