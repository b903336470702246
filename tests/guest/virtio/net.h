/* SPDX-License-Identifier: MulanPSL-2.0 */
/* virtio-net for the test guest (virtio 1.2, 5.1): no offloads, 12-byte header. */
#ifndef SVGUEST_VIRTIO_NET_H
#define SVGUEST_VIRTIO_NET_H

#include "virtio/virtio.h"

#define VNET_F_MAC     5
#define VNET_F_STATUS  16
#define VNET_S_LINK_UP 1

#define VNET_HDR_LEN   12 /* virtio_net_hdr_v1 */
#define VNET_RXQ       0
#define VNET_TXQ       1
#define VNET_BUF_SIZE  2048   /* header + a 1514-byte frame */
#define VNET_ETHERTYPE 0x88b5 /* IEEE local experimental: ours only */

struct vnet {
	struct vdev dev;
	struct vq rx, tx;
	uint8_t mac[6];
	uint16_t status;
	uint8_t *rxbufs; /* rx.num buffers of VNET_BUF_SIZE */
	uint8_t *txbufs; /* tx.num buffers of VNET_BUF_SIZE */
};

/*
 * Opens the virtio-net transport with MAC `mac` (NULL: the first one whose
 * link is up), sets up both queues (at most qmax entries) and fills RX.
 */
int vnet_open(struct vnet *n, const uint8_t *mac, unsigned int qmax, const char **why);
/* vnet_open with net_mac= from the command line, if given. */
int vnet_open_cmdline(struct vnet *n, unsigned int qmax, const char **why);
/* Posts RX buffer i (0..rx.num-1) again. Does not kick. */
void vnet_post_rx(struct vnet *n, unsigned int i);
/* Builds an Ethernet frame with our ethertype in TX buffer i; returns its length with header. */
uint32_t vnet_build(struct vnet *n, unsigned int i, const uint8_t *dst, const void *payload,
		    uint32_t len);
/* Parses "aa:bb:cc:dd:ee:ff"; false if malformed. */
bool vnet_parse_mac(const char *s, uint8_t mac[6]);

#endif
