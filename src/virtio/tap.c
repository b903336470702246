// SPDX-License-Identifier: MulanPSL-2.0
/* Opening and configuring tap devices for virtio-net (see tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio/tap.h"

#define TUN_DEV "/dev/net/tun"

static int tap_setiff(int fd, const char *ifname, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

int tap_open(const char *ifname, int *fd_out)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	int fd, ret;

	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = tap_setiff(fd, ifname, flags);
	/* An existing tap made with multi_queue refuses a single-queue open. */
	if (ret == -EINVAL)
		ret = tap_setiff(fd, ifname, flags | IFF_MULTI_QUEUE);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

int tap_check_fd(int fd, char *name_out)
{
	struct ifreq ifr;
	int fl;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADF ? -EBADF : -ENOTTY;
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP)
		return -EPROTOTYPE;
	if (!(ifr.ifr_flags & IFF_VNET_HDR))
		return -EPFNOSUPPORT;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (name_out) {
		memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
		name_out[IFNAMSIZ - 1] = '\0';
	}
	return 0;
}

int tap_set_vnet_hdr_len(int fd, int len)
{
	return ioctl(fd, TUNSETVNETHDRSZ, &len) < 0 ? -errno : 0;
}

int tap_set_offload(int fd, unsigned offloads)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) == 0)
		return 0;
	if (errno == EINVAL && (offloads & TAP_OFFLOAD_UFO) &&
	    ioctl(fd, TUNSETOFFLOAD, (unsigned long)(offloads & ~TAP_OFFLOAD_UFO)) == 0)
		return 0;
	return -errno;
}

int tap_detach_queue(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}
