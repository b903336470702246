/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_BUS_H
#define SV_MACHINE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A port or MMIO access.  offset is relative to the range's base; data holds
 * len (1..8) bytes, little endian.  For reads the handler fills data (it is
 * zeroed first).  Handlers run on vCPU threads: a device locks its own state.
 */
typedef void (*bus_io_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			  bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	pthread_rwlock_t lock;
	struct bus_range ranges[BUS_MAX_RANGES]; /* sorted by base */
	int nr;
};

void bus_init(struct bus *bus);
/* -EEXIST on overlap, -ENOSPC when full. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque,
		 const char *name);
int bus_unregister(struct bus *bus, uint64_t base);
/* false when no device claims the address (reads then return all ones). */
bool bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
