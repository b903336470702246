// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-balloon: inflate/deflate PFN arrays (pages really given back: they
 * read as zeros afterwards), PFNs outside RAM, odd and oversized buffers,
 * free page reporting ranges, config writes and the BALLOON_CHANGED event,
 * the QMP-side target and actual, shared (memfd) RAM released by hole punch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "qmp/qmp.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"

#define RAM_SIZE  (8u << 20)
#define QSIZE	  16
#define Q_GPA(q)  (0x1000ULL + (q)*0x3000ULL) /* desc; avail +0x1000, used +0x2000 */
#define BUF_GPA	  0x10000ULL		      /* PFN arrays */
#define PAGES_GPA 0x100000ULL		      /* pages the tests give away */
#define PFN(gpa)  ((uint32_t)((gpa) >> 12))

#define F_DEFLATE_ON_OOM 2
#define F_REPORTING	 5

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static int memfd = -1;
static struct virtio_dev *dev;
static json_t *events;

static void sink(void *opaque, json_t *ev)
{
	(void)opaque;
	json_array_append(events, ev);
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

static struct virtq_desc *desc(unsigned q, unsigned i)
{
	return (struct virtq_desc *)(ram + Q_GPA(q)) + i;
}

static struct virtq_avail *avail(unsigned q)
{
	return (struct virtq_avail *)(ram + Q_GPA(q) + 0x1000);
}

static struct virtq_used *used(unsigned q)
{
	return (struct virtq_used *)(ram + Q_GPA(q) + 0x2000);
}

static uint64_t features(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* Resets the device, takes `want` (of what is offered) and sets up nq queues. */
static void driver_init(uint64_t want, unsigned nq)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	fake_loop_run(0);
	memset(ram, 0, 0x10000);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want & features()));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)Q_GPA(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)Q_GPA(q) + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)Q_GPA(q) + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
	json_array_clear(events);
}

/* Posts descriptors [0, n) of queue q as one chain and kicks. */
static void post_chain(unsigned q, const struct virtq_desc *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		*desc(q, i) = d[i];
		if (i + 1 < n) {
			desc(q, i)->flags |= VIRTQ_DESC_F_NEXT;
			desc(q, i)->next = (uint16_t)(i + 1);
		}
	}
	avail(q)->ring[avail(q)->idx % QSIZE] = 0;
	avail(q)->idx++;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	fake_loop_run(0);
}

/* One buffer of PFNs on queue q. */
static void post_pfns(unsigned q, const uint32_t *pfns, unsigned n)
{
	memcpy(ram + BUF_GPA, pfns, n * sizeof(*pfns));
	post_chain(q, &(struct virtq_desc){BUF_GPA, n * 4, 0, 0}, 1);
}

static bool page_is(uint64_t gpa, uint8_t v)
{
	for (unsigned i = 0; i < 4096; i++)
		if (ram[gpa + i] != v)
			return false;
	return true;
}

static bool needs_reset(void)
{
	return rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

static int64_t event_actual(size_t i)
{
	json_t *ev = json_array_get(events, i);

	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "BALLOON_CHANGED");
	return json_integer_value(json_object_get(json_object_get(ev, "data"), "actual"));
}

static int start(bool deflate_on_oom, bool reporting, bool shared)
{
	const struct vm_device_ops *ops = fake_find_device("virtio-balloon");

	memset(&cfg, 0, sizeof(cfg));
	cfg.has_balloon = true;
	cfg.balloon_deflate_on_oom = deflate_on_oom;
	cfg.balloon_free_page_reporting = reporting;
	cfg.mem_share = shared;
	if (shared) {
		memfd = memfd_create("sv-balloon-test", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0)
			return -1;
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	} else {
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			   0);
	}
	if (ram == MAP_FAILED)
		return -1;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	vm.mem.memfd = memfd;
	events = json_array();
	qmp_event_set_sink(sink, NULL);
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	return dev ? 0 : -1;
}

static int setup_plain(void **state)
{
	(void)state;
	return start(false, false, false);
}

static int setup_full(void **state)
{
	(void)state;
	return start(true, true, false);
}

