// SPDX-License-Identifier: MulanPSL-2.0
/*
 * ELF loader: ELF64 vmlinux and ELF32 images.  PT_LOAD segments go to their
 * physical addresses.  An image with a Xen PHYS32_ENTRY note is booted the PVH
 * way (32-bit entry, the start info in ebx); an ELF64 without one is entered
 * in 64-bit mode at e_entry.  An ELF32 has no 64-bit entry, so it needs the
 * note.  Both classes are read into the ELF64 structures and checked alike.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_file {
	const uint8_t *buf;
	size_t len;
	bool is32;	   /* ELFCLASS32: 32-bit headers, widened on reading */
	Elf64_Ehdr eh;	   /* the file's header, widened */
	size_t phent_size; /* sizeof(Elf32_Phdr) or sizeof(Elf64_Phdr) */
	size_t shent_size;
	char *err;
	size_t errlen;
};

/* True when [off, off+size) lies inside the file. */
static bool in_file(const struct elf_file *f, uint64_t off, uint64_t size)
{
	return off <= f->len && size <= f->len - off;
}

/* Program header i (checked to lie in the file by check_ehdr). */
static void read_phdr(const struct elf_file *f, int i, Elf64_Phdr *ph)
{
	const uint8_t *p = f->buf + f->eh.e_phoff + (uint64_t)i * f->phent_size;
	Elf32_Phdr p32;

	if (!f->is32) {
		memcpy(ph, p, sizeof(*ph));
		return;
	}
	memcpy(&p32, p, sizeof(p32));
	*ph = (Elf64_Phdr){
	    .p_type = p32.p_type,
	    .p_flags = p32.p_flags,
	    .p_offset = p32.p_offset,
	    .p_vaddr = p32.p_vaddr,
	    .p_paddr = p32.p_paddr,
	    .p_filesz = p32.p_filesz,
	    .p_memsz = p32.p_memsz,
	    .p_align = p32.p_align,
	};
}

static void read_shdr(const struct elf_file *f, int i, Elf64_Shdr *sh)
{
	const uint8_t *p = f->buf + f->eh.e_shoff + (uint64_t)i * f->shent_size;
	Elf32_Shdr s32;

	if (!f->is32) {
		memcpy(sh, p, sizeof(*sh));
		return;
	}
	memcpy(&s32, p, sizeof(s32));
	*sh = (Elf64_Shdr){
	    .sh_type = s32.sh_type,
	    .sh_offset = s32.sh_offset,
	    .sh_size = s32.sh_size,
	    .sh_addralign = s32.sh_addralign,
	};
}

/* Reads and widens the ELF header; the identification bytes are checked. */
static int read_ehdr(struct elf_file *f)
{
	const uint8_t *id = f->buf;
	Elf32_Ehdr e32;

	if (f->len < EI_NIDENT) {
		boot_err(f->err, f->errlen, "ELF: file of %zu bytes is shorter than the ELF header",
			 f->len);
		return -ENOEXEC;
	}
	if ((id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) ||
	    id[EI_DATA] != ELFDATA2LSB) {
		boot_err(f->err, f->errlen,
			 "ELF: not a 32- or 64-bit little-endian image (class %u, data %u)",
			 id[EI_CLASS], id[EI_DATA]);
		return -ENOEXEC;
	}
	f->is32 = id[EI_CLASS] == ELFCLASS32;
	f->phent_size = f->is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	f->shent_size = f->is32 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr);
	if (f->len < (f->is32 ? sizeof(e32) : sizeof(f->eh))) {
		boot_err(f->err, f->errlen,
			 "ELF: file of %zu bytes is shorter than the ELF%d header", f->len,
			 f->is32 ? 32 : 64);
		return -ENOEXEC;
	}
	if (!f->is32) {
		memcpy(&f->eh, f->buf, sizeof(f->eh));
		return 0;
	}
	memcpy(&e32, f->buf, sizeof(e32));
	memcpy(f->eh.e_ident, e32.e_ident, EI_NIDENT);
	f->eh.e_type = e32.e_type;
	f->eh.e_machine = e32.e_machine;
	f->eh.e_entry = e32.e_entry;
	f->eh.e_phoff = e32.e_phoff;
	f->eh.e_shoff = e32.e_shoff;
	f->eh.e_phentsize = e32.e_phentsize;
	f->eh.e_phnum = e32.e_phnum;
	f->eh.e_shentsize = e32.e_shentsize;
	f->eh.e_shnum = e32.e_shnum;
	return 0;
}

