/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * A small virtio-mmio (version 2) driver for the test guest: transports
 * from the command line, the DSDT and by probing our VMM's windows, reset and feature negotiation,
 * and split virtqueues that the caller polls (no interrupts are taken; the guest runs with them
 * disabled). See docs/test-guest.md.
 */
#ifndef SVGUEST_VIRTIO_H
#define SVGUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define VIO_MAX_TRANSPORTS 16
#define VIO_MAGIC	   0x74726976

/* Register offsets (virtio 1.2, 4.2.2) */
#define VIO_MAGIC_VALUE	      0x000
#define VIO_VERSION	      0x004
#define VIO_DEVICE_ID	      0x008
#define VIO_VENDOR_ID	      0x00c
#define VIO_DEVICE_FEATURES   0x010
#define VIO_DEVICE_FEAT_SEL   0x014
#define VIO_DRIVER_FEATURES   0x020
#define VIO_DRIVER_FEAT_SEL   0x024
#define VIO_QUEUE_SEL	      0x030
#define VIO_QUEUE_NUM_MAX     0x034
#define VIO_QUEUE_NUM	      0x038
#define VIO_QUEUE_READY	      0x044
#define VIO_QUEUE_NOTIFY      0x050
#define VIO_INTERRUPT_STATUS  0x060
#define VIO_INTERRUPT_ACK     0x064
#define VIO_STATUS	      0x070
#define VIO_QUEUE_DESC_LOW    0x080
#define VIO_QUEUE_DESC_HIGH   0x084
#define VIO_QUEUE_DRIVER_LOW  0x090
#define VIO_QUEUE_DRIVER_HIGH 0x094
#define VIO_QUEUE_DEVICE_LOW  0x0a0
#define VIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIO_CONFIG_GEN	      0x0fc
#define VIO_CONFIG	      0x100

#define VIO_S_ACKNOWLEDGE 0x01
#define VIO_S_DRIVER	  0x02
#define VIO_S_DRIVER_OK	  0x04
#define VIO_S_FEATURES_OK 0x08
#define VIO_S_NEEDS_RESET 0x40
#define VIO_S_FAILED	  0x80

#define VIO_ID_NET     1
#define VIO_ID_BLOCK   2
#define VIO_ID_CONSOLE 3
#define VIO_ID_RNG     4

#define VIO_F_INDIRECT_DESC 28
#define VIO_F_EVENT_IDX	    29
#define VIO_F_VERSION_1	    32

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

#define VIO_BIT(n) (1ULL << (n))

/* Largest queue this driver sets up (QueueNumMax is capped to it). */
#define VQ_MAX	     256
#define VQ_DEFAULT   64
#define VQ_MAX_INDIR 8 /* entries of one indirect table */

/* Waits count polls; each empty poll costs one VM exit (a Status read). */
#define VIO_WAIT_POLLS 400000ULL

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[]; /* then avail_event */
};

struct vdev {
	uint64_t base;
	unsigned int slot; /* window index */
	uint32_t device_id;
	uint64_t offered;    /* device features */
	uint64_t negotiated; /* accepted by both */
};

/* One buffer of a chain. */
struct vbuf {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

struct vq {
	struct vdev *dev;
	unsigned int index;
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_desc *indirect; /* VQ_MAX_INDIR entries per head */
	uint16_t free_head, num_free;
	uint16_t avail_idx;  /* next avail index we publish */
	uint16_t kicked_idx; /* avail index at the last kick decision */
	uint16_t last_used;
	bool event_idx, use_indirect;
	uint16_t chain_len[VQ_MAX];
	void *token[VQ_MAX];
	uint64_t kicks, kicks_suppressed;
};

/* Our VMM's fixed windows at VIRTIO_MMIO_BASE, probed (device id != 0). */
uint64_t vio_window(unsigned int slot);
bool vio_present(unsigned int slot, uint32_t *device_id);
/*
 * The nth (0-based) transport with this device id among all found (command
 * line, DSDT, our fixed windows; sorted by base, d->slot is the index in
 * that list); false if none.
 */
bool vio_find(uint32_t device_id, unsigned int nth, struct vdev *d);
unsigned int vio_count(uint32_t device_id);

static inline uint32_t vio_read(const struct vdev *d, uint32_t off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static inline void vio_write(const struct vdev *d, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

uint8_t vio_cfg8(const struct vdev *d, uint32_t off);
uint32_t vio_cfg32(const struct vdev *d, uint32_t off);
uint64_t vio_cfg64(const struct vdev *d, uint32_t off);

/*
 * Resets the device and negotiates VERSION_1 plus whatever of `want` the
 * device offers. 0, or a negative code with *why set.
 */
int vio_init(struct vdev *d, uint64_t want, const char **why);
bool vio_has(const struct vdev *d, unsigned int bit);
void vio_reset(struct vdev *d);
void vio_driver_ok(struct vdev *d);
uint32_t vio_status(const struct vdev *d);

/*
 * Sets queue `index` up with min(QueueNumMax, max) entries. The ring pages
 * are allocated on the first call and reused when the same struct vq is set
 * up again after a reset.
 */
int vq_setup(struct vdev *d, struct vq *q, unsigned int index, unsigned int max, const char **why);

/*
 * Posts a chain of n buffers (readable ones first), through one indirect
 * descriptor when q->use_indirect is set. Returns the head, or -1 when the
 * ring has no room. Does not notify: call vq_kick().
 */
int vq_add(struct vq *q, const struct vbuf *bufs, unsigned int n, void *token);
/* Notifies the device unless it asked not to be (EVENT_IDX or NO_NOTIFY). */
void vq_kick(struct vq *q);
/* Takes one used element: 1 (len and token filled), or 0 if none. */
int vq_get_used(struct vq *q, uint32_t *len, void **token);
/*
 * Polls for one used element, at most `polls` times. 1 when one arrived, 0 on
 * timeout, -1 when the device set NEEDS_RESET.
 */
int vq_wait(struct vq *q, uint32_t *len, void **token, uint64_t polls);
/* vq_add + vq_kick + vq_wait for exactly that chain. 1, 0 or -1 as above. */
int vq_transact(struct vq *q, const struct vbuf *bufs, unsigned int n, uint32_t *len);
/* Publishes a raw head index in the avail ring (for malformed chains). */
void vq_post_raw(struct vq *q, uint16_t head);

/*
 * Buffers that need no zeroing (page_alloc's memset costs seconds per MiB on
 * a software hypervisor): a bump allocator over VIO_SCRATCH_START..END, just
 * above the page allocator's region; needs at least 80 MiB of guest RAM.
 * Page-aligned, never freed, NULL when exhausted or not RAM.
 */
#define VIO_SCRATCH_START 0x3000000
#define VIO_SCRATCH_END	  0x5000000
void *vio_scratch(uint64_t bytes);

static inline uint64_t vaddr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
