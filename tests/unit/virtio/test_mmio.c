// SPDX-License-Identifier: MulanPSL-2.0
/* The virtio-mmio register interface driven the way a driver does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"

#define RAM_SIZE (1u << 20)

static struct vm vm;
static uint8_t *ram;
static struct virtio_dev *dev;
static int activations, resets, kicks;
static unsigned last_kick_q;
static uint8_t cfgspace[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static int dummy_activate(struct virtio_dev *d)
{
	(void)d;
	activations++;
	return 0;
}

static void dummy_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

static void dummy_notify(struct virtio_dev *d, unsigned q)
{
	struct iovec iov[4];
	struct virtq_chain c = {.iov = iov, .max_segs = 4};
	int ret;

	kicks++;
	last_kick_q = q;
	while ((ret = virtq_pop_chain(&d->vqs[q], &c)) == 1)
		virtq_push_used(&d->vqs[q], c.head, 0);
	if (ret < 0)
		virtio_mmio_set_needs_reset(d, c.err);
	virtio_mmio_notify_queue(d, q);
}

static const struct virtio_dev_ops dummy_ops = {
    .name = "virtio-dummy",
    .device_id = 42,
    .features = 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << 3,
    .config_size = sizeof(cfgspace),
    .num_queues = 2,
    .queue_size = 64,
    .activate = dummy_activate,
    .reset = dummy_reset,
    .queue_notify = dummy_notify,
};

static uint32_t rd(uint64_t off)
{
	uint32_t v;

	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, true);
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	fake_vm_init(&vm, ram, RAM_SIZE, NULL);
	activations = resets = kicks = 0;
	fake_irq_pulses = 0;
	fake_nr_errs = 0;
	if (virtio_mmio_create(&vm, &dummy_ops, NULL, NULL, &dev))
		return -1;
	dev->config = cfgspace;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virtio_mmio_destroy(dev);
	free(ram);
	return 0;
}

static void setup_queue(unsigned q, uint32_t num, uint64_t desc, uint64_t drv, uint64_t devarea)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, drv);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, drv >> 32);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, devarea);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, devarea >> 32);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void negotiate(uint64_t features)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void identity(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd(VIRTIO_MMIO_VERSION_REG), 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), 42);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1u << VIRTIO_F_EVENT_IDX | 1u << 3);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(dev->base, 0xf0100000ULL);
	assert_int_equal(dev->irq, 5);
}

static void config_space(void **state)
{
	uint8_t b[4] = {0};

	(void)state;
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + 2, b, 2, false);
	assert_int_equal(b[0], 3);
	assert_int_equal(b[1], 4);
	memset(b, 0xaa, 4);
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + 6, b, 4, false); /* past the end */
	assert_int_equal(b[0], 0xaa);
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG, b, 4, true); /* ignored */
	assert_int_equal(cfgspace[0], 1);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

static void features_refused(void **state)
{
	(void)state;
	negotiate(1ULL << 7 | 1ULL << VIRTIO_F_VERSION_1); /* 7 not offered */
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	negotiate(1ULL << 3); /* no VERSION_1 */
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	negotiate(1ULL << 3 | 1ULL << VIRTIO_F_VERSION_1);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_has_feature(dev, 3));
}

static void activate_and_kick(void **state)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + 0x1000);
	struct virtq_avail *av = (struct virtq_avail *)(ram + 0x2000);
	struct virtq_used *u = (struct virtq_used *)(ram + 0x3000);

	(void)state;
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(1, 16, 0x1000, 0x2000, 0x3000);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	assert_int_equal(activations, 1);
	fake_loop_run(0); /* the kick DRIVER_OK sends for chains posted early */
	kicks = 0;

	d[0] = (struct virtq_desc){.addr = 0x8000, .len = 4, .flags = VIRTQ_DESC_F_WRITE};
	av->ring[0] = 0;
	av->idx = 1;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(fake_loop_run(0), 1);
	assert_int_equal(kicks, 1);
	assert_int_equal(last_kick_q, 1);
	assert_int_equal(u->idx, 1);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fake_irq_pulses, 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* Layout registers are frozen while the queue is ready. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 32);
	assert_int_equal(dev->qcfg[1].num, 16);
	/* A kick of a queue that is not ready is dropped. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_int_equal(kicks, 1);
}

static void malformed_chain_needs_reset(void **state)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + 0x1000);
	struct virtq_avail *av = (struct virtq_avail *)(ram + 0x2000);

	(void)state;
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(0, 16, 0x1000, 0x2000, 0x3000);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	d[0] = (struct virtq_desc){.addr = 0x8000, .len = 4, .flags = VIRTQ_DESC_F_NEXT, .next = 0};
	av->ring[0] = 0;
	av->idx = 1;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_non_null(strstr(fake_last_err, "needs reset"));
	/* Further kicks are ignored until reset. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_int_equal(kicks, 1);
	/* The driver may not clear NEEDS_RESET except by reset. */
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_true(resets >= 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
}

static void bad_queue_layout_needs_reset(void **state)
{
	(void)state;
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(0, 128, 0x1000, 0x2000, 0x3000); /* above QueueNumMax */
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(0, 16, RAM_SIZE, 0x2000, 0x3000); /* outside RAM */
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* Activation is refused while broken. */
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	assert_int_equal(activations, 0);
}

static void config_change_interrupt(void **state)
{
	(void)state;
	virtio_mmio_config_changed(dev); /* not yet DRIVER_OK: no interrupt */
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(fake_irq_pulses, 0);
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	virtio_dev_lock(dev);
	virtio_mmio_config_changed(dev);
	virtio_dev_unlock(dev);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 2);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(fake_irq_pulses, 1);
}

/* Level semantics over an edge: one edge per 0 -> 1, again at an ACK that leaves bits. */
static void interrupts_coalesce_until_acked(void **state)
{
	(void)state;
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fake_irq_pulses, 1);
	/* used buffers again before the driver looked: it will see them anyway */
	virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fake_irq_pulses, 1);
	/* a bit not yet set is an edge of its own */
	virtio_dev_lock(dev);
	virtio_mmio_config_changed(dev);
	virtio_dev_unlock(dev);
	assert_int_equal(fake_irq_pulses, 2);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	/* acknowledging only one of them: the other is owed an interrupt */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fake_irq_pulses, 3);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(fake_irq_pulses, 3);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* after the ACK the next buffer is a new edge */
	virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fake_irq_pulses, 4);
}

static void odd_accesses_ignored(void **state)
{
	uint8_t b[8] = {0};

	(void)state;
	virtio_mmio_access(dev, VIRTIO_MMIO_MAGIC_VALUE, b, 2, false);
	assert_int_equal(b[0], 0);
	virtio_mmio_access(dev, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4, false);
	assert_int_equal(b[0], 0);
	wr(0x0f0, 0xffffffff); /* reserved */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(identity),
	    T(config_space),
	    T(features_refused),
	    T(activate_and_kick),
	    T(malformed_chain_needs_reset),
	    T(bad_queue_layout_needs_reset),
	    T(config_change_interrupt),
	    T(interrupts_coalesce_until_acked),
	    T(odd_accesses_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
