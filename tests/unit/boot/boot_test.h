/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_TEST_BOOT_H
#define SV_TEST_BOOT_H

/* Synthetic kernel images and guest memory for the boot tests. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/boot.h"
#include "machine/memory.h"

#define TEST_RAM_SIZE (64ULL << 20)

struct test_guest {
	struct guest_mem mem;
	uint8_t *ram;
};

void test_guest_init(struct test_guest *g);
void test_guest_free(struct test_guest *g);

/* A bzImage of setup_sects 4 with a protected-mode part of pm_len bytes. */
uint8_t *make_bzimage(size_t pm_len, size_t *len);

struct elf_opts {
	bool pvh;	     /* add a Xen PHYS32_ENTRY note */
	bool pvh_in_section; /* ... found only through a SHT_NOTE section */
	uint64_t paddr;	     /* load address of the one PT_LOAD segment */
	uint64_t virt_off;   /* p_vaddr = p_paddr + virt_off */
	size_t code_len;     /* bytes of the segment in the file */
	size_t bss_len;	     /* p_memsz - p_filesz */
	bool desc4;	     /* make_elf32: a 4-byte PVH descriptor (else 8) */
	uint16_t machine;    /* make_elf32: e_machine (0: EM_386) */
};

/* Offsets of the pieces make_elf() lays out, for corrupting them. */
#define ELF_PHDR_OFF	    64
#define ELF_NOTE_OFF	    (64 + 2 * 56)
#define ELF_NOTE_LEN	    (12 + 4 + 8)
#define ELF_CODE_OFF	    0x200
#define ELF_PVH_ENTRY_DELTA 0x10

uint8_t *make_elf(const struct elf_opts *o, size_t *len);

/* The same image as ELF32 (what objcopy -O elf32-i386 makes of a PVH kernel). */
#define ELF32_PHDR_OFF 52
#define ELF32_NOTE_OFF (52 + 2 * 32)

uint8_t *make_elf32(const struct elf_opts *o, size_t *len);

#endif