static int setup_shared(void **state)
{
	(void)state;
	return start(false, true, true);
}

static int teardown(void **state)
{
	(void)state;
	fake_find_device("virtio-balloon")->exit(&vm);
	munmap(ram, RAM_SIZE);
	if (memfd >= 0)
		close(memfd);
	memfd = -1;
	json_decref(events);
	qmp_event_set_sink(NULL, NULL);
	return 0;
}

static void not_configured(void **state)
{
	struct vm_config none = {0};
	struct vm v = {.cfg = &none};
	uint64_t bytes;

	(void)state;
	assert_int_equal(fake_find_device("virtio-balloon")->init(&v), 1);
	assert_int_equal(balloon_set_target(1 << 20), -ENODEV);
	assert_int_equal(balloon_get_actual(&bytes), -ENODEV);
}

static void identity_and_features(void **state)
{
	uint64_t f = features();

	(void)state;
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_true(f & (1ULL << VIRTIO_F_VERSION_1));
	assert_false(f & (1ULL << F_DEFLATE_ON_OOM));
	assert_false(f & (1ULL << F_REPORTING));
	assert_false(f & 0x1a); /* no stats queue, free page hinting or page poison */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2); /* no reporting queue without the option */
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void features_when_configured(void **state)
{
	uint64_t f = features();

	(void)state;
	assert_true(f & (1ULL << F_DEFLATE_ON_OOM));
	assert_true(f & (1ULL << F_REPORTING));
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
}

static void inflate_releases_pages(void **state)
{
	/* two runs (0-1 and 3), the frame in between kept, one out of order */
	const uint32_t pfns[] = {PFN(PAGES_GPA) + 1, PFN(PAGES_GPA), PFN(PAGES_GPA) + 3};

	(void)state;
	driver_init(~0ULL, 2);
	memset(ram + PAGES_GPA, 0xaa, 5 * 4096);
	post_pfns(0, pfns, 3);
	assert_false(needs_reset());
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].len, 0);
	assert_true(page_is(PAGES_GPA, 0));
	assert_true(page_is(PAGES_GPA + 0x1000, 0));
	assert_true(page_is(PAGES_GPA + 0x2000, 0xaa));
	assert_true(page_is(PAGES_GPA + 0x3000, 0));
	assert_true(page_is(PAGES_GPA + 0x4000, 0xaa));

	/* deflate: the frames are the guest's again, nothing is touched */
	memset(ram + PAGES_GPA, 0x55, 4096);
	post_pfns(1, pfns, 3);
	assert_false(needs_reset());
	assert_int_equal(used(1)->idx, 1);
	assert_true(page_is(PAGES_GPA, 0x55));
}

static void pfn_array_across_descriptors(void **state)
{
	const uint32_t pfns[] = {PFN(PAGES_GPA), PFN(PAGES_GPA) + 1};
	struct virtq_desc d[2] = {{BUF_GPA, 5, 0, 0}, {BUF_GPA + 5, 3, 0, 0}};

	(void)state;
	driver_init(~0ULL, 2);
	memset(ram + PAGES_GPA, 0xaa, 2 * 4096);
	memcpy(ram + BUF_GPA, pfns, sizeof(pfns)); /* the second PFN straddles the two */
	post_chain(0, d, 2);
	assert_false(needs_reset());
	assert_true(page_is(PAGES_GPA, 0));
	assert_true(page_is(PAGES_GPA + 0x1000, 0));
}

