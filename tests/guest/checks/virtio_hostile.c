// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Hostile driver (hostile=1): on the first virtio-blk transport with a disk,
 * posts one malformed chain of each kind. After each the device must set
 * DEVICE_NEEDS_RESET (and raise the config-change interrupt) without
 * completing the chain; we then reset it, set it up again and read sector 0,
 * and check that another device (virtio-rng, else a second blk transport)
 * still serves a request. One `PASS virtio_hostile_<kind>` line per kind; the
 * check itself passes when every kind did.
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/blk.h"

/* Far above any RAM a test VM gets, and below the 4-level paging limit. */
#define ADDR_OUTSIDE_RAM 0x4000000000ULL
#define MANY_SEGS	 200

enum kind {
	K_ADDR_OUTSIDE_RAM,
	K_ADDR_WRAP,
	K_HEAD_OUT_OF_RANGE,
	K_NEXT_OUT_OF_RANGE,
	K_LOOP,
	K_AVAIL_IDX_JUMP,
	K_TOO_MANY_SEGS,
	K_INDIRECT_OUT_OF_RANGE,
	K_INDIRECT_BAD_LEN,
	K_INDIRECT_WITH_NEXT,
	K_NESTED_INDIRECT,
	K_INDIRECT_NOT_NEGOTIATED,
	K_WRITABLE_HEADER,
	K_ZERO_LENGTH_HEADER,
	K_READABLE_AFTER_WRITABLE,
	K_MISSING_STATUS,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    [K_ADDR_OUTSIDE_RAM] = "addr_outside_ram",
    [K_ADDR_WRAP] = "addr_wrap",
    [K_HEAD_OUT_OF_RANGE] = "head_out_of_range",
    [K_NEXT_OUT_OF_RANGE] = "next_out_of_range",
    [K_LOOP] = "loop",
    [K_AVAIL_IDX_JUMP] = "avail_idx_jump",
    [K_TOO_MANY_SEGS] = "too_many_segments",
    [K_INDIRECT_OUT_OF_RANGE] = "indirect_out_of_range",
    [K_INDIRECT_BAD_LEN] = "indirect_bad_len",
    [K_INDIRECT_WITH_NEXT] = "indirect_with_next",
    [K_NESTED_INDIRECT] = "nested_indirect",
    [K_INDIRECT_NOT_NEGOTIATED] = "indirect_not_negotiated",
    [K_WRITABLE_HEADER] = "writable_header",
    [K_ZERO_LENGTH_HEADER] = "zero_length_header",
    [K_READABLE_AFTER_WRITABLE] = "readable_after_writable",
    [K_MISSING_STATUS] = "missing_status",
};

static const uint64_t want_all =
    VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT_DESC) | VIO_BIT(VBLK_F_FLUSH);

