/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_VHOST_H
#define SV_VIRTIO_VHOST_H

/*
 * A kernel vhost back end (/dev/vhost-net, /dev/vhost-vsock, ...) for
 * virtio-mmio devices: the kernel serves a device's rings while the VMM
 * keeps the transport, the config space and whatever queues it does not
 * hand over.
 *
 * vhost_dev_start() (lock held, at DRIVER_OK) sets the agreed features and
 * the memory table (every RAM region, guest physical to VMM virtual), then
 * per handed queue its size, base (the transport's next avail index),
 * addresses (VMM virtual addresses of the rings the transport validated),
 * the call eventfd and the kick: the transport's own ioeventfd, which the
 * transport then stops reading.  A call is turned into a virtio-mmio
 * interrupt by the VMM (the status register has to be set), so calls go
 * through the device's event loop.  vhost_dev_stop() gets each ring's base
 * back and returns the kicks.  Functions return 0 or -errno and leave a
 * one-line reason in vh->err.
 */

#include <stdbool.h>
#include <stdint.h>

struct virtio_dev;

#define VHOST_DEV_MAX_VQS 8

struct vhost_call {
	struct vhost_dev *vh;
	int efd;
};

struct vhost_dev {
	int fd;
	uint64_t features; /* VHOST_GET_FEATURES */
	struct virtio_dev *vdev;
	unsigned first_vq, nvqs; /* the transport queues handed over */
	bool started;
	struct vhost_call calls[VHOST_DEV_MAX_VQS];
	bool call_in_loop[VHOST_DEV_MAX_VQS];
	char err[160];
};

/*
 * Takes fd (a vhost character device opened by the caller, or inherited):
 * VHOST_SET_OWNER, VHOST_GET_FEATURES, and the call eventfds of all
 * VHOST_DEV_MAX_VQS queues (made here because vhost_dev_start runs on vCPU
 * threads, whose seccomp filter allows no new fds).  On error fd is left to
 * the caller.
 */
int vhost_dev_init(struct vhost_dev *vh, int fd);
/*
 * Hands queues first_vq .. first_vq+nvqs-1 of vdev (all ready) to the kernel,
 * kernel queue i being transport queue first_vq+i.  features: what to
 * VHOST_SET_FEATURES (a subset of vh->features).  Lock held.
 */
int vhost_dev_start(struct vhost_dev *vh, struct virtio_dev *vdev, uint64_t features,
		    unsigned first_vq, unsigned nvqs);
/* Stops the rings (their bases go back to the transport) and takes the kicks back.  Lock held. */
void vhost_dev_stop(struct vhost_dev *vh);
/* Stops if needed and closes the fd and the call eventfds. */
void vhost_dev_close(struct vhost_dev *vh);

#endif
