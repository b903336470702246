// SPDX-License-Identifier: MulanPSL-2.0
/* Token bucket in nano-units so slow rates keep their fractions. */
#include "util/monotonic.h"
#include "virtio/ratelimit.h"

#define NS_PER_SEC 1000000000ULL

uint64_t ratelimit_now_ns(void)
{
	return monotonic_ns();
}

uint64_t (*ratelimit_clock)(void) = ratelimit_now_ns;

void ratelimit_init(struct ratelimit *rl, uint64_t rate, uint64_t burst)
{
	if (rate > NS_PER_SEC)
		rate = NS_PER_SEC;
	if (burst == 0 || burst > rate)
		burst = rate;
	rl->rate = rate;
	rl->burst = burst;
	rl->level = burst * NS_PER_SEC;
	rl->last_ns = ratelimit_clock();
}

static void refill(struct ratelimit *rl)
{
	uint64_t now = ratelimit_clock(), elapsed = now - rl->last_ns;
	uint64_t cap = rl->burst * NS_PER_SEC;

	rl->last_ns = now;
	if (elapsed > NS_PER_SEC)
		elapsed = NS_PER_SEC; /* one second refills any bucket */
	rl->level += elapsed * rl->rate;
	if (rl->level > cap)
		rl->level = cap;
}

uint64_t ratelimit_take(struct ratelimit *rl, uint64_t want)
{
	uint64_t have;

	if (rl->rate == 0)
		return want;
	refill(rl);
	have = rl->level / NS_PER_SEC;
	if (want > have)
		want = have;
	rl->level -= want * NS_PER_SEC;
	return want;
}

uint64_t ratelimit_wait_ns(struct ratelimit *rl, uint64_t want)
{
	uint64_t need;

	if (rl->rate == 0)
		return 0;
	refill(rl);
	if (want > rl->burst)
		want = rl->burst;
	need = want * NS_PER_SEC;
	if (rl->level >= need)
		return 0;
	/* rate units/s = rate nano-units per ns */
	return (need - rl->level + rl->rate - 1) / rl->rate;
}
