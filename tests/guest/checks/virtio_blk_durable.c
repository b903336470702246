// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio_blk_durable (tests=virtio_blk_durable): the guest half of the data
 * safety test (tests/integration/test_data_safety.py).  On the first disk,
 * writes one record per sector, sequence numbers from durable_start= (default
 * 1) on, record n at sector n mod capacity; after every durable_batch= (default
 * 8) writes a FLUSH, and once the FLUSH is acknowledged prints
 *   SVTEST DURABLE <n>
 * meaning every record up to n was acknowledged before an acknowledged
 * FLUSH.  The host kills the VMM at any moment and checks that each of those
 * records (the last capacity of them) is on the image.  Runs until
 * durable_count= records (default: for ever), then passes.
 * A record: "SVDURABL", the sequence number (u64 LE), the sector (u64 LE),
 * then bytes (seq * 7 + i) & 0xff up to byte 508, then a 32-bit FNV-1a of
 * bytes 0..507.
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/blk.h"

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void make_record(uint8_t *r, uint64_t seq, uint64_t sector)
{
	uint32_t h;

	memcpy(r, "SVDURABL", 8);
	memcpy(r + 8, &seq, 8);
	memcpy(r + 16, &sector, 8);
	for (unsigned int i = 24; i < SECTOR_SIZE - 4; i++)
		r[i] = (uint8_t)(seq * 7 + i);
	h = fnv1a(r, SECTOR_SIZE - 4);
	memcpy(r + SECTOR_SIZE - 4, &h, 4);
}

static enum check_result check_virtio_blk_durable(struct check_ctx *ctx)
{
	uint64_t seq = 1, batch = 8, count = 0, n;
	const char *why = "no virtio-blk disk";
	struct vblk b;
	uint8_t *rec;
	int st;

	cmdline_get_u64("durable_start", &seq);
	cmdline_get_u64("durable_batch", &batch);
	cmdline_get_u64("durable_count", &count);
	if (!batch)
		batch = 1;
	if (vblk_open(&b, 0, VIO_BIT(VBLK_F_FLUSH), &why) < 0)
		return check_fail(ctx, "%s", why);
	if (!vio_has(&b.dev, VBLK_F_FLUSH))
		return check_fail(ctx, "FLUSH not offered");
	if (!b.capacity)
		return check_fail(ctx, "disk of capacity 0");
	rec = page_alloc(1);
	if (!rec)
		return check_fail(ctx, "out of memory");
	printf("INFO virtio_blk_durable capacity %llu sectors, from %llu, flush every %llu\n",
	       (unsigned long long)b.capacity, (unsigned long long)seq, (unsigned long long)batch);
	for (n = 0; !count || n < count; n++, seq++) {
		uint64_t sector = seq % b.capacity;

		make_record(rec, seq, sector);
		st = vblk_request(&b, VBLK_T_OUT, sector, rec, SECTOR_SIZE);
		if (st != VBLK_S_OK)
			return check_fail(ctx, "write of record %llu: status %d",
					  (unsigned long long)seq, st);
		if ((n + 1) % batch)
			continue;
		st = vblk_request(&b, VBLK_T_FLUSH, 0, NULL, 0);
		if (st != VBLK_S_OK)
			return check_fail(ctx, "FLUSH after record %llu: status %d",
					  (unsigned long long)seq, st);
		printf("SVTEST DURABLE %llu\n", (unsigned long long)seq);
	}
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_blk_durable, check_virtio_blk_durable, false);
