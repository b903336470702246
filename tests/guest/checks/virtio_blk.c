// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-blk through the guest's own driver, on the first disk with a
 * non-zero capacity:
 *   virtio_blk        read the host's pattern, write our own (the host test
 *                     checks the image afterwards), FLUSH, WRITE_ZEROES and
 *                     DISCARD read back as zeros, GET_ID == blk_serial=
 *   virtio_blk_ro     (blk_ro=1) RO offered, a write fails with IOERR and
 *                     changes nothing
 *   virtio_blk_slots  (blk_slots=N [blk_disks=K]) exactly N blk transports,
 *                     N-K of them with capacity 0 whose reads fail
 * Layout on the disk (sectors): 0..63 host pattern read, 64..71 guest
 * pattern written, 128..135 write-zeroes, 192..199 discard.
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/blk.h"

#define READ_SECTORS  64
#define WRITE_SECTOR  64
#define WZ_SECTOR     128
#define DISCARD_SECT  192
#define RANGE_SECTORS 8
#define LAYOUT_END    200

/* Byte i of sector s as the host test writes it (tests/integration/test_virtio.py). */
static uint8_t host_byte(uint64_t s, unsigned int i)
{
	if (i < 8)
		return (uint8_t)(s >> (8 * i));
	return (uint8_t)(s * 131 + i * 7 + 1);
}

/* Byte i of sector s as this check writes it: first 8 bytes s ^ "SVGUEST\0". */
static uint8_t guest_byte(uint64_t s, unsigned int i)
{
	if (i < 8)
		return (uint8_t)((s ^ 0x0054534555475653ULL) >> (8 * i));
	return (uint8_t)(s * 13 + i * 3 + 0x55);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	while (n--) {
		if (*p++)
			return false;
	}
	return true;
}

static const uint64_t blk_want =
    VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT_DESC) | VIO_BIT(VBLK_F_RO) |
    VIO_BIT(VBLK_F_FLUSH) | VIO_BIT(VBLK_F_DISCARD) | VIO_BIT(VBLK_F_WRITE_ZEROES) |
    VIO_BIT(VBLK_F_BLK_SIZE) | VIO_BIT(VBLK_F_SEG_MAX) | VIO_BIT(VBLK_F_SIZE_MAX);

/* Opens the first transport with a disk in it. */
static int open_first_disk(struct vblk *b, const char **why)
{
	unsigned int nth;

	for (nth = 0;; nth++) {
		if (vblk_open(b, nth, blk_want, why) < 0)
			return nth ? (*why = "no virtio-blk disk with a non-zero capacity", -1)
				   : -1;
		if (b->capacity)
			return 0;
	}
}

static enum check_result check_read_pattern(struct check_ctx *ctx, struct vblk *b, uint8_t *buf)
{
	uint64_t s, sum = 0;
	unsigned int i;
	int st;

	for (s = 0; s < READ_SECTORS; s += RANGE_SECTORS) {
		/* Every other request through one indirect descriptor. */
		b->q.use_indirect =
		    vio_has(&b->dev, VIO_F_INDIRECT_DESC) && (s / RANGE_SECTORS) % 2;
		st = vblk_request(b, VBLK_T_IN, s, buf, RANGE_SECTORS * SECTOR_SIZE);
		if (st != VBLK_S_OK)
			return check_fail(ctx, "read of sectors %lu..%lu: status %d", s,
					  s + RANGE_SECTORS - 1, st);
		for (i = 0; i < RANGE_SECTORS * SECTOR_SIZE; i++) {
			uint64_t sec = s + i / SECTOR_SIZE;

			sum = sum * 31 + buf[i];
			if (buf[i] != host_byte(sec, i % SECTOR_SIZE))
				return check_fail(ctx, "sector %lu byte %u is 0x%x, pattern 0x%x",
						  sec, i % SECTOR_SIZE, buf[i],
						  host_byte(sec, i % SECTOR_SIZE));
		}
	}
	b->q.use_indirect = false;
	printf("INFO virtio_blk read sectors 0..%u checksum 0x%lx\n", READ_SECTORS - 1, sum);
	return CHECK_PASS;
}

static enum check_result check_write(struct check_ctx *ctx, struct vblk *b, uint8_t *buf)
{
	unsigned int i;
	int st;

