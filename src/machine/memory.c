// SPDX-License-Identifier: MulanPSL-2.0
#include "machine/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "config/config.h"
#include "util/log.h"

void *gmem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (len == 0 || gpa + len < gpa)
		return NULL;
	for (int i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
	void *p = gmem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int gmem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = gmem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

void gmem_init_flat(struct guest_mem *mem, void *buf, uint64_t gpa, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	mem->regions[0] = (struct gmem_region){.gpa = gpa, .size = size, .hva = buf};
	mem->nr_regions = 1;
	mem->ram_size = size;
	mem->memfd = -1;
}

/* A file for the whole of RAM: a memfd for mem-share, or a file under mem-path. */
static int open_backing(const struct vm_config *cfg)
{
	struct stat st;
	char tmpl[4096];
	int fd;

	if (!cfg->mem_path)
		return memfd_create("stratovirt-ram", MFD_CLOEXEC);
	if (stat(cfg->mem_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(tmpl, sizeof(tmpl), "%s/stratovirt-ram-XXXXXX", cfg->mem_path);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		return fd;
	}
	return open(cfg->mem_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int gmem_init(struct guest_mem *mem, const struct vm_config *cfg)
{
	uint64_t low =
	    cfg->mem_size < LAYOUT_MEM_BELOW_4G_END ? cfg->mem_size : LAYOUT_MEM_BELOW_4G_END;
	uint64_t high = cfg->mem_size - low;
	int flags = MAP_NORESERVE;
	uint8_t *base;
	int err;

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->ram_size = cfg->mem_size;
	if (cfg->mem_prealloc)
		flags |= MAP_POPULATE;

	if (cfg->mem_share || cfg->mem_path) {
		mem->memfd = open_backing(cfg);
		if (mem->memfd < 0) {
			err = -errno;
			fprintf(stderr, "stratovirt: cannot open guest memory backing '%s': %s\n",
				cfg->mem_path ? cfg->mem_path : "memfd", strerror(errno));
			return err;
		}
		if (ftruncate(mem->memfd, (off_t)cfg->mem_size) < 0) {
			err = -errno;
			fprintf(stderr, "stratovirt: cannot size guest memory to %llu bytes: %s\n",
				(unsigned long long)cfg->mem_size, strerror(errno));
			close(mem->memfd);
			return err;
		}
		flags |= cfg->mem_share ? MAP_SHARED : MAP_PRIVATE;
	} else {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
	}

	/* One mapping for all of RAM; the regions are views into it. */
	base = mmap(NULL, cfg->mem_size, PROT_READ | PROT_WRITE, flags, mem->memfd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		fprintf(stderr, "stratovirt: cannot map %llu bytes of guest memory: %s\n",
			(unsigned long long)cfg->mem_size, strerror(errno));
		if (mem->memfd >= 0)
			close(mem->memfd);
		return err;
	}
	if (!cfg->dump_guest_core)
		madvise(base, cfg->mem_size, MADV_DONTDUMP);

	mem->regions[0] = (struct gmem_region){.gpa = 0, .size = low, .hva = base};
	mem->nr_regions = 1;
	if (high) {
		mem->regions[1] = (struct gmem_region){
		    .gpa = LAYOUT_MEM_ABOVE_4G, .size = high, .hva = base + low};
		mem->nr_regions = 2;
	}
	return 0;
}

void gmem_free(struct guest_mem *mem)
{
	if (mem->nr_regions && mem->regions[0].hva)
		munmap(mem->regions[0].hva, mem->ram_size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	mem->nr_regions = 0;
	mem->memfd = -1;
}
