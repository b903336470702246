// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-net through a real tap: the test moves into its own network
 * namespace, the device creates tap svt-unit<N> there, and an AF_PACKET
 * socket on the tap plays the host side.  Skipped (with the reason) where
 * namespaces or /dev/net/tun are not available.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"
#include "virtio/net.h"

#define RAM_SIZE   (4u << 20)
#define QSIZE	   16
#define RX_DESC	   0x1000
#define RX_AVAIL   0x2000
#define RX_USED	   0x3000
#define TX_DESC	   0x4000
#define TX_AVAIL   0x5000
#define TX_USED	   0x6000
#define RX_BUF	   0x100000 /* RX buffer i at RX_BUF + i * BUF_STRIDE */
#define TX_BUF	   0x300000
#define BUF_STRIDE 0x1000
#define HDR_LEN	   12
#define ETH_TEST   0x88b5 /* local experimental ethertype */
#define FRAME_LEN  60

#define F_MAC	     (1u << 5)
#define F_GUEST_CSUM (1u << 1)
#define F_MRG_RXBUF  (1u << 15)
#define F_STATUS     (1u << 16)

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev, *dev1;
static char ifname[IFNAMSIZ];
static int pkt_fd = -1;
static int ifindex;
static const char *skip_reason;
static uint16_t rx_posted, tx_posted;
static const uint8_t cfg_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static uint32_t rd(struct virtio_dev *d, uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(d, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_access(d, off, (uint8_t *)&v, 4, true);
}

static void cfg_read(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len)
{
	virtio_mmio_access(d, VIRTIO_MMIO_CONFIG + off, buf, len, false);
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
	wr(dev, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(dev, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, d);
	wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, a);
	wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, u);
	wr(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_init(uint32_t features)
{
	memset(ram, 0, TX_BUF);
	rx_posted = tx_posted = 0;
	wr(dev, VIRTIO_MMIO_STATUS, 0);
	wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, features);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(dev, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, RX_DESC, RX_AVAIL, RX_USED);
	setup_queue(1, TX_DESC, TX_AVAIL, TX_USED);
	wr(dev, VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
}

/* One RX chain of one writable buffer of len bytes, filled with 0xaa. */
static void post_rx(uint32_t len, bool kick)
{
	unsigned i = rx_posted % QSIZE;
	uint64_t gpa = RX_BUF + (uint64_t)(rx_posted % 32) * BUF_STRIDE;

	memset(ram + gpa, 0xaa, len);
	*desc(RX_DESC, i) = (struct virtq_desc){gpa, len, VIRTQ_DESC_F_WRITE, 0};
	avail(RX_AVAIL)->ring[i] = i;
	rx_posted++;
	__atomic_store_n(&avail(RX_AVAIL)->idx, rx_posted, __ATOMIC_RELEASE);
	if (kick)
		wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static uint8_t *rx_buf(uint16_t used_i)
{
	uint32_t id = used(RX_USED)->ring[used_i % QSIZE].id;

	return ram + desc(RX_DESC, id)->addr;
}

/* A TX chain: header descriptor then frame descriptor. */
static void post_tx(const uint8_t *frame, uint32_t len, uint32_t hdr_len)
{
	unsigned i = (tx_posted * 2) % QSIZE;
	uint64_t gpa = TX_BUF + (uint64_t)(tx_posted % 32) * BUF_STRIDE;

	memset(ram + gpa, 0, HDR_LEN);
	memcpy(ram + gpa + HDR_LEN, frame, len);
	*desc(TX_DESC, i) = (struct virtq_desc){gpa, hdr_len, VIRTQ_DESC_F_NEXT, i + 1};
	*desc(TX_DESC, i + 1) = (struct virtq_desc){gpa + HDR_LEN, len, 0, 0};
	avail(TX_AVAIL)->ring[tx_posted % QSIZE] = i;
	tx_posted++;
	__atomic_store_n(&avail(TX_AVAIL)->idx, tx_posted, __ATOMIC_RELEASE);
	wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

static void make_frame(uint8_t *f, size_t len, uint8_t seq)
{
	memcpy(f, cfg_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\xaa\xbb\xcc", 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq + i);
}

/* The host side sends a frame out of the tap: the guest receives it. */
static void host_send(uint8_t seq, size_t len)
{
	uint8_t f[2048];
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};

	make_frame(f, len, seq);
	memcpy(to.sll_addr, cfg_mac, 6);
	assert_int_equal(sendto(pkt_fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
}

/* A frame the guest transmitted, as the host sees it arrive on the tap. */
static ssize_t host_recv(uint8_t *buf, size_t len, int timeout_ms)
{
	for (;;) {
		struct pollfd p = {.fd = pkt_fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		n = recvfrom(pkt_fd, buf, len, 0, (struct sockaddr *)&from, &fl);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue; /* our own host_send() */
		return n;
	}
}

static int if_up(const char *name)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_NOARP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	if (s >= 0)
		close(s);
	return ret;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0) {
			/* no IPv6: nothing to quieten */
		}
		close(fd);
	}
}

static int group_setup(void **state)
{
	const struct vm_device_ops *ops;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_TEST)};
	int fd;

	(void)state;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		skip_reason = "/dev/net/tun cannot be opened";
		return 0;
	}
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		skip_reason = "cannot make a network namespace (needs root)";
		return 0;
	}
	/* No IPv6 chatter (router solicitations, MLD) on the test's tap. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	snprintf(ifname, sizeof(ifname), "svt-unit%d", (int)(getpid() % 100000));

	ram = calloc(1, RAM_SIZE);
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nets = 1;
	cfg.nets[0].id = "n0";
	cfg.nets[0].device_id = "net0";
	cfg.nets[0].ifname = ifname;
	cfg.nets[0].has_mac = true;
	memcpy(cfg.nets[0].mac, cfg_mac, 6);
	cfg.nets[0].has_device = true;
	for (int i = 0; i < CFG_MAX_FDS; i++)
		cfg.nets[0].fds[i] = -1;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	ops = fake_find_device("virtio-net");
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	dev1 = fake_bus_find(0xf0100200ULL);
	if (!dev || !dev1)
		return -1;
	ifindex = if_nametoindex(ifname);
	if (!ifindex || if_up(ifname) < 0)
		return -1;
	pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));
	sll.sll_ifindex = ifindex;
	if (pkt_fd < 0 || bind(pkt_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (skip_reason)
		return 0;
	fake_find_device("virtio-net")->exit(&vm);
	/* The tap was not persistent: closing it deleted it. */
	assert_int_equal(if_nametoindex(ifname), 0);
	if (pkt_fd >= 0)
		close(pkt_fd);
	free(ram);
	return 0;
}

