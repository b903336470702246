/* SPDX-License-Identifier: MulanPSL-2.0 */
/* CLOCK_MONOTONIC in nanoseconds: the one clock of deadlines and rate limits. */
#ifndef SV_UTIL_MONOTONIC_H
#define SV_UTIL_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
