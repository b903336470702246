/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_VHOST_NET_H
#define SV_VIRTIO_VHOST_NET_H

/*
 * The kernel's vhost-net as virtio-net's data path (-netdev tap,vhost=on):
 * the receive and transmit rings and the tap go to /dev/vhost-net, the VMM
 * keeps the transport, the config space and the tap's set-up (virtio-net
 * header length 12, offloads).  Used by src/virtio/net.c.
 */

#include <stddef.h>

struct vhost_net;
struct virtio_dev;

/*
 * Takes /dev/vhost-net (vhostfd < 0) or an inherited vhost-net fd.  0, or
 * -errno with the reason in why: -ENOENT/-EACCES/... from the open mean "no
 * vhost-net here" (the caller falls back to its own path); any error on an
 * inherited fd is the caller's to report.  The fd is closed on error unless
 * it was inherited.
 */
int vhost_net_open(int vhostfd, struct vhost_net **out, char *why, size_t whylen);
/* Hands rx (queue 0) and tx (queue 1) of vdev and the tap to the kernel.  Lock held. */
int vhost_net_start(struct vhost_net *vn, struct virtio_dev *vdev, int tapfd, char *why,
		    size_t whylen);
/* Takes the rings back (the tap detached from vhost first).  Lock held. */
void vhost_net_stop(struct vhost_net *vn);
void vhost_net_close(struct vhost_net *vn);

#endif
