// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-net (on the transport with MAC net_mac=, else the first with its
 * link up): sends a broadcast frame of ethertype 0x88b5 with the payload
 * "svtest-guest-to-host", prints SVTEST NET-READY, then waits for a frame
 * of the same ethertype with the payload "svtest-host-to-guest" (others,
 * such as IPv6 neighbour discovery, are dropped).
 */
#include "check.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/net.h"

#define TX_PAYLOAD "svtest-guest-to-host"
#define RX_PAYLOAD "svtest-host-to-guest"
/* Time for the host to answer NET-READY: polls of one exit each, 10-40 s. */
#define RX_POLLS (20 * IO_DELAY_PER_SEC)

static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static bool is_ours(const uint8_t *f, uint32_t len, const uint8_t *mac)
{
	return len >= VNET_HDR_LEN + 14 + sizeof(RX_PAYLOAD) - 1 &&
	       !memcmp(f + VNET_HDR_LEN, mac, 6) && f[VNET_HDR_LEN + 12] == VNET_ETHERTYPE >> 8 &&
	       f[VNET_HDR_LEN + 13] == (VNET_ETHERTYPE & 0xff) &&
	       !memcmp(f + VNET_HDR_LEN + 14, RX_PAYLOAD, sizeof(RX_PAYLOAD) - 1);
}

static enum check_result check_virtio_net(struct check_ctx *ctx)
{
	static struct vnet n;
	unsigned int others = 0;
	const char *why;
	uint32_t len;
	void *tok;
	int ret;

	if (vnet_open_cmdline(&n, VQ_DEFAULT, &why) < 0)
		return check_fail(ctx, "%s", why);
	printf("INFO virtio_net slot %u mac %02x:%02x:%02x:%02x:%02x:%02x status %u features "
	       "0x%lx\n",
	       n.dev.slot, n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5], n.status,
	       n.dev.negotiated);

	len = vnet_build(&n, 0, broadcast, TX_PAYLOAD, sizeof(TX_PAYLOAD) - 1);
	ret = vq_transact(&n.tx, &(struct vbuf){vaddr(n.txbufs), len, false}, 1, NULL);
	if (ret != 1)
		return check_fail(ctx, "TX: %s", ret ? "device error" : "not completed");
	printf("INFO virtio_net sent %u bytes\n", len - VNET_HDR_LEN);

	printf("SVTEST NET-READY\n");
	for (;;) {
		uint8_t *f;
		unsigned int i;

		ret = vq_wait(&n.rx, &len, &tok, RX_POLLS);
		if (ret != 1)
			return check_fail(ctx, "RX: %s (%u other frames)",
					  ret ? "device error" : "no frame from the host", others);
		i = (unsigned int)(uintptr_t)tok - 1;
		f = n.rxbufs + (uint64_t)i * VNET_BUF_SIZE;
		if (is_ours(f, len, n.mac))
			break;
		others++;
		vnet_post_rx(&n, i);
		vq_kick(&n.rx);
	}
	printf("INFO virtio_net received %u bytes (%u other frames dropped)\n", len - VNET_HDR_LEN,
	       others);
	vio_reset(&n.dev);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_net, check_virtio_net, false);
