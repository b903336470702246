// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Device benchmarks (bench=blk4k|blk1m|nettx|netrx count=N): N requests as
 * fast as the device takes them, the ring kept full (one indirect
 * descriptor per request where the device offers it, so the queue depth is
 * the queue size). Prints "BENCH <name> count=N" right before the first
 * request and again after the last completion; the host measures the time
 * between the two lines.
 *   blk4k  4 KiB reads at pseudo-random 4 KiB-aligned offsets of the first disk
 *   blk1m  1 MiB sequential reads, wrapping at the end of the disk
 *   nettx  N broadcast frames of 60 bytes (ethertype 0x88b5)
 *   netrx  counts N received frames (the host sends them after the first line)
 * Needs at least 80 MiB of guest RAM (buffers from vio_scratch()).
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/blk.h"
#include "virtio/net.h"

#define BENCH_Q	    256
#define BLK1M_BYTES (1u << 20)
#define BLK1M_BUFS  4
#define IDLE_POLLS  (10 * IO_DELAY_PER_SEC) /* no progress for this long: give up */
#define NETRX_POLLS (60 * IO_DELAY_PER_SEC)

static uint64_t lcg_state = 0x9e3779b97f4a7c15ULL;

static uint64_t lcg_next(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return lcg_state >> 33;
}

static enum check_result bench_blk(struct check_ctx *ctx, const char *name, uint64_t count,
				   bool big)
{
	static struct vblk b;
	uint64_t submitted = 0, done = 0, errors = 0, span, pos = 0;
	uint32_t chunk = big ? BLK1M_BYTES : 4096;
	struct vblk_hdr *hdrs;
	uint8_t *data, *status;
	const char *why;
	unsigned int nth;

	for (nth = 0;; nth++) {
		if (vblk_open(&b, nth, VIO_BIT(VIO_F_INDIRECT_DESC) | VIO_BIT(VIO_F_EVENT_IDX),
			      &why) < 0)
			return check_fail(ctx, "no disk: %s", why);
		if (b.capacity >= chunk / SECTOR_SIZE)
			break;
	}
	/* Set up again with the largest queue we allow. */
	vio_reset(&b.dev);
	if (vio_init(&b.dev, VIO_BIT(VIO_F_INDIRECT_DESC) | VIO_BIT(VIO_F_EVENT_IDX), &why) < 0 ||
	    vq_setup(&b.dev, &b.q, 0, BENCH_Q, &why) < 0)
		return check_fail(ctx, "%s", why);
	vio_driver_ok(&b.dev);
	b.q.use_indirect = vio_has(&b.dev, VIO_F_INDIRECT_DESC);
	hdrs = page_alloc(BENCH_Q * 32 / PAGE_SIZE);
	data = vio_scratch(big ? BLK1M_BUFS * (uint64_t)BLK1M_BYTES : BENCH_Q * 4096ULL);
	if (!hdrs || !data)
		return check_fail(ctx, "out of guest pages");
	status = (uint8_t *)hdrs + BENCH_Q * 16;
	span = b.capacity / (chunk / SECTOR_SIZE); /* whole chunks on the disk */

	printf("BENCH %s count=%lu\n", name, count);
	while (done < count) {
		unsigned int added = 0;
		uint32_t len;
		void *tok;
		int head;

		while (submitted < count && b.q.num_free >= (b.q.use_indirect ? 1 : 3)) {
			unsigned int slot = b.q.free_head;
			struct vblk_hdr *h = &hdrs[slot];
			uint64_t chunk_idx = big ? pos++ % span : lcg_next() % span;
			uint8_t *buf = big ? data + (slot % BLK1M_BUFS) * (uint64_t)BLK1M_BYTES
					   : data + (uint64_t)slot * 4096;
			struct vbuf bufs[3] = {
			    {vaddr(h), sizeof(*h), false},
			    {vaddr(buf), chunk, true},
			    {vaddr(&status[slot]), 1, true},
			};

			h->type = VBLK_T_IN;
			h->reserved = 0;
			h->sector = chunk_idx * (chunk / SECTOR_SIZE);
			status[slot] = 0xff;
			head = vq_add(&b.q, bufs, 3, (void *)(uintptr_t)(slot + 1));
			if (head < 0)
				break;
			submitted++;
			added++;
		}
		if (added)
			vq_kick(&b.q);
		if (vq_wait(&b.q, &len, &tok, IDLE_POLLS) != 1)
			return check_fail(ctx, "stalled after %lu of %lu requests", done, count);
		do {
			if (status[(uintptr_t)tok - 1] != VBLK_S_OK)
				errors++;
			done++;
		} while (vq_get_used(&b.q, &len, &tok) == 1);
	}
	printf("BENCH %s count=%lu\n", name, count);
	printf("INFO bench %s errors=%lu kicks=%lu suppressed=%lu qsize=%u\n", name, errors,
	       b.q.kicks, b.q.kicks_suppressed, b.q.num);
	vio_reset(&b.dev);
	return errors ? check_fail(ctx, "%lu requests failed", errors) : CHECK_PASS;
}