struct hostile {
	struct vblk blk;
	uint8_t *data;		 /* one page of data */
	struct vring_desc *tbl;	 /* a page for indirect tables */
	struct vring_desc *tbl2; /* a second one (nested) */
	/* the bystander */
	struct vdev other;
	struct vq other_q;
	struct vblk other_blk;
	bool other_is_rng;
};

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Writes the malformed chain of `k` into the ring and notifies the device. */
static void post_malformed(struct hostile *h, enum kind k)
{
	struct vq *q = &h->blk.q;
	struct vring_desc *d = q->desc;
	uint64_t hdr = vaddr(h->blk.hdr), st = vaddr(h->blk.status), data = vaddr(h->data);
	uint16_t head = 0;
	unsigned int i;

	h->blk.hdr->type = VBLK_T_IN;
	h->blk.hdr->reserved = 0;
	h->blk.hdr->sector = 0;
	/* The usual shape: header, one data buffer, status; each kind breaks it. */
	set_desc(&d[0], hdr, sizeof(struct vblk_hdr), VRING_DESC_F_NEXT, 1);
	set_desc(&d[1], data, SECTOR_SIZE, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&d[2], st, 1, VRING_DESC_F_WRITE, 0);

	switch (k) {
	case K_ADDR_OUTSIDE_RAM:
		d[1].addr = ADDR_OUTSIDE_RAM;
		break;
	case K_ADDR_WRAP:
		d[1].addr = 0xfffffffffffff000ULL;
		d[1].len = 0x2000;
		break;
	case K_HEAD_OUT_OF_RANGE:
		head = (uint16_t)(q->num + 3);
		break;
	case K_NEXT_OUT_OF_RANGE:
		d[1].next = (uint16_t)(q->num + 1);
		break;
	case K_LOOP:
		/* 1 -> 2 -> 1, all writable, so only the length bound stops the walk. */
		d[2].flags |= VRING_DESC_F_NEXT;
		d[2].next = 1;
		break;
	case K_AVAIL_IDX_JUMP:
		q->avail_idx = (uint16_t)(q->avail_idx + q->num + 1);
		q->avail->idx = q->avail_idx;
		vio_write(&h->blk.dev, VIO_QUEUE_NOTIFY, 0);
		return;
	case K_TOO_MANY_SEGS:
		set_desc(&h->tbl[0], hdr, sizeof(struct vblk_hdr), VRING_DESC_F_NEXT, 1);
		for (i = 1; i < MANY_SEGS - 1; i++)
			set_desc(&h->tbl[i], data, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
				 (uint16_t)(i + 1));
		set_desc(&h->tbl[MANY_SEGS - 1], st, 1, VRING_DESC_F_WRITE, 0);
		set_desc(&d[0], vaddr(h->tbl), MANY_SEGS * sizeof(struct vring_desc),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case K_INDIRECT_OUT_OF_RANGE:
		set_desc(&d[0], ADDR_OUTSIDE_RAM, 3 * sizeof(struct vring_desc),
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case K_INDIRECT_BAD_LEN:
	case K_INDIRECT_WITH_NEXT:
	case K_INDIRECT_NOT_NEGOTIATED:
		memcpy(h->tbl, d, 3 * sizeof(*d));
		set_desc(&d[0], vaddr(h->tbl), 3 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT,
			 1);
		if (k == K_INDIRECT_BAD_LEN)
			d[0].len = 40;
		if (k == K_INDIRECT_WITH_NEXT)
			d[0].flags |= VRING_DESC_F_NEXT;
		break;
	case K_NESTED_INDIRECT:
		memcpy(h->tbl2, d, 3 * sizeof(*d));
		set_desc(&h->tbl[0], vaddr(h->tbl2), 3 * sizeof(struct vring_desc),
			 VRING_DESC_F_INDIRECT, 0);
		set_desc(&d[0], vaddr(h->tbl), sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
		break;
	case K_WRITABLE_HEADER:
		d[0].flags |= VRING_DESC_F_WRITE;
		break;
	case K_ZERO_LENGTH_HEADER:
		d[0].len = 0;
		d[1].flags &= (uint16_t)~VRING_DESC_F_WRITE; /* no other readable bytes */
		d[1].len = 8;
		break;
	case K_READABLE_AFTER_WRITABLE:
		set_desc(&d[0], st, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
		set_desc(&d[1], hdr, sizeof(struct vblk_hdr), 0, 0);
		break;
	case K_MISSING_STATUS:
		d[0].flags = 0;
		break;
	case K_COUNT:
		break;
	}
	vq_post_raw(q, head);
}

/* The bystander serves one request: 1 yes, 0 no. */
static int other_serves(struct hostile *h)
{
	uint32_t len;
	int st;

	if (h->other_is_rng)
		return vq_transact(&h->other_q, &(struct vbuf){vaddr(h->data) + 2048, 64, true}, 1,
				   &len) == 1;
	st = vblk_request(&h->other_blk, VBLK_T_IN, 0, h->data + 2048, SECTOR_SIZE);
	return st == VBLK_S_OK || st == VBLK_S_IOERR;
}

static int open_other(struct hostile *h, const char **why)
{
	if (vio_find(VIO_ID_RNG, 0, &h->other)) {
		h->other_is_rng = true;
		if (vio_init(&h->other, 0, why) < 0 ||
		    vq_setup(&h->other, &h->other_q, 0, VQ_DEFAULT, why) < 0)
			return -1;
		vio_driver_ok(&h->other);
		return 0;
	}
	if (vio_find(VIO_ID_BLOCK, 0, &h->other) && h->other.base != h->blk.dev.base)
		return vblk_open_dev(&h->other_blk, &h->other, 0, why);
	if (vio_find(VIO_ID_BLOCK, 1, &h->other))
		return vblk_open_dev(&h->other_blk, &h->other, 0, why);
	*why = "no second device (virtio-rng or another virtio-blk)";
	return -1;
}

static enum check_result run_kind(struct check_ctx *ctx, struct hostile *h, enum kind k)
{
	uint64_t want =
	    k == K_INDIRECT_NOT_NEGOTIATED ? want_all & ~VIO_BIT(VIO_F_INDIRECT_DESC) : want_all;
	struct vdev *d = &h->blk.dev;
	uint32_t status = 0, isr;
	const char *why;
	uint64_t i;
	int st;

	if (vblk_open_dev(&h->blk, d, want, &why) < 0)
		return check_fail(ctx, "set-up before the malformed chain: %s", why);
	isr = vio_read(d, VIO_INTERRUPT_STATUS);
	vio_write(d, VIO_INTERRUPT_ACK, isr);
	post_malformed(h, k);
	for (i = 0; i < VIO_WAIT_POLLS; i++) {
		status = vio_status(d);
		if (status & VIO_S_NEEDS_RESET)
			break;
	}
	if (!(status & VIO_S_NEEDS_RESET))
		return check_fail(ctx, "no DEVICE_NEEDS_RESET (status 0x%x)", status);
	if (*(volatile uint16_t *)&h->blk.q.used->idx != h->blk.q.last_used)
		return check_fail(ctx, "the malformed chain was completed");
	isr = vio_read(d, VIO_INTERRUPT_STATUS);
	if (!(isr & 2))
		return check_fail(ctx, "no config-change interrupt (InterruptStatus 0x%x)", isr);
	vio_write(d, VIO_INTERRUPT_ACK, isr);

	if (!other_serves(h))
		return check_fail(ctx, "the other device stopped serving while blk needed reset");

	/* Recovery: reset, set up again, a good read must work. */
	if (vblk_open_dev(&h->blk, d, want_all, &why) < 0)
		return check_fail(ctx, "set-up after reset: %s", why);
	st = vblk_request(&h->blk, VBLK_T_IN, 0, h->data, SECTOR_SIZE);
	if (st != VBLK_S_OK)
		return check_fail(ctx, "read after reset: status %d", st);
	if (!other_serves(h))
		return check_fail(ctx, "the other device stopped serving after the blk reset");
	return CHECK_PASS;
}

static enum check_result check_virtio_hostile(struct check_ctx *ctx)
{
	static struct hostile h;
	struct check_ctx sub;
	unsigned int nth, failed = 0;
	char name[64];
	const char *why;
	int k;

	if (!cmdline_is("hostile", "1"))
		return check_skip(ctx, "hostile=1 not given");
	for (nth = 0;; nth++) {
		if (vblk_open(&h.blk, nth, want_all, &why) < 0)
			return check_fail(ctx, "no virtio-blk disk: %s", why);
		if (h.blk.capacity)
			break;
	}
	h.data = page_alloc(1);
	h.tbl = page_alloc(1);
	h.tbl2 = page_alloc(1);
	if (!h.data || !h.tbl || !h.tbl2)
		return check_fail(ctx, "out of guest pages");
	if (open_other(&h, &why) < 0)
		return check_fail(ctx, "%s", why);
	printf("INFO virtio_hostile blk slot %u, bystander %s slot %u\n", h.blk.dev.slot,
	       h.other_is_rng ? "virtio-rng" : "virtio-blk", h.other.slot);
	for (k = 0; k < K_COUNT; k++) {
		enum check_result r;

		sub.reason[0] = '\0';
		r = run_kind(&sub, &h, (enum kind)k);
		snprintf(name, sizeof(name), "virtio_hostile_%s", kind_names[k]);
		report(name, r, sub.reason);
		if (r == CHECK_FAIL)
			failed++;
	}
	vio_reset(&h.blk.dev);
	vio_reset(&h.other);
	if (failed)
		return check_fail(ctx, "%u of %u malformed kinds failed", failed, K_COUNT);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_hostile, check_virtio_hostile, false);