#define SKIP_WITHOUT_TUN()                                                                         \
	do {                                                                                       \
		if (skip_reason) {                                                                 \
			print_message("skipped: %s\n", skip_reason);                               \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void drain_host(void)
{
	uint8_t buf[2048];

	while (host_recv(buf, sizeof(buf), 0) >= 0)
		;
}

static void config_and_slots(void **state)
{
	uint8_t mac[6];
	uint16_t status;

	(void)state;
	SKIP_WITHOUT_TUN();
	assert_int_equal(rd(dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_int_equal(net_slot_count(), NET_NR_SLOTS);
	wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(rd(dev, VIRTIO_MMIO_DEVICE_FEATURES) & (F_MAC | F_STATUS | F_MRG_RXBUF));
	cfg_read(dev, 0, mac, 6);
	assert_memory_equal(mac, cfg_mac, 6);
	cfg_read(dev, 6, &status, 2);
	assert_int_equal(status, 1); /* link up */
	/* The empty slot: link down, a random locally administered unicast MAC. */
	cfg_read(dev1, 0, mac, 6);
	assert_int_equal(mac[0] & 3, 2);
	cfg_read(dev1, 6, &status, 2);
	assert_int_equal(status, 0);
	assert_int_equal(net_slot_find("net0"), 0);
	assert_int_equal(net_slot_find("n0"), 0);
	assert_int_equal(net_slot_find("nope"), -ENOENT);
}

static void tx_frames(void **state)
{
	uint8_t f[FRAME_LEN], got[2048];

	(void)state;
	SKIP_WITHOUT_TUN();
	driver_init(F_MAC | F_STATUS);
	drain_host();
	for (int i = 0; i < 3; i++) {
		make_frame(f, sizeof(f), i);
		post_tx(f, sizeof(f), HDR_LEN);
	}
	fake_loop_run(0);
	assert_int_equal(used(TX_USED)->idx, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(used(TX_USED)->ring[i].len, 0);
		assert_int_equal(host_recv(got, sizeof(got), 1000), FRAME_LEN);
		make_frame(f, sizeof(f), i);
		assert_memory_equal(got, f, FRAME_LEN); /* header stripped by the tap */
	}
	assert_int_equal(host_recv(got, sizeof(got), 50), -1); /* no duplicates */
}

static void rx_frames_and_header(void **state)
{
	uint8_t f[FRAME_LEN];

	(void)state;
	SKIP_WITHOUT_TUN();
	driver_init(F_MAC | F_STATUS | F_GUEST_CSUM);
	for (int i = 0; i < 4; i++)
		post_rx(1526, i == 3);
	fake_loop_run(0);
	host_send(1, FRAME_LEN);
	host_send(2, FRAME_LEN);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 2);
	for (int i = 0; i < 2; i++) {
		uint8_t *b = rx_buf(i);
		uint16_t nb;

		assert_int_equal(used(RX_USED)->ring[i].len, HDR_LEN + FRAME_LEN);
		assert_int_equal(b[0], 0); /* flags */
		assert_int_equal(b[1], 0); /* gso_type NONE */
		memcpy(&nb, b + 10, 2);
		assert_int_equal(nb, 1); /* num_buffers, was 0xaaaa */
		make_frame(f, sizeof(f), i + 1);
		assert_memory_equal(b + HDR_LEN, f, FRAME_LEN);
	}
}

static void rx_waits_for_buffers(void **state)
{
	uint8_t f[FRAME_LEN];

	(void)state;
	SKIP_WITHOUT_TUN();
	driver_init(F_MAC | F_STATUS);
	/* No RX buffers: the frames stay in the tap, the tap is not polled. */
	for (int i = 0; i < 3; i++)
		host_send(10 + i, FRAME_LEN);
	assert_int_equal(fake_loop_run(50) < 5, true);
	assert_int_equal(used(RX_USED)->idx, 0);
	/* One buffer: exactly one frame, then the device waits again. */
	post_rx(1526, true);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 1);
	post_rx(1526, false);
	post_rx(1526, false);
	post_rx(1526, true);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 3);
	for (int i = 0; i < 3; i++) {
		make_frame(f, sizeof(f), 10 + i);
		assert_memory_equal(rx_buf(i) + HDR_LEN, f, FRAME_LEN);
	}
	/* The fourth buffer stays free: nothing lost, nothing duplicated. */
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 3);
	host_send(13, FRAME_LEN);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 4);
}

