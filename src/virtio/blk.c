// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-blk on a raw file or block device, in StratoVirt's hot-replace
 * slots.  Reads and writes go through io_uring when the kernel allows it,
 * else preadv2/pwritev2; FLUSH completes only after fdatasync.  Each slot
 * makes its ring and I/O-limit timer at start-up, for whatever drive it
 * holds later.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/iothread.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/ratelimit.h"

#define BLK_F_SIZE_MAX	   1
#define BLK_F_SEG_MAX	   2
#define BLK_F_RO	   5
#define BLK_F_BLK_SIZE	   6
#define BLK_F_FLUSH	   9
#define BLK_F_DISCARD	   13
#define BLK_F_WRITE_ZEROES 14

#define BLK_T_IN	   0
#define BLK_T_OUT	   1
#define BLK_T_FLUSH	   4
#define BLK_T_GET_ID	   8
#define BLK_T_DISCARD	   11
#define BLK_T_WRITE_ZEROES 13

#define BLK_S_OK     0
#define BLK_S_IOERR  1
#define BLK_S_UNSUPP 2

#define BLK_ID_BYTES	   20
#define BLK_QUEUE_SIZE	   256
#define BLK_SEG_MAX	   126 /* data segments; +2 for header and status */
#define BLK_MAX_SEGS	   (BLK_SEG_MAX + 2)
#define BLK_SIZE_MAX	   (1u << 20)
#define BLK_MAX_DZ_SECTORS (1u << 22) /* 2 GiB per discard/write-zeroes range */
#define BLK_MAX_DZ_SEG	   32
#define BLK_DZ_ALIGN	   8 /* sectors */
#define SECTOR_SHIFT	   9
#define BLK_MAX_SLOTS	   16

/*
 * The io_uring: every request of the virtqueue may be in flight at once, so
 * the completion ring has one entry per request (it can never overflow);
 * 64 submission entries are one page of SQEs, and a full submission ring is
 * submitted and reused (uring_submit_req).  The default, twice as many
 * completions as BLK_QUEUE_SIZE submissions, would map 28 KiB per slot
 * where this maps 12.
 */
#define BLK_URING_SQ 64
#define BLK_URING_CQ BLK_QUEUE_SIZE

/* virtio_blk_config up to write_zeroes_may_unmap (virtio 1.2, 5.2.4) */
#define CFG_CAPACITY	    0x00
#define CFG_SIZE_MAX	    0x08
#define CFG_SEG_MAX	    0x0c
#define CFG_BLK_SIZE	    0x14
#define CFG_MAX_DISCARD	    0x24
#define CFG_MAX_DISCARD_SEG 0x28
#define CFG_DISCARD_ALIGN   0x2c
#define CFG_MAX_WZ	    0x30
#define CFG_MAX_WZ_SEG	    0x34
#define CFG_WZ_MAY_UNMAP    0x38
#define CFG_SIZE	    0x3c

struct blk_backend {
	int fd;
	char *id;
	char *path;
	char serial[BLK_ID_BYTES];
	bool readonly;
	bool is_bdev;
	uint64_t sectors;
	struct ratelimit iops;
	bool uring; /* its I/O goes through the slot's ring */
};

struct blk_dev;

struct blk_req {
	struct blk_dev *blk;
	uint16_t head;
	uint8_t type;
	bool write;
	uint8_t *status;
	uint32_t used_len;
	uint64_t offset;
	size_t len;
	struct iovec *data;
	unsigned nr_data;
	struct blk_req *next_free;
	struct iovec iov[BLK_MAX_SEGS];
};

struct blk_dev {
	struct virtio_dev *vdev;
	int slot;
	bool attached;
	struct blk_backend be;
	struct blk_req *reqs;
	struct blk_req *free_reqs;
	/*
	 * reqs[fresh..] were never handed out since activation: taken in order
	 * once the free list is empty, so the pages of the table (2 KiB a
	 * request, calloc()ed, so untouched pages cost nothing) become resident
	 * only as deep as the guest's queue really gets.
	 */
	unsigned fresh;
	unsigned inflight;
	unsigned pending_sqes;
	/*
	 * The ring and its eventfd belong to the slot and are made when the
	 * slot is, at start-up: a disk attached at run time needs no
	 * io_uring_setup or io_uring_register, which no seccomp filter allows
	 * (docs/security.md).  The I/O-limit timer is one of the loop's.
	 */
	bool have_ring;
	int ring_err; /* why there is none (-errno), for the attach warning */
	struct io_uring ring;
	int uring_efd;
	struct evloop_timer timer; /* the iops limit */
	bool throttled;
};

