// SPDX-License-Identifier: MulanPSL-2.0
/* The aarch64 boot: Image, initrd at the end of RAM, device tree at RAM base. */
#include "arch/aarch64/boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"

int a64_boot_setup(struct guest_mem *mem, const struct arch_kernel_files *files,
		   const struct a64_boot_params *p, struct boot_entry *entry, char *err,
		   size_t errlen)
{
	uint64_t ram_end = A64_RAM_BASE + mem->ram_size;
	struct fdt_params fp = {
	    .ram_base = A64_RAM_BASE,
	    .ram_size = mem->ram_size,
	    .nr_cpus = p->nr_cpus,
	    .gic_version = p->gic_version,
	    .bootargs = p->cmdline,
	    .devs = p->devs,
	    .nr_devs = p->nr_devs,
	};
	struct arm64_image img;
	uint8_t *dst;
	int ret;

	ret = arm64_image_load(mem, A64_RAM_BASE, files->kernel, files->kernel_len, &img, err,
			       errlen);
	if (ret < 0)
		return ret;
	if (files->initrd && files->initrd_len) {
		fp.initrd_size = files->initrd_len;
		fp.initrd_start = (ram_end - files->initrd_len) & ~0xfffULL;
		dst = files->initrd_len < ram_end - img.end
			  ? gmem_ptr(mem, fp.initrd_start, files->initrd_len)
			  : NULL;
		if (!dst || fp.initrd_start < img.end) {
			snprintf(err, errlen,
				 "initrd of %zu bytes does not fit in RAM after the kernel (which "
				 "ends at 0x%llx)",
				 files->initrd_len, (unsigned long long)img.end);
			return -E2BIG;
		}
		memcpy(dst, files->initrd, files->initrd_len);
	}
	dst = gmem_ptr(mem, A64_FDT, A64_FDT_MAX);
	if (!dst) {
		snprintf(err, errlen, "no room for the device tree at 0x%llx",
			 (unsigned long long)A64_FDT);
		return -E2BIG;
	}
	ret = fdt_build(&fp, dst, A64_FDT_MAX, err, errlen);
	if (ret < 0)
		return ret;
	*entry =
	    (struct boot_entry){.entry = img.load_gpa, .info_gpa = A64_FDT, .kernel_end = img.end};
	return 0;
}
