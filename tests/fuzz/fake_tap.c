// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The tap functions of src/virtio/tap.h for the fuzz targets: a "tap" is one
 * end of a SOCK_SEQPACKET socketpair (one frame per message, as a tap reads
 * and writes them); fake_tap_peer() gives the other end, where frames sent
 * by the device arrive and where the fuzzer writes frames for the guest.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "virtio/tap.h"

static int peer = -1;

int fake_tap_peer(void);

int fake_tap_peer(void)
{
	return peer;
}

int tap_open(const char *ifname, int *fd_out)
{
	int sv[2];

	if (!ifname || !ifname[0])
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	peer = sv[1];
	*fd_out = sv[0];
	return 0;
}

int tap_check_fd(int fd, char *name_out)
{
	(void)fd;
	if (name_out)
		strcpy(name_out, "svfuzz0");
	return 0;
}

int tap_set_vnet_hdr_len(int fd, int len)
{
	(void)fd, (void)len;
	return 0;
}

int tap_set_offload(int fd, unsigned offloads)
{
	(void)fd, (void)offloads;
	return 0;
}

int tap_detach_queue(int fd)
{
	(void)fd;
	return 0;
}
