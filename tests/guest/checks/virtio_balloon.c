// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-balloon, driven by the host through QMP (tests/integration/test_balloon.py):
 *
 *   virtio_balloon   touches balloon_mib= MiB (region A) and, with
 *                    VIRTIO_BALLOON_F_REPORTING, balloon_report_mib= MiB more
 *                    (region R); prints SVTEST BALLOON-READY; waits for a
 *                    target (num_pages); inflates with frames of A, 256 PFNs a
 *                    buffer, writing `actual` after each; prints
 *                    SVTEST BALLOON-INFLATED; once the host has measured and
 *                    sent 'r' on COM1, reports R as free in 2 MiB ranges
 *                    (SVTEST BALLOON-REPORTED); waits for the target to
 *                    go back down, deflates, counts the frames of A that read
 *                    back as zeros (released by the host), prints
 *                    SVTEST BALLOON-DEFLATED and ends when the host sends 'e'.  balloon_oom=0|1 and
 *                    balloon_reporting=0|1 say which features must be offered.
 *   virtio_balloon_hostile  (balloon_hostile=1) one malformed buffer of each
 *                    kind; each must give DEVICE_NEEDS_RESET without a
 *                    completion, and after a reset a good inflate completes.
 */
#include "boot.h"
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "virtio/virtio.h"

#define VIO_ID_BALLOON_DEV 5
#define BF_DEFLATE_ON_OOM  2
#define BF_REPORTING	   5

#define BQ_INFLATE 0
#define BQ_DEFLATE 1
#define BQ_REPORT  2

#define CFG_NUM_PAGES 0
#define CFG_ACTUAL    4

#define REGION_A    0x6000000UL /* 96 MiB: above the scratch area */
#define PFNS_PER    256
#define REPORT_SIZE (2UL << 20)
#define REPORT_PER  8 /* VQ_MAX_INDIR */
/* Waits for the host: tens of seconds. */
#define TARGET_POLLS (40 * IO_DELAY_PER_SEC)

static struct vdev d;
static struct vq qi, qd, qr;
static uint32_t *pfns;

static int setup(uint64_t want, const char **why)
{
	want |= VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT_DESC);
	if (vio_init(&d, want, why) < 0 || vq_setup(&d, &qi, BQ_INFLATE, VQ_DEFAULT, why) < 0 ||
	    vq_setup(&d, &qd, BQ_DEFLATE, VQ_DEFAULT, why) < 0)
		return -1;
	if (vio_has(&d, BF_REPORTING) && vq_setup(&d, &qr, BQ_REPORT, VQ_DEFAULT, why) < 0)
		return -1;
	vio_driver_ok(&d);
	return 0;
}

static uint32_t num_pages(void)
{
	return vio_cfg32(&d, CFG_NUM_PAGES);
}

/* Waits until num_pages satisfies the wish: above `than` (up) or below it. */
static bool wait_target(uint32_t than, bool up, uint32_t *np)
{
	for (uint64_t i = 0; i < TARGET_POLLS; i++) {
		*np = num_pages();
		if (up ? *np > than : *np < than)
			return true;
	}
	return false;
}

/* Gives (or takes back) frames first..first+n of region A in buffers of PFNS_PER. */
static int move_pages(struct vq *q, uint64_t base, uint32_t first, uint32_t n, uint32_t *actual,
		      bool inflate)
{
	uint32_t len;

	while (n) {
		uint32_t k = n < PFNS_PER ? n : PFNS_PER;
		int ret;

		for (uint32_t i = 0; i < k; i++)
			pfns[i] = (uint32_t)((base >> 12) + first + i);
		ret = vq_transact(q, &(struct vbuf){vaddr(pfns), k * 4, false}, 1, &len);
		if (ret != 1)
			return ret ? -1 : -2;
		*actual = inflate ? *actual + k : *actual - k;
		vio_write(&d, VIO_CONFIG + CFG_ACTUAL, *actual);
		first += k;
		n -= k;
	}
	return 0;
}

/* The host says it has looked (RSS, QMP) by sending a byte on COM1. */
static bool wait_byte(char want)
{
	int c;

	while ((c = serial_getc(TARGET_POLLS)) >= 0)
		if (c == want)
			return true;
	return false;
}

