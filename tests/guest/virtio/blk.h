/* SPDX-License-Identifier: MulanPSL-2.0 */
/* virtio-blk requests over the test guest's virtio driver (virtio 1.2, 5.2). */
#ifndef SVGUEST_VIRTIO_BLK_H
#define SVGUEST_VIRTIO_BLK_H

#include "virtio/virtio.h"

#define VBLK_F_SIZE_MAX	    1
#define VBLK_F_SEG_MAX	    2
#define VBLK_F_RO	    5
#define VBLK_F_BLK_SIZE	    6
#define VBLK_F_FLUSH	    9
#define VBLK_F_DISCARD	    13
#define VBLK_F_WRITE_ZEROES 14

#define VBLK_T_IN	    0
#define VBLK_T_OUT	    1
#define VBLK_T_FLUSH	    4
#define VBLK_T_GET_ID	    8
#define VBLK_T_DISCARD	    11
#define VBLK_T_WRITE_ZEROES 13

#define VBLK_S_OK     0
#define VBLK_S_IOERR  1
#define VBLK_S_UNSUPP 2

#define VBLK_CFG_CAPACITY 0x00
#define VBLK_ID_BYTES	  20
#define SECTOR_SIZE	  512

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk_dz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct vblk {
	struct vdev dev;
	struct vq q;
	uint64_t capacity;    /* sectors */
	struct vblk_hdr *hdr; /* one page: header, status, scratch */
	uint8_t *status;
};

/*
 * Initialises the nth virtio-blk transport with `want` features (plus
 * VERSION_1) and its request queue. 0 or -1 with *why.
 */
int vblk_open(struct vblk *b, unsigned int nth, uint64_t want, const char **why);
int vblk_open_dev(struct vblk *b, const struct vdev *d, uint64_t want, const char **why);

/*
 * One synchronous request: header, then `len` bytes of buf (device-writable
 * for IN and GET_ID), then the status byte. Returns the status (0..255), or
 * -1 on timeout, -2 when the device needs a reset, -3 when the ring is full.
 */
int vblk_request(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len);

#endif
