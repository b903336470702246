/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_VHOST_USER_H
#define SV_VIRTIO_VHOST_USER_H

/*
 * The front end of the vhost-user protocol (QEMU's docs/interop/vhost-user):
 * the VMM is the client on a unix socket, sends requests with a 12-byte header
 * and a payload, passes memory and eventfds with SCM_RIGHTS, and reads the
 * back end's replies.  A reply is untrusted: its request code, flags and size
 * are checked against what was asked before the payload is used, it must come
 * within timeout_ms, and a hang-up is an error like any other.  Functions
 * return 0 or -errno and leave a one-line reason in vu->err.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_SET_VRING_ENABLE = 18,
};

#define VHOST_USER_VERSION	   0x1
#define VHOST_USER_VERSION_MASK	   0x3
#define VHOST_USER_FLAG_REPLY	   0x4
#define VHOST_USER_FLAG_NEED_REPLY 0x8

#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_VRING_NOFD		0x100
#define VHOST_USER_MAX_REGIONS		8
#define VHOST_USER_HDR_SIZE		12
#define VHOST_USER_DEFAULT_TIMEOUT_MS	5000

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhost_user_region {
	uint64_t guest_addr;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
};

struct vhost_user_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
};

struct vhost_user {
	int fd;
	int timeout_ms;
	bool broken;		    /* hang-up or protocol error: close and reconnect */
	uint64_t features;	    /* what GET_FEATURES offered */
	uint64_t protocol_features; /* agreed with SET_PROTOCOL_FEATURES */
	char err[160];
};

/* vu->fd = fd (-1 for none), default timeout, nothing negotiated. */
void vhost_user_init(struct vhost_user *vu, int fd);
/* Connects to the back end's listening socket. */
int vhost_user_connect(struct vhost_user *vu, const char *path);
/*
 * Sets the reply timeout on the connected socket (SO_RCVTIMEO and
 * SO_SNDTIMEO); vhost_user_connect() sets the default.  An fd given to
 * vhost_user_init() waits without bound until this is called.
 */
int vhost_user_set_timeout(struct vhost_user *vu, int ms);
void vhost_user_close(struct vhost_user *vu);

/*
 * GET_FEATURES; with VHOST_USER_F_PROTOCOL_FEATURES offered,
 * GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES of (offered & want);
 * then SET_OWNER.
 */
int vhost_user_negotiate(struct vhost_user *vu, uint64_t want_protocol);
/* SET_FEATURES; adds VHOST_USER_F_PROTOCOL_FEATURES when it was offered. */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features);
/* SET_MEM_TABLE of guest RAM, its fd (mem->memfd) once per region. */
int vhost_user_set_mem_table(struct vhost_user *vu, const struct guest_mem *mem);
int vhost_user_set_vring_num(struct vhost_user *vu, unsigned idx, unsigned num);
int vhost_user_set_vring_base(struct vhost_user *vu, unsigned idx, unsigned base);
int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned idx, const void *desc,
			      const void *used, const void *avail);
/* fd -1 sends the "no fd" flag (polling mode) */
int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned idx, int fd);
int vhost_user_set_vring_call(struct vhost_user *vu, unsigned idx, int fd);
int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned idx, int enable);
/* Stops the ring and gives its next avail index. */
int vhost_user_get_vring_base(struct vhost_user *vu, unsigned idx, unsigned *base);

/*
 * The reply check, on a header and the bytes that followed it: the request
 * code must be `request`, the version 1 with the reply flag, the size exactly
 * `want_size`.  0 or -EPROTO with a reason in err.
 */
int vhost_user_check_reply(const struct vhost_user_hdr *hdr, uint32_t request, size_t want_size,
			   char *err, size_t errlen);

#endif