static void touch(uint64_t base, uint64_t bytes, uint64_t tag)
{
	for (uint64_t off = 0; off < bytes; off += PAGE_SIZE)
		*(volatile uint64_t *)(uintptr_t)(base + off) = tag ^ off;
}

static bool expect_feature(struct check_ctx *ctx, const char *key, unsigned int bit,
			   enum check_result *res)
{
	uint64_t want;

	if (!cmdline_get_u64(key, &want))
		return true;
	if (!!(d.offered & VIO_BIT(bit)) == !!want)
		return true;
	*res = check_fail(ctx, "feature bit %u %s, %s=%lu", bit,
			  (d.offered & VIO_BIT(bit)) ? "offered" : "not offered", key, want);
	return false;
}

static enum check_result check_virtio_balloon(struct check_ctx *ctx)
{
	uint64_t mib = 64, rmib = 32, a_bytes, r_base;
	uint32_t np, actual = 0, zero = 0, total;
	enum check_result res;
	const char *why;
	int ret;

	if (!vio_find(VIO_ID_BALLOON_DEV, 0, &d))
		return check_fail(ctx, "no virtio-balloon transport");
	cmdline_get_u64("balloon_mib", &mib);
	cmdline_get_u64("balloon_report_mib", &rmib);
	pfns = page_alloc(1);
	if (!pfns)
		return check_fail(ctx, "out of guest pages");
	if (setup(VIO_BIT(BF_DEFLATE_ON_OOM) | VIO_BIT(BF_REPORTING), &why) < 0)
		return check_fail(ctx, "%s", why);
	if (!expect_feature(ctx, "balloon_oom", BF_DEFLATE_ON_OOM, &res) ||
	    !expect_feature(ctx, "balloon_reporting", BF_REPORTING, &res))
		return res;
	if (!vio_has(&d, BF_REPORTING))
		rmib = 0;
	a_bytes = mib << 20;
	r_base = REGION_A + a_bytes;
	if (!boot_is_ram(REGION_A, a_bytes + (rmib << 20)))
		return check_fail(ctx, "%lu MiB at 0x%lx are not all RAM", mib + rmib, REGION_A);
	touch(REGION_A, a_bytes, 0x5356544553544131ULL);
	touch(r_base, rmib << 20, 0x5356544553545231ULL);
	printf("SVTEST BALLOON-READY touched=%lu report=%lu\n", mib, rmib);

	if (!wait_target(0, true, &np))
		return check_fail(ctx, "no target from the host (num_pages stayed 0)");
	if (np > a_bytes / PAGE_SIZE)
		return check_fail(ctx, "target of %u pages is more than the %lu MiB touched", np,
				  mib);
	ret = move_pages(&qi, REGION_A, 0, np, &actual, true);
	if (ret < 0)
		return check_fail(ctx, "inflate: %s", ret == -1 ? "device error" : "timed out");
	printf("SVTEST BALLOON-INFLATED actual=%u\n", actual);

	if (rmib) {
		struct vbuf b[REPORT_PER];
		uint64_t off = 0;
		uint32_t len;

		if (!wait_byte('r'))
			return check_fail(ctx, "no 'r' from the host on COM1 to start reporting");
		qr.use_indirect = vio_has(&d, VIO_F_INDIRECT_DESC);
		while (off < (rmib << 20)) {
			unsigned int n = 0;

			for (; n < REPORT_PER && off < (rmib << 20); n++, off += REPORT_SIZE)
				b[n] = (struct vbuf){r_base + off, (uint32_t)REPORT_SIZE, true};
			ret = vq_transact(&qr, b, n, &len);
			if (ret != 1)
				return check_fail(ctx, "free page report: %s",
						  ret ? "device error" : "timed out");
		}
		printf("SVTEST BALLOON-REPORTED mib=%lu\n", rmib);
	}

	if (!wait_target(actual, false, &np))
		return check_fail(ctx, "the host did not lower the target below %u pages", actual);
	total = actual;
	ret = move_pages(&qd, REGION_A, np, actual - np, &actual, false);
	if (ret < 0)
		return check_fail(ctx, "deflate: %s", ret == -1 ? "device error" : "timed out");
	for (uint32_t i = 0; i < total; i++)
		zero += *(volatile uint64_t *)(uintptr_t)(REGION_A + (uint64_t)i * PAGE_SIZE) == 0;
	printf("INFO virtio_balloon released pages read back as zero: %u of %u\n", zero, total);
	printf("SVTEST BALLOON-DEFLATED actual=%u\n", actual);
	if (!wait_byte('e'))
		return check_fail(ctx, "no 'e' from the host on COM1 to end");
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_balloon, check_virtio_balloon, false);

