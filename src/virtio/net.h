/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_NET_H
#define SV_VIRTIO_NET_H

/*
 * virtio-net hot-replace slots.  NET_NR_SLOTS transports exist from boot
 * (more when the command line names more NICs); the NICs given at start-up
 * fill them in order.  An empty slot is a NIC whose link is down.
 */

struct vm;
struct net_config;

#define NET_NR_SLOTS 2

/*
 * Opens the tap of net (ifname, or the first of its fds) and puts it into
 * slot: the link goes up (and the MAC changes when net has one) with a
 * config-change interrupt.  -ENODEV: no such slot; -EBUSY: slot in use;
 * other -errno: the tap could not be used (message printed).  On success
 * the slot owns net->fds[0] (and closes the others); on failure they stay
 * open, the caller's.
 */
int net_slot_attach(struct vm *vm, int slot, const struct net_config *net);
/* Empties slot: closes the tap, link down, config-change interrupt.  -ENODEV, -ENOENT. */
int net_slot_detach(struct vm *vm, int slot);
int net_slot_count(void);
/* The slot whose NIC has this device id or netdev id, or -ENOENT. */
int net_slot_find(const char *id);

#endif
