// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for one virtio device's request handling over arbitrary
 * guest memory, built once per device with -DFUZZ_DEV_BLK, _NET, _CONSOLE,
 * _RNG or _BALLOON.  The device runs behind the real virtio-mmio transport
 * with the unit tests' fakes (tests/unit/virtio/fakes.c); its back end is
 * real (a sparse image file, a random-source file, a chardev socket with a
 * host client) except virtio-net's tap, which is one end of a socketpair
 * (fake_tap.c), so no root or network namespace is needed.
 *
 * Each input starts with a driver reset and a full initialisation (the
 * features acked are the offered ones masked by the first four input bytes),
 * then runs a sequence of operations chosen by one byte each:
 *   0 write bytes anywhere in the first 64 KiB (rings, tables, headers)
 *   1 post a chain of 1..8 descriptors (addresses inside RAM most of the
 *     time, raw 64-bit ones otherwise; any flags, any next) and kick
 *   2 kick a queue
 *   3 write any transport register or config byte, 4 read one
 *   5 run the event loop (completions, back-end input)
 *   6 rewrite a descriptor or the avail index in place
 *   7 back-end input (a frame on the tap, bytes on the console's socket)
 * Nothing the guest writes may crash the VMM or touch memory outside RAM.
 *
 * Build by hand (scripts/fuzz.sh does the same, with the sources per device).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fakes.h"
#include "machine/vm.h"
#include "virtio/mmio.h"

#define RAM_SIZE   (1u << 20)
#define RING_AREA  0x10000 /* queues and free-form writes below this */
#define QSIZE	   16
#define MAX_QUEUES 5
#define MAX_OPS	   256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev;
static unsigned nr_queues;
static uint16_t next_desc[MAX_QUEUES];
static int host_fd = -1; /* the back end's other end: tap peer or console client */

#if defined(FUZZ_DEV_NET)
int fake_tap_peer(void); /* fake_tap.c */
#endif

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint16_t u16(struct input *in)
{
	return (uint16_t)(u8(in) | u8(in) << 8);
}

static uint32_t u32(struct input *in)
{
	return (uint32_t)u16(in) | (uint32_t)u16(in) << 16;
}

static uint64_t u64(struct input *in)
{
	return (uint64_t)u32(in) | (uint64_t)u32(in) << 32;
}

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

static uint64_t qbase(unsigned q)
{
	return 0x1000 + (uint64_t)q * 0x3000;
}

static struct virtq_desc *desc_table(unsigned q)
{
	return (struct virtq_desc *)(ram + qbase(q));
}

static struct virtq_avail *avail_ring(unsigned q)
{
	return (struct virtq_avail *)(ram + qbase(q) + 0x1000);
}

static void driver_init(uint32_t feat_mask_lo)
{
	uint32_t f0, f1;

	wr(VIRTIO_MMIO_STATUS, 0);
	memset(ram, 0, RING_AREA);
	memset(next_desc, 0, sizeof(next_desc));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f0 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f1 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f0 & feat_mask_lo);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nr_queues; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qbase(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)qbase(q) + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)qbase(q) + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* A guest address: inside RAM (above the rings) most of the time. */
static uint64_t pick_addr(struct input *in, uint8_t sel)
{
	if ((sel & 7) == 7)
		return u64(in);
	if ((sel & 7) == 6)
		return (uint64_t)u16(in); /* into the rings themselves */
	return RING_AREA + ((uint64_t)u16(in) << 4) % (RAM_SIZE - RING_AREA);
}

static uint32_t pick_len(struct input *in, uint8_t sel)
{
	if (sel & 0x80)
		return u32(in);
	return u16(in) % 0x2000;
}