	for (i = 0; i < RANGE_SECTORS * SECTOR_SIZE; i++)
		buf[i] = guest_byte(WRITE_SECTOR + i / SECTOR_SIZE, i % SECTOR_SIZE);
	st = vblk_request(b, VBLK_T_OUT, WRITE_SECTOR, buf, RANGE_SECTORS * SECTOR_SIZE);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "write of sectors %u..: status %d", WRITE_SECTOR, st);
	printf("INFO virtio_blk wrote guest pattern to sectors %u..%u\n", WRITE_SECTOR,
	       WRITE_SECTOR + RANGE_SECTORS - 1);
	memset(buf, 0, RANGE_SECTORS * SECTOR_SIZE);
	st = vblk_request(b, VBLK_T_IN, WRITE_SECTOR, buf, RANGE_SECTORS * SECTOR_SIZE);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "read-back of sectors %u..: status %d", WRITE_SECTOR, st);
	for (i = 0; i < RANGE_SECTORS * SECTOR_SIZE; i++) {
		if (buf[i] != guest_byte(WRITE_SECTOR + i / SECTOR_SIZE, i % SECTOR_SIZE))
			return check_fail(ctx, "read-back differs at byte %u of sector %u", i,
					  WRITE_SECTOR);
	}
	if (vio_has(&b->dev, VBLK_F_FLUSH)) {
		st = vblk_request(b, VBLK_T_FLUSH, 0, NULL, 0);
		if (st != VBLK_S_OK)
			return check_fail(ctx, "FLUSH: status %d", st);
		printf("INFO virtio_blk flushed\n");
	} else {
		printf("INFO virtio_blk FLUSH not offered\n");
	}
	return CHECK_PASS;
}

/* WRITE_ZEROES or DISCARD of RANGE_SECTORS at sector, then reads zeros back. */
static enum check_result check_zero_range(struct check_ctx *ctx, struct vblk *b, uint8_t *buf,
					  uint32_t type, uint64_t sector)
{
	struct vblk_dz *dz = (struct vblk_dz *)buf;
	const char *name = type == VBLK_T_DISCARD ? "DISCARD" : "WRITE_ZEROES";
	int st;

	dz->sector = sector;
	dz->num_sectors = RANGE_SECTORS;
	dz->flags = 0;
	st = vblk_request(b, type, 0, dz, sizeof(*dz));
	if (st != VBLK_S_OK)
		return check_fail(ctx, "%s of sectors %lu..: status %d", name, sector, st);
	memset(buf, 0xee, RANGE_SECTORS * SECTOR_SIZE);
	st = vblk_request(b, VBLK_T_IN, sector, buf, RANGE_SECTORS * SECTOR_SIZE);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "read after %s: status %d", name, st);
	if (!is_zero(buf, RANGE_SECTORS * SECTOR_SIZE))
		return check_fail(ctx, "sectors %lu.. not zero after %s", sector, name);
	printf("INFO virtio_blk %s sectors %lu..%lu read back zeros\n", name, sector,
	       sector + RANGE_SECTORS - 1);
	return CHECK_PASS;
}

static enum check_result check_get_id(struct check_ctx *ctx, struct vblk *b, uint8_t *buf)
{
	char want[VBLK_ID_BYTES + 1];
	char got[VBLK_ID_BYTES + 1];
	int st;

	memset(buf, 0xee, VBLK_ID_BYTES);
	st = vblk_request(b, VBLK_T_GET_ID, 0, buf, VBLK_ID_BYTES);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "GET_ID: status %d", st);
	memcpy(got, buf, VBLK_ID_BYTES);
	got[VBLK_ID_BYTES] = '\0';
	printf("INFO virtio_blk id \"%s\"\n", got);
	if (cmdline_get("blk_serial", want, sizeof(want)) && strcmp(want, got))
		return check_fail(ctx, "GET_ID \"%s\", blk_serial=%s", got, want);
	return CHECK_PASS;
}

static enum check_result check_virtio_blk(struct check_ctx *ctx)
{
	static struct vblk b;
	enum check_result r;
	const char *why;
	uint8_t *buf;

