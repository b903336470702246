// SPDX-License-Identifier: MulanPSL-2.0
/*
 * x86_64 direct kernel boot: picks the loader for the image, then lays out
 * what the kernel reads at entry (command line, initrd, boot_params or the PVH
 * start info, e820, MP table, ACPI tables).
 */
#include "arch/x86_64/boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "machine/vm.h"

#define PAGE_SIZE 0x1000ULL

#define HVM_START_MAGIC 0x336ec578U

/* Xen's PVH start of day structure (version 1), see the PVH ABI. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1 is 56 bytes");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");
_Static_assert(PVH_MEMMAP_OFFSET + BOOT_E820_MAX * sizeof(struct hvm_memmap_table_entry) <=
		   LAYOUT_BOOT_PARAMS - LAYOUT_PVH_START_INFO,
	       "PVH memmap fits below boot_params");

void boot_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint8_t boot_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)(0x100 - sum);
}

bool boot_range_is_kernel_ram(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return gpa >= LAYOUT_HIMEM_START && gmem_ptr(mem, gpa, len) != NULL;
}

int load_raw(struct guest_mem *mem, const uint8_t *buf, size_t len, struct kernel_image *img,
	     char *err, size_t errlen)
{
	if (!boot_range_is_kernel_ram(mem, LAYOUT_KERNEL_RAW, len)) {
		boot_err(err, errlen, "raw kernel of %zu bytes does not fit in guest RAM at 0x%llx",
			 len, LAYOUT_KERNEL_RAW);
		return -E2BIG;
	}
	gmem_write(mem, LAYOUT_KERNEL_RAW, buf, len);
	img->format = KERNEL_RAW;
	img->mode = BOOT_MODE_LINUX64;
	img->entry = LAYOUT_KERNEL_RAW;
	img->kernel_end = LAYOUT_KERNEL_RAW + len;
	return 0;
}

int boot_build_e820(const struct guest_mem *mem, unsigned nr_cpus, struct e820_range *map, int max)
{
	uint64_t low_end = mptable_start(nr_cpus);
	int n = 0;

	if (low_end > LAYOUT_EBDA_START)
		low_end = LAYOUT_EBDA_START;
	if (mem->nr_regions < 1 || mem->regions[0].gpa != 0 ||
	    mem->regions[0].size <= LAYOUT_HIMEM_START || mem->nr_regions + 2 > max)
		return -EINVAL;

	map[n++] = (struct e820_range){0, low_end, E820_TYPE_RAM};
	map[n++] = (struct e820_range){low_end, LAYOUT_HIMEM_START - low_end, E820_TYPE_RESERVED};
	map[n++] = (struct e820_range){LAYOUT_HIMEM_START,
				       mem->regions[0].size - LAYOUT_HIMEM_START, E820_TYPE_RAM};
	for (int i = 1; i < mem->nr_regions; i++)
		map[n++] =
		    (struct e820_range){mem->regions[i].gpa, mem->regions[i].size, E820_TYPE_RAM};
	return n;
}

static int place_cmdline(struct guest_mem *mem, const char *cmdline, const struct kernel_image *img,
			 char *err, size_t errlen)
{
	uint64_t limit = LAYOUT_CMDLINE_MAX - 1;
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (img->cmdline_max < limit)
		limit = img->cmdline_max;
	if (len > limit) {
		boot_err(err, errlen,
			 "kernel command line of %zu bytes exceeds the limit of %llu bytes%s", len,
			 (unsigned long long)limit,
			 limit == img->cmdline_max ? " (the kernel's cmdline_size)" : "");
		return -E2BIG;
	}
	if (len)
		gmem_write(mem, LAYOUT_CMDLINE, cmdline, len);
	gmem_write(mem, LAYOUT_CMDLINE + len, "", 1);
	return 0;
}

/* The initrd goes as high as it may below 3 GiB, page aligned, above the kernel. */
static int place_initrd(struct guest_mem *mem, const struct boot_request *req,
			const struct kernel_image *img, uint64_t *addr, char *err, size_t errlen)
{
	uint64_t limit = LAYOUT_INITRD_MAX + 1;
	uint64_t floor = (img->kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t len = req->initrd_len;

	*addr = 0;
	if (!len)
		return 0;
	if (!req->initrd) {
		boot_err(err, errlen, "initrd of %llu bytes has no data", (unsigned long long)len);
		return -EINVAL;
	}
	if (img->initrd_limit < limit)
		limit = img->initrd_limit;
	if (mem->regions[0].size < limit)
		limit = mem->regions[0].size;
	if (len > limit || ((limit - len) & ~(PAGE_SIZE - 1)) < floor) {
		boot_err(
		    err, errlen,
		    "initrd of %llu bytes does not fit between the kernel end 0x%llx and 0x%llx",
		    (unsigned long long)len, (unsigned long long)floor, (unsigned long long)limit);
		return -E2BIG;
	}
	*addr = (limit - len) & ~(PAGE_SIZE - 1);
	return gmem_write(mem, *addr, req->initrd, len);
}

/*
 * The setup header fields the boot protocol has the loader write or modify.
 * Whatever the file holds there is the kernel build's default or junk, and
 * some of it the kernel follows (setup_data is walked as a list), so each is
 * set here.  Kept from the file: what describes the kernel (sizes, version,
 * alignment, xloadflags, init_size, ...) and root_dev/root_flags, the
 * kernel's build-time defaults that a loader may leave.
 */
static void set_loader_fields(struct setup_header *h, uint64_t initrd, uint64_t initrd_len)
{
	h->vid_mode = 0xffff;	  /* "normal": no video mode change */
	h->realmode_swtch = 0;	  /* no real-mode hook: the setup code never runs */
	h->type_of_loader = 0xff; /* undefined loader, no ext_loader_* */
	h->ext_loader_ver = 0;
	h->ext_loader_type = 0;
	/*
	 * LOADED_HIGH is the kernel's (checked by the bzImage loader); KASLR_FLAG
	 * is the kernel's own; QUIET_FLAG off; KEEP_SEGMENTS and CAN_USE_HEAP
	 * concern the 16/32-bit entry points we do not use, and there is no
	 * setup heap (heap_end_ptr 0).
	 */
	h->loadflags &= LOADED_HIGH;
	h->heap_end_ptr = 0;
	h->setup_move_size = 0;
	h->code32_start = (uint32_t)LAYOUT_HIMEM_START;
	h->bootsect_kludge = 0;
	h->cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	h->ramdisk_image = (uint32_t)initrd;
	h->ramdisk_size = (uint32_t)initrd_len;
	h->hardware_subarch = 0; /* X86_SUBARCH_PC */
	h->hardware_subarch_data = 0;
	h->setup_data = 0; /* no setup_data list */
}

static void write_boot_params(struct guest_mem *mem, const struct kernel_image *img,
			      uint64_t initrd, uint64_t initrd_len, uint64_t rsdp,
			      const struct e820_range *map, int nr_map)
{
	struct boot_params bp;

	/* Zero outside the header, the sentinel at 0x1ef included. */
	memset(&bp, 0, sizeof(bp));
	if (img->setup_hdr) {
		memcpy(&bp.hdr, img->setup_hdr, img->setup_hdr_len);
	} else {
		/* No setup header in the image: describe a protocol 2.15 loader. */
		bp.hdr.boot_flag = 0xaa55;
		bp.hdr.header = 0x53726448; /* "HdrS" */
		bp.hdr.version = 0x020f;
		bp.hdr.loadflags = LOADED_HIGH;
		bp.hdr.kernel_alignment = 0x1000000;
		bp.hdr.cmdline_size = LAYOUT_CMDLINE_MAX - 1;
	}
	set_loader_fields(&bp.hdr, initrd, initrd_len);
	bp.ext_cmd_line_ptr = 0;
	bp.ext_ramdisk_image = (uint32_t)(initrd >> 32);
	bp.ext_ramdisk_size = (uint32_t)(initrd_len >> 32);
	bp.acpi_rsdp_addr = rsdp;
	bp.e820_entries = (uint8_t)nr_map;
	for (int i = 0; i < nr_map; i++) {
		bp.e820_table[i].addr = map[i].addr;
		bp.e820_table[i].size = map[i].size;
		bp.e820_table[i].type = map[i].type;
	}
	gmem_write(mem, LAYOUT_BOOT_PARAMS, &bp, sizeof(bp));
}

static void write_pvh_start_info(struct guest_mem *mem, uint64_t initrd, uint64_t initrd_len,
				 uint64_t rsdp, const struct e820_range *map, int nr_map)
{
	struct hvm_start_info si = {
	    .magic = HVM_START_MAGIC,
	    .version = 1,
	    .cmdline_paddr = LAYOUT_CMDLINE,
	    .rsdp_paddr = rsdp,
	    .memmap_paddr = LAYOUT_PVH_START_INFO + PVH_MEMMAP_OFFSET,
	    .memmap_entries = (uint32_t)nr_map,
	};

	if (initrd_len) {
		struct hvm_modlist_entry mod = {.paddr = initrd, .size = initrd_len};

		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_START_INFO + PVH_MODLIST_OFFSET;
		gmem_write(mem, si.modlist_paddr, &mod, sizeof(mod));
	}
	for (int i = 0; i < nr_map; i++) {
		struct hvm_memmap_table_entry e = {
		    .addr = map[i].addr, .size = map[i].size, .type = map[i].type};

		gmem_write(mem, si.memmap_paddr + i * sizeof(e), &e, sizeof(e));
	}
	gmem_write(mem, LAYOUT_PVH_START_INFO, &si, sizeof(si));
}

static int check_request(const struct guest_mem *mem, const struct boot_request *req, char *err,
			 size_t errlen)
{
	if (!req->kernel || !req->kernel_len) {
		boot_err(err, errlen, "kernel image is empty");
		return -EINVAL;
	}
	if (req->nr_cpus < 1 || req->nr_cpus > 254) {
		boot_err(err, errlen, "%u vCPUs: between 1 and 254 are supported", req->nr_cpus);
		return -EINVAL;
	}
	if (req->nr_devs < 0 || req->nr_devs > LAYOUT_VIRTIO_MMIO_MAX ||
	    (req->nr_devs && !req->devs)) {
		boot_err(err, errlen, "%d virtio-mmio devices: at most %d are supported",
			 req->nr_devs, LAYOUT_VIRTIO_MMIO_MAX);
		return -EINVAL;
	}
	if (mem->nr_regions < 1 || mem->nr_regions > GMEM_MAX_REGIONS || mem->regions[0].gpa ||
	    mem->regions[0].size <= LAYOUT_HIMEM_START || !gmem_ptr(mem, 0, LAYOUT_HIMEM_START)) {
		boot_err(err, errlen, "guest RAM must start at 0 and extend above 1 MiB");
		return -EINVAL;
	}
	return 0;
}

static int load_kernel(struct guest_mem *mem, const struct boot_request *req,
		       struct kernel_image *img, char *err, size_t errlen)
{
	const uint8_t *k = req->kernel;
	size_t len = req->kernel_len;

	memset(img, 0, sizeof(*img));
	img->cmdline_max = LAYOUT_CMDLINE_MAX - 1;
	img->initrd_limit = UINT64_MAX;
	if (len >= 4 && !memcmp(k,
				"\x7f"
				"ELF",
				4))
		return load_elf(mem, k, len, img, err, errlen);
	if (len >= 0x206 && !memcmp(k + 0x202, "HdrS", 4))
		return load_bzimage(mem, k, len, img, err, errlen);
	return load_raw(mem, k, len, img, err, errlen);
}

int x86_boot_setup(struct guest_mem *mem, const struct boot_request *req, struct boot_entry *out,
		   char *err, size_t errlen)
{
	struct e820_range map[BOOT_E820_MAX];
	struct kernel_image img;
	uint64_t initrd = 0, rsdp = 0;
	uint64_t low;
	int nr_map, ret;

	if (err && errlen)
		err[0] = '\0';
	ret = check_request(mem, req, err, errlen);
	if (ret)
		return ret;

	/* A reboot runs this again: leave nothing of the last boot below 1 MiB. */
	memset(gmem_ptr(mem, LAYOUT_PVH_START_INFO,
			LAYOUT_BOOT_PARAMS + PAGE_SIZE - LAYOUT_PVH_START_INFO),
	       0, LAYOUT_BOOT_PARAMS + PAGE_SIZE - LAYOUT_PVH_START_INFO);
	memset(gmem_ptr(mem, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX), 0, LAYOUT_CMDLINE_MAX);
	low = mptable_start(req->nr_cpus);
	if (low > LAYOUT_EBDA_START)
		low = LAYOUT_EBDA_START;
	memset(gmem_ptr(mem, low, LAYOUT_HIMEM_START - low), 0, LAYOUT_HIMEM_START - low);

	ret = load_kernel(mem, req, &img, err, errlen);
	if (ret)
		return ret;
	ret = place_cmdline(mem, req->cmdline, &img, err, errlen);
	if (ret)
		return ret;
	ret = place_initrd(mem, req, &img, &initrd, err, errlen);
	if (ret)
		return ret;
	ret = mptable_build(mem, req->nr_cpus, err, errlen);
	if (ret)
		return ret;
	if (req->acpi) {
		ret = acpi_build_tables(mem, req, &rsdp, err, errlen);
		if (ret)
			return ret;
	}
	nr_map = boot_build_e820(mem, req->nr_cpus, map, BOOT_E820_MAX);
	if (nr_map < 0) {
		boot_err(err, errlen, "cannot describe guest RAM in the e820 map");
		return nr_map;
	}

	memset(out, 0, sizeof(*out));
	out->mode = img.mode;
	out->format = img.format;
	out->entry = img.entry;
	out->kernel_end = img.kernel_end;
	if (img.mode == BOOT_MODE_PVH) {
		write_pvh_start_info(mem, initrd, req->initrd_len, rsdp, map, nr_map);
		out->info_gpa = LAYOUT_PVH_START_INFO;
	} else {
		write_boot_params(mem, &img, initrd, req->initrd_len, rsdp, map, nr_map);
		out->info_gpa = LAYOUT_BOOT_PARAMS;
	}
	return 0;
}
