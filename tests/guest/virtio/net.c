// SPDX-License-Identifier: MulanPSL-2.0
/* virtio-net set-up and frame helpers for the test guest's checks. */
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/string.h"
#include "virtio/net.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool vnet_parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || (i < 5 && s[2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return true;
}

static void read_config(struct vnet *n)
{
	int i;

	for (i = 0; i < 6; i++)
		n->mac[i] = vio_cfg8(&n->dev, (uint32_t)i);
	n->status = (uint16_t)(vio_cfg8(&n->dev, 6) | vio_cfg8(&n->dev, 7) << 8);
}

void vnet_post_rx(struct vnet *n, unsigned int i)
{
	struct vbuf b = {vaddr(n->rxbufs + (uint64_t)i * VNET_BUF_SIZE), VNET_BUF_SIZE, true};

	vq_add(&n->rx, &b, 1, (void *)(uintptr_t)(i + 1));
}

uint32_t vnet_build(struct vnet *n, unsigned int i, const uint8_t *dst, const void *payload,
		    uint32_t len)
{
	uint8_t *p = n->txbufs + (uint64_t)i * VNET_BUF_SIZE;
	uint32_t frame = 14 + len;

	if (frame < 60)
		frame = 60; /* the minimum Ethernet frame without FCS */
	memset(p, 0, VNET_HDR_LEN + frame);
	memcpy(p + VNET_HDR_LEN, dst, 6);
	memcpy(p + VNET_HDR_LEN + 6, n->mac, 6);
	p[VNET_HDR_LEN + 12] = VNET_ETHERTYPE >> 8;
	p[VNET_HDR_LEN + 13] = VNET_ETHERTYPE & 0xff;
	memcpy(p + VNET_HDR_LEN + 14, payload, len);
	return VNET_HDR_LEN + frame;
}

int vnet_open(struct vnet *n, const uint8_t *mac, unsigned int qmax, const char **why)
{
	const uint64_t want =
	    VIO_BIT(VNET_F_MAC) | VIO_BIT(VNET_F_STATUS) | VIO_BIT(VIO_F_EVENT_IDX);
	unsigned int nth, i;

	for (nth = 0;; nth++) {
		if (!vio_find(VIO_ID_NET, nth, &n->dev)) {
			*why = mac ? "no virtio-net transport with net_mac="
				   : "no virtio-net transport with its link up";
			return -1;
		}
		read_config(n);
		if (mac ? !memcmp(mac, n->mac, 6) : (n->status & VNET_S_LINK_UP))
			break;
	}
	if (vio_init(&n->dev, want, why) < 0 ||
	    vq_setup(&n->dev, &n->rx, VNET_RXQ, qmax, why) < 0 ||
	    vq_setup(&n->dev, &n->tx, VNET_TXQ, qmax, why) < 0)
		return -1;
	read_config(n);
	n->rxbufs = vio_scratch((uint64_t)n->rx.num * VNET_BUF_SIZE);
	n->txbufs = vio_scratch((uint64_t)n->tx.num * VNET_BUF_SIZE);
	if (!n->rxbufs || !n->txbufs) {
		/* Less than 80 MiB of RAM: fall back to zeroed pages. */
		n->rxbufs = page_alloc((size_t)n->rx.num * VNET_BUF_SIZE / PAGE_SIZE);
		n->txbufs = page_alloc((size_t)n->tx.num * VNET_BUF_SIZE / PAGE_SIZE);
	}
	if (!n->rxbufs || !n->txbufs) {
		*why = "out of guest pages";
		return -1;
	}
	for (i = 0; i < n->rx.num; i++)
		vnet_post_rx(n, i);
	vio_driver_ok(&n->dev);
	vq_kick(&n->rx);
	return 0;
}

int vnet_open_cmdline(struct vnet *n, unsigned int qmax, const char **why)
{
	uint8_t mac[6];
	char s[32];

	if (!cmdline_get("net_mac", s, sizeof(s)))
		return vnet_open(n, NULL, qmax, why);
	if (!vnet_parse_mac(s, mac)) {
		*why = "malformed net_mac=";
		return -1;
	}
	return vnet_open(n, mac, qmax, why);
}
