/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_QUEUE_H
#define SV_VIRTIO_QUEUE_H

/*
 * Split virtqueue, device side (virtio 1.2, 2.7).
 *
 * Everything in the rings is written by a guest that runs concurrently and is
 * not trusted: every index, address and length is checked, every descriptor is
 * read once into a local copy, and a malformed chain is reported with a reason
 * string so the transport can put the device into NEEDS_RESET.
 *
 * Threading: a virtq is used by one thread at a time (the thread that runs
 * the device's queue handler, with the device lock held).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "machine/memory.h"

#define VIRTQ_MAX_SIZE 32768

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* size entries, then avail_event */
};

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool ready;

	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail; /* next avail ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
};

/*
 * A popped chain.  The caller provides iov[] and max_segs.  Device-readable
 * segments come first (iov[0 .. nr_readable)), device-writable ones follow
 * (iov[nr_readable .. nr_segs)); the walker enforces that order, so the split
 * index says which segment is writable.  Zero-length descriptors are skipped.
 */
struct virtq_chain {
	uint16_t head; /* the id to hand back with virtq_push_used() */
	uint16_t nr_segs;
	uint16_t nr_readable;
	uint32_t readable_len;
	uint32_t writable_len;
	struct iovec *iov;
	uint16_t max_segs;
	const char *err; /* why the chain was refused */
};

static inline bool virtq_seg_is_write(const struct virtq_chain *c, unsigned i)
{
	return i >= c->nr_readable;
}

/*
 * Validates size (power of two, 1..VIRTQ_MAX_SIZE), alignment and that the
 * three areas lie in guest RAM; on success the queue is ready.  Returns 0 or
 * -EINVAL with *why set.
 */
int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	       uint64_t avail_gpa, uint64_t used_gpa, bool indirect, bool event_idx,
	       const char **why);
void virtq_reset(struct virtq *vq);

/*
 * Takes the next available chain.  Returns 1 with *chain filled, 0 when the
 * ring is empty, or a negative errno with chain->err set when the guest broke
 * the rules (-EINVAL malformed, -EFAULT address outside RAM, -E2BIG more than
 * max_segs segments or total length over 4 GiB).  After an error the queue
 * must not be used until reset.
 */
int virtq_pop_chain(struct virtq *vq, struct virtq_chain *chain);
/* Gives back the last popped chain (the device cannot serve it yet). */
void virtq_unpop(struct virtq *vq);
/* True when no chain is waiting (a -EINVAL avail index counts as waiting). */
bool virtq_empty(struct virtq *vq);

/* Returns a chain to the guest with the number of bytes the device wrote
 * (dropped when the queue was disabled meanwhile). */
void virtq_push_used(struct virtq *vq, uint16_t head, uint32_t written);

/*
 * After one or more virtq_push_used(): whether the guest asked to be
 * interrupted (used_event with EVENT_IDX, else the NO_INTERRUPT flag).
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Notification suppression for the device's processing loop:
 *     do { virtq_disable_notify(vq); while (pop) ...; } while (virtq_enable_notify(vq));
 * enable returns true when chains arrived meanwhile (process again).
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);

/* iovec helpers */
size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t skip, const void *buf,
		    size_t len);
size_t iov_length(const struct iovec *iov, unsigned cnt);

#endif