static struct blk_dev *slots[BLK_MAX_SLOTS];
static int nr_slots;

static void blk_process(struct blk_dev *b);

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static void blk_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct blk_dev *b = vdev->priv;
	uint8_t cfg[CFG_SIZE] = {0};

	put_le(cfg + CFG_CAPACITY, b->attached ? b->be.sectors : 0, 8);
	put_le(cfg + CFG_SIZE_MAX, BLK_SIZE_MAX, 4);
	put_le(cfg + CFG_SEG_MAX, BLK_SEG_MAX, 4);
	put_le(cfg + CFG_BLK_SIZE, 1 << SECTOR_SHIFT, 4);
	put_le(cfg + CFG_MAX_DISCARD, BLK_MAX_DZ_SECTORS, 4);
	put_le(cfg + CFG_MAX_DISCARD_SEG, BLK_MAX_DZ_SEG, 4);
	put_le(cfg + CFG_DISCARD_ALIGN, BLK_DZ_ALIGN, 4);
	put_le(cfg + CFG_MAX_WZ, BLK_MAX_DZ_SECTORS, 4);
	put_le(cfg + CFG_MAX_WZ_SEG, BLK_MAX_DZ_SEG, 4);
	cfg[CFG_WZ_MAY_UNMAP] = 1;
	memcpy(data, cfg + off, len);
}

/* ---- requests ---- */

static struct blk_req *req_alloc(struct blk_dev *b)
{
	struct blk_req *r = b->free_reqs;

	if (r) {
		b->free_reqs = r->next_free;
	} else if (b->fresh < BLK_QUEUE_SIZE) {
		r = &b->reqs[b->fresh++];
		r->blk = b;
	} else {
		return NULL;
	}
	b->inflight++;
	return r;
}

static void req_free(struct blk_dev *b, struct blk_req *r)
{
	r->next_free = b->free_reqs;
	b->free_reqs = r;
	b->inflight--;
}

static void req_complete(struct blk_dev *b, struct blk_req *r, uint8_t status)
{
	*r->status = status;
	virtq_push_used(&b->vdev->vqs[0], r->head, r->used_len);
	req_free(b, r);
}

