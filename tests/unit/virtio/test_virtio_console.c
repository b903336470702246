// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-console on a real unix-socket chardev (server, nowait): guest
 * output reaches the client, client input reaches the guest, input waits
 * while the guest has no buffers, and bad chains put the device in
 * NEEDS_RESET.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"

#define RAM_SIZE   (1u << 20)
#define QSIZE	   16
#define RX_DESC	   0x1000
#define RX_AVAIL   0x2000
#define RX_USED	   0x3000
#define TX_DESC	   0x4000
#define TX_AVAIL   0x5000
#define TX_USED	   0x6000
#define RX_BUF	   0x10000
#define TX_BUF	   0x80000
#define BUF_STRIDE 0x1000

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev;
static char sock_path[64];
static int client = -1;
static uint16_t rx_posted, tx_posted;

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, true);
}

static struct virtq_desc *desc(uint64_t table, unsigned i)
{
	return (struct virtq_desc *)(ram + table) + i;
}

static struct virtq_avail *avail(uint64_t gpa)
{
	return (struct virtq_avail *)(ram + gpa);
}

static struct virtq_used *used(uint64_t gpa)
{
	return (struct virtq_used *)(ram + gpa);
}

static void setup_queue(unsigned q, uint64_t d, uint64_t a, uint64_t u)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, d);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, a);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, u);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_init(void)
{
	memset(ram, 0, RAM_SIZE);
	rx_posted = tx_posted = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, RX_DESC, RX_AVAIL, RX_USED);
	setup_queue(1, TX_DESC, TX_AVAIL, TX_USED);
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
}

