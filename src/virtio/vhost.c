// SPDX-License-Identifier: MulanPSL-2.0
/* Kernel vhost back end for virtio-mmio devices (see vhost.h). */
#include <errno.h>
#include <linux/vhost.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "virtio/mmio.h"
#include "virtio/vhost.h"

static int fail(struct vhost_dev *vh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct vhost_dev *vh, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(vh->err, sizeof(vh->err), fmt, ap);
	va_end(ap);
	n = strlen(vh->err);
	snprintf(vh->err + n, sizeof(vh->err) - n, ": %s", strerror(e));
	return e ? -e : -EIO;
}

static void close_calls(struct vhost_dev *vh)
{
	for (unsigned i = 0; i < VHOST_DEV_MAX_VQS; i++) {
		if (vh->calls[i].efd < 0)
			continue;
		if (vh->call_in_loop[i])
			evloop_del(vh->vdev->loop, vh->calls[i].efd);
		close(vh->calls[i].efd);
		vh->calls[i].efd = -1;
		vh->call_in_loop[i] = false;
	}
}

int vhost_dev_init(struct vhost_dev *vh, int fd)
{
	memset(vh, 0, sizeof(*vh));
	vh->fd = -1;
	for (unsigned i = 0; i < VHOST_DEV_MAX_VQS; i++)
		vh->calls[i] = (struct vhost_call){vh, -1};
	if (ioctl(fd, VHOST_SET_OWNER) < 0)
		return fail(vh, "VHOST_SET_OWNER");
	if (ioctl(fd, VHOST_GET_FEATURES, &vh->features) < 0)
		return fail(vh, "VHOST_GET_FEATURES");
	/* made here, on the thread that opens the back end: vCPU threads make no fds */
	for (unsigned i = 0; i < VHOST_DEV_MAX_VQS; i++) {
		vh->calls[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vh->calls[i].efd < 0) {
			int ret = fail(vh, "eventfd");

			close_calls(vh);
			return ret;
		}
	}
	vh->fd = fd;
	return 0;
}

static int set_mem_table(struct vhost_dev *vh, const struct guest_mem *mem)
{
	struct vhost_memory *m;
	int ret = 0;

	m = calloc(1, sizeof(*m) + sizeof(m->regions[0]) * (size_t)mem->nr_regions);
	if (!m)
		return -ENOMEM;
	m->nregions = (uint32_t)mem->nr_regions;
	for (int i = 0; i < mem->nr_regions; i++) {
		m->regions[i].guest_phys_addr = mem->regions[i].gpa;
		m->regions[i].memory_size = mem->regions[i].size;
		m->regions[i].userspace_addr = (uint64_t)(uintptr_t)mem->regions[i].hva;
	}
	if (ioctl(vh->fd, VHOST_SET_MEM_TABLE, m) < 0)
		ret = fail(vh, "VHOST_SET_MEM_TABLE");
	free(m);
	return ret;
}

static void call_event(void *opaque, uint32_t events)
{
	struct vhost_call *c = opaque;
	uint64_t cnt;

	(void)events;
	if (read(c->efd, &cnt, sizeof(cnt)) < 0)
		return;
	/* the kernel applied the driver's interrupt suppression already */
	if (c->vh->vdev && virtio_dev_running(c->vh->vdev))
		virtio_mmio_interrupt(c->vh->vdev, VIRTIO_MMIO_INT_VRING);
}

static int call_setup(struct vhost_dev *vh, unsigned i)
{
	struct vhost_call *c = &vh->calls[i];
	int ret;

	if (c->efd < 0) {
		errno = EINVAL;
		return fail(vh, "queue %u has no call eventfd", i);
	}
	if (vh->call_in_loop[i])
		return 0;
	ret = evloop_add(vh->vdev->loop, c->efd, EPOLLIN, call_event, c);
	if (ret < 0) {
		errno = -ret;
		return fail(vh, "event loop");
	}
	vh->call_in_loop[i] = true;
	return 0;
}

