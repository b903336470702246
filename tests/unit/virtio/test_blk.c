// SPDX-License-Identifier: MulanPSL-2.0
/* virtio-blk request handling against real temp files, driven like a driver. */
#include <errno.h>
#include <fcntl.h>
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
#include "virtio/blk.h"
#include "virtio/mmio.h"

#define RAM_SIZE   (1u << 20)
#define QSIZE	   16
#define DESC_GPA   0x1000
#define AVAIL_GPA  0x2000
#define USED_GPA   0x3000
#define HDR_GPA	   0x5000
#define DATA_GPA   0x6000
#define STATUS_GPA 0x20000
#define DISK_BYTES (1u << 20)
#define SECTORS	   (DISK_BYTES / 512)

#define T_IN	 0
#define T_OUT	 1
#define T_FLUSH	 4
#define T_GET_ID 8
#define T_DISC	 11
#define T_WZ	 13

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static char path_rw[64], path_ro[64], path_extra[64];
static int fd_rw;
static struct virtio_dev *dev;

struct dz_seg {
	uint64_t sector;
	uint32_t num;
	uint32_t flags;
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
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

static void make_image(char *path, const char *name, int *keep_fd)
{
	uint8_t buf[512];
	int fd;

	snprintf(path, 64, "/tmp/sv-blk-%s-XXXXXX", name);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (unsigned s = 0; s < SECTORS; s++) {
		memset(buf, s & 0xff, sizeof(buf));
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)s * 512), 512);
	}
	if (keep_fd)
		*keep_fd = fd;
	else
		close(fd);
}

static void use_slot(int slot)
{
	dev = fake_bus_find(0xf0100000ULL + 0x200ULL * slot);
	assert_non_null(dev);
}

/* Reset and bring up the device with queue 0 at the fixed layout. */
static void driver_init(int slot)
{
	use_slot(slot);
	memset(ram, 0, RAM_SIZE);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, rd(VIRTIO_MMIO_DEVICE_FEATURES));
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
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	fake_loop_run(0);
}

/* Posts and waits (up to 2 s) for the completion or for NEEDS_RESET. */
static void kick(void)
{
	uint16_t before = used()->idx;

	avail()->idx++;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 200 && used()->idx == before &&
			!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) && dev->activated;
	     i++)
		fake_loop_run(10);
}

/* A three-descriptor request: header, data (len may be 0), status. */
static void request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_write)
{
	struct blk_hdr *h = (struct blk_hdr *)(ram + HDR_GPA);
	uint16_t n = 0;

	*h = (struct blk_hdr){.type = type, .sector = sector};
	*desc(n) = (struct virtq_desc){HDR_GPA, sizeof(*h), VIRTQ_DESC_F_NEXT, n + 1};
	n++;
	if (data_len) {
		*desc(n) = (struct virtq_desc){
		    DATA_GPA, data_len, VIRTQ_DESC_F_NEXT | (data_write ? VIRTQ_DESC_F_WRITE : 0),
		    n + 1};
		n++;
	}
	*desc(n) = (struct virtq_desc){STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0};
	ram[STATUS_GPA] = 0xee;
	avail()->ring[avail()->idx % QSIZE] = 0;
	kick();
}

static uint8_t status(void)
{
	return ram[STATUS_GPA];
}

static uint32_t last_used_len(void)
{
	return used()->ring[(used()->idx - 1) % QSIZE].len;
}

static uint64_t capacity(void)
{
	uint64_t cap = 0;

	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 4, false);
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + 4, (uint8_t *)&cap + 4, 4, false);
	return cap;
}

