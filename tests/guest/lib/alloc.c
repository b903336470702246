// SPDX-License-Identifier: MulanPSL-2.0
#include <stdint.h>

#include "defs.h"
#include "lib/alloc.h"
#include "lib/string.h"

static uintptr_t next = ALLOC_START;
static int usable;

void alloc_init(int region_is_ram)
{
	usable = region_is_ram;
	next = ALLOC_START;
}

void *page_alloc(size_t npages)
{
	uintptr_t p = next;

	if (!usable || npages > (ALLOC_END - next) / PAGE_SIZE)
		return NULL;
	next += npages * PAGE_SIZE;
	memset((void *)p, 0, npages * PAGE_SIZE);
	return (void *)p;
}
