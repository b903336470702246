// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Checks a QMP test drives from the host while the guest runs:
 *   hold              (hold=N) prints "TICK i" N times, about 5 a second, so
 *                     the host sees the vCPU run, stop and resume
 *   virtio_blk_hotplug (hotplug=N) prints "SVTEST HOTPLUG-READY", then
 *                     watches every blk slot's capacity: a disk appearing is
 *                     read (its first sectors, up to 64) and reported as
 *                     "HOTPLUG add slot=S sectors=C sum=0xH" (FNV-1a over
 *                     the bytes read), a disk leaving as "HOTPLUG del slot=S";
 *                     passes after N adds and N removals.  With
 *                     hotplug_write=1 it also says whether the device offers
 *                     VIRTIO_BLK_F_RO and writes sector 0 back inverted:
 *                     "... sum=0xH ro=R write=ST" (ST: the request's status,
 *                     0 OK, 1 IOERR), so the host sees which images changed
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "virtio/blk.h"

#define HOTPLUG_SECTORS 64
#define MAX_SLOTS	16
/* Polls of all slots before giving up: well over a minute on slow hosts. */
#define HOTPLUG_POLLS 3000000ULL

static enum check_result check_hold(struct check_ctx *ctx)
{
	uint64_t n;

	if (!cmdline_get_u64("hold", &n))
		return check_skip(ctx, "no hold=N");
	for (uint64_t i = 0; i < n; i++) {
		printf("TICK %lu\n", i);
		io_delay(IO_DELAY_PER_SEC / 5);
	}
	return CHECK_PASS;
}
DEFINE_CHECK(hold, check_hold, false);

static uint32_t fnv1a(uint32_t h, const uint8_t *p, uint64_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* Sector 0 inverted, written; the request's status, or -1 when it did not complete. */
static int write_back(struct vblk *b, uint8_t *buf)
{
	if (vblk_request(b, VBLK_T_IN, 0, buf, SECTOR_SIZE) != VBLK_S_OK)
		return -1;
	for (int i = 0; i < SECTOR_SIZE; i++)
		buf[i] = (uint8_t)~buf[i];
	return vblk_request(b, VBLK_T_OUT, 0, buf, SECTOR_SIZE);
}

/*
 * Reads the new disk's first sectors through a fresh driver init; the sum, or
 * -1.  *ro: the device offers VIRTIO_BLK_F_RO; *wst: write_back's status when
 * asked for (wst non-NULL).
 */
static int64_t read_disk(const struct vdev *d, uint64_t capacity, bool *ro, int *wst)
{
	static struct vblk b;
	static uint8_t *buf;
	uint64_t n = capacity < HOTPLUG_SECTORS ? capacity : HOTPLUG_SECTORS;
	uint32_t h = 2166136261u;
	const char *why;

	if (!buf)
		buf = page_alloc(1);
	if (vblk_open_dev(&b, d, 0, &why) < 0) {
		printf("INFO hotplug: open failed: %s\n", why);
		return -1;
	}
	*ro = b.dev.offered & VIO_BIT(VBLK_F_RO);
	for (uint64_t s = 0; s < n; s++) {
		if (vblk_request(&b, VBLK_T_IN, s, buf, SECTOR_SIZE) != VBLK_S_OK) {
			vio_reset(&b.dev);
			return -1;
		}
		h = fnv1a(h, buf, SECTOR_SIZE);
	}
	if (wst)
		*wst = write_back(&b, buf);
	vio_reset(&b.dev);
	return h;
}

static enum check_result check_virtio_blk_hotplug(struct check_ctx *ctx)
{
	static struct vdev devs[MAX_SLOTS];
	uint64_t want, cap[MAX_SLOTS], adds = 0, dels = 0, wr = 0;
	unsigned int nr = vio_count(VIO_ID_BLOCK);
	bool ro;
	int wst;

	if (!cmdline_get_u64("hotplug", &want))
		return check_skip(ctx, "no hotplug=N");
	cmdline_get_u64("hotplug_write", &wr);
	if (nr > MAX_SLOTS)
		nr = MAX_SLOTS;
	for (unsigned int i = 0; i < nr; i++) {
		vio_find(VIO_ID_BLOCK, i, &devs[i]);
		cap[i] = vio_cfg64(&devs[i], VBLK_CFG_CAPACITY);
	}
	printf("SVTEST HOTPLUG-READY slots=%u\n", nr);
	for (uint64_t poll = 0; poll < HOTPLUG_POLLS && (adds < want || dels < want); poll++) {
		for (unsigned int i = 0; i < nr; i++) {
			uint64_t c = vio_cfg64(&devs[i], VBLK_CFG_CAPACITY);
			int64_t sum;

			if (c == cap[i])
				continue;
			if (c && !cap[i]) {
				sum = read_disk(&devs[i], c, &ro, wr ? &wst : NULL);
				if (sum < 0)
					return check_fail(
					    ctx, "slot %u: reading the new disk failed", i);
				if (wr)
					printf("HOTPLUG add slot=%u sectors=%lu sum=0x%08lx ro=%d "
					       "write=%d\n",
					       i, c, (uint64_t)sum, ro, wst);
				else
					printf("HOTPLUG add slot=%u sectors=%lu sum=0x%08lx\n", i,
					       c, (uint64_t)sum);
				adds++;
			} else if (!c) {
				printf("HOTPLUG del slot=%u\n", i);
				dels++;
			}
			cap[i] = c;
		}
		io_delay(20);
	}
	if (adds < want || dels < want)
		return check_fail(ctx, "saw %lu adds and %lu removals of %lu", adds, dels, want);
	return CHECK_PASS;
}
DEFINE_CHECK(virtio_blk_hotplug, check_virtio_blk_hotplug, false);
