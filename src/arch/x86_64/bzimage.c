// SPDX-License-Identifier: MulanPSL-2.0
/*
 * bzImage loader (Linux x86 boot protocol 2.06 and later).  The real-mode setup
 * code is skipped: the protected-mode part goes to 1 MiB and is entered at its
 * 64-bit entry point, 0x200 bytes in.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"

#define SETUP_HDR_OFFSET 0x1f1
#define SETUP_JUMP_END	 0x202 /* the header's length is given relative to this */
#define SECTOR_SIZE	 512
#define ENTRY64_OFFSET	 0x200

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Saturates instead of wrapping, so overflowing sums fail the RAM checks. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int load_bzimage(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
		 char *err, size_t errlen)
{
	const size_t hdr_min = SETUP_HDR_OFFSET + sizeof(struct setup_header);
	const uint64_t load = LAYOUT_HIMEM_START;
	struct setup_header hdr;
	size_t setup_size, pm_len, hdr_len;
	uint64_t ram_end = mem->regions[0].size;
	uint64_t need_end;
	unsigned sects;

	if (len < hdr_min) {
		boot_err(err, errlen, "bzImage: file of %zu bytes is shorter than its setup header",
			 len);
		return -ENOEXEC;
	}
	memcpy(&hdr, buf + SETUP_HDR_OFFSET, sizeof(hdr));
	if (hdr.boot_flag != 0xaa55) {
		boot_err(err, errlen, "bzImage: boot_flag 0x%04x is not 0xaa55", hdr.boot_flag);
		return -ENOEXEC;
	}
	if (hdr.version < 0x0206) {
		boot_err(err, errlen, "bzImage: boot protocol %u.%02u is older than 2.06",
			 hdr.version >> 8, hdr.version & 0xff);
		return -ENOEXEC;
	}
	if (!(hdr.loadflags & LOADED_HIGH)) {
		boot_err(err, errlen, "bzImage: LOADED_HIGH is clear (a zImage cannot be loaded)");
		return -ENOEXEC;
	}
	if (hdr.version >= 0x020c && !(hdr.xloadflags & XLF_KERNEL_64)) {
		boot_err(err, errlen, "bzImage: kernel has no 64-bit entry point (xloadflags 0x%x)",
			 hdr.xloadflags);
		return -ENOEXEC;
	}
	sects = hdr.setup_sects ? hdr.setup_sects : 4;
	setup_size = (size_t)(sects + 1) * SECTOR_SIZE;
	if (setup_size >= len) {
		boot_err(err, errlen, "bzImage: setup_sects %u exceeds file size %zu", sects, len);
		return -ENOEXEC;
	}
	pm_len = len - setup_size;
	if (pm_len <= ENTRY64_OFFSET) {
		boot_err(err, errlen,
			 "bzImage: protected-mode part of %zu bytes ends before its 64-bit entry",
			 pm_len);
		return -ENOEXEC;
	}

	/*
	 * The kernel decompresses itself into init_size bytes at the larger of its
	 * load address and pref_address; all of that has to be RAM.
	 */
	need_end = load + pm_len;
	if (hdr.version >= 0x020a)
		need_end =
		    max_u64(need_end, add_sat(max_u64(load, hdr.pref_address), hdr.init_size));
	if (need_end > ram_end || !boot_range_is_kernel_ram(mem, load, pm_len)) {
		boot_err(
		    err, errlen,
		    "bzImage: kernel needs RAM up to 0x%llx but RAM below 3 GiB ends at 0x%llx",
		    (unsigned long long)need_end, (unsigned long long)ram_end);
		return -E2BIG;
	}
	gmem_write(mem, load, buf + setup_size, pm_len);

	/* The header extends to 0x202 + the byte at 0x201 (the jump's offset). */
	hdr_len = SETUP_JUMP_END + buf[0x201] - SETUP_HDR_OFFSET;
	if (hdr_len > sizeof(hdr))
		hdr_len = sizeof(hdr);
	img->setup_hdr = buf + SETUP_HDR_OFFSET;
	img->setup_hdr_len = hdr_len;
	img->format = KERNEL_BZIMAGE;
	img->mode = BOOT_MODE_LINUX64;
	img->entry = load + ENTRY64_OFFSET;
	img->kernel_end = need_end;
	img->cmdline_max = hdr.cmdline_size;
	img->initrd_limit = (uint64_t)hdr.initrd_addr_max + 1;
	return 0;
}
