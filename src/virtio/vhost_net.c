// SPDX-License-Identifier: MulanPSL-2.0
/* vhost-net data path for virtio-net on a tap (see vhost_net.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "virtio/vhost.h"
#include "virtio/vhost_net.h"

#define VHOST_NET_DEV "/dev/vhost-net"
#define NET_RXQ	      0
#define NET_TXQ	      1

struct vhost_net {
	struct vhost_dev vh;
	bool inherited;
	bool running;
};

int vhost_net_open(int vhostfd, struct vhost_net **out, char *why, size_t whylen)
{
	struct vhost_net *vn;
	int fd = vhostfd, ret;

	vn = calloc(1, sizeof(*vn));
	if (!vn)
		return -ENOMEM;
	vn->inherited = vhostfd >= 0;
	if (fd < 0) {
		fd = open(VHOST_NET_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			snprintf(why, whylen, "%s: %s", VHOST_NET_DEV, strerror(errno));
			free(vn);
			return ret;
		}
	}
	ret = vhost_dev_init(&vn->vh, fd);
	if (ret < 0) {
		snprintf(why, whylen, "%s", vn->vh.err);
		if (!vn->inherited)
			close(fd);
		free(vn);
		return ret;
	}
	*out = vn;
	return 0;
}

static int set_backend(struct vhost_net *vn, int fd)
{
	for (unsigned i = 0; i < 2; i++) {
		struct vhost_vring_file b = {i, fd};

		if (ioctl(vn->vh.fd, VHOST_NET_SET_BACKEND, &b) < 0)
			return -errno;
	}
	return 0;
}

int vhost_net_start(struct vhost_net *vn, struct virtio_dev *vdev, int tapfd, char *why,
		    size_t whylen)
{
	/*
	 * The tap carries the 12-byte virtio-net header itself (TUNSETVNETHDRSZ),
	 * so vhost adds none: VHOST_NET_F_VIRTIO_NET_HDR stays off.  Offloads
	 * and config bits are not vhost features: only the ring features go.
	 */
	uint64_t features =
	    vdev->driver_features & vn->vh.features & ~(1ULL << VHOST_NET_F_VIRTIO_NET_HDR);
	int ret;

	if (vn->running)
		return 0;
	ret = vhost_dev_start(&vn->vh, vdev, features, NET_RXQ, 2);
	if (ret < 0) {
		snprintf(why, whylen, "%s", vn->vh.err);
		return ret;
	}
	ret = set_backend(vn, tapfd);
	if (ret < 0) {
		snprintf(why, whylen, "VHOST_NET_SET_BACKEND: %s", strerror(-ret));
		set_backend(vn, -1);
		vhost_dev_stop(&vn->vh);
		return ret;
	}
	vn->running = true;
	return 0;
}

void vhost_net_stop(struct vhost_net *vn)
{
	if (!vn || !vn->running)
		return;
	set_backend(vn, -1);
	vhost_dev_stop(&vn->vh);
	vn->running = false;
}

void vhost_net_close(struct vhost_net *vn)
{
	if (!vn)
		return;
	vhost_net_stop(vn);
	vhost_dev_close(&vn->vh);
	free(vn);
}