static void post_rx(uint32_t len)
{
	unsigned i = rx_posted % QSIZE;

	*desc(RX_DESC, i) =
	    (struct virtq_desc){RX_BUF + (uint64_t)i * BUF_STRIDE, len, VIRTQ_DESC_F_WRITE, 0};
	avail(RX_AVAIL)->ring[i] = i;
	rx_posted++;
	__atomic_store_n(&avail(RX_AVAIL)->idx, rx_posted, __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void post_tx(const char *s)
{
	unsigned i = tx_posted % QSIZE;
	uint64_t gpa = TX_BUF + (uint64_t)i * BUF_STRIDE;

	memcpy(ram + gpa, s, strlen(s));
	*desc(TX_DESC, i) = (struct virtq_desc){gpa, (uint32_t)strlen(s), 0, 0};
	avail(TX_AVAIL)->ring[i] = i;
	tx_posted++;
	__atomic_store_n(&avail(TX_AVAIL)->idx, tx_posted, __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

static ssize_t client_read(void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = {.fd = client, .events = POLLIN};

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	return read(client, buf, len);
}

static int group_setup(void **state)
{
	const struct vm_device_ops *ops;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	(void)state;
	ram = calloc(1, RAM_SIZE);
	snprintf(sock_path, sizeof(sock_path), "/tmp/sv-con-%d.sock", (int)getpid());
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_chardevs = 1;
	cfg.chardevs[0] = (struct chardev_config){
	    .id = "c0", .kind = CHR_SOCKET, .path = sock_path, .server = true, .nowait = true};
	cfg.has_virtio_serial = true;
	cfg.nr_consoles = 1;
	cfg.consoles[0] = (struct console_config){.id = "console0", .chardev = "c0"};
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	ops = fake_find_device("virtio-console");
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	if (!dev)
		return -1;
	/* The host side: a client on the chardev's socket. */
	client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, sock_path);
	if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	fake_loop_run(10); /* accept */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_find_device("virtio-console")->exit(&vm);
	assert_int_equal(access(sock_path, F_OK), -1); /* socket removed */
	close(client);
	free(ram);
	return 0;
}

static void not_configured(void **state)
{
	struct vm_config none = {0};
	struct vm v = {.cfg = &none};

	(void)state;
	assert_int_equal(fake_find_device("virtio-console")->init(&v), 1);
}

static void device_identity(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES) & 0x7, 0); /* no SIZE/MULTIPORT */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void guest_output_to_client(void **state)
{
	char buf[64] = {0};
	size_t got = 0;

	(void)state;
	driver_init();
	post_tx("hello, ");
	post_tx("host\n");
	fake_loop_run(0);
	assert_int_equal(used(TX_USED)->idx, 2);
	while (got < 12) {
		ssize_t n = client_read(buf + got, sizeof(buf) - got - 1, 1000);

		assert_true(n > 0);
		got += n;
	}
	assert_string_equal(buf, "hello, host\n");
}

static void client_input_to_guest(void **state)
{
	(void)state;
	driver_init();
	post_rx(64);
	fake_loop_run(0);
	assert_int_equal(write(client, "abc", 3), 3);
	fake_loop_run(20);
	assert_int_equal(used(RX_USED)->idx, 1);
	assert_int_equal(used(RX_USED)->ring[0].len, 3);
	assert_memory_equal(ram + RX_BUF, "abc", 3);
}

static void input_waits_for_buffers(void **state)
{
	enum { TOTAL = 10000 };
	static uint8_t sent[TOTAL], got[TOTAL];
	size_t off = 0, w = 0;
	uint16_t seen = 0;

	(void)state;
	driver_init();
	for (size_t i = 0; i < TOTAL; i++)
		sent[i] = (uint8_t)(i * 7 + i / 251);
	fcntl(client, F_SETFL, O_NONBLOCK);
	while (w < TOTAL) {
		ssize_t n = write(client, sent + w, TOTAL - w);

		if (n <= 0)
			break;
		w += n;
	}
	assert_int_equal(w, TOTAL);
	/* No buffers: the device buffers what fits, then stops reading. */
	assert_true(fake_loop_run(20) < 40);
	assert_int_equal(used(RX_USED)->idx, 0);
	/* Buffers of 1000 bytes, one at a time: every byte once, in order. */
	for (int round = 0; round < 30 && off < TOTAL; round++) {
		post_rx(1000);
		fake_loop_run(10);
		while (seen != used(RX_USED)->idx) {
			struct virtq_used_elem *e = &used(RX_USED)->ring[seen % QSIZE];

			assert_true(off + e->len <= TOTAL);
			memcpy(got + off, ram + desc(RX_DESC, e->id)->addr, e->len);
			off += e->len;
			seen++;
		}
	}
	assert_int_equal(off, TOTAL);
	assert_memory_equal(got, sent, TOTAL);
}

static void malformed_chains_need_reset(void **state)
{
	(void)state;
	/* A transmit buffer the device would write */
	driver_init();
	*desc(TX_DESC, 0) = (struct virtq_desc){TX_BUF, 16, VIRTQ_DESC_F_WRITE, 0};
	avail(TX_AVAIL)->ring[0] = 0;
	avail(TX_AVAIL)->idx = 1;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	fake_loop_run(0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(fake_last_err, "virtio-console"));

	/* A receive buffer the device could only read, once there is input */
	driver_init();
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	*desc(RX_DESC, 0) = (struct virtq_desc){RX_BUF, 16, 0, 0};
	avail(RX_AVAIL)->ring[0] = 0;
	avail(RX_AVAIL)->idx = 1;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(write(client, "x", 1), 1);
	fake_loop_run(20);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	/* After a reset the buffered byte still arrives. */
	driver_init();
	post_rx(16);
	fake_loop_run(10);
	assert_int_equal(used(RX_USED)->idx, 1);
	assert_int_equal(used(RX_USED)->ring[0].len, 1);
	assert_int_equal(ram[RX_BUF], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(not_configured),
	    cmocka_unit_test(device_identity),
	    cmocka_unit_test(guest_output_to_client),
	    cmocka_unit_test(client_input_to_guest),
	    cmocka_unit_test(input_waits_for_buffers),
	    cmocka_unit_test(malformed_chains_need_reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
