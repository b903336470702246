/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_IMAGE_H
#define SV_AARCH64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "machine/memory.h"

/* The arm64 Image header (Documentation/arch/arm64/booting.rst), all little endian. */
#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC_OFF	0x38
#define ARM64_IMAGE_MAGIC	0x644d5241U /* "ARM\x64" */
#define ARM64_IMAGE_FLAG_BE	0x1ULL
/* image_size 0: a kernel older than 3.17, whose text_offset is 0x80000 */
#define ARM64_IMAGE_OLD_TEXT_OFFSET 0x80000ULL

struct arm64_image {
	uint64_t text_offset;
	uint64_t image_size; /* memory the kernel uses from load_gpa, bss included */
	uint64_t flags;
	uint64_t load_gpa; /* entry point: the first byte of the Image */
	uint64_t end;	   /* load_gpa + image_size */
};

/*
 * Checks the header of the Image in buf and copies it to base + text_offset,
 * base being the 2 MiB-aligned ram_base + 2 MiB.  -ENOEXEC (no or a bad
 * header), -EINVAL (big-endian kernel, sizes that do not add up) or -E2BIG
 * (does not fit in RAM), with one line in err; nothing is read outside buf.
 */
int arm64_image_load(struct guest_mem *mem, uint64_t ram_base, const uint8_t *buf, size_t len,
		     struct arm64_image *out, char *err, size_t errlen);

#endif
