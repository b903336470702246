// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The user-space virtio-vsock (src/virtio/vsock.c) driven through its queues
 * in fake guest RAM, with real unix sockets on the host side: every op,
 * credit limits both ways, malformed packets, the RST ring bound, timeouts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"
#include "virtio/vsock.h"

#define RAM_SIZE (4u << 20)
#define QSIZE	 128
#define CID	 3
#define RXBUF	 (44 + 4096)
#define RX_GPA	 0x100000 /* rx buffers */
#define TX_GPA	 0x300000 /* tx buffers */
#define HP	 VSOCK_HOST_PORT_FIRST

struct q {
	uint64_t desc, avail, used;
	uint16_t next, seen;
};

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev;
static char dir[32], uds[64];
static struct q qs[3] = {
    {0x1000, 0x2000, 0x3000, 0, 0},
    {0x4000, 0x5000, 0x6000, 0, 0},
    {0x7000, 0x8000, 0x9000, 0, 0},
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

static struct virtq_desc *desc(int q, unsigned i)
{
	return (struct virtq_desc *)(ram + qs[q].desc) + i;
}

static struct virtq_avail *avail(int q)
{
	return (struct virtq_avail *)(ram + qs[q].avail);
}

static struct virtq_used *used(int q)
{
	return (struct virtq_used *)(ram + qs[q].used);
}

static void driver_init(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	memset(ram, 0, 0x10000);
	for (int q = 0; q < 3; q++)
		qs[q].next = qs[q].seen = 0;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (int q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, qs[q].desc);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, qs[q].avail);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, qs[q].used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
}

static void post(int q, uint64_t gpa, uint32_t len, bool write)
{
	uint16_t d = qs[q].next++ % QSIZE;

	*desc(q, d) = (struct virtq_desc){gpa, len, write ? VIRTQ_DESC_F_WRITE : 0, 0};
	avail(q)->ring[avail(q)->idx % QSIZE] = d;
	avail(q)->idx++;
}

static void rx_post(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = qs[0].next % QSIZE;

		post(0, RX_GPA + (uint64_t)d * RXBUF, RXBUF, true);
	}
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
}

static void run(void)
{
	for (int i = 0; i < 5; i++)
		fake_loop_run(i ? 5 : 0);
}