static enum check_result bench_nettx(struct check_ctx *ctx, uint64_t count)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static struct vnet n;
	uint64_t submitted = 0, done = 0;
	const char *why;
	uint32_t len = 0;
	unsigned int i;
	void *tok;

	if (vnet_open_cmdline(&n, BENCH_Q, &why) < 0)
		return check_fail(ctx, "%s", why);
	for (i = 0; i < n.tx.num; i++)
		len = vnet_build(&n, i, bcast, "svtest-bench", 12);
	printf("BENCH nettx count=%lu\n", count);
	while (done < count) {
		unsigned int added = 0;

		while (submitted < count && n.tx.num_free) {
			unsigned int slot = n.tx.free_head;

			if (vq_add(&n.tx,
				   &(struct vbuf){vaddr(n.txbufs + (uint64_t)slot * VNET_BUF_SIZE),
						  len, false},
				   1, NULL) < 0)
				break;
			submitted++;
			added++;
		}
		if (added)
			vq_kick(&n.tx);
		if (vq_wait(&n.tx, NULL, &tok, IDLE_POLLS) != 1)
			return check_fail(ctx, "TX stalled after %lu of %lu frames", done, count);
		do
			done++;
		while (vq_get_used(&n.tx, NULL, &tok) == 1);
	}
	printf("BENCH nettx count=%lu\n", count);
	printf("INFO bench nettx kicks=%lu suppressed=%lu qsize=%u\n", n.tx.kicks,
	       n.tx.kicks_suppressed, n.tx.num);
	vio_reset(&n.dev);
	return CHECK_PASS;
}

static enum check_result bench_netrx(struct check_ctx *ctx, uint64_t count)
{
	static struct vnet n;
	uint64_t got = 0, bytes = 0;
	const char *why;
	uint32_t len;
	void *tok;

	if (vnet_open_cmdline(&n, BENCH_Q, &why) < 0)
		return check_fail(ctx, "%s", why);
	printf("BENCH netrx count=%lu\n", count);
	while (got < count) {
		unsigned int reposted = 0;

		if (vq_wait(&n.rx, &len, &tok, got ? IDLE_POLLS : NETRX_POLLS) != 1)
			return check_fail(ctx, "received %lu of %lu frames", got, count);
		do {
			got++;
			bytes += len;
			vnet_post_rx(&n, (unsigned int)(uintptr_t)tok - 1);
			reposted++;
		} while (got < count && vq_get_used(&n.rx, &len, &tok) == 1);
		if (reposted)
			vq_kick(&n.rx);
	}
	printf("BENCH netrx count=%lu\n", count);
	printf("INFO bench netrx bytes=%lu kicks=%lu suppressed=%lu qsize=%u\n", bytes, n.rx.kicks,
	       n.rx.kicks_suppressed, n.rx.num);
	vio_reset(&n.dev);
	return CHECK_PASS;
}

static enum check_result check_virtio_bench(struct check_ctx *ctx)
{
	char mode[16];
	uint64_t count = 10000;

	if (!cmdline_get("bench", mode, sizeof(mode)))
		return check_skip(ctx, "bench= not given");
	cmdline_get_u64("count", &count);
	if (!strcmp(mode, "blk4k"))
		return bench_blk(ctx, mode, count, false);
	if (!strcmp(mode, "blk1m"))
		return bench_blk(ctx, mode, count, true);
	if (!strcmp(mode, "nettx"))
		return bench_nettx(ctx, count);
	if (!strcmp(mode, "netrx"))
		return bench_netrx(ctx, count);
	return check_fail(ctx, "unknown bench=%s (blk4k, blk1m, nettx, netrx)", mode);
}

DEFINE_CHECK(virtio_bench, check_virtio_bench, false);
