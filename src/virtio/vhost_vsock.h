/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_VHOST_VSOCK_H
#define SV_VIRTIO_VHOST_VSOCK_H

/* vhost-vsock-device: virtio-vsock served by the kernel (vhost_vsock.c). */

#include <stddef.h>

struct vm_config;

/* "/dev/vhost-vsock": what the VMM opens without vhostfd= (tests change it). */
extern const char *vhost_vsock_path;

/*
 * 0 when fd is the vhost-vsock character device (misc 10:241), else -errno
 * with the reason in why.
 */
int vhost_vsock_check_fd(int fd, char *why, size_t whylen);
/*
 * Before the VMM creates anything: an inherited vhostfd= must be the
 * vhost-vsock device; without one, /dev/vhost-vsock must exist.  0, or
 * -errno with one line in err.
 */
int vhost_vsock_preflight(const struct vm_config *cfg, char *err, size_t errlen);

#endif