	if (open_first_disk(&b, &why) < 0)
		return check_fail(ctx, "%s", why);
	printf("INFO virtio_blk slot %u capacity %lu sectors features 0x%lx\n", b.dev.slot,
	       b.capacity, b.dev.negotiated);
	if (b.capacity < LAYOUT_END)
		return check_fail(ctx, "disk of %lu sectors is too small (need %u)", b.capacity,
				  LAYOUT_END);
	if (!b.q.event_idx)
		return check_fail(ctx, "EVENT_IDX not negotiated");
	buf = page_alloc(RANGE_SECTORS * SECTOR_SIZE / PAGE_SIZE);
	if (!buf)
		return check_fail(ctx, "out of guest pages");
	r = check_read_pattern(ctx, &b, buf);
	if (r != CHECK_PASS)
		return r;
	r = check_get_id(ctx, &b, buf);
	if (r != CHECK_PASS)
		return r;
	if (vio_has(&b.dev, VBLK_F_RO)) {
		printf("INFO virtio_blk read-only disk: no writes\n");
		return CHECK_PASS;
	}
	r = check_write(ctx, &b, buf);
	if (r != CHECK_PASS)
		return r;
	if (vio_has(&b.dev, VBLK_F_WRITE_ZEROES)) {
		r = check_zero_range(ctx, &b, buf, VBLK_T_WRITE_ZEROES, WZ_SECTOR);
		if (r != CHECK_PASS)
			return r;
	}
	if (vio_has(&b.dev, VBLK_F_DISCARD)) {
		r = check_zero_range(ctx, &b, buf, VBLK_T_DISCARD, DISCARD_SECT);
		if (r != CHECK_PASS)
			return r;
	}
	/* Make the discard and write-zeroes durable too before the host looks. */
	if (vio_has(&b.dev, VBLK_F_FLUSH) && vblk_request(&b, VBLK_T_FLUSH, 0, NULL, 0))
		return check_fail(ctx, "final FLUSH failed");
	printf("INFO virtio_blk kicks %lu suppressed %lu\n", b.q.kicks, b.q.kicks_suppressed);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_blk, check_virtio_blk, false);

static enum check_result check_virtio_blk_ro(struct check_ctx *ctx)
{
	static struct vblk b;
	const char *why;
	uint8_t *buf, *orig;
	int st;

	if (!cmdline_is("blk_ro", "1"))
		return check_skip(ctx, "blk_ro=1 not given");
	if (open_first_disk(&b, &why) < 0)
		return check_fail(ctx, "%s", why);
	if (!(b.dev.offered & VIO_BIT(VBLK_F_RO)))
		return check_fail(ctx, "VIRTIO_BLK_F_RO not offered (features 0x%lx)",
				  b.dev.offered);
	buf = page_alloc(1);
	orig = page_alloc(1);
	if (!buf || !orig)
		return check_fail(ctx, "out of guest pages");
	st = vblk_request(&b, VBLK_T_IN, 0, orig, SECTOR_SIZE);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "read of sector 0: status %d", st);
	memset(buf, 0xa5, SECTOR_SIZE);
	st = vblk_request(&b, VBLK_T_OUT, 0, buf, SECTOR_SIZE);
	if (st != VBLK_S_IOERR)
		return check_fail(ctx, "write to a read-only disk: status %d, want IOERR", st);
	st = vblk_request(&b, VBLK_T_IN, 0, buf, SECTOR_SIZE);
	if (st != VBLK_S_OK || memcmp(buf, orig, SECTOR_SIZE))
		return check_fail(ctx, "sector 0 changed after the refused write (status %d)", st);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_blk_ro, check_virtio_blk_ro, false);

static enum check_result check_virtio_blk_slots(struct check_ctx *ctx)
{
	static struct vblk b;
	uint64_t slots, disks = 1;
	unsigned int n, nth, empty = 0;
	const char *why;
	uint8_t *buf;
	int st;

	if (!cmdline_get_u64("blk_slots", &slots))
		return check_skip(ctx, "blk_slots= not given");
	cmdline_get_u64("blk_disks", &disks);
	n = vio_count(VIO_ID_BLOCK);
	if (n != slots)
		return check_fail(ctx, "%u virtio-blk transports, blk_slots=%lu", n, slots);
	buf = page_alloc(1);
	if (!buf)
		return check_fail(ctx, "out of guest pages");
	for (nth = 0; nth < n; nth++) {
		if (vblk_open(&b, nth, blk_want, &why) < 0)
			return check_fail(ctx, "blk #%u: %s", nth, why);
		printf("INFO virtio_blk_slots #%u slot %u capacity %lu\n", nth, b.dev.slot,
		       b.capacity);
		if (!b.capacity) {
			empty++;
			st = vblk_request(&b, VBLK_T_IN, 0, buf, SECTOR_SIZE);
			if (st != VBLK_S_IOERR)
				return check_fail(ctx,
						  "read from empty slot #%u: status %d, want IOERR",
						  nth, st);
		}
		/* The next transport reuses the ring pages. */
		vio_reset(&b.dev);
	}
	if (empty != slots - disks)
		return check_fail(ctx, "%u empty slots, expected %lu", empty, slots - disks);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_blk_slots, check_virtio_blk_slots, false);
