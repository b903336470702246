/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_MEMORY_H
#define SV_MACHINE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

/* Guest RAM.  Everything the guest hands us goes through gmem_ptr(). */
struct guest_mem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	int nr_regions;
	uint64_t ram_size; /* total bytes of RAM */
	int memfd;	   /* -1 unless mem-share or mem-path */
	/* a -mem-path file this VMM created: removed by gmem_free() if still ours */
	char *created_path;
	dev_t created_dev;
	ino_t created_ino;
};

/*
 * The one checked accessor: a host pointer to [gpa, gpa+len) when that range
 * lies wholly inside one RAM region (no wrap, len > 0), else NULL.
 */
void *gmem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
int gmem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int gmem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len);

/*
 * Lays out RAM as layout() (the arch's arch_ram_layout) places it; maps it.  -mem-path:
 * a directory gets an unlinked temporary file; an absent file is created
 * (and removed at gmem_free()); an existing regular file is used only when
 * its size is exactly the RAM size (never truncated).  -mem-prealloc
 * populates RAM in chunks and stops with -EINTR when SIGTERM/SIGINT/SIGHUP
 * is pending.
 */
struct vm_config;
int gmem_init(struct guest_mem *mem, const struct vm_config *cfg,
	      int (*layout)(uint64_t ram_size, struct gmem_region *regions));
/* The same -mem-path checks without creating anything (pre-flight). */
int gmem_check_backing(const struct vm_config *cfg, char *err, size_t errlen);
void gmem_free(struct guest_mem *mem);
/* Test helper: one region backed by caller memory. */
void gmem_init_flat(struct guest_mem *mem, void *buf, uint64_t gpa, uint64_t size);

#endif