static int start_vq(struct vhost_dev *vh, unsigned i)
{
	unsigned q = vh->first_vq + i;
	struct virtq *vq = &vh->vdev->vqs[q];
	struct vhost_vring_state num = {i, vq->size}, base = {i, vq->last_avail};
	struct vhost_vring_addr addr = {
	    .index = i,
	    .desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
	    .used_user_addr = (uint64_t)(uintptr_t)vq->used,
	    .avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
	};
	struct vhost_vring_file call = {i, -1}, kick = {i, -1};
	int ret;

	if (!vq->ready) {
		errno = EINVAL;
		return fail(vh, "queue %u is not ready", q);
	}
	if (ioctl(vh->fd, VHOST_SET_VRING_NUM, &num) < 0)
		return fail(vh, "VHOST_SET_VRING_NUM %u", q);
	if (ioctl(vh->fd, VHOST_SET_VRING_BASE, &base) < 0)
		return fail(vh, "VHOST_SET_VRING_BASE %u", q);
	if (ioctl(vh->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return fail(vh, "VHOST_SET_VRING_ADDR %u", q);
	ret = call_setup(vh, i);
	if (ret < 0)
		return ret;
	call.fd = vh->calls[i].efd;
	if (ioctl(vh->fd, VHOST_SET_VRING_CALL, &call) < 0)
		return fail(vh, "VHOST_SET_VRING_CALL %u", q);
	kick.fd = virtio_mmio_hand_over_kick(vh->vdev, q);
	if (kick.fd < 0) {
		errno = EBADF;
		return fail(vh, "queue %u has no kick eventfd", q);
	}
	if (ioctl(vh->fd, VHOST_SET_VRING_KICK, &kick) < 0)
		return fail(vh, "VHOST_SET_VRING_KICK %u", q);
	return 0;
}

int vhost_dev_start(struct vhost_dev *vh, struct virtio_dev *vdev, uint64_t features,
		    unsigned first_vq, unsigned nvqs)
{
	int ret;

	if (vh->fd < 0 || nvqs == 0 || nvqs > VHOST_DEV_MAX_VQS ||
	    first_vq + nvqs > vdev->ops->num_queues) {
		errno = EINVAL;
		return fail(vh, "bad vhost queue range");
	}
	if (features & ~vh->features) {
		errno = EOPNOTSUPP;
		return fail(vh, "features %#llx not offered by the kernel",
			    (unsigned long long)(features & ~vh->features));
	}
	vh->vdev = vdev;
	vh->first_vq = first_vq;
	vh->nvqs = nvqs;
	if (ioctl(vh->fd, VHOST_SET_FEATURES, &features) < 0)
		return fail(vh, "VHOST_SET_FEATURES %#llx", (unsigned long long)features);
	ret = set_mem_table(vh, &vdev->vm->mem);
	vh->started = true; /* from here on, stop undoes what was done */
	for (unsigned i = 0; !ret && i < nvqs; i++)
		ret = start_vq(vh, i);
	if (ret < 0) {
		char why[sizeof(vh->err)];

		memcpy(why, vh->err, sizeof(why));
		vhost_dev_stop(vh);
		memcpy(vh->err, why, sizeof(why));
	}
	return ret;
}

void vhost_dev_stop(struct vhost_dev *vh)
{
	if (!vh->started)
		return;
	for (unsigned i = 0; i < vh->nvqs; i++) {
		unsigned q = vh->first_vq + i;
		struct vhost_vring_state base = {i, 0};
		struct vhost_vring_file kick = {i, -1};

		/* the kernel stops the ring and says where it got to */
		if (ioctl(vh->fd, VHOST_GET_VRING_BASE, &base) == 0) {
			struct virtq *vq = &vh->vdev->vqs[q];

			vq->last_avail = (uint16_t)base.num;
			/* the VMM may serve the ring again: take the kernel's used index */
			if (vq->used)
				vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		}
		ioctl(vh->fd, VHOST_SET_VRING_KICK, &kick);
		virtio_mmio_reclaim_kick(vh->vdev, q);
	}
	vh->started = false;
}

void vhost_dev_close(struct vhost_dev *vh)
{
	vhost_dev_stop(vh);
	close_calls(vh);
	if (vh->fd >= 0)
		close(vh->fd);
	vh->fd = -1;
}
