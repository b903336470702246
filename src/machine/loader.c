// SPDX-License-Identifier: MulanPSL-2.0
/* Reads the kernel and initrd files and hands them to the arch boot code. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arch.h"
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

int vm_load_kernel(struct vm *vm, struct boot_entry *entry)
{
	const struct vm_config *cfg = vm->cfg;
	struct arch_kernel_files f = {0};
	uint8_t *kernel = NULL, *initrd = NULL;
	char err[256] = "";
	int ret;

	ret = map_file("-kernel", cfg->kernel, vm->mem.ram_size, &kernel, &f.kernel_len);
	if (!ret && cfg->initrd)
		ret = map_file("-initrd", cfg->initrd, vm->mem.ram_size, &initrd, &f.initrd_len);
	if (ret)
		goto out;
	f.kernel = kernel;
	f.initrd = initrd;
	ret = arch_load_kernel(vm, &f, entry, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot load kernel '%s': %s\n", cfg->kernel,
			err[0] ? err : strerror(-ret));
out:
	unmap_file(kernel, f.kernel_len);
	unmap_file(initrd, f.initrd_len);
	return ret;
}