static void post_chain(struct input *in)
{
	unsigned q = u8(in) % nr_queues;
	unsigned count = 1 + u8(in) % 8;
	struct virtq_desc *d = desc_table(q);
	struct virtq_avail *a = avail_ring(q);
	uint16_t head = next_desc[q] % QSIZE;

	for (unsigned i = 0; i < count; i++) {
		uint8_t sel = u8(in);
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint16_t flags = sel & 0x08 ? VIRTQ_DESC_F_WRITE : 0;

		d[idx].addr = pick_addr(in, sel);
		d[idx].len = pick_len(in, sel);
		if (i + 1 < count)
			flags |= VIRTQ_DESC_F_NEXT;
		if (sel & 0x10)
			flags ^= VIRTQ_DESC_F_NEXT;
		if (sel & 0x20)
			flags |= VIRTQ_DESC_F_INDIRECT;
		d[idx].flags = flags;
		d[idx].next = sel & 0x40 ? u16(in) : (uint16_t)((idx + 1) % QSIZE);
	}
	next_desc[q] = (uint16_t)(next_desc[q] + count);
	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static void backend_input(struct input *in)
{
	uint8_t buf[2048];
	size_t len = u16(in) % sizeof(buf);

	if (host_fd < 0)
		return;
	if (len > in->n)
		len = in->n;
	memcpy(buf, in->p, len);
	in->p += len;
	in->n -= len;
	if (send(host_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* full: drop what the device has not taken */
	}
}

static void drain_host(void)
{
	uint8_t buf[65536];

	while (host_fd >= 0 && recv(host_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

#if defined(FUZZ_DEV_BLK)
#define DEVICE_NAME "virtio-blk"
static int backend_setup(void)
{
	static char img[] = "/tmp/sv-fuzz-blk-XXXXXX";
	int fd = mkstemp(img);

	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -1;
	close(fd);
	cfg.drives[0] = (struct drive_config){
	    .id = "d0", .path = img, .serial = "FUZZ", .has_device = true, .aio = "off"};
	cfg.nr_drives = 1;
	return 0;
}
#elif defined(FUZZ_DEV_NET)
#define DEVICE_NAME "virtio-net"
static int backend_setup(void)
{
	cfg.nr_nets = 1;
	cfg.nets[0].id = "n0";
	cfg.nets[0].device_id = "net0";
	cfg.nets[0].ifname = "svfuzz0";
	cfg.nets[0].has_device = true;
	for (int i = 0; i < CFG_MAX_FDS; i++)
		cfg.nets[0].fds[i] = cfg.nets[0].vhostfds[i] = -1;
	return 0;
}
#elif defined(FUZZ_DEV_CONSOLE)
#define DEVICE_NAME "virtio-console"
static char sock_path[108];
static int backend_setup(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/sv-fuzz-con-%d.sock", (int)getpid());
	unlink(sock_path);
	cfg.nr_chardevs = 1;
	cfg.chardevs[0] = (struct chardev_config){
	    .id = "c0", .kind = CHR_SOCKET, .path = sock_path, .server = true, .nowait = true};
	cfg.has_virtio_serial = true;
	cfg.nr_consoles = 1;
	cfg.consoles[0] = (struct console_config){.id = "console0", .chardev = "c0"};
	return 0;
}
#elif defined(FUZZ_DEV_RNG)
#define DEVICE_NAME "virtio-rng"
static int backend_setup(void)
{
	cfg.has_rng = true;
	cfg.rng_file = "/dev/urandom";
	cfg.rng_bytes_per_sec = 0;
	return 0;
}
#elif defined(FUZZ_DEV_BALLOON)
#define DEVICE_NAME "virtio-balloon"
static int backend_setup(void)
{
	cfg.has_balloon = true;
	cfg.balloon_deflate_on_oom = true;
	cfg.balloon_free_page_reporting = true;
	return 0;
}
#else
#error "build with one of -DFUZZ_DEV_BLK, _NET, _CONSOLE, _RNG, _BALLOON"
#endif

static int setup(void)
{
	const struct vm_device_ops *ops;

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED || backend_setup())
		return -1;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	vm.mem.memfd = -1;
	ops = fake_find_device(DEVICE_NAME);
	if (!ops || ops->init(&vm) != 0)
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	if (!dev)
		return -1;
	nr_queues = dev->ops->num_queues < MAX_QUEUES ? dev->ops->num_queues : MAX_QUEUES;
#if defined(FUZZ_DEV_NET)
	host_fd = fake_tap_peer();
#elif defined(FUZZ_DEV_CONSOLE)
	{
		struct sockaddr_un addr = {.sun_family = AF_UNIX};

		host_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
		if (host_fd < 0 || connect(host_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return -1;
		fake_loop_run(10); /* accept */
	}
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct input in = {data, size};

	if (!ready) {
		if (setup())
			abort();
		ready = true;
	}
	driver_init(u32(&in));
	for (unsigned ops = 0; in.n && ops < MAX_OPS; ops++) {
		uint8_t op = u8(&in);

		switch (op % 8) {
		case 0: {
			uint16_t off = u16(&in) % RING_AREA;
			size_t len = u8(&in);

			if (len > in.n)
				len = in.n;
			if (len > RING_AREA - off)
				len = RING_AREA - off;
			memcpy(ram + off, in.p, len);
			in.p += len;
			in.n -= len;
			break;
		}
		case 1:
			post_chain(&in);
			break;
		case 2:
			wr(VIRTIO_MMIO_QUEUE_NOTIFY, u8(&in) % (nr_queues + 2));
			break;
		case 3: {
			uint16_t off = u16(&in) % 0x200;
			uint8_t len = (uint8_t)(1u << (u8(&in) % 4));
			uint64_t v = u64(&in);

			virtio_mmio_access(dev, off, (uint8_t *)&v, len, true);
			break;
		}
		case 4: {
			uint16_t off = u16(&in) % 0x200;
			uint8_t len = (uint8_t)(1u << (u8(&in) % 4));
			uint64_t v = 0;

			virtio_mmio_access(dev, off, (uint8_t *)&v, len, false);
			break;
		}
		case 5:
			fake_loop_run(0);
			break;
		case 6: {
			unsigned q = u8(&in) % nr_queues;

			if (u8(&in) & 1) {
				struct virtq_desc *d = &desc_table(q)[u8(&in) % QSIZE];

				d->addr = pick_addr(&in, u8(&in));
				d->len = u32(&in);
				d->flags = u16(&in);
				d->next = u16(&in);
			} else {
				avail_ring(q)->idx = u16(&in);
				wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
			}
			break;
		}
		default:
			backend_input(&in);
			break;
		}
	}
	fake_loop_run(0);
	drain_host();
	return 0;
}
