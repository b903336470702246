// SPDX-License-Identifier: MulanPSL-2.0
/* virtio-mmio transport and split virtqueues for the test guest. */
#include "boot.h"
#include "defs.h"
#include "lib/alloc.h"
#include "lib/io.h"
#include "lib/string.h"
#include "virtio/discover.h"
#include "virtio/virtio.h"

uint64_t vio_window(unsigned int slot)
{
	return VIRTIO_MMIO_BASE + (uint64_t)slot * VIRTIO_MMIO_STRIDE;
}

bool vio_present(unsigned int slot, uint32_t *device_id)
{
	uint64_t base = vio_window(slot);
	uint32_t id;

	if (slot >= VIO_MAX_TRANSPORTS || mmio_read32(base + VIO_MAGIC_VALUE) != VIO_MAGIC)
		return false;
	if (mmio_read32(base + VIO_VERSION) != 2)
		return false;
	id = mmio_read32(base + VIO_DEVICE_ID);
	if (!id)
		return false;
	if (device_id)
		*device_id = id;
	return true;
}

static bool vio_probe(uint64_t base, uint32_t *device_id)
{
	if (mmio_read32(base + VIO_MAGIC_VALUE) != VIO_MAGIC ||
	    mmio_read32(base + VIO_VERSION) != 2)
		return false;
	*device_id = mmio_read32(base + VIO_DEVICE_ID);
	return *device_id != 0;
}

static struct {
	bool done;
	unsigned int n;
	uint64_t base[VIO_MAX_DESC];
	uint32_t id[VIO_MAX_DESC];
} transports;

static void add_candidate(uint64_t *cand, unsigned int *n, uint64_t base)
{
	unsigned int i;

	for (i = 0; i < *n; i++) {
		if (cand[i] == base)
			return;
	}
	if (*n < VIO_MAX_DESC && base >= 0x100000 && base < 0x100000000ULL)
		cand[(*n)++] = base;
}

/* Every source once, sorted by base: the nth device of a type is stable. */
static void vio_scan(void)
{
	struct vio_res res[VIO_MAX_DESC];
	uint64_t cand[VIO_MAX_DESC];
	unsigned int nc = 0, i, j, hids;
	int nr;

	nr = (int)vio_cmdline_resources(res, VIO_MAX_DESC);
	for (i = 0; i < (unsigned int)nr; i++)
		add_candidate(cand, &nc, res[i].base);
	nr = vio_dsdt_resources(res, VIO_MAX_DESC, &hids);
	for (i = 0; nr > 0 && i < (unsigned int)nr; i++)
		add_candidate(cand, &nc, res[i].base);
	for (i = 0; i < VIO_MAX_TRANSPORTS; i++)
		add_candidate(cand, &nc, vio_window(i));
	for (i = 1; i < nc; i++) {
		for (j = i; j && cand[j - 1] > cand[j]; j--) {
			uint64_t t = cand[j];

			cand[j] = cand[j - 1];
			cand[j - 1] = t;
		}
	}
	for (i = 0; i < nc; i++) {
		uint32_t id;

		if (vio_probe(cand[i], &id)) {
			transports.base[transports.n] = cand[i];
			transports.id[transports.n++] = id;
		}
	}
	transports.done = true;
}

bool vio_find(uint32_t device_id, unsigned int nth, struct vdev *d)
{
	unsigned int i;

	if (!transports.done)
		vio_scan();
	for (i = 0; i < transports.n; i++) {
		if (transports.id[i] != device_id || nth--)
			continue;
		memset(d, 0, sizeof(*d));
		d->base = transports.base[i];
		d->slot = i;
		d->device_id = device_id;
		return true;
	}
	return false;
}

unsigned int vio_count(uint32_t device_id)
{
	unsigned int i, n = 0;

	if (!transports.done)
		vio_scan();
	for (i = 0; i < transports.n; i++)
		n += transports.id[i] == device_id;
	return n;
}

uint8_t vio_cfg8(const struct vdev *d, uint32_t off)
{
	return mmio_read8(d->base + VIO_CONFIG + off);
}

uint32_t vio_cfg32(const struct vdev *d, uint32_t off)
{
	return vio_read(d, VIO_CONFIG + off);
}

/* Two 32-bit reads, retried until the config generation is stable. */
uint64_t vio_cfg64(const struct vdev *d, uint32_t off)
{
	uint32_t gen, lo, hi;
	int tries = 100;

	do {
		gen = vio_read(d, VIO_CONFIG_GEN);
		lo = vio_cfg32(d, off);
		hi = vio_cfg32(d, off + 4);
	} while (gen != vio_read(d, VIO_CONFIG_GEN) && --tries);
	return ((uint64_t)hi << 32) | lo;
}

uint32_t vio_status(const struct vdev *d)
{
	return vio_read(d, VIO_STATUS);
}

void vio_reset(struct vdev *d)
{
	int tries = 100000;

	vio_write(d, VIO_STATUS, 0);
	/* A device may take a while to finish the reset (4.2.2.1). */
	while (vio_read(d, VIO_STATUS) && --tries)
		cpu_relax();
	d->negotiated = 0;
}