/* Drops the first n bytes of an iovec array in place; returns the new start. */
static struct iovec *iov_skip(struct iovec *iov, unsigned *cnt, size_t n)
{
	while (*cnt && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt && n) {
		iov->iov_base = (uint8_t *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	return iov;
}

static int rw_sync(int fd, struct iovec *iov, unsigned cnt, uint64_t off, bool write)
{
	while (cnt) {
		ssize_t n = write ? pwritev2(fd, iov, cnt, (off_t)off, 0)
				  : preadv2(fd, iov, cnt, (off_t)off, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		off += n;
		iov = iov_skip(iov, &cnt, n);
	}
	return 0;
}

static bool in_range(struct blk_dev *b, uint64_t sector, uint64_t nr)
{
	return sector <= b->be.sectors && nr <= b->be.sectors - sector;
}

/* One discard or write-zeroes range. */
static int discard_zero(struct blk_dev *b, uint64_t sector, uint32_t nr, uint32_t flags, bool zero)
{
	uint64_t range[2] = {sector << SECTOR_SHIFT, (uint64_t)nr << SECTOR_SHIFT};
	int mode;

	if (!in_range(b, sector, nr) || nr > BLK_MAX_DZ_SECTORS)
		return -EINVAL;
	if ((flags & ~1u) || (!zero && flags))
		return -EOPNOTSUPP; /* unknown flags, or "unmap" on a discard */
	if (nr == 0)
		return 0;
	if (b->be.is_bdev) {
		if (ioctl(b->be.fd, zero ? BLKZEROOUT : BLKDISCARD, range) < 0)
			return -errno;
		return 0;
	}
	mode = zero && !(flags & 1) ? FALLOC_FL_ZERO_RANGE
				    : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(b->be.fd, mode, range[0], range[1]) == 0)
		return 0;
	if (zero && errno == EOPNOTSUPP && mode == FALLOC_FL_ZERO_RANGE &&
	    fallocate(b->be.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, range[0], range[1]) ==
		0)
		return 0;
	return -errno;
}

static uint8_t do_discard_zero(struct blk_dev *b, struct blk_req *r)
{
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} seg;
	size_t len = iov_length(r->data, r->nr_data);
	bool zero = r->type == BLK_T_WRITE_ZEROES;

	if (b->be.readonly)
		return BLK_S_IOERR;
	if (len == 0 || len % sizeof(seg) || len / sizeof(seg) > BLK_MAX_DZ_SEG)
		return BLK_S_IOERR;
	for (size_t off = 0; off < len; off += sizeof(seg)) {
		int ret;

		iov_to_buf(r->data, r->nr_data, off, &seg, sizeof(seg));
		ret = discard_zero(b, seg.sector, seg.num_sectors, seg.flags, zero);
		if (ret == -EOPNOTSUPP)
			return BLK_S_UNSUPP;
		if (ret < 0)
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

static bool uring_submit_req(struct blk_dev *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe) {
		io_uring_submit(&b->ring);
		b->pending_sqes = 0;
		sqe = io_uring_get_sqe(&b->ring);
		if (!sqe)
			return false;
	}
	if (r->type == BLK_T_FLUSH)
		io_uring_prep_fsync(sqe, b->be.fd, IORING_FSYNC_DATASYNC);
	else if (r->write)
		io_uring_prep_writev(sqe, b->be.fd, r->data, r->nr_data, r->offset);
	else
		io_uring_prep_readv(sqe, b->be.fd, r->data, r->nr_data, r->offset);
	io_uring_sqe_set_data(sqe, r);
	b->pending_sqes++;
	return true;
}

/* Starts a parsed request: completes it at once or hands it to io_uring. */
static void blk_submit(struct blk_dev *b, struct blk_req *r)
{
	uint8_t status = BLK_S_OK;
	size_t n;

	if (!b->attached) {
		req_complete(b, r, BLK_S_IOERR);
		return;
	}
	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_OUT:
		if (r->write && b->be.readonly) {
			status = BLK_S_IOERR;
			break;
		}
		if (r->len % (1 << SECTOR_SHIFT) ||
		    !in_range(b, r->offset >> SECTOR_SHIFT, r->len >> SECTOR_SHIFT)) {
			status = BLK_S_IOERR;
			break;
		}
		if (!r->write)
			r->used_len += r->len;
		if (r->len == 0)
			break;
		if (b->be.uring && uring_submit_req(b, r))
			return;
		if (rw_sync(b->be.fd, r->data, r->nr_data, r->offset, r->write) < 0)
			status = BLK_S_IOERR;
		break;
	case BLK_T_FLUSH:
		if (b->be.uring && uring_submit_req(b, r))
			return;
		if (fdatasync(b->be.fd) < 0)
			status = BLK_S_IOERR;
		break;
	case BLK_T_GET_ID:
		n = r->len < BLK_ID_BYTES ? r->len : BLK_ID_BYTES;
		iov_from_buf(r->data, r->nr_data, 0, b->be.serial, n);
		r->used_len += n;
		break;
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		status = do_discard_zero(b, r);
		break;
	default:
		status = BLK_S_UNSUPP;
		break;
	}
	req_complete(b, r, status);
}

/*
 * Splits a chain into header, data and status.  Any framing is allowed
 * (VERSION_1): the header is the first 16 readable bytes and the status the
 * last writable byte.  A chain without them is a driver bug: NEEDS_RESET.
 */
static int blk_parse(struct blk_req *r, struct virtq_chain *c, const char **why)
{
	struct {
		uint32_t type;
		uint32_t ioprio;
		uint64_t sector;
	} hdr;
	struct iovec *last;
	unsigned nr_in, nr_out;

	if (c->readable_len < sizeof(hdr)) {
		*why = "virtio-blk request header shorter than 16 bytes";
		return -EINVAL;
	}
	if (c->writable_len < 1) {
		*why = "virtio-blk request without a status byte";
		return -EINVAL;
	}
	iov_to_buf(c->iov, c->nr_readable, 0, &hdr, sizeof(hdr));
	r->head = c->head;
	r->type = hdr.type > 0xff ? 0xff : hdr.type;
	r->write = hdr.type == BLK_T_OUT;
	r->used_len = 1;

	last = &c->iov[c->nr_segs - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--;
	nr_out = c->nr_segs - c->nr_readable;
	if (last->iov_len == 0)
		nr_out--;

	if (hdr.sector > (UINT64_MAX >> SECTOR_SHIFT))
		hdr.sector = UINT64_MAX >> SECTOR_SHIFT; /* fails the range check */
	r->offset = hdr.sector << SECTOR_SHIFT;
	if (hdr.type == BLK_T_IN || hdr.type == BLK_T_GET_ID) {
		r->data = &c->iov[c->nr_readable];
		r->nr_data = nr_out;
		r->len = c->writable_len - 1;
	} else {
		nr_in = c->nr_readable;
		r->data = iov_skip(c->iov, &nr_in, sizeof(hdr));
		r->nr_data = nr_in;
		r->len = c->readable_len - sizeof(hdr);
	}
	return 0;
}

/* ---- io_uring completions ---- */

static void blk_reap(struct blk_dev *b, bool wait)
{
	struct io_uring_cqe *cqe;

	while (b->be.uring && b->inflight) {
		struct blk_req *r;
		uint8_t status = BLK_S_OK;
		int res;

		if ((wait ? io_uring_wait_cqe(&b->ring, &cqe) : io_uring_peek_cqe(&b->ring, &cqe)) <
		    0)
			break;
		r = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&b->ring, cqe);
		if (res < 0) {
			pr_warn("virtio-blk %s: I/O error: %s\n", b->be.path, strerror(-res));
			status = BLK_S_IOERR;
		} else if (r->type != BLK_T_FLUSH && (size_t)res < r->len) {
			/* Short transfer: finish it here. */
			unsigned cnt = r->nr_data;
			struct iovec *rest = iov_skip(r->data, &cnt, res);

			if (rw_sync(b->be.fd, rest, cnt, r->offset + res, r->write) < 0)
				status = BLK_S_IOERR;
		}
		req_complete(b, r, status);
	}
}

static void blk_uring_event(void *opaque, uint32_t events)
{
	struct blk_dev *b = opaque;
	uint64_t cnt;

	(void)events;
	virtio_dev_lock(b->vdev);
	/*
	 * The counter is always taken (the ring outlives its drives: a count
	 * left after a detach would wake the loop for ever); the drive may
	 * have been detached by another thread since the event was fetched.
	 */
	if ((read(b->uring_efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) || !b->be.uring) {
		virtio_dev_unlock(b->vdev);
		return;
	}
	blk_reap(b, false);
	if (virtio_dev_running(b->vdev)) {
		virtio_mmio_notify_queue(b->vdev, 0);
		blk_process(b); /* resume if we stalled on free requests */
	}
	virtio_dev_unlock(b->vdev);
}

/* ---- queue processing ---- */

static void blk_timer_event(void *opaque)
{
	struct blk_dev *b = opaque;

	virtio_dev_lock(b->vdev);
	b->throttled = false;
	if (virtio_dev_running(b->vdev))
		blk_process(b);
	virtio_dev_unlock(b->vdev);
}

static void blk_throttle(struct blk_dev *b)
{
	evloop_timer_arm(&b->timer, ratelimit_wait_ns(&b->be.iops, 1));
	b->throttled = true;
}

static void blk_process(struct blk_dev *b)
{
	struct virtq *vq = &b->vdev->vqs[0];
	struct virtq_chain chain = {.max_segs = BLK_MAX_SEGS};
	const char *why;

	if (b->throttled)
		return;
	do {
		virtq_disable_notify(vq);
		for (;;) {
			struct blk_req *r;
			int ret;

			if (virtq_empty(vq))
				break;
			if (b->attached && ratelimit_take(&b->be.iops, 1) == 0) {
				blk_throttle(b);
				goto out;
			}
			r = req_alloc(b);
			if (!r)
				goto out; /* a completion will call us again */
			chain.iov = r->iov;
			ret = virtq_pop_chain(vq, &chain);
			if (ret <= 0) {
				req_free(b, r);
				if (ret == 0)
					break;
				virtio_mmio_set_needs_reset(b->vdev, chain.err);
				return;
			}
			if (blk_parse(r, &chain, &why) < 0) {
				req_free(b, r);
				virtio_mmio_set_needs_reset(b->vdev, why);
				return;
			}
			blk_submit(b, r);
		}
	} while (virtq_enable_notify(vq));
out:
	if (b->pending_sqes) {
		io_uring_submit(&b->ring);
		b->pending_sqes = 0;
		/*
		 * Reads from the page cache complete inside the submit: reap
		 * them now rather than after another trip through epoll.
		 */
		blk_reap(b, false);
	}
	virtio_mmio_notify_queue(b->vdev, 0);
}

static void blk_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	(void)q;
	blk_process(vdev->priv);
}

static int blk_activate(struct virtio_dev *vdev)
{
	struct blk_dev *b = vdev->priv;

	b->free_reqs = NULL;
	b->fresh = 0;
	b->inflight = 0;
	return 0;
}

/* Waits for requests the host still owns; their guest buffers are gone. */
static void blk_drain(struct blk_dev *b)
{
	if (b->pending_sqes) {
		io_uring_submit(&b->ring);
		b->pending_sqes = 0;
	}
	blk_reap(b, true);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct blk_dev *b = vdev->priv;

	blk_drain(b);
	evloop_timer_disarm(&b->timer);
	b->throttled = false;
}

static const struct virtio_dev_ops blk_dev_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = 1ULL << BLK_F_SIZE_MAX | 1ULL << BLK_F_SEG_MAX | 1ULL << BLK_F_BLK_SIZE |
		1ULL << BLK_F_FLUSH | 1ULL << BLK_F_DISCARD | 1ULL << BLK_F_WRITE_ZEROES |
		1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = CFG_SIZE,
    .num_queues = 1,
    .queue_size = BLK_QUEUE_SIZE,
    .config_read = blk_config_read,
    .activate = blk_activate,
    .reset = blk_reset,
    .queue_notify = blk_queue_notify,
};

