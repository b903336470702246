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

#include "arch/arch.h"
#include "config/config.h"
#include "util/daemon.h"
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

static int size_mismatch(const struct vm_config *cfg, uint64_t size, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "-mem-path '%s' is %llu bytes but the guest memory is %llu bytes: an existing "
		 "file must be exactly the memory size",
		 cfg->mem_path, (unsigned long long)size, (unsigned long long)cfg->mem_size);
	return -EINVAL;
}

static int wrong_type(const struct vm_config *cfg, char *err, size_t errlen)
{
	snprintf(err, errlen, "-mem-path '%s' is not a regular file or a directory", cfg->mem_path);
	return -EINVAL;
}

int gmem_check_backing(const struct vm_config *cfg, char *err, size_t errlen)
{
	struct stat st;

	if (!cfg->mem_path)
		return 0;
	if (stat(cfg->mem_path, &st) < 0) {
		int e = errno;
		char *dir, *slash;

		if (e != ENOENT) {
			snprintf(err, errlen, "cannot open -mem-path '%s': %s", cfg->mem_path,
				 strerror(e));
			return -e;
		}
		/* absent: it will be created, so its directory must exist */
		dir = strdup(cfg->mem_path);
		if (!dir)
			return -ENOMEM;
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			e = 0;
			if (stat(dir, &st) < 0)
				e = errno;
			else if (!S_ISDIR(st.st_mode))
				e = ENOTDIR;
			if (e) {
				snprintf(err, errlen, "cannot create -mem-path '%s': %s",
					 cfg->mem_path, strerror(e));
				free(dir);
				return -e;
			}
		}
		free(dir);
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return 0;
	if (!S_ISREG(st.st_mode))
		return wrong_type(cfg, err, errlen);
	if ((uint64_t)st.st_size != cfg->mem_size)
		return size_mismatch(cfg, (uint64_t)st.st_size, err, errlen);
	return 0;
}

/*
 * A file for the whole of RAM: a memfd for mem-share, or a file under
 * mem-path.  *sized: the file already has the RAM size (an existing file).
 */