/*
 * Scans one note area for the PVH entry.  Returns 1 and sets *entry when found,
 * 0 when absent, -errno for a malformed note.
 */
static int find_pvh_note(const struct elf_file *f, uint64_t off, uint64_t size, uint64_t align,
			 uint64_t *entry)
{
	const uint64_t a = align == 8 ? 8 : 4;
	uint64_t pos = 0;

	while (size - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_len, desc_len, desc_off;

		memcpy(&nh, f->buf + off + pos, sizeof(nh));
		name_len = ((uint64_t)nh.n_namesz + a - 1) & ~(a - 1);
		desc_len = ((uint64_t)nh.n_descsz + a - 1) & ~(a - 1);
		desc_off = pos + sizeof(nh) + name_len;
		if (name_len > size - pos - sizeof(nh) || nh.n_descsz > size - desc_off) {
			boot_err(f->err, f->errlen,
				 "ELF: note at file offset 0x%llx overruns its area",
				 (unsigned long long)(off + pos));
			return -ENOEXEC;
		}
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(f->buf + off + pos + sizeof(nh), "Xen", 4)) {
			uint64_t v = 0;

			if (nh.n_descsz != 4 && nh.n_descsz != 8) {
				boot_err(f->err, f->errlen,
					 "ELF: PVH entry note has a %u-byte descriptor",
					 nh.n_descsz);
				return -ENOEXEC;
			}
			memcpy(&v, f->buf + off + desc_off, nh.n_descsz);
			if (v > UINT32_MAX) {
				boot_err(f->err, f->errlen, "ELF: PVH entry 0x%llx is above 4 GiB",
					 (unsigned long long)v);
				return -ENOEXEC;
			}
			*entry = v;
			return 1;
		}
		if (desc_len > size - desc_off)
			break; /* last note, unpadded */
		pos = desc_off + desc_len;
	}
	return 0;
}

static int check_ehdr(struct elf_file *f)
{
	const Elf64_Ehdr *eh = &f->eh;
	int ret = read_ehdr(f);

	if (ret)
		return ret;
	/* A 32-bit image may be i386 or x32; a 64-bit one must be x86-64. */
	if (eh->e_machine != EM_X86_64 && !(f->is32 && eh->e_machine == EM_386)) {
		boot_err(f->err, f->errlen, "ELF: machine %u is not %s", eh->e_machine,
			 f->is32 ? "i386 or x86-64" : "x86-64");
		return -ENOEXEC;
	}
	if (eh->e_type != ET_EXEC) {
		boot_err(f->err, f->errlen, "ELF: type %u is not an executable", eh->e_type);
		return -ENOEXEC;
	}
	if (eh->e_phentsize != f->phent_size) {
		boot_err(f->err, f->errlen, "ELF: program header size %u is not %zu",
			 eh->e_phentsize, f->phent_size);
		return -ENOEXEC;
	}
	if (eh->e_phnum == 0 || eh->e_phnum > BOOT_MAX_SEGMENTS) {
		boot_err(f->err, f->errlen, "ELF: %u program headers (1 to %d are accepted)",
			 eh->e_phnum, BOOT_MAX_SEGMENTS);
		return -ENOEXEC;
	}
	if (!in_file(f, eh->e_phoff, (uint64_t)eh->e_phnum * f->phent_size)) {
		boot_err(f->err, f->errlen,
			 "ELF: program headers at offset 0x%llx run past the file end (%zu bytes)",
			 (unsigned long long)eh->e_phoff, f->len);
		return -ENOEXEC;
	}
	if (eh->e_shnum && (eh->e_shentsize != f->shent_size ||
			    !in_file(f, eh->e_shoff, (uint64_t)eh->e_shnum * f->shent_size))) {
		boot_err(
		    f->err, f->errlen,
		    "ELF: %u section headers of %u bytes at offset 0x%llx lie outside the file",
		    eh->e_shnum, eh->e_shentsize, (unsigned long long)eh->e_shoff);
		return -ENOEXEC;
	}
	return 0;
}

