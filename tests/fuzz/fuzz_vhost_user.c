// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the vhost-user reply reader: the input is everything
 * a hostile back end sends (headers, payloads, trailing bytes), queued on a
 * socketpair before the front end runs its start-up and a queue's set-up and
 * stop.  Each call must return 0 or -errno without reading past what came.
 *
 * Build by hand:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_vhost_user.c src/virtio/vhost_user.c -o fuzz_vhost_user
 *   ./fuzz_vhost_user -max_total_time=120
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine/memory.h"
#include "virtio/vhost_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ring[4096];
	struct vhost_user vu;
	unsigned base;
	int sv[2];

	if (size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (size && write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* the back end has said all it will: a short reply ends in a hang-up */
	shutdown(sv[1], SHUT_WR);
	vhost_user_init(&vu, sv[0]);
	vhost_user_set_timeout(&vu, 20);
	if (vhost_user_negotiate(&vu, 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) == 0) {
		vhost_user_set_features(&vu, vu.features & (1ULL << 32));
		vhost_user_set_vring_num(&vu, 1, 128);
		vhost_user_set_vring_addr(&vu, 1, ring, ring + 2048, ring + 1024);
		vhost_user_set_vring_kick(&vu, 1, -1);
		vhost_user_set_vring_enable(&vu, 1, 1);
		vhost_user_get_vring_base(&vu, 1, &base);
	}
	vhost_user_close(&vu);
	close(sv[1]);
	return 0;
}
