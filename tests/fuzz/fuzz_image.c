// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The arm64 Image loader (src/arch/aarch64/image.c) on arbitrary files: no
 * read outside the input, no write outside guest RAM, and a loaded kernel
 * always lies inside RAM at RAM base + 2 MiB + text_offset.
 *   clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_image.c src/arch/aarch64/image.c src/machine/memory.c -o fuzz_image
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"
#include "util/log.h"

#define RAM_SIZE (8ULL << 20)

/* memory.c logs; the fuzzer has no log file. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_mem mem;
	struct arm64_image img;
	char err[256];

	if (!ram)
		ram = malloc(RAM_SIZE);
	if (!ram || size > RAM_SIZE)
		return 0;
	gmem_init_flat(&mem, ram, A64_RAM_BASE, RAM_SIZE);
	if (arm64_image_load(&mem, A64_RAM_BASE, data, size, &img, err, sizeof(err)) == 0) {
		if (img.load_gpa != A64_RAM_BASE + A64_KERNEL_OFFSET + img.text_offset ||
		    img.end > A64_RAM_BASE + RAM_SIZE || img.image_size < size ||
		    memcmp(ram + (img.load_gpa - A64_RAM_BASE), data, size) != 0)
			abort();
	} else if (!err[0]) {
		abort(); /* every refusal says why */
	}
	return 0;
}
