// SPDX-License-Identifier: MulanPSL-2.0
/* Reads the kernel and initrd files and hands them to the x86 boot code. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/boot.h"
#include "machine/machine.h"
#include "util/hostpath.h"
#include "util/log.h"

/*
 * Maps a kernel or initrd file read-only: no copy through a buffer, and the
 * page cache pages are shared with every other VM booting the same file.
 */
static int map_file(const char *what, const char *path, uint64_t max, uint8_t **buf, size_t *len)
{
	static uint8_t empty[1];
	struct stat st;
	char err[512];
	int fd = hostpath_open(what, path, O_RDONLY, 0, HOSTPATH_REG, NULL, err, sizeof(err));
	void *p;

	if (fd < 0) {
		fprintf(stderr, "stratovirt: %s\n", err);
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if ((uint64_t)st.st_size > max) {
		fprintf(stderr, "stratovirt: %s '%s' is %lld bytes, larger than guest memory\n",
			what, path, (long long)st.st_size);
		close(fd);
		return -E2BIG;
	}
	*len = (size_t)st.st_size;
	if (!*len) {
		*buf = empty; /* the loaders reject it with a clear message */
		close(fd);
		return 0;
	}
	p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int err = -errno;

		fprintf(stderr, "stratovirt: cannot read %s '%s': %s\n", what, path,
			strerror(errno));
		return err;
	}
	*buf = p;
	return 0;
}

static void unmap_file(uint8_t *buf, size_t len)
{
	if (buf && len)
		munmap(buf, len);
}

/* True when the guest will use ACPI to find devices. */
static bool guest_uses_acpi(const struct vm_config *cfg)
{
	const char *c = cfg->cmdline;

	if (!cfg->acpi)
		return false;
	while (c && (c = strstr(c, "acpi=off")) != NULL) {
		if (c == cfg->cmdline || c[-1] == ' ')
			return false;
		c++;
	}
	return true;
}

/*
 * With ACPI the DSDT lists the transports; without it they go on the command
 * line as virtio_mmio.device=<size>@<base>:<irq>, as StratoVirt does.  Never
 * both, or the kernel would probe every transport twice.
 */
static char *build_cmdline(const struct vm *vm, bool acpi)
{
	const char *base = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	size_t cap = strlen(base) + 1 + (size_t)vm->nr_mmio_devs * 64;
	char *s = malloc(cap);
	size_t n;

	if (!s)
		return NULL;
	n = (size_t)snprintf(s, cap, "%s", base);
	for (int i = 0; !acpi && i < vm->nr_mmio_devs; i++)
		n += (size_t)snprintf(s + n, cap - n, "%svirtio_mmio.device=%llu@0x%llx:%u",
				      n ? " " : "", (unsigned long long)vm->mmio_devs[i].size,
				      (unsigned long long)vm->mmio_devs[i].base,
				      vm->mmio_devs[i].irq);
	return s;
}

int vm_load_kernel(struct vm *vm, struct boot_entry *entry)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_request req = {.nr_cpus = vm->nr_vcpus, .acpi = guest_uses_acpi(cfg)};
	uint8_t *kernel = NULL, *initrd = NULL;
	char err[256] = "";
	char *cmdline;
	int ret;

	ret = map_file("-kernel", cfg->kernel, vm->mem.ram_size, &kernel, &req.kernel_len);
	if (!ret && cfg->initrd)
		ret = map_file("-initrd", cfg->initrd, vm->mem.ram_size, &initrd, &req.initrd_len);
	if (ret)
		goto out;
	cmdline = build_cmdline(vm, req.acpi);
	if (!cmdline) {
		ret = -ENOMEM;
		goto out;
	}
	req.kernel = kernel;
	req.initrd = initrd;
	req.cmdline = cmdline;
	req.devs = vm->mmio_devs;
	req.nr_devs = vm->nr_mmio_devs;
	ret = x86_boot_setup(&vm->mem, &req, entry, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot load kernel '%s': %s\n", cfg->kernel,
			err[0] ? err : strerror(-ret));
	else
		pr_info("kernel '%s' entry 0x%llx (%s), cmdline '%s'", cfg->kernel,
			(unsigned long long)entry->entry,
			entry->mode == BOOT_MODE_PVH ? "PVH" : "64-bit", cmdline);
	free(cmdline);
out:
	unmap_file(kernel, req.kernel_len);
	unmap_file(initrd, req.initrd_len);
	return ret;
}