static int check_segments(struct elf_file *f, struct guest_mem *mem, uint64_t *pvh_entry,
			  uint64_t *end)
{
	int loads = 0, found = 0;

	*end = 0;
	for (int i = 0; i < f->eh.e_phnum; i++) {
		Elf64_Phdr ph;

		read_phdr(f, i, &ph);
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (!in_file(f, ph.p_offset, ph.p_filesz)) {
			boot_err(
			    f->err, f->errlen,
			    "ELF: segment %d (offset 0x%llx, %llu bytes) lies outside the file", i,
			    (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz);
			return -ENOEXEC;
		}
		if (ph.p_type == PT_NOTE) {
			if (!found)
				found = find_pvh_note(f, ph.p_offset, ph.p_filesz, ph.p_align,
						      pvh_entry);
			if (found < 0)
				return found;
			continue;
		}
		if (ph.p_filesz > ph.p_memsz) {
			boot_err(f->err, f->errlen,
				 "ELF: segment %d has p_filesz %llu larger than p_memsz %llu", i,
				 (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
			return -ENOEXEC;
		}
		if (!ph.p_memsz)
			continue;
		if (!boot_range_is_kernel_ram(mem, ph.p_paddr, ph.p_memsz)) {
			boot_err(f->err, f->errlen,
				 "ELF: segment %d at 0x%llx (%llu bytes) is not in guest RAM above "
				 "1 MiB",
				 i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
			return -ENOEXEC;
		}
		if (ph.p_paddr + ph.p_memsz > *end)
			*end = ph.p_paddr + ph.p_memsz;
		loads++;
	}
	if (!loads) {
		boot_err(f->err, f->errlen, "ELF: no loadable segment");
		return -ENOEXEC;
	}
	return found;
}

static int scan_note_sections(struct elf_file *f, uint64_t *pvh_entry)
{
	for (int i = 0; i < f->eh.e_shnum; i++) {
		Elf64_Shdr sh;
		int ret;

		read_shdr(f, i, &sh);
		if (sh.sh_type != SHT_NOTE)
			continue;
		if (!in_file(f, sh.sh_offset, sh.sh_size)) {
			boot_err(f->err, f->errlen,
				 "ELF: note section %d (offset 0x%llx, %llu bytes) lies outside "
				 "the file",
				 i, (unsigned long long)sh.sh_offset,
				 (unsigned long long)sh.sh_size);
			return -ENOEXEC;
		}
		ret = find_pvh_note(f, sh.sh_offset, sh.sh_size, sh.sh_addralign, pvh_entry);
		if (ret)
			return ret;
	}
	return 0;
}

/* Physical address of a code address: itself if loaded there, else via the vaddrs. */
static bool entry_to_phys(const struct elf_file *f, uint64_t addr, bool try_virt, uint64_t *phys)
{
	for (int pass = 0; pass < (try_virt ? 2 : 1); pass++) {
		for (int i = 0; i < f->eh.e_phnum; i++) {
			Elf64_Phdr ph;
			uint64_t base;

			read_phdr(f, i, &ph);
			if (ph.p_type != PT_LOAD || !ph.p_memsz)
				continue;
			base = pass ? ph.p_vaddr : ph.p_paddr;
			if (addr >= base && addr - base < ph.p_memsz) {
				*phys = ph.p_paddr + (addr - base);
				return true;
			}
		}
	}
	return false;
}

int load_elf(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
	     char *err, size_t errlen)
{
	struct elf_file f = {.buf = buf, .len = len, .err = err, .errlen = errlen};
	uint64_t pvh_entry = 0, end, entry;
	int pvh, ret;

	ret = check_ehdr(&f);
	if (ret)
		return ret;
	pvh = check_segments(&f, mem, &pvh_entry, &end);
	if (pvh < 0)
		return pvh;
	if (!pvh)
		pvh = scan_note_sections(&f, &pvh_entry);
	if (pvh < 0)
		return pvh;
	if (!pvh && f.is32) {
		boot_err(err, errlen,
			 "ELF: 32-bit image without a PVH entry note (Xen PHYS32_ENTRY): "
			 "it has no entry point this loader can use");
		return -ENOEXEC;
	}

	if (!entry_to_phys(&f, pvh ? pvh_entry : f.eh.e_entry, !pvh, &entry)) {
		boot_err(err, errlen, "ELF: %s 0x%llx is not inside a loaded segment",
			 pvh ? "PVH entry" : "entry point",
			 (unsigned long long)(pvh ? pvh_entry : f.eh.e_entry));
		return -ENOEXEC;
	}

	for (int i = 0; i < f.eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		read_phdr(&f, i, &ph);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		dst = gmem_ptr(mem, ph.p_paddr, ph.p_memsz);
		memcpy(dst, buf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}

	img->format = pvh ? KERNEL_ELF_PVH : KERNEL_ELF;
	img->mode = pvh ? BOOT_MODE_PVH : BOOT_MODE_LINUX64;
	img->entry = entry;
	img->kernel_end = end;
	return 0;
}
