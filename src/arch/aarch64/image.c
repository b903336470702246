// SPDX-License-Identifier: MulanPSL-2.0
/* The arm64 Image loader. */
#include "arch/aarch64/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/layout.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int arm64_image_load(struct guest_mem *mem, uint64_t ram_base, const uint8_t *buf, size_t len,
		     struct arm64_image *out, char *err, size_t errlen)
{
	uint64_t base = ((ram_base + 0x1fffffULL) & ~0x1fffffULL) + A64_KERNEL_OFFSET;
	struct arm64_image img;
	uint8_t *dst;

	if (len < ARM64_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen,
			 "not an arm64 Image: %zu bytes, shorter than its %d-byte header", len,
			 ARM64_IMAGE_HEADER_SIZE);
		return -ENOEXEC;
	}
	if (le32(buf + ARM64_IMAGE_MAGIC_OFF) != ARM64_IMAGE_MAGIC) {
		snprintf(err, errlen, "not an arm64 Image: no \"ARM\\x64\" magic at offset 0x38");
		return -ENOEXEC;
	}
	img.text_offset = le64(buf + 8);
	img.image_size = le64(buf + 16);
	img.flags = le64(buf + 24);
	if (img.flags & ARM64_IMAGE_FLAG_BE) {
		snprintf(err, errlen, "arm64 Image is a big-endian kernel: not supported");
		return -EINVAL;
	}
	if (img.image_size == 0) {
		img.text_offset = ARM64_IMAGE_OLD_TEXT_OFFSET;
		img.image_size = len;
	}
	if (img.image_size < len) {
		snprintf(err, errlen,
			 "arm64 Image header says image_size %llu, smaller than the %zu-byte file",
			 (unsigned long long)img.image_size, len);
		return -EINVAL;
	}
	if (img.text_offset >= 0x200000ULL || img.text_offset % 4096) {
		snprintf(err, errlen,
			 "arm64 Image text_offset 0x%llx is not a page multiple below 2 MiB",
			 (unsigned long long)img.text_offset);
		return -EINVAL;
	}
	img.load_gpa = base + img.text_offset;
	img.end = img.load_gpa + img.image_size;
	dst = img.end > img.load_gpa ? gmem_ptr(mem, img.load_gpa, img.image_size) : NULL;
	if (!dst) {
		snprintf(err, errlen,
			 "arm64 Image needs %llu bytes at 0x%llx: more than guest RAM holds",
			 (unsigned long long)img.image_size, (unsigned long long)img.load_gpa);
		return -E2BIG;
	}
	memcpy(dst, buf, len);
	memset(dst + len, 0, img.image_size - len);
	*out = img;
	return 0;
}