/* Guest sends h + payload in one buffer of buflen bytes. */
static void tx_raw(const struct vsock_hdr *h, const void *data, uint32_t len, uint32_t buflen)
{
	uint16_t d = qs[1].next % QSIZE;
	uint64_t gpa = TX_GPA + (uint64_t)d * RXBUF;

	memcpy(ram + gpa, h, sizeof(*h));
	if (len)
		memcpy(ram + gpa + sizeof(*h), data, len);
	post(1, gpa, buflen, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	run();
}

static struct vsock_hdr mk(uint32_t sport, uint32_t dport, uint16_t op, uint32_t len)
{
	return (struct vsock_hdr){CID, VSOCK_HOST_CID, sport, dport, len, VSOCK_TYPE_STREAM, op,
				  0,   65536,	       0};
}

static void tx(uint32_t sport, uint32_t dport, uint16_t op, const void *data, uint32_t len)
{
	struct vsock_hdr h = mk(sport, dport, op, len);

	tx_raw(&h, data, len, sizeof(h) + len);
}

/* Next packet the device put in rx: false when none. */
static bool rx_get(struct vsock_hdr *h, void *data)
{
	struct virtq_used_elem e;

	run();
	if (used(0)->idx == qs[0].seen)
		return false;
	e = used(0)->ring[qs[0].seen++ % QSIZE];
	memcpy(h, ram + RX_GPA + (uint64_t)e.id * RXBUF, sizeof(*h));
	assert_int_equal(e.len, sizeof(*h) + h->len);
	if (data)
		memcpy(data, ram + RX_GPA + (uint64_t)e.id * RXBUF + sizeof(*h), h->len);
	rx_post(1);
	return true;
}

static void expect(uint16_t op, uint32_t sport, uint32_t dport, struct vsock_hdr *out)
{
	struct vsock_hdr h;

	assert_true(rx_get(&h, NULL));
	assert_int_equal(h.op, op);
	assert_int_equal(h.src_port, sport);
	assert_int_equal(h.dst_port, dport);
	assert_int_equal(h.dst_cid, CID);
	assert_int_equal(h.type, VSOCK_TYPE_STREAM);
	if (out)
		*out = h;
}

static int host_sock(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {2, 0};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int host_listen(uint32_t port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", uds, port);
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int group_setup(void **state)
{
	const struct vm_device_ops *ops;

	(void)state;
	ram = calloc(1, RAM_SIZE);
	strcpy(dir, "/tmp/sv-vsock-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.has_vsock = true;
	cfg.vsock_cid = CID;
	cfg.vsock_uds = uds;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	ops = fake_find_device("virtio-vsock");
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	return dev ? 0 : -1;
}

static int group_teardown(void **state)
{
	char p[96];

	(void)state;
	fake_find_device("virtio-vsock")->exit(&vm);
	for (unsigned port = 5000; port < 5010; port++) {
		snprintf(p, sizeof(p), "%s_%u", uds, port);
		unlink(p);
	}
	assert_int_equal(access(uds, F_OK), -1); /* the device removed its socket */
	rmdir(dir);
	free(ram);
	return 0;
}

static void not_configured(void **state)
{
	struct vm_config none = {0};
	struct vm v = {.cfg = &none};

	(void)state;
	assert_int_equal(fake_find_device("virtio-vsock")->init(&v), 1);
}

static void device_and_config(void **state)
{
	uint64_t cid = 0;

	(void)state;
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG, (uint8_t *)&cid, 8, false);
	assert_int_equal(cid, CID);
	assert_int_equal(access(uds, F_OK), 0);
}

/* CONNECT, REQUEST/RESPONSE, OK line, data both ways, guest SHUTDOWN -> RST. */
static void host_initiated(void **state)
{
	struct vsock_hdr h;
	char buf[64] = {0};
	int fd;

	(void)state;
	driver_init();
	rx_post(8);
	fd = host_sock(uds);
	assert_int_equal(write(fd, "Connect 1024\nhello", 18), 18);
	expect(VSOCK_OP_REQUEST, HP, 1024, &h);
	assert_int_equal(h.src_cid, VSOCK_HOST_CID);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	tx(1024, HP, VSOCK_OP_RESPONSE, NULL, 0);
	assert_int_equal(read(fd, buf, 14), 14);
	assert_memory_equal(buf, "OK 1073741824\n", 14);
	/* bytes after the CONNECT line were kept for the guest */
	assert_true(rx_get(&h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "hello", 5);
	tx(1024, HP, VSOCK_OP_RW, "world", 5);
	assert_int_equal(read(fd, buf, 5), 5);
	assert_memory_equal(buf, "world", 5);
	/* credit request -> credit update carrying what was forwarded */
	tx(1024, HP, VSOCK_OP_CREDIT_REQUEST, NULL, 0);
	expect(VSOCK_OP_CREDIT_UPDATE, HP, 1024, &h);
	assert_int_equal(h.fwd_cnt, 5);
	/* host half-close -> SHUTDOWN(SEND) */
	shutdown(fd, SHUT_WR);
	expect(VSOCK_OP_SHUTDOWN, HP, 1024, &h);
	assert_int_equal(h.flags, VSOCK_SHUTDOWN_SEND);
	/* guest shuts both ways -> RST, host sees the end */
	h = mk(1024, HP, VSOCK_OP_SHUTDOWN, 0);
	h.flags = VSOCK_SHUTDOWN_SEND | VSOCK_SHUTDOWN_RCV;
	tx_raw(&h, NULL, 0, sizeof(h));
	expect(VSOCK_OP_RST, HP, 1024, NULL);
	assert_int_equal(read(fd, buf, 1), 0);
	close(fd);
	/* a second connection gets the next port */
	fd = host_sock(uds);
	assert_int_equal(write(fd, "CONNECT 1024\n", 13), 13);
	expect(VSOCK_OP_REQUEST, HP + 1, 1024, NULL);
	/* guest refuses: the host socket is closed without an OK */
	tx(1024, HP + 1, VSOCK_OP_RST, NULL, 0);
	assert_int_equal(read(fd, buf, 1), 0);
	close(fd);
	assert_false(rx_get(&h, NULL));
}

static void bad_connect_lines(void **state)
{
	static const char *const lines[] = {
	    "CONNECT\n", "CONNECT x\n",	   "CONNECT 4294967296\n",
	    "HELLO 1\n", "CONNECT 12 3\n", "CONNECT 1234567890123456789012345"};
	struct vsock_hdr h;
	char c;

	(void)state;
	driver_init();
	rx_post(8);
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fd = host_sock(uds);

		assert_int_equal(write(fd, lines[i], strlen(lines[i])), (ssize_t)strlen(lines[i]));
		run();
		assert_true(read(fd, &c, 1) <= 0);
		close(fd);
	}
	assert_false(rx_get(&h, NULL));
}

static void guest_initiated(void **state)
{
	struct vsock_hdr h;
	char buf[16];
	int ls, fd;

	(void)state;
	driver_init();
	rx_post(8);
	ls = host_listen(5000);
	tx(40000, 5000, VSOCK_OP_REQUEST, NULL, 0);
	expect(VSOCK_OP_RESPONSE, 5000, 40000, NULL);
	fd = accept(ls, NULL, NULL);
	assert_true(fd >= 0);
	tx(40000, 5000, VSOCK_OP_RW, "ping", 4);
	assert_int_equal(read(fd, buf, 4), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(write(fd, "pong", 4), 4);
	assert_true(rx_get(&h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_memory_equal(buf, "pong", 4);
	/* the same ports again: refused, the first stays */
	tx(40000, 5000, VSOCK_OP_REQUEST, NULL, 0);
	expect(VSOCK_OP_RST, 5000, 40000, NULL);
	/* nobody at 5001 */
	tx(40001, 5001, VSOCK_OP_REQUEST, NULL, 0);
	expect(VSOCK_OP_RST, 5001, 40001, NULL);
	/* host closes: the guest gets SHUTDOWN, then its RST ends it */
	close(fd);
	expect(VSOCK_OP_SHUTDOWN, 5000, 40000, NULL);
	tx(40000, 5000, VSOCK_OP_RST, NULL, 0);
	tx(40000, 5000, VSOCK_OP_RW, "x", 1);
	expect(VSOCK_OP_RST, 5000, 40000, NULL);
	close(ls);
}

/* The guest may not send beyond buf_alloc; a host that does not read costs VSOCK_BUF_ALLOC. */
static void guest_credit_enforced(void **state)
{
	static uint8_t chunk[4096];
	struct vsock_hdr h;
	uint64_t sent = 0;
	int ls, fd, sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);

	(void)state;
	driver_init();
	rx_post(8);
	ls = host_listen(5002);
	tx(40002, 5002, VSOCK_OP_REQUEST, NULL, 0);
	expect(VSOCK_OP_RESPONSE, 5002, 40002, NULL);
	fd = accept(ls, NULL, NULL);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
	/* credit updates may come first; the connection ends with RST */
	h.op = 0;
	while (h.op != VSOCK_OP_RST && sent < 64u << 20) {
		tx(40002, 5002, VSOCK_OP_RW, chunk, sizeof(chunk));
		sent += sizeof(chunk);
		while (rx_get(&h, NULL) && h.op != VSOCK_OP_RST)
			assert_int_equal(h.op, VSOCK_OP_CREDIT_UPDATE);
	}
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_true(sent > VSOCK_BUF_ALLOC);
	assert_true(sent <= VSOCK_BUF_ALLOC + 4u * (unsigned)sndbuf + 2 * sizeof(chunk));
	close(fd);
	close(ls);
}

/* Host -> guest stops at the guest's credit and resumes on CREDIT_UPDATE. */
static void host_credit_respected(void **state)
{
	static char big[1000];
	struct vsock_hdr h;
	uint32_t got = 0;
	int ls, fd;

	(void)state;
	driver_init();
	rx_post(8);
	ls = host_listen(5003);
	h = mk(40003, 5003, VSOCK_OP_REQUEST, 0);
	h.buf_alloc = 100;
	tx_raw(&h, NULL, 0, sizeof(h));
	expect(VSOCK_OP_RESPONSE, 5003, 40003, NULL);
	fd = accept(ls, NULL, NULL);
	assert_int_equal(write(fd, big, sizeof(big)), sizeof(big));
	while (rx_get(&h, NULL))
		got += h.len;
	assert_int_equal(got, 100);
	h = mk(40003, 5003, VSOCK_OP_CREDIT_UPDATE, 0);
	h.buf_alloc = 100;
	h.fwd_cnt = 100;
	tx_raw(&h, NULL, 0, sizeof(h));
	while (rx_get(&h, NULL))
		got += h.len;
	assert_int_equal(got, 200);
	close(fd);
	close(ls);
}

static void malformed_packets(void **state)
{
	struct vsock_hdr h;

	(void)state;
	driver_init();
	rx_post(16);
	/* no connection */
	tx(41000, 4242, VSOCK_OP_RW, "x", 1);
	expect(VSOCK_OP_RST, 4242, 41000, NULL);
	/* an RST is never answered */
	tx(41000, 4242, VSOCK_OP_RST, NULL, 0);
	assert_false(rx_get(&h, NULL));
	/* wrong type */
	h = mk(41001, 5004, VSOCK_OP_REQUEST, 0);
	h.type = 2;
	tx_raw(&h, NULL, 0, sizeof(h));
	expect(VSOCK_OP_RST, 5004, 41001, NULL);
	/* wrong destination CID: RST from that CID */
	h = mk(41002, 5004, VSOCK_OP_REQUEST, 0);
	h.dst_cid = 7;
	tx_raw(&h, NULL, 0, sizeof(h));
	expect(VSOCK_OP_RST, 5004, 41002, &h);
	assert_int_equal(h.src_cid, 7);
	/* foreign source CID: dropped */
	h = mk(41003, 5004, VSOCK_OP_REQUEST, 0);
	h.src_cid = 99;
	tx_raw(&h, NULL, 0, sizeof(h));
	assert_false(rx_get(&h, NULL));
	/* unknown op, payload on a non-RW op, len beyond the buffer */
	tx(41004, 4242, 99, NULL, 0);
	expect(VSOCK_OP_RST, 4242, 41004, NULL);
	tx(41005, 4242, VSOCK_OP_CREDIT_UPDATE, "abc", 3);
	expect(VSOCK_OP_RST, 4242, 41005, NULL);
	h = mk(41006, 4242, VSOCK_OP_RW, 5000);
	tx_raw(&h, "abcd", 4, sizeof(h) + 4);
	expect(VSOCK_OP_RST, 4242, 41006, NULL);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* shorter than a header: NEEDS_RESET, then a reset brings it back */
	tx_raw(&h, NULL, 0, 20);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	driver_init();
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	rx_post(2);
	tx(41007, 4242, VSOCK_OP_RW, NULL, 0);
	expect(VSOCK_OP_RST, 4242, 41007, NULL);
	/* an rx buffer too small for a header: NEEDS_RESET */
	driver_init();
	post(0, RX_GPA, 10, true);
	tx(41008, 4242, VSOCK_OP_RW, NULL, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	run();
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

/* Without rx buffers, RSTs wait in a 64-entry ring and tx stops there. */
static void rst_ring_bounded(void **state)
{
	struct vsock_hdr h;
	unsigned rsts = 0;

	(void)state;
	driver_init();
	for (unsigned i = 0; i < 100; i++) {
		h = mk(42000 + i, 4242, VSOCK_OP_RW, 0);
		memcpy(ram + TX_GPA + (uint64_t)i * RXBUF, &h, sizeof(h));
		post(1, TX_GPA + (uint64_t)i * RXBUF, sizeof(h), false);
	}
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	run();
	assert_int_equal(used(1)->idx, 64);
	rx_post(120);
	run();
	assert_int_equal(used(1)->idx, 100);
	while (rx_get(&h, NULL)) {
		assert_int_equal(h.op, VSOCK_OP_RST);
		assert_int_equal(h.dst_port, 42000 + rsts);
		rsts++;
	}
	assert_int_equal(rsts, 100);
}

/* A REQUEST the guest never answers: host closed, guest RST, after ~2 s. */
static void connect_timeout(void **state)
{
	struct timespec t0, t1;
	struct vsock_hdr h;
	char c;
	int fd;

	(void)state;
	driver_init();
	rx_post(8);
	fd = host_sock(uds);
	assert_int_equal(write(fd, "CONNECT 1024\n", 13), 13);
	assert_true(rx_get(&h, NULL));
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		fake_loop_run(50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (used(0)->idx == qs[0].seen && t1.tv_sec - t0.tv_sec < 5);
	expect(VSOCK_OP_RST, h.src_port, 1024, NULL);
	assert_true(t1.tv_sec - t0.tv_sec >= 1 && t1.tv_sec - t0.tv_sec <= 3);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
}

/* A driver reset drops every connection. */
static void reset_drops_connections(void **state)
{
	struct vsock_hdr h;
	char c;
	int ls, fd;

	(void)state;
	driver_init();
	rx_post(8);
	ls = host_listen(5005);
	tx(43000, 5005, VSOCK_OP_REQUEST, NULL, 0);
	expect(VSOCK_OP_RESPONSE, 5005, 43000, NULL);
	fd = accept(ls, NULL, NULL);
	driver_init();
	assert_int_equal(read(fd, &c, 1), 0);
	rx_post(2);
	tx(43000, 5005, VSOCK_OP_RW, "x", 1);
	expect(VSOCK_OP_RST, 5005, 43000, &h);
	close(fd);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(not_configured),	       cmocka_unit_test(device_and_config),
	    cmocka_unit_test(host_initiated),	       cmocka_unit_test(bad_connect_lines),
	    cmocka_unit_test(guest_initiated),	       cmocka_unit_test(guest_credit_enforced),
	    cmocka_unit_test(host_credit_respected),   cmocka_unit_test(malformed_packets),
	    cmocka_unit_test(rst_ring_bounded),	       cmocka_unit_test(connect_timeout),
	    cmocka_unit_test(reset_drops_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
