// SPDX-License-Identifier: MulanPSL-2.0
/* virtio-rng: bytes from the configured file, the bytes_per_sec limit, bad chains. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"
#include "virtio/ratelimit.h"

#define RAM_SIZE  (1u << 20)
#define QSIZE	  16
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define BUF_GPA	  0x10000
#define RATE	  50000

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static char path[64];
static struct virtio_dev *dev;

/* The bucket runs on a clock the test moves, so load cannot refill it. */
static uint64_t fake_now = 1000000000ULL;

static uint64_t fake_clock(void)
{
	return fake_now;
}

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

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(ram + DESC_GPA) + i;
}

static struct virtq_avail *avail(void)
{
	return (struct virtq_avail *)(ram + AVAIL_GPA);
}

static struct virtq_used *used(void)
{
	return (struct virtq_used *)(ram + USED_GPA);
}

static void driver_init(void)
{
	memset(ram, 0, RAM_SIZE);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
}

static void post(uint16_t d, uint32_t len)
{
	*desc(d) = (struct virtq_desc){BUF_GPA + d * 0x4000ULL, len, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[avail()->idx % QSIZE] = d;
	avail()->idx++;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static int group_setup(void **state)
{
	uint8_t buf[4096];
	const struct vm_device_ops *ops;
	FILE *f;

	(void)state;
	ram = calloc(1, RAM_SIZE);
	strcpy(path, "/tmp/sv-rng-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	memset(buf, 0xa5, sizeof(buf));
	for (int i = 0; i < 64; i++)
		fwrite(buf, 1, sizeof(buf), f);
	fclose(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.has_rng = true;
	cfg.rng_file = path;
	cfg.rng_bytes_per_sec = RATE;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	ratelimit_clock = fake_clock;
	ops = fake_find_device("virtio-rng");
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	return dev ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_find_device("virtio-rng")->exit(&vm);
	unlink(path);
	free(ram);
	return 0;
}

static void not_configured(void **state)
{
	struct vm_config none = {0};
	struct vm v = {.cfg = &none};

	(void)state;
	assert_int_equal(fake_find_device("virtio-rng")->init(&v), 1);
}

static void fills_and_throttles(void **state)
{
	(void)state;
	driver_init();
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	for (int i = 0; i < 10; i++)
		post(i, RATE / 10);
	fake_loop_run(0);
	assert_int_equal(used()->idx, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(used()->ring[i].len, RATE / 10);
	assert_int_equal(ram[BUF_GPA], 0xa5);
	assert_int_equal(ram[BUF_GPA + 9 * 0x4000 + RATE / 10 - 1], 0xa5);

	/* The bucket is empty: the next requests wait for the timer. */
	post(10, RATE / 10);
	post(11, RATE / 10);
	fake_loop_run(0);
	assert_int_equal(used()->idx, 10);
	fake_now += 1000000000ULL; /* one second later: a full bucket */
	for (int i = 0; i < 100 && used()->idx < 12; i++)
		fake_loop_run(10);
	assert_int_equal(used()->idx, 12);
	assert_int_equal(used()->ring[10].len, RATE / 10);
	assert_int_equal(used()->ring[11].len, RATE / 10);
}

static void malformed_chain_needs_reset(void **state)
{
	(void)state;
	driver_init();
	*desc(0) = (struct virtq_desc){RAM_SIZE, 16, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[0] = 0;
	avail()->idx = 1;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	driver_init();
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(not_configured),
	    cmocka_unit_test(fills_and_throttles),
	    cmocka_unit_test(malformed_chain_needs_reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