static void pfn_outside_ram(void **state)
{
	const uint32_t pfns[] = {PFN(PAGES_GPA), PFN(RAM_SIZE), PFN(PAGES_GPA) + 1};

	(void)state;
	driver_init(~0ULL, 2);
	memset(ram + PAGES_GPA, 0xaa, 2 * 4096);
	post_pfns(0, pfns, 3);
	assert_true(needs_reset());
	assert_int_equal(used(0)->idx, 0);
	assert_non_null(
	    strstr(fake_last_err, "PFN 0x800 on the inflate queue is outside guest RAM"));
	/* nothing of the refused chain was released */
	assert_true(page_is(PAGES_GPA, 0xaa));
	assert_true(page_is(PAGES_GPA + 0x1000, 0xaa));

	/* deflate is checked the same way; a reset makes the device usable again */
	driver_init(~0ULL, 2);
	assert_false(needs_reset());
	post_pfns(1, (const uint32_t[]){0xffffffffu}, 1);
	assert_true(needs_reset());
	assert_non_null(strstr(fake_last_err, "deflate queue is outside guest RAM"));
	driver_init(~0ULL, 2);
	post_pfns(0, pfns, 1);
	assert_false(needs_reset());
	assert_true(page_is(PAGES_GPA, 0));
}

static void bad_buffers(void **state)
{
	(void)state;
	/* not a whole number of PFNs */
	driver_init(~0ULL, 2);
	post_chain(0, &(struct virtq_desc){BUF_GPA, 6, 0, 0}, 1);
	assert_true(needs_reset());
	assert_non_null(strstr(fake_last_err, "6 bytes is not a whole number of 32-bit PFNs"));
	/* device-writable */
	driver_init(~0ULL, 2);
	post_chain(1, &(struct virtq_desc){BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0}, 1);
	assert_true(needs_reset());
	assert_non_null(strstr(fake_last_err, "device-writable buffer on the deflate queue"));
	/* in RAM but over the bound */
	driver_init(~0ULL, 2);
	post_chain(0, &(struct virtq_desc){0, 2u << 20, 0, 0}, 1);
	assert_true(needs_reset());
	assert_non_null(strstr(fake_last_err, "over 1048576 bytes"));
	/* a huge descriptor: not in RAM at all */
	driver_init(~0ULL, 2);
	post_chain(0, &(struct virtq_desc){BUF_GPA, 0xfffffffcu, 0, 0}, 1);
	assert_true(needs_reset());
	/* an empty buffer is fine */
	driver_init(~0ULL, 2);
	post_chain(0, &(struct virtq_desc){BUF_GPA, 0, 0, 0}, 1);
	assert_false(needs_reset());
	assert_int_equal(used(0)->idx, 1);
}

static void reporting_ranges(void **state)
{
	struct virtq_desc d[2] = {
	    {0x200000, 0x100000, VIRTQ_DESC_F_WRITE, 0},
	    {0x400800, 0x1000, VIRTQ_DESC_F_WRITE, 0}, /* covers no whole page */
	};

	(void)state;
	driver_init(~0ULL, 3);
	memset(ram + 0x200000, 0xaa, 0x300000);
	post_chain(2, d, 2);
	assert_false(needs_reset());
	assert_int_equal(used(2)->idx, 1);
	assert_true(page_is(0x200000, 0));
	assert_true(page_is(0x2ff000, 0));
	assert_true(page_is(0x300000, 0xaa));
	assert_true(page_is(0x400000, 0xaa));
	assert_true(page_is(0x401000, 0xaa));

	/* a readable buffer is refused, and so is a range outside RAM */
	driver_init(~0ULL, 3);
	post_chain(2, &(struct virtq_desc){0x300000, 0x1000, 0, 0}, 1);
	assert_true(needs_reset());
	assert_non_null(strstr(fake_last_err, "device-readable buffer on the free page reporting"));
	assert_true(page_is(0x300000, 0xaa));
	driver_init(~0ULL, 3);
	post_chain(2, &(struct virtq_desc){RAM_SIZE - 0x1000, 0x2000, VIRTQ_DESC_F_WRITE, 0}, 1);
	assert_true(needs_reset());

	/* a driver that did not take the feature has no reporting queue */
	driver_init(~(1ULL << F_REPORTING), 3);
	post_chain(2, d, 1);
	assert_false(needs_reset());
	assert_int_equal(used(2)->idx, 0);
	assert_true(page_is(0x300000, 0xaa));
}

