// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the virtio-mmio transport's register file
 * (virtio_mmio_access in src/virtio/mmio.c) with a dummy device of three
 * queues and a writable 16-byte config space whose kick handler walks the
 * queue like a real device.  The input is a sequence of 8-byte accesses:
 * [offset lo][offset hi][size and direction][value x4][ring byte], any
 * offset in the 0x200 window (and past it), size 1, 2, 4 or 8; the ring byte,
 * when not zero, is also written into the rings at a place it picks, so
 * queues set up by the input meet changing descriptors.  Checked: the
 * identification registers never change, a write of 0 to Status reads back
 * 0, and nothing outside RAM or the device state is touched.
 *
 * clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *   -Itests/unit/virtio tests/fuzz/fuzz_mmio.c tests/unit/virtio/fakes.c \
 *   src/virtio/{mmio,queue}.c src/machine/memory.c -o fuzz_mmio
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "virtio/mmio.h"

#define RAM_SIZE (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static uint8_t *ram;
static struct virtio_dev *dev;
static uint8_t cfgspace[16];

static int dummy_activate(struct virtio_dev *d)
{
	(void)d;
	return 0;
}

static void dummy_reset(struct virtio_dev *d)
{
	(void)d;
}

static void dummy_notify(struct virtio_dev *d, unsigned q)
{
	struct iovec iov[8];
	struct virtq_chain c = {.iov = iov, .max_segs = 8};
	int ret = 0, n = 0;

	while (n++ < 64 && (ret = virtq_pop_chain(&d->vqs[q], &c)) == 1)
		virtq_push_used(&d->vqs[q], c.head, (uint32_t)iov_length(iov, c.nr_segs));
	if (n < 64 && ret < 0)
		virtio_mmio_set_needs_reset(d, c.err);
	virtio_mmio_notify_queue(d, q);
}

static void dummy_config_write(struct virtio_dev *d, uint32_t off, const void *p, uint32_t len)
{
	(void)d;
	if (off + len > sizeof(cfgspace))
		abort(); /* the transport promised off + len <= config_size */
	memcpy(cfgspace + off, p, len);
}

static const struct virtio_dev_ops dummy_ops = {
    .name = "virtio-dummy",
    .device_id = 42,
    .features = 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << 3 | 1ULL << 28,
    .config_size = sizeof(cfgspace),
    .num_queues = 3,
    .queue_size = 32,
    .config_write = dummy_config_write,
    .activate = dummy_activate,
    .reset = dummy_reset,
    .queue_notify = dummy_notify,
};

static uint32_t rd32(uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, false);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint32_t zero = 0;

	if (!ready) {
		ram = calloc(1, RAM_SIZE);
		fake_vm_init(&vm, ram, RAM_SIZE, NULL);
		if (!ram || virtio_mmio_create(&vm, &dummy_ops, NULL, NULL, &dev))
			abort();
		dev->config = cfgspace;
		ready = true;
	}
	virtio_mmio_access(dev, VIRTIO_MMIO_STATUS, (uint8_t *)&zero, 4, true);
	memset(ram, 0, 0x8000);
	while (size >= 8) {
		uint64_t off = (uint64_t)(data[0] | data[1] << 8) % 0x240;
		uint32_t len = 1u << (data[2] % 4);
		bool is_write = data[2] & 0x80;
		uint8_t v[8];

		memcpy(v, data + 3, 4);
		memcpy(v + 4, data + 3, 4);
		if (off == VIRTIO_MMIO_QUEUE_DESC_LOW || off == VIRTIO_MMIO_QUEUE_DRIVER_LOW ||
		    off == VIRTIO_MMIO_QUEUE_DEVICE_LOW)
			v[2] = v[3] = 0; /* mostly inside RAM */
		virtio_mmio_access(dev, off, v, len, is_write);
		if (data[7])
			ram[(data[7] * 131u + data[3]) % 0x8000] = data[4];
		if (is_write && off == VIRTIO_MMIO_STATUS && len == 4 && !memcmp(v, &zero, 4) &&
		    rd32(VIRTIO_MMIO_STATUS) != 0)
			abort();
		data += 8;
		size -= 8;
	}
	if (rd32(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    rd32(VIRTIO_MMIO_VERSION_REG) != VIRTIO_MMIO_VERSION ||
	    rd32(VIRTIO_MMIO_DEVICE_ID) != 42)
		abort();
	return 0;
}