/* ---- malformed buffers ---- */

struct bad_kind {
	const char *name;
	unsigned int q;
	struct vbuf buf;
	bool needs_reporting;
};

static enum check_result check_virtio_balloon_hostile(struct check_ctx *ctx)
{
	uint8_t *page;
	const struct bad_kind kinds[] = {
	    /* 0xf0000000 is the virtio-mmio window: not RAM */
	    {"pfn_outside_ram", BQ_INFLATE, {0, 8, false}, false},
	    {"deflate_pfn_outside_ram", BQ_DEFLATE, {0, 4, false}, false},
	    {"huge_descriptor", BQ_INFLATE, {REGION_A, 0xfffffff0u, false}, false},
	    {"odd_length", BQ_INFLATE, {0, 6, false}, false},
	    {"writable_inflate", BQ_INFLATE, {0, 8, true}, false},
	    {"oversized_array", BQ_INFLATE, {REGION_A, 2u << 20, false}, false},
	    {"report_readable", BQ_REPORT, {REGION_A, 0x200000, false}, true},
	    {"report_outside_ram", BQ_REPORT, {0xf0000000UL, 0x200000, true}, true},
	};
	unsigned int failed = 0;
	const char *why;
	uint32_t len;
	int ret;

	if (!cmdline_is("balloon_hostile", "1"))
		return check_skip(ctx, "balloon_hostile=1 not given");
	if (!vio_find(VIO_ID_BALLOON_DEV, 0, &d))
		return check_fail(ctx, "no virtio-balloon transport");
	page = page_alloc(1);
	if (!page || !boot_is_ram(REGION_A, 2u << 20))
		return check_fail(ctx, "out of guest pages");
	for (unsigned int k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct bad_kind *bk = &kinds[k];
		struct vbuf b = bk->buf;
		struct vq *q;
		uint32_t *p = (uint32_t *)page;
		char name[64];
		void *tok;

		snprintf(name, sizeof(name), "virtio_balloon_hostile_%s", bk->name);
		if (setup(VIO_BIT(BF_REPORTING), &why) < 0)
			return check_fail(ctx, "%s: set-up: %s", bk->name, why);
		if (bk->needs_reporting && !vio_has(&d, BF_REPORTING)) {
			report(name, CHECK_SKIP, "free page reporting not offered");
			continue;
		}
		/* a good PFN first, then the bad one: nothing may be released */
		p[0] = (uint32_t)(REGION_A >> 12);
		p[1] = 0xf0000;
		if (!b.addr)
			b.addr = vaddr(page) + (k == 1 ? 4 : 0);
		q = bk->q == BQ_INFLATE ? &qi : bk->q == BQ_DEFLATE ? &qd : &qr;
		if (vq_add(q, &b, 1, (void *)1) < 0)
			return check_fail(ctx, "%s: ring full", bk->name);
		vq_kick(q);
		ret = vq_wait(q, &len, &tok, VIO_WAIT_POLLS);
		if (ret != -1 || !(vio_status(&d) & VIO_S_NEEDS_RESET) ||
		    !(vio_read(&d, VIO_INTERRUPT_STATUS) & 2)) {
			report(name, CHECK_FAIL,
			       ret == 1	  ? "completed"
			       : ret == 0 ? "no NEEDS_RESET"
					  : "no config irq");
			failed++;
			continue;
		}
		/* after a reset the device serves again */
		if (setup(0, &why) < 0)
			return check_fail(ctx, "%s: re-init: %s", bk->name, why);
		p[0] = (uint32_t)(REGION_A >> 12);
		ret = vq_transact(&qi, &(struct vbuf){vaddr(page), 4, false}, 1, &len);
		if (ret != 1) {
			report(name, CHECK_FAIL, "no good inflate after the reset");
			failed++;
			continue;
		}
		report(name, CHECK_PASS, NULL);
	}
	vio_reset(&d);
	if (failed)
		return check_fail(ctx, "%u kinds failed", failed);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_balloon_hostile, check_virtio_balloon_hostile, false);