/* ---- back ends ---- */

static void backend_close(struct blk_backend *be, struct evloop *loop)
{
	(void)loop; /* the ring stays with the slot */
	if (be->fd >= 0)
		close(be->fd);
	free(be->id);
	free(be->path);
	memset(be, 0, sizeof(*be));
	be->fd = -1;
}

/*
 * Debian 12's shared liburing (2.3) does not export io_uring_register_restrictions()
 * and io_uring_enable_rings() (only liburing.a does), so the sanitizer build,
 * which links it dynamically, makes the two io_uring_register(2) calls itself.
 */
static int uring_register(struct io_uring *ring, unsigned op, void *arg, unsigned nr)
{
	if (syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr) < 0)
		return -errno;
	return 0;
}

/*
 * A ring that accepts only the operations virtio-blk submits: seccomp does
 * not see io_uring operations, so a ring that could open files or connect
 * sockets would be a way around the filters (docs/security.md).  Created
 * disabled; IORING_REGISTER_ENABLE_RINGS once its eventfd is registered.
 */
static int uring_init_restricted(struct io_uring *ring, bool *disabled)
{
	struct io_uring_params p = {.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE,
				    .cq_entries = BLK_URING_CQ};
	struct io_uring_restriction res[] = {
	    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV},
	    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV},
	    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC},
	};
	int ret = io_uring_queue_init_params(BLK_URING_SQ, ring, &p);

	*disabled = false;
	if (ret == -EINVAL) { /* before Linux 5.10: no restrictions */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE; /* Linux 5.5 */
		p.cq_entries = BLK_URING_CQ;
		return io_uring_queue_init_params(BLK_URING_SQ, ring, &p);
	}
	if (ret < 0)
		return ret;
	ret = uring_register(ring, IORING_REGISTER_RESTRICTIONS, res, sizeof(res) / sizeof(res[0]));
	if (ret < 0) {
		io_uring_queue_exit(ring);
		return ret;
	}
	*disabled = true;
	return 0;
}