static void target_and_actual(void **state)
{
	uint32_t v, gen;
	uint64_t bytes;

	(void)state;
	driver_init(~0ULL, 2);
	assert_int_equal(balloon_ram_size(), RAM_SIZE);
	assert_int_equal(balloon_get_actual(&bytes), 0);
	assert_int_equal(bytes, RAM_SIZE);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 0);

	wr(VIRTIO_MMIO_INTERRUPT_ACK, 3);
	gen = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(balloon_set_target(RAM_SIZE - (1u << 20) - 100), 0);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 256); /* rounded down to whole pages */
	assert_int_not_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(balloon_set_target(0), -ERANGE);
	assert_int_equal(balloon_set_target(RAM_SIZE + 1), -ERANGE);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 256);

	/* the driver moves: one event per change, with guest RAM minus the balloon */
	wr(VIRTIO_MMIO_CONFIG + 4, 100);
	fake_loop_run(0);
	assert_int_equal(json_array_size(events), 1);
	assert_int_equal(event_actual(0), RAM_SIZE - 100 * 4096);
	assert_int_equal(balloon_get_actual(&bytes), 0);
	assert_int_equal(bytes, RAM_SIZE - 100 * 4096);
	wr(VIRTIO_MMIO_CONFIG + 4, 100); /* no change, no event */
	fake_loop_run(0);
	assert_int_equal(json_array_size(events), 1);
	/* writes in a row before the loop runs: one event with the last value */
	wr(VIRTIO_MMIO_CONFIG + 4, 200);
	v = 256;
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + 4, (uint8_t *)&v, 2, true);
	fake_loop_run(0);
	assert_int_equal(json_array_size(events), 2);
	assert_int_equal(event_actual(1), RAM_SIZE - 256 * 4096);
	/* num_pages is the host's */
	wr(VIRTIO_MMIO_CONFIG, 7);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 256);
	/* an actual beyond RAM reads as no memory left, never a wrapped size */
	wr(VIRTIO_MMIO_CONFIG + 4, 0xffffffffu);
	fake_loop_run(0);
	assert_int_equal(event_actual(2), 0);

	/* a reset gives every page back */
	wr(VIRTIO_MMIO_STATUS, 0);
	fake_loop_run(0);
	assert_int_equal(json_array_size(events), 4);
	assert_int_equal(event_actual(3), RAM_SIZE);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 256); /* the target stays */
	assert_int_equal(balloon_set_target(RAM_SIZE), 0);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 0);
}

static void shared_ram_is_hole_punched(void **state)
{
	const uint32_t pfns[] = {PFN(PAGES_GPA), PFN(PAGES_GPA) + 1};
	struct stat before, after;

	(void)state;
	driver_init(~0ULL, 3);
	memset(ram + PAGES_GPA, 0xaa, 0x100000);
	memset(ram + BUF_GPA, 0, 4096); /* the PFN array's page, allocated before counting */
	assert_int_equal(fstat(memfd, &before), 0);
	post_pfns(0, pfns, 2);
	assert_false(needs_reset());
	post_chain(2, &(struct virtq_desc){PAGES_GPA + 0x10000, 0x10000, VIRTQ_DESC_F_WRITE, 0}, 1);
	assert_false(needs_reset());
	assert_int_equal(fstat(memfd, &after), 0);
	/* 8 KiB inflated + 64 KiB reported, in 512-byte blocks */
	assert_int_equal(before.st_blocks - after.st_blocks, (0x2000 + 0x10000) / 512);
	assert_true(page_is(PAGES_GPA, 0));
	assert_true(page_is(PAGES_GPA + 0x2000, 0xaa));
	assert_true(page_is(PAGES_GPA + 0x10000, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(not_configured),
	    cmocka_unit_test_setup_teardown(identity_and_features, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(features_when_configured, setup_full, teardown),
	    cmocka_unit_test_setup_teardown(inflate_releases_pages, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(pfn_array_across_descriptors, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(pfn_outside_ram, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(bad_buffers, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(reporting_ranges, setup_full, teardown),
	    cmocka_unit_test_setup_teardown(target_and_actual, setup_full, teardown),
	    cmocka_unit_test_setup_teardown(shared_ram_is_hole_punched, setup_shared, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