bool vio_has(const struct vdev *d, unsigned int bit)
{
	return d->negotiated & VIO_BIT(bit);
}

int vio_init(struct vdev *d, uint64_t want, const char **why)
{
	uint64_t accept;

	vio_reset(d);
	if (vio_status(d)) {
		*why = "status does not read 0 after reset";
		return -1;
	}
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	vio_write(d, VIO_DEVICE_FEAT_SEL, 0);
	d->offered = vio_read(d, VIO_DEVICE_FEATURES);
	vio_write(d, VIO_DEVICE_FEAT_SEL, 1);
	d->offered |= (uint64_t)vio_read(d, VIO_DEVICE_FEATURES) << 32;
	if (!(d->offered & VIO_BIT(VIO_F_VERSION_1))) {
		vio_write(d, VIO_STATUS, VIO_S_FAILED);
		*why = "device does not offer VERSION_1";
		return -1;
	}
	accept = (want | VIO_BIT(VIO_F_VERSION_1)) & d->offered;
	vio_write(d, VIO_DRIVER_FEAT_SEL, 0);
	vio_write(d, VIO_DRIVER_FEATURES, (uint32_t)accept);
	vio_write(d, VIO_DRIVER_FEAT_SEL, 1);
	vio_write(d, VIO_DRIVER_FEATURES, (uint32_t)(accept >> 32));
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
	if (!(vio_status(d) & VIO_S_FEATURES_OK)) {
		vio_write(d, VIO_STATUS, VIO_S_FAILED);
		*why = "device refused FEATURES_OK";
		return -1;
	}
	d->negotiated = accept;
	return 0;
}

void vio_driver_ok(struct vdev *d)
{
	vio_write(d, VIO_STATUS, vio_status(d) | VIO_S_DRIVER_OK);
}

static void vq_init_free_list(struct vq *q)
{
	unsigned int i;

	for (i = 0; i < q->num; i++) {
		q->desc[i].flags = 0;
		q->desc[i].next = (uint16_t)(i + 1);
	}
	q->free_head = 0;
	q->num_free = q->num;
}

int vq_setup(struct vdev *d, struct vq *q, unsigned int index, unsigned int max, const char **why)
{
	uint32_t num_max;
	unsigned int num = 1;

	vio_write(d, VIO_QUEUE_SEL, index);
	if (vio_read(d, VIO_QUEUE_READY)) {
		*why = "queue already ready after reset";
		return -1;
	}
	num_max = vio_read(d, VIO_QUEUE_NUM_MAX);
	if (!num_max) {
		*why = "queue not available (QueueNumMax 0)";
		return -1;
	}
	if (max > VQ_MAX)
		max = VQ_MAX;
	while (num * 2 <= num_max && num * 2 <= max)
		num *= 2;

	if (!q->desc || q->dev != d || q->index != index) {
		/* desc 16*256, avail 4+2*256+2, used 4+8*256+2: a page or so each */
		q->desc = page_alloc(1);
		q->avail = page_alloc(1);
		q->used = page_alloc(1);
		q->indirect =
		    page_alloc(VQ_MAX * VQ_MAX_INDIR * sizeof(struct vring_desc) / PAGE_SIZE);
		if (!q->desc || !q->avail || !q->used || !q->indirect) {
			*why = "out of guest pages";
			return -1;
		}
	}
	memset(q->desc, 0, PAGE_SIZE);
	memset(q->avail, 0, PAGE_SIZE);
	memset(q->used, 0, PAGE_SIZE);
	q->dev = d;
	q->index = index;
	q->num = (uint16_t)num;
	q->avail_idx = q->kicked_idx = q->last_used = 0;
	q->event_idx = vio_has(d, VIO_F_EVENT_IDX);
	q->use_indirect = false;
	q->kicks = q->kicks_suppressed = 0;
	vq_init_free_list(q);

	vio_write(d, VIO_QUEUE_NUM, num);
	vio_write(d, VIO_QUEUE_DESC_LOW, (uint32_t)vaddr(q->desc));
	vio_write(d, VIO_QUEUE_DESC_HIGH, (uint32_t)(vaddr(q->desc) >> 32));
	vio_write(d, VIO_QUEUE_DRIVER_LOW, (uint32_t)vaddr(q->avail));
	vio_write(d, VIO_QUEUE_DRIVER_HIGH, (uint32_t)(vaddr(q->avail) >> 32));
	vio_write(d, VIO_QUEUE_DEVICE_LOW, (uint32_t)vaddr(q->used));
	vio_write(d, VIO_QUEUE_DEVICE_HIGH, (uint32_t)(vaddr(q->used) >> 32));
	vio_write(d, VIO_QUEUE_READY, 1);
	if (vio_read(d, VIO_QUEUE_READY) != 1) {
		*why = "QueueReady does not read back 1";
		return -1;
	}
	return 0;
}

