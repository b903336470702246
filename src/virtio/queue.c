// SPDX-License-Identifier: MulanPSL-2.0
/* Split virtqueue: chain walking with every guest value checked. */
#include <errno.h>
#include <string.h>

#include "virtio/queue.h"

/* Keeps the compiler from re-reading guest memory behind a local copy. */
#define compiler_barrier() __asm__ __volatile__("" ::: "memory")

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint16_t *used_event_ptr(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event_ptr(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	       uint64_t avail_gpa, uint64_t used_gpa, bool indirect, bool event_idx,
	       const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	virtq_reset(vq);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		*why = "queue size is not a power of two in 1..32768";
		return -EINVAL;
	}
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3)) {
		*why = "misaligned descriptor table, available or used ring";
		return -EINVAL;
	}
	vq->desc = gmem_ptr(mem, desc_gpa, 16ULL * size);
	vq->avail = gmem_ptr(mem, avail_gpa, 6ULL + 2ULL * size);
	vq->used = gmem_ptr(mem, used_gpa, 6ULL + 8ULL * size);
	if (!vq->desc || !vq->avail || !vq->used) {
		*why = "descriptor table, available or used ring outside guest RAM";
		virtq_reset(vq);
		return -EINVAL;
	}
	vq->mem = mem;
	vq->size = size;
	vq->indirect = indirect;
	vq->event_idx = event_idx;
	vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
	vq->last_avail = vq->used_idx;
	vq->signalled_used = vq->used_idx;
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static int chain_fail(struct virtq_chain *c, int err, const char *why)
{
	c->err = why;
	return err;
}

static int chain_add(struct virtq_chain *c, const struct virtq *vq, const struct virtq_desc *d)
{
	bool is_write = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (d->len == 0)
		return 0;
	p = gmem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return chain_fail(c, -EFAULT, "buffer address/length outside guest RAM");
	if (c->nr_segs >= c->max_segs)
		return chain_fail(c, -E2BIG, "chain has more segments than the device accepts");
	if (is_write) {
		if ((uint64_t)c->writable_len + d->len > UINT32_MAX)
			return chain_fail(c, -E2BIG, "writable length of chain over 4 GiB");
		c->writable_len += d->len;
	} else {
		if (c->nr_segs > c->nr_readable)
			return chain_fail(c, -EINVAL,
					  "device-readable descriptor after a writable one");
		if ((uint64_t)c->readable_len + d->len > UINT32_MAX)
			return chain_fail(c, -E2BIG, "readable length of chain over 4 GiB");
		c->readable_len += d->len;
		c->nr_readable++;
	}
	c->iov[c->nr_segs].iov_base = p;
	c->iov[c->nr_segs].iov_len = d->len;
	c->nr_segs++;
	return 0;
}

static int walk_chain(struct virtq *vq, struct virtq_chain *c, uint16_t head)
{
	const struct virtq_desc *table = vq->desc;
	uint32_t table_size = vq->size;
	uint32_t idx = head, count = 0;
	bool in_indirect = false;
	struct virtq_desc d;
	int ret;

	for (;;) {
		if (idx >= table_size)
			return chain_fail(c, -EINVAL, "descriptor index out of range");
		if (++count > table_size)
			return chain_fail(c, -EINVAL,
					  "descriptor chain longer than its table (loop?)");
		memcpy(&d, &table[idx], sizeof(d));
		compiler_barrier();

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_indirect)
				return chain_fail(c, -EINVAL, "nested indirect descriptor");
			if (!vq->indirect)
				return chain_fail(
				    c, -EINVAL,
				    "indirect descriptor but INDIRECT_DESC not negotiated");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return chain_fail(c, -EINVAL, "indirect descriptor with NEXT set");
			if (d.len == 0 || d.len % sizeof(struct virtq_desc))
				return chain_fail(c, -EINVAL,
						  "indirect table length not a multiple of 16");
			if (d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
				return chain_fail(c, -E2BIG, "indirect table over 32768 entries");
			table = gmem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return chain_fail(c, -EFAULT, "indirect table outside guest RAM");
			table_size = d.len / sizeof(struct virtq_desc);
			in_indirect = true;
			idx = 0;
			count = 0;
			continue;
		}
		ret = chain_add(c, vq, &d);
		if (ret < 0)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtq_pop_chain(struct virtq *vq, struct virtq_chain *c)
{
	uint16_t avail_idx, pending, head;
	int ret;

	c->nr_segs = 0;
	c->nr_readable = 0;
	c->readable_len = 0;
	c->writable_len = 0;
	c->err = NULL;
	if (!vq->ready)
		return 0;
	/* Acquire: ring entries and descriptors are read after the index. */
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	pending = avail_idx - vq->last_avail;
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return chain_fail(c, -EINVAL, "available index moved by more than the queue size");
	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return chain_fail(c, -EINVAL, "available ring head index out of range");
	ret = walk_chain(vq, c, head);
	if (ret < 0)
		return ret;
	c->head = head;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

bool virtq_empty(struct virtq *vq)
{
	if (!vq->ready)
		return true;
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) == vq->last_avail;
}

void virtq_push_used(struct virtq *vq, uint16_t head, uint32_t written)
{
	struct virtq_used_elem *e;

	/* The driver may disable a queue while the host still owns its chains. */
	if (!vq->ready)
		return;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, new, event;
	bool valid;

	if (!vq->ready)
		return false;
	/* Our used->idx store must be visible before we read the guest's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	new = vq->used_idx;
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (old == new)
		return false; /* nothing used since the last check */
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = load16(used_event_ptr(vq));
	/* Interrupt when used_event lies in (old, new]. */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->ready || vq->event_idx)
		return;
	__atomic_store_n(&vq->used->flags, VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->ready)
		return false;
	if (vq->event_idx)
		__atomic_store_n(avail_event_ptr(vq), vq->last_avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	/* The guest may have added buffers before it could see our store. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !virtq_empty(vq);
}

size_t iov_length(const struct iovec *iov, unsigned cnt)
{
	size_t len = 0;

	for (unsigned i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

static size_t iov_copy(const struct iovec *iov, unsigned cnt, size_t skip, void *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip;
		if (n > len - done)
			n = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, cnt, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t skip, const void *buf, size_t len)
{
	return iov_copy(iov, cnt, skip, (void *)buf, len, true);
}