static int group_setup(void **state)
{
	const struct vm_device_ops *ops;

	(void)state;
	ram = calloc(1, RAM_SIZE);
	make_image(path_rw, "rw", &fd_rw);
	make_image(path_ro, "ro", NULL);
	make_image(path_extra, "extra", NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.drives[0] = (struct drive_config){
	    .id = "rootfs", .path = path_rw, .serial = "SERIAL-0123", .has_device = true};
	cfg.drives[1] = (struct drive_config){.id = "backend-only", .path = "/nonexistent"};
	cfg.drives[2] = (struct drive_config){
	    .id = "ro", .path = path_ro, .readonly = true, .aio = "off", .has_device = true};
	cfg.nr_drives = 3;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	ops = fake_find_device("virtio-blk");
	if (!ops || ops->init(&vm) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_find_device("virtio-blk")->exit(&vm);
	unlink(path_rw);
	unlink(path_ro);
	unlink(path_extra);
	close(fd_rw);
	free(ram);
	return 0;
}

static void slots_filled_in_order(void **state)
{
	(void)state;
	assert_int_equal(blk_slot_count(), BLK_NR_SLOTS);
	assert_int_equal(blk_slot_find("rootfs"), 0);
	assert_int_equal(blk_slot_find("ro"), 1);
	assert_int_equal(blk_slot_find("backend-only"), -ENOENT);
	use_slot(0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(capacity(), SECTORS);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_false(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << 5));
	use_slot(1);
	assert_true(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << 5)); /* RO */
	use_slot(2);
	assert_int_equal(capacity(), 0); /* empty hot-replace slot */
	use_slot(3);
	assert_int_equal(capacity(), 0);
}

static void read_sectors(void **state)
{
	(void)state;
	driver_init(0);
	request(T_IN, 3, 1024, true);
	assert_int_equal(status(), 0);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(last_used_len(), 1025);
	assert_int_equal(ram[DATA_GPA], 3);
	assert_int_equal(ram[DATA_GPA + 1023], 4);
}

static void write_sectors(void **state)
{
	uint8_t buf[512];

	(void)state;
	driver_init(0);
	memset(ram + DATA_GPA, 0x5a, 512);
	request(T_OUT, 7, 512, false);
	assert_int_equal(status(), 0);
	assert_int_equal(last_used_len(), 1);
	assert_int_equal(pread(fd_rw, buf, 512, 7 * 512), 512);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(buf[511], 0x5a);
	request(T_FLUSH, 0, 0, false);
	assert_int_equal(status(), 0);
}

static void sector_past_capacity(void **state)
{
	(void)state;
	driver_init(0);
	request(T_IN, SECTORS, 512, true);
	assert_int_equal(status(), 1);
	request(T_IN, SECTORS - 1, 1024, true); /* straddles the end */
	assert_int_equal(status(), 1);
	request(T_OUT, UINT64_MAX / 2, 512, false); /* sector*512 overflows */
	assert_int_equal(status(), 1);
	request(T_IN, 0, 100, true); /* not a whole sector */
	assert_int_equal(status(), 1);
	request(T_IN, SECTORS - 1, 512, true); /* last sector is fine */
	assert_int_equal(status(), 0);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void readonly_refuses_writes(void **state)
{
	(void)state;
	driver_init(1);
	memset(ram + DATA_GPA, 0x77, 512);
	request(T_OUT, 0, 512, false);
	assert_int_equal(status(), 1);
	request(T_DISC, 0, 16, false);
	assert_int_equal(status(), 1);
	request(T_IN, 0, 512, true); /* reads still work (synchronous back end) */
	assert_int_equal(status(), 0);
	assert_int_equal(ram[DATA_GPA], 0);
}

static void get_id(void **state)
{
	(void)state;
	driver_init(0);
	memset(ram + DATA_GPA, 0xff, 32);
	request(T_GET_ID, 0, 20, true);
	assert_int_equal(status(), 0);
	assert_memory_equal(ram + DATA_GPA, "SERIAL-0123\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(last_used_len(), 21);
}

static void unknown_type_unsupported(void **state)
{
	(void)state;
	driver_init(0);
	request(99, 0, 0, false);
	assert_int_equal(status(), 2);
	request(T_WZ + 1, 0, 512, true);
	assert_int_equal(status(), 2);
}

static void discard_and_write_zeroes(void **state)
{
	struct dz_seg *seg = (void *)(ram + DATA_GPA);
	uint8_t buf[4096];

	(void)state;
	driver_init(0);
	*seg = (struct dz_seg){.sector = 16, .num = 8, .flags = 0};
	request(T_WZ, 0, 16, false);
	assert_int_equal(status(), 0);
	assert_int_equal(pread(fd_rw, buf, 4096, 16 * 512), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 0);

	*seg = (struct dz_seg){.sector = 32, .num = 8, .flags = 0};
	request(T_DISC, 0, 16, false);
	assert_true(status() == 0 || status() == 2);

	*seg = (struct dz_seg){.sector = 32, .num = 8, .flags = 1}; /* unmap on discard */
	request(T_DISC, 0, 16, false);
	assert_int_equal(status(), 2);

	*seg = (struct dz_seg){.sector = SECTORS - 4, .num = 8, .flags = 0};
	request(T_WZ, 0, 16, false);
	assert_int_equal(status(), 1);

	request(T_WZ, 0, 12, false); /* not a whole segment */
	assert_int_equal(status(), 1);
}

static void expect_needs_reset(void)
{
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
}

static void header_too_short(void **state)
{
	(void)state;
	driver_init(0);
	*desc(0) = (struct virtq_desc){HDR_GPA, 8, VIRTQ_DESC_F_NEXT, 1};
	*desc(1) = (struct virtq_desc){STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[0] = 0;
	kick();
	expect_needs_reset();
	assert_non_null(strstr(fake_last_err, "header"));
	/* The device serves nothing until reset, then works again. */
	request(T_IN, 0, 512, true);
	assert_int_equal(used()->idx, 0);
	driver_init(0);
	request(T_IN, 0, 512, true);
	assert_int_equal(status(), 0);
}

static void zero_length_header(void **state)
{
	(void)state;
	driver_init(0);
	*desc(0) = (struct virtq_desc){HDR_GPA, 0, VIRTQ_DESC_F_NEXT, 1};
	*desc(1) = (struct virtq_desc){STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[0] = 0;
	kick();
	expect_needs_reset();
}

static void status_missing(void **state)
{
	(void)state;
	driver_init(0);
	*desc(0) = (struct virtq_desc){HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1};
	*desc(1) = (struct virtq_desc){DATA_GPA, 512, 0, 0};
	avail()->ring[0] = 0;
	kick();
	expect_needs_reset();
	assert_non_null(strstr(fake_last_err, "status"));
}

static void malformed_chain(void **state)
{
	(void)state;
	driver_init(0);
	*desc(0) = (struct virtq_desc){RAM_SIZE - 4, 16, VIRTQ_DESC_F_NEXT, 1};
	avail()->ring[0] = 0;
	kick();
	expect_needs_reset();
	/* Another device keeps working. */
	driver_init(1);
	request(T_IN, 0, 512, true);
	assert_int_equal(status(), 0);
}

static void one_buffer_framing(void **state)
{
	struct blk_hdr *h = (struct blk_hdr *)(ram + HDR_GPA);

	(void)state;
	driver_init(0);
	/* Header and data in one readable buffer; data and status in one writable one. */
	*h = (struct blk_hdr){.type = T_OUT, .sector = 9};
	memset(ram + HDR_GPA + 16, 0x3c, 512);
	*desc(0) = (struct virtq_desc){HDR_GPA, 16 + 512, VIRTQ_DESC_F_NEXT, 1};
	*desc(1) = (struct virtq_desc){STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[0] = 0;
	kick();
	assert_int_equal(ram[STATUS_GPA], 0);
	*h = (struct blk_hdr){.type = T_IN, .sector = 9};
	*desc(0) = (struct virtq_desc){HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1};
	*desc(1) = (struct virtq_desc){DATA_GPA, 513, VIRTQ_DESC_F_WRITE, 0};
	avail()->ring[1] = 0;
	kick();
	assert_int_equal(ram[DATA_GPA + 512], 0); /* status */
	assert_int_equal(ram[DATA_GPA + 511], 0x3c);
	assert_int_equal(last_used_len(), 513);
}

static void empty_slot_and_hot_replace(void **state)
{
	struct drive_config d = {.id = "hot", .path = path_extra};
	struct drive_config same = {.id = "clash", .path = path_rw};
	struct drive_config missing = {.id = "gone", .path = "/nonexistent/disk.img"};
	uint32_t gen;

	(void)state;
	driver_init(2);
	request(T_IN, 0, 512, true);
	assert_int_equal(status(), 1); /* capacity 0: nothing to read */
	gen = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 3);

	assert_int_equal(blk_slot_attach(&vm, 2, &d), 0);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(capacity(), SECTORS);
	request(T_IN, 5, 512, true);
	assert_int_equal(status(), 0);
	assert_int_equal(ram[DATA_GPA], 5);
	assert_int_equal(blk_slot_find("hot"), 2);

	assert_int_equal(blk_slot_attach(&vm, 2, &d), -EBUSY);
	assert_int_equal(blk_slot_attach(&vm, 9, &d), -ENODEV);
	/* The image of slot 0 is locked by this VMM: a second user fails. */
	assert_int_equal(blk_slot_attach(&vm, 3, &same), -EBUSY);
	assert_non_null(strstr(fake_last_err, "locked"));
	assert_int_equal(blk_slot_attach(&vm, 3, &missing), -ENOENT);
	assert_non_null(strstr(fake_last_err, "/nonexistent/disk.img"));

	assert_int_equal(blk_slot_detach(&vm, 2), 0);
	assert_int_equal(capacity(), 0);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen + 2);
	assert_int_equal(blk_slot_detach(&vm, 2), -ENOENT);
}

static void lock_blocks_second_vmm(void **state)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(path_rw, O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	/* An OFD lock from another open file (as a second VMM would hold). */
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), -1);
	close(fd);
}

static bool offers_ro(int slot)
{
	use_slot(slot);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << 5);
}

/* VIRTIO_BLK_F_RO follows the disk attached, not the slot's first disk. */
static void readonly_follows_the_hot_plugged_disk(void **state)
{
	struct drive_config rw = {.id = "now-rw", .path = path_extra};
	struct drive_config ro = {.id = "now-ro", .path = path_ro, .readonly = true};

	(void)state;
	assert_true(offers_ro(1)); /* the command line's read-only disk */
	assert_int_equal(blk_slot_detach(&vm, 1), 0);
	assert_false(offers_ro(1)); /* empty, as a slot built empty */
	assert_int_equal(blk_slot_attach(&vm, 1, &rw), 0);
	assert_false(offers_ro(1));
	driver_init(1);
	memset(ram + DATA_GPA, 0x5a, 512);
	request(T_OUT, 0, 512, false);
	assert_int_equal(status(), 0);

	assert_false(offers_ro(2)); /* built empty */
	assert_int_equal(blk_slot_attach(&vm, 2, &ro), 0);
	assert_true(offers_ro(2));
	driver_init(2);
	request(T_OUT, 0, 512, false);
	assert_int_equal(status(), 1); /* IOERR */
	request(T_IN, 3, 512, true);
	assert_int_equal(status(), 0);
	assert_int_equal(ram[DATA_GPA], 3);
	assert_int_equal(blk_slot_detach(&vm, 2), 0);
	assert_false(offers_ro(2));
	assert_int_equal(blk_slot_detach(&vm, 1), 0);
}

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(slots_filled_in_order),
	    T(read_sectors),
	    T(write_sectors),
	    T(sector_past_capacity),
	    T(readonly_refuses_writes),
	    T(get_id),
	    T(unknown_type_unsupported),
	    T(discard_and_write_zeroes),
	    T(header_too_short),
	    T(zero_length_header),
	    T(status_missing),
	    T(malformed_chain),
	    T(one_buffer_framing),
	    T(empty_slot_and_hot_replace),
	    T(lock_blocks_second_vmm),
	    T(readonly_follows_the_hot_plugged_disk),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