static uint16_t *used_event(struct vq *q)
{
	return &q->avail->ring[q->num];
}

static volatile uint16_t *avail_event(struct vq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->num];
}

static void fill_desc(struct vring_desc *d, const struct vbuf *b)
{
	d->addr = b->addr;
	d->len = b->len;
	d->flags = b->writable ? VRING_DESC_F_WRITE : 0;
}

int vq_add(struct vq *q, const struct vbuf *bufs, unsigned int n, void *token)
{
	unsigned int need = q->use_indirect ? 1 : n, i;
	uint16_t head, idx;

	if (!n || need > q->num_free || (q->use_indirect && n > VQ_MAX_INDIR))
		return -1;
	head = idx = q->free_head;
	if (q->use_indirect) {
		struct vring_desc *t = &q->indirect[head * VQ_MAX_INDIR];

		for (i = 0; i < n; i++) {
			fill_desc(&t[i], &bufs[i]);
			if (i + 1 < n) {
				t[i].flags |= VRING_DESC_F_NEXT;
				t[i].next = (uint16_t)(i + 1);
			}
		}
		q->desc[idx].addr = vaddr(t);
		q->desc[idx].len = n * sizeof(*t);
		q->desc[idx].flags = VRING_DESC_F_INDIRECT;
	} else {
		for (i = 0; i < n; i++) {
			fill_desc(&q->desc[idx], &bufs[i]);
			if (i + 1 < n) {
				q->desc[idx].flags |= VRING_DESC_F_NEXT;
				idx = q->desc[idx].next;
			}
		}
	}
	q->free_head = q->desc[idx].next;
	q->num_free -= need;
	q->chain_len[head] = (uint16_t)need;
	q->token[head] = token;

	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	if (q->event_idx)
		*used_event(q) = q->last_used;
	barrier(); /* x86 keeps stores in order; the compiler must too */
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	return head;
}

void vq_post_raw(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	barrier();
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	vio_write(q->dev, VIO_QUEUE_NOTIFY, q->index);
}

void vq_kick(struct vq *q)
{
	uint16_t new_idx = q->avail_idx, old = q->kicked_idx;
	bool notify;

	/* The avail index store must be visible before we read the device's wish. */
	mb();
	if (q->event_idx) {
		uint16_t ev = *avail_event(q);

		notify = (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
	} else {
		notify = !(*(volatile uint16_t *)&q->used->flags & 1);
	}
	q->kicked_idx = new_idx;
	if (notify) {
		q->kicks++;
		vio_write(q->dev, VIO_QUEUE_NOTIFY, q->index);
	} else {
		q->kicks_suppressed++;
	}
}

int vq_get_used(struct vq *q, uint32_t *len, void **token)
{
	struct vring_used_elem e;
	uint16_t head, last, i;

	if (*(volatile uint16_t *)&q->used->idx == q->last_used)
		return 0;
	barrier(); /* x86 loads are ordered: the element is read after the index */
	e = *(volatile struct vring_used_elem *)&q->used->ring[q->last_used & (q->num - 1)];
	q->last_used++;
	if (q->event_idx)
		*used_event(q) = q->last_used;
	head = (uint16_t)e.id;
	if (head >= q->num)
		return -1;
	if (len)
		*len = e.len;
	if (token)
		*token = q->token[head];
	last = head;
	for (i = 1; i < q->chain_len[head]; i++)
		last = q->desc[last].next;
	q->desc[last].next = q->free_head;
	q->free_head = head;
	q->num_free += q->chain_len[head];
	q->chain_len[head] = 0;
	return 1;
}

int vq_wait(struct vq *q, uint32_t *len, void **token, uint64_t polls)
{
	uint64_t i;
	int ret, j;

	for (i = 0; i < polls; i++) {
		for (j = 0; j < 32; j++) {
			ret = vq_get_used(q, len, token);
			if (ret)
				return ret;
			cpu_relax();
		}
		/* One exit per empty poll: paces the wait and sees NEEDS_RESET. */
		if (vio_status(q->dev) & VIO_S_NEEDS_RESET)
			return vq_get_used(q, len, token) > 0 ? 1 : -1;
	}
	return 0;
}

int vq_transact(struct vq *q, const struct vbuf *bufs, unsigned int n, uint32_t *len)
{
	void *tok;
	int head, ret;

	head = vq_add(q, bufs, n, (void *)(uintptr_t)0x5a5a);
	if (head < 0)
		return -1;
	vq_kick(q);
	ret = vq_wait(q, len, &tok, VIO_WAIT_POLLS);
	if (ret == 1 && tok != (void *)(uintptr_t)0x5a5a)
		return -1;
	return ret;
}

void *vio_scratch(uint64_t bytes)
{
	static uint64_t next = VIO_SCRATCH_START;
	uint64_t p = next;

	bytes = (bytes + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	if (bytes > VIO_SCRATCH_END - next || !boot_is_ram(p, bytes))
		return NULL;
	next += bytes;
	return (void *)(uintptr_t)p;
}