static void rx_merged_buffers(void **state)
{
	uint8_t f[400], got[400 + HDR_LEN];
	size_t off = 0;
	uint16_t nb;

	(void)state;
	SKIP_WITHOUT_TUN();
	driver_init(F_MAC | F_STATUS | F_MRG_RXBUF);
	/* 12 + 300 bytes need three 128-byte buffers; two are not enough. */
	post_rx(128, false);
	post_rx(128, true);
	host_send(7, 300);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 0);
	post_rx(128, false);
	post_rx(128, true);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 3);
	for (int i = 0; i < 3; i++) {
		uint32_t len = used(RX_USED)->ring[i].len;

		memcpy(got + off, rx_buf(i), len);
		off += len;
	}
	assert_int_equal(off, HDR_LEN + 300);
	memcpy(&nb, got + 10, 2);
	assert_int_equal(nb, 3);
	make_frame(f, 300, 7);
	assert_memory_equal(got + HDR_LEN, f, 300);
	/* The fourth buffer takes the next frame alone. */
	host_send(8, FRAME_LEN);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 4);
	memcpy(&nb, rx_buf(3) + 10, 2);
	assert_int_equal(nb, 1);
}

static void malformed_chains_need_reset(void **state)
{
	uint8_t f[FRAME_LEN];

	(void)state;
	SKIP_WITHOUT_TUN();
	/* TX header shorter than virtio_net_hdr_v1 */
	driver_init(F_MAC | F_STATUS);
	make_frame(f, sizeof(f), 0);
	post_tx(f, 0, 10);
	fake_loop_run(0);
	assert_true(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(fake_last_err, "virtio-net"));

	/* An RX buffer the device could only read */
	driver_init(F_MAC | F_STATUS);
	assert_false(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	*desc(RX_DESC, 0) = (struct virtq_desc){RX_BUF, 1526, 0, 0};
	avail(RX_AVAIL)->ring[0] = 0;
	avail(RX_AVAIL)->idx = 1;
	wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_true(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	/* A descriptor outside guest RAM */
	driver_init(F_MAC | F_STATUS);
	*desc(RX_DESC, 0) = (struct virtq_desc){RAM_SIZE, 1526, VIRTQ_DESC_F_WRITE, 0};
	avail(RX_AVAIL)->ring[0] = 0;
	avail(RX_AVAIL)->idx = 1;
	wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fake_loop_run(0);
	assert_true(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	/* A reset brings the NIC back: frames flow again. */
	driver_init(F_MAC | F_STATUS);
	post_rx(1526, true);
	host_send(20, FRAME_LEN);
	fake_loop_run(50);
	assert_int_equal(used(RX_USED)->idx, 1);
}

static void slot_attach_detach(void **state)
{
	struct net_config nc = {.id = "n1", .device_id = "net1", .nr_fds = 1};
	struct ifreq ifr = {0};
	uint32_t gen;
	uint16_t status;
	uint8_t mac[6];
	int tap, plain, null_fd;

	(void)state;
	SKIP_WITHOUT_TUN();
	for (int i = 0; i < CFG_MAX_FDS; i++)
		nc.fds[i] = -1;
	/* An inherited tap fd (fds=N) */
	tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(tap >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "svt-unitfd%d", (int)(getpid() % 10000));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	assert_int_equal(ioctl(tap, TUNSETIFF, &ifr), 0);
	nc.fds[0] = tap;
	nc.has_mac = true;
	memcpy(nc.mac, "\x52\x54\x00\x00\x00\x02", 6);
	gen = rd(dev1, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(net_slot_attach(&vm, 1, &nc), 0);
	assert_int_equal(rd(dev1, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	cfg_read(dev1, 6, &status, 2);
	assert_int_equal(status, 1);
	cfg_read(dev1, 0, mac, 6);
	assert_memory_equal(mac, nc.mac, 6);
	assert_int_equal(net_slot_find("net1"), 1);
	assert_int_equal(net_slot_attach(&vm, 1, &nc), -EBUSY);
	assert_int_equal(net_slot_attach(&vm, 0, &nc), -EBUSY);
	assert_int_equal(net_slot_attach(&vm, 7, &nc), -ENODEV);
	assert_int_equal(net_slot_detach(&vm, 1), 0);
	assert_int_equal(rd(dev1, VIRTIO_MMIO_CONFIG_GENERATION), gen + 2);
	cfg_read(dev1, 6, &status, 2);
	assert_int_equal(status, 0);
	assert_int_equal(net_slot_detach(&vm, 1), -ENOENT);
	assert_int_equal(net_slot_find("net1"), -ENOENT);

	/* Not a tap: one line naming the option and the value */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	nc.fds[0] = null_fd;
	assert_int_equal(net_slot_attach(&vm, 1, &nc), -ENOTTY);
	assert_non_null(strstr(fake_last_err, "netdev 'n1': fds="));
	assert_non_null(strstr(fake_last_err, "not a tap"));
	close(null_fd);

	/* A tap opened without IFF_VNET_HDR */
	plain = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "svt-unitpl%d", (int)(getpid() % 10000));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	assert_int_equal(ioctl(plain, TUNSETIFF, &ifr), 0);
	nc.fds[0] = plain;
	assert_int_equal(net_slot_attach(&vm, 1, &nc), -EPFNOSUPPORT);
	assert_non_null(strstr(fake_last_err, "IFF_VNET_HDR"));
	close(plain);

	/* Tap names: too long, and a name that is not a tap */
	nc.nr_fds = 0;
	nc.fds[0] = -1;
	nc.ifname = "a-tap-name-far-too-long";
	assert_int_equal(net_slot_attach(&vm, 1, &nc), -EINVAL);
	assert_non_null(strstr(fake_last_err, "a-tap-name-far-too-long"));
	nc.ifname = "lo";
	assert_true(net_slot_attach(&vm, 1, &nc) < 0);
	assert_non_null(strstr(fake_last_err, "tap 'lo'"));
	cfg_read(dev1, 6, &status, 2);
	assert_int_equal(status, 0);
}

static void empty_slot_drops_tx_link_down(void **state)
{
	uint8_t f[FRAME_LEN];
	struct virtio_dev *saved = dev;

	(void)state;
	SKIP_WITHOUT_TUN();
	/* The guest may still transmit on a NIC without a tap: used, not stuck. */
	wr(dev, VIRTIO_MMIO_STATUS, 0);
	dev = dev1;
	driver_init(F_MAC | F_STATUS);
	make_frame(f, sizeof(f), 0);
	post_tx(f, sizeof(f), HDR_LEN);
	fake_loop_run(0);
	assert_int_equal(used(TX_USED)->idx, 1);
	wr(dev, VIRTIO_MMIO_STATUS, 0);
	dev = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_and_slots),	    cmocka_unit_test(tx_frames),
	    cmocka_unit_test(rx_frames_and_header), cmocka_unit_test(rx_waits_for_buffers),
	    cmocka_unit_test(rx_merged_buffers),    cmocka_unit_test(malformed_chains_need_reset),
	    cmocka_unit_test(slot_attach_detach),   cmocka_unit_test(empty_slot_drops_tx_link_down),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
