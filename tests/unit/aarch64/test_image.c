// SPDX-License-Identifier: MulanPSL-2.0
/* The arm64 Image loader: valid, truncated and corrupted headers. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"

#define RAM_SIZE (16ULL << 20)

static uint8_t *ram;
static struct guest_mem mem;
static char err[256];

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An Image of len bytes: header, then a pattern. */
static uint8_t *make_image(size_t len, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *k = calloc(1, len);

	assert_non_null(k);
	for (size_t i = ARM64_IMAGE_HEADER_SIZE; i < len; i++)
		k[i] = (uint8_t)(i * 7);
	k[0] = 0x4d; /* "MZ" of an EFI stub kernel, ignored */
	k[1] = 0x5a;
	put64(k + 8, text_offset);
	put64(k + 16, image_size);
	put64(k + 24, flags);
	memcpy(k + ARM64_IMAGE_MAGIC_OFF, "ARM\x64", 4);
	return k;
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	gmem_init_flat(&mem, ram, A64_RAM_BASE, RAM_SIZE);
	err[0] = '\0';
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static void valid_image(void **state)
{
	uint8_t *k = make_image(8192, 0, 3 << 20, 2 /* 4K pages */);
	struct arm64_image img;

	(void)state;
	memset(ram + A64_KERNEL_OFFSET + 8192, 0xee, 4096); /* bss must come back zeroed */
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 8192, &img, err, sizeof(err)), 0);
	assert_int_equal(img.load_gpa, A64_RAM_BASE + 0x200000);
	assert_int_equal(img.image_size, 3 << 20);
	assert_int_equal(img.end, A64_RAM_BASE + 0x200000 + (3 << 20));
	assert_int_equal(img.flags, 2);
	assert_memory_equal(ram + A64_KERNEL_OFFSET, k, 8192);
	assert_int_equal(ram[A64_KERNEL_OFFSET + 8192], 0);
	assert_int_equal(ram[A64_KERNEL_OFFSET + 8192 + 4095], 0);
	free(k);
}

static void text_offset_and_old_kernel(void **state)
{
	uint8_t *k = make_image(4096, 0x80000, 1 << 20, 0);
	struct arm64_image img;

	(void)state;
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)), 0);
	assert_int_equal(img.load_gpa, A64_RAM_BASE + 0x280000);
	assert_memory_equal(ram + 0x280000, k, 4096);
	free(k);
	/* image_size 0 (before Linux 3.17): text_offset is taken as 0x80000 */
	k = make_image(4096, 0x1000, 0, 0);
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)), 0);
	assert_int_equal(img.text_offset, 0x80000);
	assert_int_equal(img.image_size, 4096);
	free(k);
}

static void truncated(void **state)
{
	uint8_t *k = make_image(4096, 0, 1 << 20, 0);
	struct arm64_image img;

	(void)state;
	for (size_t len = 0; len < ARM64_IMAGE_HEADER_SIZE; len++) {
		assert_int_equal(
		    arm64_image_load(&mem, A64_RAM_BASE, k, len, &img, err, sizeof(err)), -ENOEXEC);
		assert_non_null(strstr(err, "shorter than its 64-byte header"));
	}
	/* the file is longer than the size its header gives */
	put64(k + 16, 2048);
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "image_size 2048"));
	free(k);
}

static void corrupted(void **state)
{
	uint8_t *k = make_image(4096, 0, 1 << 20, 0);
	struct arm64_image img;

	(void)state;
	k[ARM64_IMAGE_MAGIC_OFF + 3] = 0x65;
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "magic"));
	k[ARM64_IMAGE_MAGIC_OFF + 3] = 0x64;
	put64(k + 24, ARM64_IMAGE_FLAG_BE);
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "big-endian"));
	put64(k + 24, 0);
	put64(k + 8, 0x200000); /* text_offset past the 2 MiB window */
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -EINVAL);
	put64(k + 8, 0x123); /* not a page multiple */
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "text_offset 0x123"));
	put64(k + 8, 0);
	put64(k + 16, RAM_SIZE); /* more than RAM above base + 2 MiB */
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -E2BIG);
	put64(k + 16, UINT64_MAX - 0x1000); /* wraps */
	assert_int_equal(arm64_image_load(&mem, A64_RAM_BASE, k, 4096, &img, err, sizeof(err)),
			 -E2BIG);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(valid_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(text_offset_and_old_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(corrupted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
