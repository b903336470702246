// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Writes a seed corpus for fuzz_boot into DIR: one well-formed image of each
 * kernel format the loaders accept (ELF64, ELF64 with a PVH note in a segment
 * or only in a section, ELF32 with a PVH note with 4- and 8-byte descriptors,
 * bzImage), made by the unit tests' image builders.  From these the fuzzer
 * reaches the deep checks of each loader at once instead of first having to
 * find the magic numbers.  Built and run by scripts/fuzz.sh.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../unit/boot/boot_test.h"

static int write_seed(const char *dir, const char *name, uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		free(buf);
		return -1;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = !fclose(f) && ok;
	free(buf);
	if (!ok)
		fprintf(stderr, "boot_seeds: cannot write %s\n", path);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct elf_opts elf64 = {.bss_len = 0x40};
	const struct elf_opts pvh64 = {.pvh = true};
	const struct elf_opts pvh64_sec = {.pvh_in_section = true};
	const struct elf_opts pvh32 = {.pvh = true, .bss_len = 0x40};
	const struct elf_opts pvh32_d4 = {.pvh = true, .desc4 = true};
	const struct elf_opts pvh32_sec = {.pvh_in_section = true, .desc4 = true};
	size_t len;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	ret |= write_seed(argv[1], "elf64", make_elf(&elf64, &len), len);
	ret |= write_seed(argv[1], "elf64-pvh", make_elf(&pvh64, &len), len);
	ret |= write_seed(argv[1], "elf64-pvh-section", make_elf(&pvh64_sec, &len), len);
	ret |= write_seed(argv[1], "elf32-pvh", make_elf32(&pvh32, &len), len);
	ret |= write_seed(argv[1], "elf32-pvh-desc4", make_elf32(&pvh32_d4, &len), len);
	ret |= write_seed(argv[1], "elf32-pvh-section", make_elf32(&pvh32_sec, &len), len);
	ret |= write_seed(argv[1], "bzimage", make_bzimage(0x400, &len), len);
	return ret ? 1 : 0;
}
