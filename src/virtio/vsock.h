/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_VSOCK_H
#define SV_VIRTIO_VSOCK_H

/*
 * virtio-vsock wire format (virtio 1.2, 5.10), shared by the user-space
 * device (vsock.c), the vhost-vsock device (vhost_vsock.c) and the tests.
 */
#include <stdint.h>

#define VSOCK_QUEUE_RX	  0
#define VSOCK_QUEUE_TX	  1
#define VSOCK_QUEUE_EVENT 2

#define VSOCK_HOST_CID 2

#define VSOCK_TYPE_STREAM 1

#define VSOCK_OP_INVALID	0
#define VSOCK_OP_REQUEST	1
#define VSOCK_OP_RESPONSE	2
#define VSOCK_OP_RST		3
#define VSOCK_OP_SHUTDOWN	4
#define VSOCK_OP_RW		5
#define VSOCK_OP_CREDIT_UPDATE	6
#define VSOCK_OP_CREDIT_REQUEST 7

#define VSOCK_SHUTDOWN_RCV  1
#define VSOCK_SHUTDOWN_SEND 2

#define VSOCK_EVENT_TRANSPORT_RESET 0

/* Little-endian on the wire; this VMM runs on x86-64 only. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == 44, "virtio_vsock_hdr is 44 bytes");

struct vsock_config {
	uint64_t guest_cid;
} __attribute__((packed));

/* Limits of the user-space device (docs/vsock.md). */
#define VSOCK_MAX_CONNS	      1023
#define VSOCK_BUF_ALLOC	      (256u * 1024) /* per connection, guest -> host */
#define VSOCK_MAX_PAYLOAD     (64u * 1024)  /* one packet, either way */
#define VSOCK_CONNECT_MS      2000
#define VSOCK_SHUTDOWN_MS     2000
#define VSOCK_HOST_PORT_FIRST (1u << 30)
#define VSOCK_CONNECT_LINE    32

#endif
