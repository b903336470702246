// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-rng: two 64-byte reads (the second through an indirect descriptor)
 * are filled, not all zero and not equal; with EVENT_IDX and used_event at
 * our last seen index the device must raise InterruptStatus bit 0.
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/virtio.h"

#define RNG_BYTES 64

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--) {
		if (*p++)
			return false;
	}
	return true;
}

static enum check_result check_virtio_rng(struct check_ctx *ctx)
{
	static struct vdev d;
	static struct vq q;
	uint8_t *a, *b;
	const char *why;
	uint32_t len, isr;
	int ret;

	if (!vio_find(VIO_ID_RNG, 0, &d))
		return check_fail(ctx, "no virtio-rng transport");
	if (vio_init(&d, VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT_DESC), &why) < 0 ||
	    vq_setup(&d, &q, 0, VQ_DEFAULT, &why) < 0)
		return check_fail(ctx, "%s", why);
	vio_driver_ok(&d);
	a = page_alloc(1);
	b = page_alloc(1);
	if (!a || !b)
		return check_fail(ctx, "out of guest pages");

	ret = vq_transact(&q, &(struct vbuf){vaddr(a), RNG_BYTES, true}, 1, &len);
	if (ret != 1)
		return check_fail(ctx, "first read: %s", ret ? "device error" : "timed out");
	if (len != RNG_BYTES)
		return check_fail(ctx, "first read: used length %u, want %u", len, RNG_BYTES);
	isr = vio_read(&d, VIO_INTERRUPT_STATUS);
	if (q.event_idx && !(isr & 1))
		return check_fail(ctx, "InterruptStatus 0x%x after a completion with EVENT_IDX",
				  isr);
	vio_write(&d, VIO_INTERRUPT_ACK, isr);

	q.use_indirect = vio_has(&d, VIO_F_INDIRECT_DESC);
	ret = vq_transact(&q, &(struct vbuf){vaddr(b), RNG_BYTES, true}, 1, &len);
	if (ret != 1)
		return check_fail(ctx, "second read: %s", ret ? "device error" : "timed out");
	if (len != RNG_BYTES)
		return check_fail(ctx, "second read: used length %u, want %u", len, RNG_BYTES);
	if (all_zero(a, RNG_BYTES) || all_zero(b, RNG_BYTES))
		return check_fail(ctx, "a read returned only zero bytes");
	if (!memcmp(a, b, RNG_BYTES))
		return check_fail(ctx, "two reads returned the same bytes");
	printf("INFO virtio_rng slot %u features 0x%lx isr 0x%x first bytes %02x%02x%02x%02x\n",
	       d.slot, d.negotiated, isr, a[0], a[1], a[2], a[3]);
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_rng, check_virtio_rng, false);
