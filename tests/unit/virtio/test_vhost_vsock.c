// SPDX-License-Identifier: MulanPSL-2.0
/*
 * vhost-vsock-device (src/virtio/vhost_vsock.c) against a fake kernel: the
 * device is pointed at /dev/null and ioctl() is replaced here, so every
 * vhost request the VMM makes is recorded and answered.  Checks the set-up
 * sequence (owner, features, CID; at DRIVER_OK the memory table and rx/tx
 * rings with the transport's kick eventfds, then SET_RUNNING), the event
 * queue staying with the VMM, calls becoming interrupts, stop on reset, the
 * features offered, failures, and the vhostfd/device-path checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakes.h"
#include "virtio/mmio.h"
#include "virtio/vhost_vsock.h"
#include "virtio/vsock.h"

#define RAM_SIZE (1u << 20)
#define QSIZE	 64
#define CID	 7
/* what the fake kernel offers: no VIRTIO_F_INDIRECT_DESC */
#define FAKE_FEATURES (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << 33)

struct call {
	unsigned long req;
	unsigned idx;
	uint64_t val;  /* num/base, features, cid, running, fd */
	uint64_t val2; /* desc address; mem: guest address */
	uint64_t val3; /* mem: size */
	uint64_t val4; /* mem: user address */
};

static struct call calls[64];
static unsigned nr_calls;
static int fail_req_errno;
static unsigned long fail_req;
static int call_fds[2] = {-1, -1};

static bool is_fake(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	       minor(st.st_rdev) == 3;
}

/* Replaces libc's: vhost requests on /dev/null go to the fake kernel. */
int ioctl(int fd, unsigned long req, ...)
{
	struct call *c = &calls[nr_calls < 64 ? nr_calls : 63];
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!is_fake(fd))
		return (int)syscall(SYS_ioctl, fd, req, arg);
	memset(c, 0, sizeof(*c));
	c->req = req;
	if (nr_calls < 64)
		nr_calls++;
	if (fail_req && req == fail_req) {
		errno = fail_req_errno;
		return -1;
	}
	switch (req) {
	case VHOST_GET_FEATURES:
		*(uint64_t *)arg = FAKE_FEATURES;
		break;
	case VHOST_SET_FEATURES:
	case VHOST_VSOCK_SET_GUEST_CID:
		c->val = *(uint64_t *)arg;
		break;
	case VHOST_VSOCK_SET_RUNNING:
		c->val = (uint64_t) * (int *)arg;
		break;
	case VHOST_SET_MEM_TABLE: {
		struct vhost_memory *m = arg;

		c->idx = m->nregions;
		c->val2 = m->regions[0].guest_phys_addr;
		c->val3 = m->regions[0].memory_size;
		c->val4 = m->regions[0].userspace_addr;
		break;
	}
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE: {
		struct vhost_vring_state *s = arg;

		c->idx = s->index;
		c->val = s->num;
		break;
	}
	case VHOST_GET_VRING_BASE: {
		struct vhost_vring_state *s = arg;

		c->idx = s->index;
		s->num = 5 + s->index; /* where the kernel got to */
		break;
	}
	case VHOST_SET_VRING_ADDR: {
		struct vhost_vring_addr *a = arg;

		c->idx = a->index;
		c->val2 = a->desc_user_addr;
		break;
	}
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL: {
		struct vhost_vring_file *f = arg;

		c->idx = f->index;
		c->val = (uint64_t)(int64_t)f->fd;
		if (req == VHOST_SET_VRING_CALL && f->index < 2)
			call_fds[f->index] = f->fd;
		break;
	}
	default:
		break;
	}
	return 0;
}

static struct vm vm;
static struct vm_config cfg;
static uint8_t *ram;
static struct virtio_dev *dev;
static const struct vm_device_ops *ops;
static const uint64_t qdesc[3] = {0x1000, 0x4000, 0x7000};

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

static const struct call *find(unsigned long req, unsigned idx, unsigned from)
{
	for (unsigned i = from; i < nr_calls; i++)
		if (calls[i].req == req && calls[i].idx == idx)
			return &calls[i];
	return NULL;
}

static unsigned count(unsigned long req)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr_calls; i++)
		n += calls[i].req == req;
	return n;
}

static int create(int vhostfd)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.has_vsock = true;
	cfg.vsock_cid = CID;
	cfg.vsock_id = "vsock0";
	cfg.vsock_fd = vhostfd;
	cfg.vsock_opt = "-device vhost-vsock-device";
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	nr_calls = 0;
	fake_last_err[0] = 0;
	int ret = ops->init(&vm);
	dev = ret == 0 ? fake_bus_find(0xf0100000ULL) : NULL;
	return ret;
}

static int setup(void **state)
{
	(void)state;
	vhost_vsock_path = "/dev/null";
	fail_req = 0;
	call_fds[0] = call_fds[1] = -1;
	assert_int_equal(create(-1), 0);
	assert_non_null(dev);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops->exit(&vm);
	return 0;
}