static int open_backing(struct guest_mem *mem, const struct vm_config *cfg, bool *sized, char *err,
			size_t errlen)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	const char *path = cfg->mem_path;
	struct stat st;
	char tmpl[4096];
	int fd, e;

	*sized = false;
	if (!path) {
		fd = memfd_create("stratovirt-ram", MFD_CLOEXEC);
		if (fd < 0) {
			e = errno;
			snprintf(err, errlen, "cannot create guest memory memfd: %s", strerror(e));
			return -e;
		}
		return fd;
	}
	fd = open(path, flags | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		if (fstat(fd, &st) < 0 || !(mem->created_path = strdup(path))) {
			e = errno ? errno : ENOMEM;
			unlink(path);
			close(fd);
			snprintf(err, errlen, "cannot create -mem-path '%s': %s", path,
				 strerror(e));
			return -e;
		}
		mem->created_dev = st.st_dev;
		mem->created_ino = st.st_ino;
		goto blocking;
	}
	if (errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "cannot create -mem-path '%s': %s", path, strerror(e));
		return -e;
	}
	fd = open(path, flags);
	if (fd < 0 && errno == EISDIR) {
		if (snprintf(tmpl, sizeof(tmpl), "%s/stratovirt-ram-XXXXXX", path) >=
		    (int)sizeof(tmpl)) {
			snprintf(err, errlen, "-mem-path '%s' is too long", path);
			return -ENAMETOOLONG;
		}
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			snprintf(err, errlen, "cannot create a file in -mem-path '%s': %s", path,
				 strerror(e));
			return -e;
		}
		unlink(tmpl); /* nothing is left behind, whatever happens */
		return fd;
	}
	if (fd < 0) {
		e = errno;
		if (e == ENXIO || e == EOPNOTSUPP)
			return wrong_type(cfg, err, errlen);
		snprintf(err, errlen, "cannot open -mem-path '%s': %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wrong_type(cfg, err, errlen);
	}
	if ((uint64_t)st.st_size != cfg->mem_size) {
		close(fd);
		return size_mismatch(cfg, (uint64_t)st.st_size, err, errlen);
	}
	*sized = true;
blocking:
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void remove_created(struct guest_mem *mem)
{
	struct stat st;

	if (!mem->created_path)
		return;
	if (lstat(mem->created_path, &st) == 0 && st.st_dev == mem->created_dev &&
	    st.st_ino == mem->created_ino)
		unlink(mem->created_path);
	free(mem->created_path);
	mem->created_path = NULL;
}

#define PREALLOC_CHUNK (64ULL << 20)

/*
 * -mem-prealloc: fault every page in, a chunk at a time, so that a pending
 * SIGTERM/SIGINT/SIGHUP stops start-up promptly even for a large guest.
 */
static int prealloc(uint8_t *base, uint64_t size)
{
	static bool no_madvise;
	long page = sysconf(_SC_PAGESIZE);

	for (uint64_t off = 0; off < size; off += PREALLOC_CHUNK) {
		uint64_t len = size - off < PREALLOC_CHUNK ? size - off : PREALLOC_CHUNK;

		if (stop_signal_pending())
			return -EINTR;
		if (!no_madvise && madvise(base + off, len, MADV_POPULATE_WRITE) == 0)
			continue;
		if (!no_madvise && errno != EINVAL)
			return -errno;
		no_madvise = true; /* before Linux 5.14: touch each page */
		for (uint64_t p = 0; p < len; p += (uint64_t)page) {
			volatile uint8_t *b = base + off + p;
			uint8_t v = *b;

			*b = v; /* a write fault, as MAP_POPULATE makes on private memory */
		}
	}
	return 0;
}

int gmem_init(struct guest_mem *mem, const struct vm_config *cfg,
	      int (*layout)(uint64_t ram_size, struct gmem_region *regions))
{
	struct gmem_region regions[ARCH_MAX_RAM_REGIONS];
	int nr = layout(cfg->mem_size, regions);
	int flags = MAP_NORESERVE;
	char err[512];
	uint8_t *base;
	bool sized;
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->ram_size = cfg->mem_size;

	if (cfg->mem_share || cfg->mem_path) {
		mem->memfd = open_backing(mem, cfg, &sized, err, sizeof(err));
		if (mem->memfd < 0) {
			ret = mem->memfd;
			mem->memfd = -1;
			fprintf(stderr, "stratovirt: %s\n", err);
			return ret;
		}
		if (!sized && ftruncate(mem->memfd, (off_t)cfg->mem_size) < 0) {
			ret = -errno;
			fprintf(stderr, "stratovirt: cannot size guest memory to %llu bytes: %s\n",
				(unsigned long long)cfg->mem_size, strerror(errno));
			gmem_free(mem);
			return ret;
		}
		flags |= cfg->mem_share ? MAP_SHARED : MAP_PRIVATE;
	} else {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
	}

	/* One mapping for all of RAM; the regions are views into it. */
	base = mmap(NULL, cfg->mem_size, PROT_READ | PROT_WRITE, flags, mem->memfd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "stratovirt: cannot map %llu bytes of guest memory: %s\n",
			(unsigned long long)cfg->mem_size, strerror(errno));
		gmem_free(mem);
		return ret;
	}
	if (!cfg->dump_guest_core)
		madvise(base, cfg->mem_size, MADV_DONTDUMP);

	for (uint64_t i = 0, off = 0; i < (uint64_t)nr; off += regions[i].size, i++) {
		mem->regions[i] = regions[i];
		mem->regions[i].hva = base + off;
	}
	mem->nr_regions = nr;
	if (cfg->mem_prealloc) {
		ret = prealloc(base, cfg->mem_size);
		if (ret == -EINTR)
			return ret; /* stopped by a signal: the caller cleans up quietly */
		if (ret < 0) {
			fprintf(stderr,
				"stratovirt: cannot preallocate %llu bytes of guest memory: %s\n",
				(unsigned long long)cfg->mem_size, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void gmem_free(struct guest_mem *mem)
{
	if (mem->nr_regions && mem->regions[0].hva)
		munmap(mem->regions[0].hva, mem->ram_size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	remove_created(mem);
	mem->nr_regions = 0;
	mem->memfd = -1;
}