/* Start-up, per slot: the restricted ring and its eventfd on the slot's loop. */
static void slot_uring(struct blk_dev *b)
{
	bool disabled;
	int ret;

	b->uring_efd = -1;
	ret = uring_init_restricted(&b->ring, &disabled);
	if (ret < 0) {
		b->ring_err = ret;
		return;
	}
	b->uring_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = b->uring_efd < 0 ? -errno : io_uring_register_eventfd(&b->ring, b->uring_efd);
	if (!ret && disabled)
		ret = uring_register(&b->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (!ret)
		ret = evloop_add(b->vdev->loop, b->uring_efd, EPOLLIN, blk_uring_event, b);
	if (ret < 0) {
		b->ring_err = ret;
		if (b->uring_efd >= 0)
			close(b->uring_efd);
		b->uring_efd = -1;
		io_uring_queue_exit(&b->ring);
		return;
	}
	b->have_ring = true;
}

static void slot_uring_exit(struct blk_dev *b, struct evloop *loop)
{
	if (!b->have_ring)
		return;
	evloop_del(loop, b->uring_efd);
	io_uring_queue_exit(&b->ring);
	close(b->uring_efd);
	b->have_ring = false;
}

/* A drive uses its slot's ring unless aio=off, or the slot has none. */
static void backend_uring(struct blk_backend *be, const struct drive_config *d, struct blk_dev *b)
{
	if (d->aio && !strcmp(d->aio, "off"))
		return;
	if (!b->have_ring) {
		pr_warn("drive '%s': io_uring unavailable (%s); using synchronous I/O\n", d->id,
			strerror(-b->ring_err));
		return;
	}
	be->uring = true;
}

static int backend_open(struct blk_backend *be, const struct drive_config *d, struct blk_dev *b)
{
	int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (d->direct ? O_DIRECT : 0);
	struct flock fl = {.l_type = d->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
	const char *id = d->id ? d->id : "";
	struct stat st;
	uint64_t bytes;
	int fd, err;

	memset(be, 0, sizeof(*be));
	be->fd = -1;
	fd = open(d->path, flags);
	if (fd < 0) {
		err = errno;
		if (err == EINVAL && d->direct)
			user_err("drive '%s': file system of '%s' refuses O_DIRECT (direct=on)\n",
				 id, d->path);
		else
			user_err("drive '%s': cannot open image '%s': %s\n", id, d->path,
				 strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0)
		goto err_errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			goto err_errno;
		be->is_bdev = true;
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		user_err("drive '%s': '%s' is not a regular file or block device\n", id, d->path);
		close(fd);
		return -EINVAL;
	}
	/* An OFD lock: a second VMM on the same image fails here. */
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		err = errno;
		user_err("drive '%s': image '%s' is locked by another process (in use by another "
			 "VM?): %s\n",
			 id, d->path, strerror(err));
		close(fd);
		return err == EAGAIN || err == EACCES ? -EBUSY : -err;
	}
	be->fd = fd;
	be->sectors = bytes >> SECTOR_SHIFT;
	be->readonly = d->readonly;
	be->id = strdup(id);
	be->path = strdup(d->path);
	/* GET_ID: up to 20 bytes, NUL-padded, not NUL-terminated when full. */
	if (d->serial)
		memcpy(be->serial, d->serial, strnlen(d->serial, BLK_ID_BYTES));
	ratelimit_init(&be->iops, d->iops, 0);
	backend_uring(be, d, b);
	return 0;

err_errno:
	err = errno;
	user_err("drive '%s': '%s': %s\n", id, d->path, strerror(err));
	close(fd);
	return -err;
}

/* ---- slots ---- */

int blk_slot_count(void)
{
	return nr_slots;
}

int blk_slot_find(const char *drive_id)
{
	for (int i = 0; i < nr_slots; i++)
		if (slots[i]->attached && !strcmp(slots[i]->be.id, drive_id))
			return i;
	return -ENOENT;
}

/*
 * VIRTIO_BLK_F_RO follows the disk in the slot, not the slot's first disk: a
 * driver that initialises the device after a hot-plug reads it (a driver
 * bound earlier keeps what it negotiated; writes to a read-only image fail
 * with IOERR either way).  Device lock held, or before the guest runs.
 */
static void blk_set_ro_feature(struct blk_dev *b, bool readonly)
{
	if (readonly)
		b->vdev->host_features |= 1ULL << BLK_F_RO;
	else
		b->vdev->host_features &= ~(1ULL << BLK_F_RO);
}

int blk_slot_attach(struct vm *vm, int slot, const struct drive_config *drive)
{
	struct blk_backend be;
	struct blk_dev *b;
	int ret;

	(void)vm;
	if (slot < 0 || slot >= nr_slots)
		return -ENODEV;
	b = slots[slot];
	virtio_dev_lock(b->vdev);
	if (b->attached) {
		ret = -EBUSY;
		goto out;
	}
	ret = backend_open(&be, drive, b);
	if (ret < 0)
		goto out;
	b->be = be;
	b->attached = true;
	blk_set_ro_feature(b, be.readonly);
	virtio_mmio_config_changed(b->vdev);
out:
	virtio_dev_unlock(b->vdev);
	return ret;
}

int blk_slot_detach(struct vm *vm, int slot)
{
	struct blk_dev *b;
	int ret = 0;

	(void)vm;
	if (slot < 0 || slot >= nr_slots)
		return -ENODEV;
	b = slots[slot];
	virtio_dev_lock(b->vdev);
	if (!b->attached) {
		ret = -ENOENT;
		goto out;
	}
	blk_drain(b);
	b->attached = false;
	backend_close(&b->be, b->vdev->loop);
	blk_set_ro_feature(b, false); /* an empty slot, as one built empty */
	virtio_mmio_config_changed(b->vdev);
out:
	virtio_dev_unlock(b->vdev);
	return ret;
}

static int blk_slot_create(struct vm *vm, const struct drive_config *d)
{
	struct evloop *loop = NULL;
	struct blk_dev *b;
	int ret;

	if (nr_slots >= BLK_MAX_SLOTS)
		return -ENOSPC;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*b->reqs));
	if (!b->reqs) {
		free(b);
		return -ENOMEM;
	}
	b->slot = nr_slots;
	b->be.fd = -1;
	/*
	 * With iothread=X the kicks, io_uring completions and the iops timer
	 * all go on X's loop (everything below uses b->vdev->loop).
	 */
	if (d && d->iothread) {
		loop = iothread_loop(vm, d->iothread);
		if (!loop) {
			user_err("drive '%s': iothread '%s' does not exist\n", d->id, d->iothread);
			ret = -ENOENT;
			goto err;
		}
	}
	ret = virtio_mmio_create(vm, &blk_dev_ops, b, loop, &b->vdev);
	if (ret < 0)
		goto err;
	slots[nr_slots++] = b;
	slot_uring(b);
	evloop_timer_add(b->vdev->loop, &b->timer, blk_timer_event, b);
	if (d) {
		ret = backend_open(&b->be, d, b);
		if (ret < 0)
			return ret;
		b->attached = true;
		blk_set_ro_feature(b, d->readonly);
	}
	return 0;