/* FEATURES_OK with what the device offers, three queues, DRIVER_OK. */
static void driver_init(uint64_t features)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (int q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, qdesc[q]);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, qdesc[q] + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, qdesc[q] + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, 0xf & ~VIRTIO_STATUS_FAILED);
	fake_loop_run(0);
}

static uint64_t offered(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void not_configured(void **state)
{
	struct vm_config none = {0}, uds = {.has_vsock = true, .vsock_uds = "/x"};
	struct vm v = {.cfg = &none};

	(void)state;
	assert_int_equal(ops->init(&v), 1);
	v.cfg = &uds; /* the user-space vsock's, not ours */
	assert_int_equal(ops->init(&v), 1);
}

static void open_sequence_and_config(void **state)
{
	uint64_t cid = 0;

	(void)state;
	/* SET_OWNER, GET_FEATURES, SET_GUEST_CID: nothing else before DRIVER_OK */
	assert_int_equal(nr_calls, 3);
	assert_int_equal(calls[0].req, VHOST_SET_OWNER);
	assert_int_equal(calls[1].req, VHOST_GET_FEATURES);
	assert_int_equal(calls[2].req, VHOST_VSOCK_SET_GUEST_CID);
	assert_int_equal(calls[2].val, CID);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG, (uint8_t *)&cid, 8, false);
	assert_int_equal(cid, CID);
	/* ours and the kernel's: no indirect descriptors (kernel lacks it), no bit 33 (we do) */
	assert_int_equal(offered(), 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX);
}

static void start_hands_rx_tx_to_the_kernel(void **state)
{
	const struct call *c;
	uint64_t feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX;
	unsigned start;

	(void)state;
	driver_init(feat);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	start = 3;
	c = find(VHOST_SET_FEATURES, 0, start);
	assert_non_null(c);
	assert_int_equal(c->val, feat);
	c = find(VHOST_SET_MEM_TABLE, 1, start);
	assert_non_null(c);
	assert_int_equal(c->val2, 0);
	assert_int_equal(c->val3, RAM_SIZE);
	assert_int_equal(c->val4, (uint64_t)(uintptr_t)ram);
	for (unsigned q = 0; q < 2; q++) {
		assert_non_null(c = find(VHOST_SET_VRING_NUM, q, start));
		assert_int_equal(c->val, QSIZE);
		assert_non_null(c = find(VHOST_SET_VRING_BASE, q, start));
		assert_int_equal(c->val, 0);
		assert_non_null(c = find(VHOST_SET_VRING_ADDR, q, start));
		assert_int_equal(c->val2, (uint64_t)(uintptr_t)(ram + qdesc[q]));
		assert_non_null(c = find(VHOST_SET_VRING_KICK, q, start));
		assert_int_equal((int)c->val, dev->kicks[q].efd);
		assert_true(dev->kicks[q].handed_over);
		assert_non_null(find(VHOST_SET_VRING_CALL, q, start));
	}
	/* the event queue stays here */
	assert_null(find(VHOST_SET_VRING_NUM, 2, start));
	assert_false(dev->kicks[2].handed_over);
	/* SET_RUNNING 1 last */
	assert_int_equal(calls[nr_calls - 1].req, VHOST_VSOCK_SET_RUNNING);
	assert_int_equal(calls[nr_calls - 1].val, 1);
	assert_int_equal(count(VHOST_VSOCK_SET_RUNNING), 1);
}

static void call_raises_the_interrupt(void **state)
{
	uint64_t one = 1;

	(void)state;
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_true(call_fds[1] >= 0);
	assert_int_equal(write(call_fds[1], &one, 8), 8);
	fake_loop_run(0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING,
			 VIRTIO_MMIO_INT_VRING);
}

static void event_queue_kept(void **state)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + qdesc[2]);
	struct virtq_avail *av = (struct virtq_avail *)(ram + qdesc[2] + 0x1000);
	struct virtq_used *u = (struct virtq_used *)(ram + qdesc[2] + 0x2000);

	(void)state;
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	*d = (struct virtq_desc){0x9000, 8, VIRTQ_DESC_F_WRITE, 0};
	av->ring[0] = 0;
	av->idx = 1;
	nr_calls = 0;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	fake_loop_run(0);
	/* the buffer waits for a TRANSPORT_RESET: not used, nothing asked of the kernel */
	assert_int_equal(u->idx, 0);
	assert_int_equal(nr_calls, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void reset_stops_the_kernel(void **state)
{
	unsigned stop;
	const struct call *c;

	(void)state;
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	stop = nr_calls;
	wr(VIRTIO_MMIO_STATUS, 0);
	/* SET_RUNNING 0 first, then each ring's base back and its kick reclaimed */
	assert_true(nr_calls > stop);
	assert_int_equal(calls[stop].req, VHOST_VSOCK_SET_RUNNING);
	assert_int_equal(calls[stop].val, 0);
	for (unsigned q = 0; q < 2; q++) {
		assert_non_null(find(VHOST_GET_VRING_BASE, q, stop));
		assert_non_null(c = find(VHOST_SET_VRING_KICK, q, stop));
		assert_int_equal((int)c->val, -1);
		assert_false(dev->kicks[q].handed_over);
	}
	/* a second reset asks nothing */
	stop = nr_calls;
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(nr_calls, stop);
	/* and the driver can start it again */
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	assert_int_equal(calls[nr_calls - 1].req, VHOST_VSOCK_SET_RUNNING);
	assert_int_equal(calls[nr_calls - 1].val, 1);
}

static void running_refused_needs_reset(void **state)
{
	(void)state;
	fail_req = VHOST_VSOCK_SET_RUNNING;
	fail_req_errno = EIO;
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
			 VIRTIO_STATUS_NEEDS_RESET);
	/* the rings came back to the transport */
	assert_false(dev->kicks[0].handed_over);
	assert_false(dev->kicks[1].handed_over);
	fail_req = 0;
	driver_init(1ULL << VIRTIO_F_VERSION_1);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_true(dev->kicks[1].handed_over);
}

