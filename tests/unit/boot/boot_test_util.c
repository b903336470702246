// SPDX-License-Identifier: MulanPSL-2.0
#include "boot_test.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

void test_guest_init(struct test_guest *g)
{
	g->ram = calloc(1, TEST_RAM_SIZE);
	if (!g->ram)
		abort();
	gmem_init_flat(&g->mem, g->ram, 0, TEST_RAM_SIZE);
}

void test_guest_free(struct test_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

uint8_t *make_bzimage(size_t pm_len, size_t *len)
{
	const size_t setup = 5 * 512;
	struct setup_header h;
	uint8_t *buf;

	*len = setup + pm_len;
	buf = calloc(1, *len);
	if (!buf)
		abort();
	memset(&h, 0, sizeof(h));
	h.setup_sects = 4;
	h.boot_flag = 0xaa55;
	h.jump = 0x66eb; /* jmp to 0x268, the end of the 2.15 header */
	h.header = 0x53726448;
	h.version = 0x020f;
	h.loadflags = LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h.cmdline_size = 2047;
	h.pref_address = 0x1000000;
	h.init_size = 0x1000000;
	memcpy(buf + 0x1f1, &h, sizeof(h));
	for (size_t i = 0; i < pm_len; i++)
		buf[setup + i] = (uint8_t)(i * 7 + 1);
	return buf;
}

uint8_t *make_elf(const struct elf_opts *o, size_t *len)
{
	size_t code_len = o->code_len ? o->code_len : 0x100;
	uint64_t paddr = o->paddr ? o->paddr : 0x1000000;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = 8, .n_type = 18};
	uint64_t pvh_entry = paddr + ELF_PVH_ENTRY_DELTA;
	size_t shoff = ELF_CODE_OFF + code_len;
	uint8_t *buf;

	*len = shoff + (o->pvh_in_section ? 2 * sizeof(Elf64_Shdr) : 0);
	buf = calloc(1, *len);
	if (!buf)
		abort();
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = paddr + o->virt_off;
	eh.e_phoff = ELF_PHDR_OFF;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = o->pvh && !o->pvh_in_section ? 2 : 1;
	if (o->pvh_in_section) {
		eh.e_shoff = shoff;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 2;
	}
	memcpy(buf, &eh, sizeof(eh));

	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_offset = ELF_CODE_OFF;
	ph[0].p_paddr = paddr;
	ph[0].p_vaddr = paddr + o->virt_off;
	ph[0].p_filesz = code_len;
	ph[0].p_memsz = code_len + o->bss_len;
	ph[0].p_align = 0x1000;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = ELF_NOTE_OFF;
	ph[1].p_filesz = ELF_NOTE_LEN;
	ph[1].p_align = 4;
	memcpy(buf + ELF_PHDR_OFF, ph, sizeof(ph));

	if (o->pvh || o->pvh_in_section) {
		memcpy(buf + ELF_NOTE_OFF, &nh, sizeof(nh));
		memcpy(buf + ELF_NOTE_OFF + 12, "Xen", 4);
		memcpy(buf + ELF_NOTE_OFF + 16, &pvh_entry, 8);
	}
	if (o->pvh_in_section) {
		Elf64_Shdr sh[2];

		memset(sh, 0, sizeof(sh));
		sh[1].sh_type = SHT_NOTE;
		sh[1].sh_offset = ELF_NOTE_OFF;
		sh[1].sh_size = ELF_NOTE_LEN;
		sh[1].sh_addralign = 4;
		memcpy(buf + shoff, sh, sizeof(sh));
	}
	for (size_t i = 0; i < code_len; i++)
		buf[ELF_CODE_OFF + i] = (uint8_t)(i ^ 0x5a);
	return buf;
}

uint8_t *make_elf32(const struct elf_opts *o, size_t *len)
{
	size_t code_len = o->code_len ? o->code_len : 0x100;
	uint32_t paddr = o->paddr ? (uint32_t)o->paddr : 0x1000000;
	uint32_t desc = o->desc4 ? 4 : 8;
	Elf32_Ehdr eh;
	Elf32_Phdr ph[2];
	Elf32_Nhdr nh = {.n_namesz = 4, .n_descsz = desc, .n_type = 18};
	uint64_t pvh_entry = paddr + ELF_PVH_ENTRY_DELTA;
	size_t shoff = ELF_CODE_OFF + code_len;
	uint8_t *buf;

	*len = shoff + (o->pvh_in_section ? 2 * sizeof(Elf32_Shdr) : 0);
	buf = calloc(1, *len);
	if (!buf)
		abort();
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = o->machine ? o->machine : EM_386;
	eh.e_version = EV_CURRENT;
	eh.e_entry = paddr;
	eh.e_phoff = ELF32_PHDR_OFF;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = o->pvh && !o->pvh_in_section ? 2 : 1;
	if (o->pvh_in_section) {
		eh.e_shoff = (uint32_t)shoff;
		eh.e_shentsize = sizeof(Elf32_Shdr);
		eh.e_shnum = 2;
	}
	memcpy(buf, &eh, sizeof(eh));

	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_offset = ELF_CODE_OFF;
	ph[0].p_paddr = paddr;
	ph[0].p_vaddr = paddr;
	ph[0].p_filesz = (uint32_t)code_len;
	ph[0].p_memsz = (uint32_t)(code_len + o->bss_len);
	ph[0].p_align = 0x1000;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = ELF32_NOTE_OFF;
	ph[1].p_filesz = 12 + 4 + desc;
	ph[1].p_align = 4;
	memcpy(buf + ELF32_PHDR_OFF, ph, sizeof(ph));

	if (o->pvh || o->pvh_in_section) {
		memcpy(buf + ELF32_NOTE_OFF, &nh, sizeof(nh));
		memcpy(buf + ELF32_NOTE_OFF + 12, "Xen", 4);
		memcpy(buf + ELF32_NOTE_OFF + 16, &pvh_entry, desc);
	}
	if (o->pvh_in_section) {
		Elf32_Shdr sh[2];

		memset(sh, 0, sizeof(sh));
		sh[1].sh_type = SHT_NOTE;
		sh[1].sh_offset = ELF32_NOTE_OFF;
		sh[1].sh_size = 12 + 4 + desc;
		sh[1].sh_addralign = 4;
		memcpy(buf + shoff, sh, sizeof(sh));
	}
	for (size_t i = 0; i < code_len; i++)
		buf[ELF_CODE_OFF + i] = (uint8_t)(i ^ 0x3c);
	return buf;
}
