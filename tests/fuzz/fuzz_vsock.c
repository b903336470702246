// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the user-space virtio-vsock's tx packet handling
 * (src/virtio/vsock.c): the input is a sequence of tx buffers the guest
 * posts, each as [u16 length][bytes]; the first byte's low bits pick the
 * source CID, destination CID and type from good values most of the time so
 * the state machine is reached.  A host listener at <uds>_1 accepts
 * guest-initiated connections; rx buffers are always there.  The device is
 * driven through the real virtio-mmio transport with the unit-test fakes.
 *
 * Build by hand (scripts/fuzz.sh does the same):
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     -Itests/unit/virtio tests/fuzz/fuzz_vsock.c tests/unit/virtio/fakes.c \
 *     src/virtio/{vsock,mmio,queue}.c src/machine/memory.c src/util/sockpath.c -o fuzz_vsock
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fakes.h"
#include "virtio/mmio.h"
#include "virtio/vsock.h"

#define RAM_SIZE (2u << 20)
#define QSIZE	 64
#define CID	 3
#define BUFSZ	 8192
#define RX_GPA	 0x20000
#define TX_GPA	 0x100000

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev;
static const uint64_t qbase[3] = {0x1000, 0x4000, 0x7000};
static uint16_t next[3];
static int listen_fd = -1;

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(dev, off, (uint8_t *)&v, 4, true);
}

static void post(int q, uint64_t gpa, uint32_t len, bool write)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + qbase[q]);
	struct virtq_avail *a = (struct virtq_avail *)(ram + qbase[q] + 0x1000);
	uint16_t i = next[q]++ % QSIZE;

	d[i] = (struct virtq_desc){gpa, len, write ? VIRTQ_DESC_F_WRITE : 0, 0};
	a->ring[a->idx % QSIZE] = i;
	a->idx++;
}

static void driver_init(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	memset(ram, 0, 0xa000);
	memset(next, 0, sizeof(next));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (int q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, qbase[q]);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, qbase[q] + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, qbase[q] + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
}

static char dir[] = "/tmp/sv-fuzz-vsock-XXXXXX";
static char uds[64];
static char host_listener[80];

/* libFuzzer ends with exit(): the folder and its two sockets go with it */
static void remove_dir(void)
{
	unlink(host_listener);
	unlink(uds);
	rmdir(dir);
}

static int setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ls;

	ram = calloc(1, RAM_SIZE);
	if (!ram || !mkdtemp(dir))
		return -1;
	atexit(remove_dir);
	snprintf(uds, sizeof(uds), "%s/v", dir);
	snprintf(host_listener, sizeof(host_listener), "%s_1", uds);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", host_listener);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 512))
		return -1;
	listen_fd = ls;
	cfg.has_vsock = true;
	cfg.vsock_cid = CID;
	cfg.vsock_uds = uds;
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	if (fake_find_device("virtio-vsock")->init(&vm))
		return -1;
	dev = fake_bus_find(0xf0100000ULL);
	return dev ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	unsigned n = 0;

	if (!ready) {
		if (setup())
			abort();
		ready = true;
	}
	driver_init(); /* drops the last input's connections */
	for (int fd; (fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0;)
		close(fd);
	for (unsigned i = 0; i < QSIZE / 2; i++)
		post(0, RX_GPA + (uint64_t)i * BUFSZ, i == 7 ? 60 : BUFSZ, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	while (size >= 2 && n < QSIZE / 2) {
		uint32_t len = (data[0] | data[1] << 8) % (BUFSZ + 1);
		uint64_t gpa = TX_GPA + (uint64_t)n * BUFSZ;
		struct vsock_hdr h;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(ram + gpa, data, len);
		if (len >= sizeof(h)) {
			uint8_t sel = data[0];

			memcpy(&h, data, sizeof(h));
			if (sel & 1)
				h.src_cid = CID;
			if (sel & 2)
				h.dst_cid = VSOCK_HOST_CID;
			if (sel & 4)
				h.type = VSOCK_TYPE_STREAM;
			if (sel & 8)
				h.len = len - sizeof(h);
			if (sel & 16)
				h.dst_port = 1;
			h.op = sel & 32 ? h.op % 8 : h.op;
			memcpy(ram + gpa, &h, sizeof(h));
		}
		post(1, gpa, len, false);
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
		fake_loop_run(0);
		data += len;
		size -= len;
		n++;
	}
	fake_loop_run(0);
	return 0;
}