static void cid_in_use(void **state)
{
	(void)state;
	vhost_vsock_path = "/dev/null";
	fail_req = VHOST_VSOCK_SET_GUEST_CID;
	fail_req_errno = EADDRINUSE;
	assert_int_equal(create(-1), -EADDRINUSE);
	assert_string_equal(fake_last_err, "-device vhost-vsock-device 'vsock0': guest-cid=7: "
					   "VHOST_VSOCK_SET_GUEST_CID: the CID is in use by "
					   "another VM\n");
	fail_req = 0;
}

static void owner_refused(void **state)
{
	(void)state;
	fail_req = VHOST_SET_OWNER;
	fail_req_errno = EBUSY;
	assert_int_equal(create(-1), -EBUSY);
	assert_non_null(strstr(fake_last_err, "VHOST_SET_OWNER: Device or resource busy"));
	fail_req = 0;
}

static void fd_and_path_checks(void **state)
{
	char why[160], err[256];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(vhost_vsock_check_fd(p[0], why, sizeof(why)), -ENOTTY);
	assert_string_equal(why, "not the vhost-vsock character device (10:241)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.has_vsock = true;
	cfg.vsock_id = "v";
	cfg.vsock_opt = "-device vsock";
	cfg.vsock_fd = p[0];
	assert_int_equal(vhost_vsock_preflight(&cfg, err, sizeof(err)), -ENOTTY);
	snprintf(why, sizeof(why),
		 "-device vsock 'v': vhostfd=%d: not the vhost-vsock "
		 "character device (10:241)",
		 p[0]);
	assert_string_equal(err, why);
	/* the device refuses it too, before any ioctl */
	fake_vm_init(&vm, ram, RAM_SIZE, &cfg);
	nr_calls = 0;
	assert_int_equal(ops->init(&vm), -ENOTTY);
	assert_int_equal(nr_calls, 0);
	close(p[0]);
	close(p[1]);
	cfg.vsock_fd = p[0]; /* closed now */
	assert_int_equal(vhost_vsock_preflight(&cfg, err, sizeof(err)), -EBADF);
	assert_non_null(strstr(err, "Bad file descriptor"));
	/* /dev/null is a character device, not this one */
	cfg.vsock_fd = open("/dev/null", O_RDWR);
	assert_int_equal(vhost_vsock_check_fd(cfg.vsock_fd, why, sizeof(why)), -ENOTTY);
	close(cfg.vsock_fd);
	/* no vhostfd: the path must exist */
	cfg.vsock_fd = -1;
	vhost_vsock_path = "/nonexistent/vhost-vsock";
	assert_int_equal(vhost_vsock_preflight(&cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "-device vsock 'v': cannot open /nonexistent/vhost-vsock: No "
				 "such file or directory (no vhost_vsock module here; "
				 "virtio-vsock-device,uds-path= works without it)");
	/* the user-space vsock and no vsock are not checked */
	cfg.vsock_uds = "/run/v.sock";
	assert_int_equal(vhost_vsock_preflight(&cfg, err, sizeof(err)), 0);
	cfg.has_vsock = false;
	assert_int_equal(vhost_vsock_preflight(&cfg, err, sizeof(err)), 0);
	vhost_vsock_path = "/dev/null";
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(not_configured),
	    cmocka_unit_test_setup_teardown(open_sequence_and_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(start_hands_rx_tx_to_the_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(call_raises_the_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(event_queue_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(reset_stops_the_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(running_refused_needs_reset, setup, teardown),
	    cmocka_unit_test(cid_in_use),
	    cmocka_unit_test(owner_refused),
	    cmocka_unit_test(fd_and_path_checks),
	};

	ram = calloc(1, RAM_SIZE);
	ops = fake_find_device("vhost-vsock");
	if (!ram || !ops)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
