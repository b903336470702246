/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_RATELIMIT_H
#define SV_VIRTIO_RATELIMIT_H

/*
 * Token bucket: `rate` units per second, holding at most `burst` units; a
 * rate of 0 means unlimited.  Used for the blk iops= limit (units are
 * requests) and the rng bytes_per_sec limit (units are bytes).
 */

#include <stdint.h>

struct ratelimit {
	uint64_t rate;	/* units per second, <= 1e9; 0 = unlimited */
	uint64_t burst; /* bucket size in units */
	uint64_t level; /* in 1e-9 units */
	uint64_t last_ns;
};

void ratelimit_init(struct ratelimit *rl, uint64_t rate, uint64_t burst);
/* Takes up to want units; returns how many were granted (0..want). */
uint64_t ratelimit_take(struct ratelimit *rl, uint64_t want);
/* Nanoseconds until want units (capped to burst) will be available. */
uint64_t ratelimit_wait_ns(struct ratelimit *rl, uint64_t want);
/* Monotonic clock in ns (tests may replace the clock, see ratelimit.c). */
uint64_t ratelimit_now_ns(void);
extern uint64_t (*ratelimit_clock)(void);

#endif
