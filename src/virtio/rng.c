// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-rng: fills the guest's buffers from a file (/dev/urandom by default),
 * at most bytes_per_sec bytes a second; when the bucket is empty the request
 * waits on a timer of its event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/log.h"
#include "virtio/mmio.h"
#include "virtio/ratelimit.h"

#define RNG_QUEUE_SIZE 256
#define RNG_MAX_SEGS   64
#define RNG_DEFAULT    "/dev/urandom"

struct rng_dev {
	struct virtio_dev *vdev;
	int fd;
	struct evloop_timer timer; /* the bytes_per_sec limit */
	bool throttled;
	struct ratelimit rl;
};

static struct rng_dev *rng;

/* Copies the first len bytes of the writable part of c into out[]. */
static unsigned rng_trim(const struct virtq_chain *c, size_t len, struct iovec *out)
{
	unsigned n = 0;

	for (unsigned i = c->nr_readable; i < c->nr_segs && len; i++) {
		out[n] = c->iov[i];
		if (out[n].iov_len > len)
			out[n].iov_len = len;
		len -= out[n].iov_len;
		n++;
	}
	return n;
}

static void rng_throttle(struct rng_dev *r, uint64_t want)
{
	evloop_timer_arm(&r->timer, ratelimit_wait_ns(&r->rl, want));
	r->throttled = true;
}

static void rng_process(struct rng_dev *r)
{
	struct virtq *vq = &r->vdev->vqs[0];
	struct iovec iov[RNG_MAX_SEGS], part[RNG_MAX_SEGS];
	struct virtq_chain c = {.iov = iov, .max_segs = RNG_MAX_SEGS};
	bool used = false;

	if (r->throttled)
		return;
	do {
		virtq_disable_notify(vq);
		for (;;) {
			uint64_t grant;
			ssize_t n = 0;
			int ret = virtq_pop_chain(vq, &c);

			if (ret == 0)
				break;
			if (ret < 0) {
				virtio_mmio_set_needs_reset(r->vdev, c.err);
				return;
			}
			grant = ratelimit_take(&r->rl, c.writable_len);
			if (grant == 0 && c.writable_len) {
				virtq_unpop(vq);
				rng_throttle(r, c.writable_len);
				goto out;
			}
			if (grant) {
				n = preadv2(r->fd, part, rng_trim(&c, grant, part), -1, 0);
				if (n < 0) {
					pr_warn("virtio-rng: read: %s\n", strerror(errno));
					n = 0;
				}
			}
			virtq_push_used(vq, c.head, n);
			used = true;
		}
	} while (virtq_enable_notify(vq));
out:
	if (used)
		virtio_mmio_notify_queue(r->vdev, 0);
}

static void rng_timer(void *opaque)
{
	struct rng_dev *r = opaque;

	virtio_dev_lock(r->vdev);
	r->throttled = false;
	if (virtio_dev_running(r->vdev))
		rng_process(r);
	virtio_dev_unlock(r->vdev);
}

static void rng_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	(void)q;
	rng_process(vdev->priv);
}

static void rng_reset(struct virtio_dev *vdev)
{
	struct rng_dev *r = vdev->priv;

	evloop_timer_disarm(&r->timer);
	r->throttled = false;
}

static const struct virtio_dev_ops rng_dev_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = 0,
    .num_queues = 1,
    .queue_size = RNG_QUEUE_SIZE,
    .reset = rng_reset,
    .queue_notify = rng_queue_notify,
};

static void rng_exit(struct vm *vm)
{
	(void)vm;
	if (!rng)
		return;
	if (rng->vdev)
		virtio_mmio_destroy(rng->vdev);
	evloop_timer_del(&rng->timer);
	if (rng->fd >= 0)
		close(rng->fd);
	free(rng);
	rng = NULL;
}

static int rng_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	const char *path = cfg->rng_file ? cfg->rng_file : RNG_DEFAULT;
	int ret;

	if (!cfg->has_rng)
		return 1;
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	rng->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (rng->fd < 0) {
		ret = -errno;
		user_err("virtio-rng: cannot open random file '%s': %s\n", path, strerror(-ret));
		goto err;
	}
	ratelimit_init(&rng->rl, cfg->rng_bytes_per_sec, 0);
	ret = virtio_mmio_create(vm, &rng_dev_ops, rng, NULL, &rng->vdev);
	if (ret < 0)
		goto err;
	evloop_timer_add(rng->vdev->loop, &rng->timer, rng_timer, rng);
	return 0;
err:
	rng_exit(vm);
	return ret;
}

static const struct vm_device_ops rng_vm_ops = {
    .name = "virtio-rng",
    .order = 24,
    .init = rng_init,
    .exit = rng_exit,
};
VM_DEVICE_REGISTER(rng_vm_ops);
