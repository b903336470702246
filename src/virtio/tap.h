/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_TAP_H
#define SV_VIRTIO_TAP_H

/*
 * Linux tap devices for the userspace virtio-net back end.  Every tap we use
 * carries a virtio_net_hdr in front of each frame (IFF_VNET_HDR) and is
 * non-blocking.  Functions return 0 or -errno and print nothing: the caller
 * knows which option named the tap and writes the message.
 */

#include <net/if.h>

/* TUN_F_* offload bits, as TUNSETOFFLOAD takes them */
#define TAP_OFFLOAD_CSUM 0x01
#define TAP_OFFLOAD_TSO4 0x02
#define TAP_OFFLOAD_TSO6 0x04
#define TAP_OFFLOAD_ECN	 0x08
#define TAP_OFFLOAD_UFO	 0x10

/*
 * Opens the tap called ifname (the kernel creates it when absent and we may),
 * as IFF_TAP | IFF_NO_PI | IFF_VNET_HDR; a tap made with multi_queue is
 * attached as one of its queues.  The fd is O_NONBLOCK and O_CLOEXEC.
 * -EINVAL: the name is too long; -EBUSY: another process holds the tap.
 */
int tap_open(const char *ifname, int *fd_out);
/*
 * Checks that an inherited fd is a tap with IFF_VNET_HDR and makes it
 * non-blocking and close-on-exec; name_out (IFNAMSIZ bytes) gets its name.
 * -ENOTTY: not a tun/tap fd; -EPROTOTYPE: a tun (layer 3) device;
 * -EPFNOSUPPORT: opened without IFF_VNET_HDR.
 */
int tap_check_fd(int fd, char *name_out);
int tap_set_vnet_hdr_len(int fd, int len);
/* Offloads the tap may hand us (guest features); UFO dropped if refused. */
int tap_set_offload(int fd, unsigned offloads);
/* Takes a queue of a multi_queue tap out of the kernel's steering. */
int tap_detach_queue(int fd);

#endif