err:
	free(b->reqs);
	free(b);
	return ret;
}

static void blk_exit(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < nr_slots; i++) {
		struct blk_dev *b = slots[i];
		struct evloop *loop = b->vdev->loop;

		virtio_mmio_destroy(b->vdev); /* resets: drains in-flight I/O */
		backend_close(&b->be, loop);
		slot_uring_exit(b, loop);
		evloop_timer_del(&b->timer);
		free(b->reqs);
		free(b);
		slots[i] = NULL;
	}
	nr_slots = 0;
}

static int blk_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int disks = 0, ret;

	for (int i = 0; i < cfg->nr_drives; i++) {
		if (!cfg->drives[i].has_device)
			continue;
		ret = blk_slot_create(vm, &cfg->drives[i]);
		if (ret < 0)
			goto err;
		disks++;
	}
	for (; disks < BLK_NR_SLOTS; disks++) {
		ret = blk_slot_create(vm, NULL);
		if (ret < 0)
			goto err;
	}
	return 0;
err:
	if (ret == -ENOSPC || ret == -ENOMEM)
		pr_err("virtio-blk: cannot create disk %d: %s\n", disks, strerror(-ret));
	blk_exit(vm);
	return ret;
}

static const struct vm_device_ops blk_vm_ops = {
    .name = "virtio-blk",
    .order = 20,
    .init = blk_init,
    .exit = blk_exit,
};
VM_DEVICE_REGISTER(blk_vm_ops);
