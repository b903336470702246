// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the initrd loader (place_initrd and the boot_params /
 * PVH start-info fields in src/arch/x86_64/boot.c): a good kernel made by
 * the unit tests' image builders (a bzImage, or an ELF with a PVH note),
 * with the bzImage's initrd_addr_max taken from the input, a guest of 2 to
 * 33 MiB and the rest of the input as the initrd, optionally repeated up to
 * a length that no longer fits.  Input: [kind][RAM MiB][addr_max x4][repeat]
 * [initrd...] (repeat: the initrd is repeated to repeat x 128 KiB).  When x86_boot_setup accepts
 * it, the initrd must be in RAM, page aligned, below the kernel's limit, byte for byte the input,
 * and the bzImage's ramdisk_image/ramdisk_size (the PVH module list) must say where.
 *
 * clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *   tests/fuzz/fuzz_initrd.c tests/unit/boot/boot_test_util.c \
 *   src/arch/x86_64/{boot,bzimage,elf,mptable,acpi,aml}.c src/machine/memory.c -o fuzz_initrd
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/boot/boot_test.h"
#include "arch/x86_64/boot.h"
#include "machine/memory.h"

#define MAX_RAM	    (33ULL << 20)
#define MAX_INITRD  (40u << 20)
#define HDR_ADDRMAX 0x22c
#define BP_RD_IMAGE 0x218
#define BP_RD_SIZE  0x21c

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram, *bz, *pvh, *big;
	static size_t bz_len, pvh_len;
	struct guest_mem mem;
	struct boot_entry e;
	struct boot_request req = {.cmdline = "console=ttyS0", .nr_cpus = 1};
	uint64_t ram_size, limit = 0xffffffffULL;
	const uint8_t *rd;
	size_t rd_len;
	char err[256];
	bool use_bz;

	if (!ram) {
		const struct elf_opts o = {.pvh = true};

		ram = calloc(1, MAX_RAM);
		big = malloc(MAX_INITRD);
		bz = make_bzimage(0x400, &bz_len);
		pvh = make_elf(&o, &pvh_len);
		if (!ram || !big || !bz || !pvh)
			abort();
	}
	if (size < 7)
		return 0;
	use_bz = !(data[0] & 1);
	ram_size = (2ULL + data[1] % 32) << 20;
	if (use_bz) {
		memcpy(bz + HDR_ADDRMAX, data + 2, 4);
		limit =
		    (uint64_t)(data[2] | data[3] << 8 | data[4] << 16 | (uint32_t)data[5] << 24) +
		    1;
		req.kernel = bz;
		req.kernel_len = bz_len;
	} else {
		req.kernel = pvh;
		req.kernel_len = pvh_len;
	}
	rd = data + 7;
	rd_len = size - 7;
	if (data[6] && rd_len) {
		/* the initrd repeated: large ones without large inputs */
		size_t want = (size_t)data[6] << 17, n = 0;

		if (want > MAX_INITRD)
			want = MAX_INITRD;
		n = rd_len < want ? rd_len : want;
		memcpy(big, rd, n);
		while (n < want) { /* doubling: few calls however short the unit */
			size_t k = n < want - n ? n : want - n;

			memcpy(big + n, big, k);
			n += k;
		}
		rd = big;
		rd_len = want;
	}
	req.initrd = rd_len || (data[0] & 2) ? rd : NULL;
	req.initrd_len = rd_len;
	gmem_init_flat(&mem, ram, 0, ram_size);
	if (x86_boot_setup(&mem, &req, &e, err, sizeof(err)) == 0 && rd_len) {
		uint64_t at = UINT64_MAX;

		if (use_bz) {
			uint32_t image, len;

			memcpy(&image, ram + e.info_gpa + BP_RD_IMAGE, 4);
			memcpy(&len, ram + e.info_gpa + BP_RD_SIZE, 4);
			if (len != rd_len)
				abort();
			at = image;
			if (at + rd_len > limit)
				abort();
		} else {
			/* hvm_start_info: nr_modules at 12, modlist_paddr at 16 */
			uint32_t nr;
			uint64_t list, mod[2];

			memcpy(&nr, ram + e.info_gpa + 12, 4);
			memcpy(&list, ram + e.info_gpa + 16, 8);
			if (nr != 1 || list + 16 > ram_size)
				abort();
			memcpy(mod, ram + list, 16);
			if (mod[1] != rd_len)
				abort();
			at = mod[0];
		}
		if (at == UINT64_MAX || at & 0xfff || at + rd_len > ram_size || at < e.kernel_end ||
		    memcmp(ram + at, rd, rd_len))
			abort();
	}
	return 0;
}
