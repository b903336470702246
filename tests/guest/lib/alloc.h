/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_ALLOC_H
#define SVGUEST_ALLOC_H

#include <stddef.h>

#define PAGE_SIZE 4096

/*
 * Zeroed, page-aligned pages from ALLOC_START..ALLOC_END (bump allocation,
 * never freed). NULL when the region is exhausted or not RAM.
 */
void *page_alloc(size_t npages);
/* Called once at start-up; disables the allocator if the region is not RAM. */
void alloc_init(int region_is_ram);

#endif
