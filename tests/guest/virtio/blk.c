// SPDX-License-Identifier: MulanPSL-2.0
/* Synchronous virtio-blk requests for the test guest's checks. */
#include "lib/alloc.h"
#include "lib/string.h"
#include "virtio/blk.h"

int vblk_open_dev(struct vblk *b, const struct vdev *d, uint64_t want, const char **why)
{
	if (&b->dev != d)
		b->dev = *d;
	if (vio_init(&b->dev, want, why) < 0)
		return -1;
	if (vq_setup(&b->dev, &b->q, 0, VQ_DEFAULT, why) < 0)
		return -1;
	if (!b->hdr) {
		b->hdr = page_alloc(1);
		if (!b->hdr) {
			*why = "out of guest pages";
			return -1;
		}
		b->status = (uint8_t *)b->hdr + 64;
	}
	b->capacity = vio_cfg64(&b->dev, VBLK_CFG_CAPACITY);
	vio_driver_ok(&b->dev);
	if (vio_status(&b->dev) & VIO_S_NEEDS_RESET) {
		*why = "device set NEEDS_RESET at DRIVER_OK";
		return -1;
	}
	return 0;
}

int vblk_open(struct vblk *b, unsigned int nth, uint64_t want, const char **why)
{
	struct vdev d;

	if (!vio_find(VIO_ID_BLOCK, nth, &d)) {
		*why = "no such virtio-blk transport";
		return -1;
	}
	return vblk_open_dev(b, &d, want, why);
}

int vblk_request(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct vbuf bufs[3];
	bool dev_writes = type == VBLK_T_IN || type == VBLK_T_GET_ID;
	unsigned int n = 0;
	uint32_t used_len;
	int ret;

	b->hdr->type = type;
	b->hdr->reserved = 0;
	b->hdr->sector = sector;
	*b->status = 0xff;
	bufs[n++] = (struct vbuf){vaddr(b->hdr), sizeof(*b->hdr), false};
	if (len)
		bufs[n++] = (struct vbuf){vaddr(buf), len, dev_writes};
	bufs[n++] = (struct vbuf){vaddr(b->status), 1, true};
	ret = vq_transact(&b->q, bufs, n, &used_len);
	if (ret == 0)
		return -1;
	if (ret < 0)
		return vio_status(&b->dev) & VIO_S_NEEDS_RESET ? -2 : -3;
	return *(volatile uint8_t *)b->status;
}
