// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-net on a tap device, in StratoVirt's hot-replace slots.
 *
 * Frames carry the 12-byte virtio_net_hdr_v1 in front; the tap is set to the
 * same header size, so the header goes to and comes from the kernel as is
 * and checksum/TSO offloads work end to end.
 *
 * RX never loses a frame the tap gave us: without merged buffers a chain is
 * popped before the read (and given back with virtq_unpop when the tap is
 * empty); with merged buffers one frame is read ahead into a host buffer and
 * held there until the guest has posted enough buffers for it.  With no RX
 * buffers the tap is no longer polled for input until the guest kicks the
 * RX queue.  A TX write that would block keeps its chain and waits for
 * EPOLLOUT.
 *
 * Threading: queue handlers and the tap handler run on the device's loop
 * with the device lock held.  Changes to what the tap is polled for are made
 * on the loop thread only (a reset on a vCPU thread leaves it to the next
 * tap event or queue kick).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/iothread.h"
#include "util/log.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/tap.h"
#include "virtio/vhost_net.h"

#define NET_F_CSUM	 0
#define NET_F_GUEST_CSUM 1
#define NET_F_MAC	 5
#define NET_F_GUEST_TSO4 7
#define NET_F_GUEST_TSO6 8
#define NET_F_GUEST_UFO	 10
#define NET_F_HOST_TSO4	 11
#define NET_F_HOST_TSO6	 12
#define NET_F_HOST_UFO	 14
#define NET_F_MRG_RXBUF	 15
#define NET_F_STATUS	 16

#define NET_S_LINK_UP 1

#define NET_HDR_LEN	    12 /* virtio_net_hdr_v1 */
#define NET_HDR_NUM_BUFFERS 10 /* offset of num_buffers in it */
#define NET_QUEUE_SIZE	    256
#define NET_RXQ		    0
#define NET_TXQ		    1
#define NET_MAX_SEGS	    256
#define NET_RX_BUDGET	    256	  /* frames per tap event, then let others run */
#define NET_RXBUF_SIZE	    69632 /* header + 64 KiB GSO frame + link header */
#define NET_MAX_SLOTS	    8

/* virtio_net_config: mac, status, max_virtqueue_pairs */
#define CFG_MAC	     0
#define CFG_STATUS   6
#define CFG_MAX_VQ   8
#define NET_CFG_SIZE 10

struct net_dev {
	struct virtio_dev *vdev;
	int slot;
	bool attached;
	bool failed; /* the tap returned a hard error: stop using it */
	int fd;	     /* the tap, -1 when the slot is empty */
	char *id;    /* netdev id */
	char *dev_id;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint16_t status;
	uint32_t events; /* what the loop polls the tap for */
	bool rx_stalled; /* no RX buffers: wait for the guest to kick RX */
	bool tx_blocked; /* a write would block: wait for EPOLLOUT */
	bool mrg;	 /* MRG_RXBUF negotiated */
	uint8_t *rxbuf;	 /* merged buffers: a frame read ahead */
	size_t rx_len;	 /* bytes held in rxbuf, 0 when none */
	/* chains popped for the frame in rxbuf, not yet used */
	size_t rx_off;
	unsigned rx_nbufs, rx_nr_hdr_iov;
	struct virtq_used_elem rx_used[NET_QUEUE_SIZE];
	struct iovec rx_hdr_iov[NET_HDR_LEN];
	struct vhost_net *vhost; /* vhost=on and /dev/vhost-net usable */
	bool vhost_on;		 /* the kernel serves the rings now */
};

static struct net_dev *slots[NET_MAX_SLOTS];
static int nr_slots;

static void net_tap_event(void *opaque, uint32_t events);

static void net_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct net_dev *n = vdev->priv;
	uint8_t cfg[NET_CFG_SIZE];

	memcpy(cfg + CFG_MAC, n->mac, 6);
	cfg[CFG_STATUS] = n->status & 0xff;
	cfg[CFG_STATUS + 1] = n->status >> 8;
	cfg[CFG_MAX_VQ] = 1;
	cfg[CFG_MAX_VQ + 1] = 0;
	memcpy(data, cfg + off, len);
}

/* Loop thread only: polls the tap for what the device needs now. */
static void net_update_poll(struct net_dev *n)
{
	struct evloop *loop = n->vdev->loop;
	uint32_t want = 0;
	int ret;

	if (n->attached && !n->failed && !n->vhost_on && virtio_dev_running(n->vdev)) {
		if (!n->rx_stalled && n->vdev->vqs[NET_RXQ].ready)
			want |= EPOLLIN;
		if (n->tx_blocked)
			want |= EPOLLOUT;
	}
	if (want == n->events)
		return;
	if (!want)
		ret = evloop_del(loop, n->fd);
	else if (!n->events)
		ret = evloop_add(loop, n->fd, want, net_tap_event, n);
	else
		ret = evloop_mod(loop, n->fd, want);
	if (ret < 0) {
		pr_err("virtio-net tap '%s': event loop: %s\n", n->ifname, strerror(-ret));
		return;
	}
	n->events = want;
}

static void net_tap_failed(struct net_dev *n, const char *what, int err)
{
	pr_err("virtio-net tap '%s': %s: %s; the NIC stops using it\n", n->ifname, what,
	       strerror(err));
	n->failed = true;
}

static bool chain_is_rx_buffer(const struct virtq_chain *c)
{
	return c->nr_readable == 0 && c->writable_len >= NET_HDR_LEN;
}

/*
 * One frame straight into one chain.  1: delivered; 0: tap empty; -ENOBUFS:
 * no RX buffer; -EINVAL: bad chain (NEEDS_RESET set); -EIO: tap failed.
 */
static int net_rx_direct(struct net_dev *n, struct virtq *vq, struct virtq_chain *c)
{
	uint16_t one = 1;
	ssize_t len;
	int ret;

	ret = virtq_pop_chain(vq, c);
	if (ret == 0)
		return -ENOBUFS;
	if (ret < 0) {
		virtio_mmio_set_needs_reset(n->vdev, c->err);
		return -EINVAL;
	}
	if (!chain_is_rx_buffer(c)) {
		virtio_mmio_set_needs_reset(
		    n->vdev,
		    "virtio-net receive buffer is device-readable or shorter than the header");
		return -EINVAL;
	}
	/* readv()'s work through preadv2 (offset -1): blk's call, one syscall fewer to allow */
	len = preadv2(n->fd, c->iov, c->nr_segs, -1, 0);
	if (len < 0) {
		int err = errno;

		virtq_unpop(vq);
		if (err == EAGAIN || err == EINTR)
			return 0;
		net_tap_failed(n, "read", err);
		return -EIO;
	}
	/* The tap reports the frame's size even when it did not fit. */
	if ((size_t)len > c->writable_len)
		len = c->writable_len;
	iov_from_buf(c->iov, c->nr_segs, NET_HDR_NUM_BUFFERS, &one, sizeof(one));
	virtq_push_used(vq, c->head, len);
	return 1;
}

/* Hands the chains holding the frame in rxbuf to the guest. */
static void net_rx_finish(struct net_dev *n, struct virtq *vq)
{
	uint16_t nb = n->rx_nbufs;

	iov_from_buf(n->rx_hdr_iov, n->rx_nr_hdr_iov, NET_HDR_NUM_BUFFERS, &nb, sizeof(nb));
	for (unsigned i = 0; i < n->rx_nbufs; i++)
		virtq_push_used(vq, n->rx_used[i].id, n->rx_used[i].len);
	n->rx_len = n->rx_off = 0;
	n->rx_nbufs = n->rx_nr_hdr_iov = 0;
}

/*
 * Merged buffers: the frame in rxbuf into as many chains as it needs.  The
 * chains filled so far stay with the device while it waits for more, so
 * the next kick is for buffers it has not seen.  Also delivers a frame read
 * ahead for a driver that has since reset without merged buffers: then into
 * one chain.
 */
static int net_rx_merged(struct net_dev *n, struct virtq *vq, struct virtq_chain *c)
{
	int ret;

	if (!n->rx_len) {
		ssize_t len;

		/* Read nothing the guest has no room for. */
		if (virtq_empty(vq))
			return -ENOBUFS;
		len = read(n->fd, n->rxbuf, NET_RXBUF_SIZE);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			net_tap_failed(n, "read", errno);
			return -EIO;
		}
		if (len < NET_HDR_LEN)
			return 1; /* not a frame: nothing to deliver */
		n->rx_len = len > NET_RXBUF_SIZE ? NET_RXBUF_SIZE : len;
	}
	while (n->rx_off < n->rx_len) {
		size_t put;

		/* A ring too small for the frame gets it truncated. */
		if (n->rx_nbufs >= vq->size || (!n->mrg && n->rx_nbufs))
			break;
		ret = virtq_pop_chain(vq, c);
		if (ret == 0)
			return -ENOBUFS;
		if (ret < 0) {
			virtio_mmio_set_needs_reset(n->vdev, c->err);
			return -EINVAL;
		}
		if (!chain_is_rx_buffer(c)) {
			virtio_mmio_set_needs_reset(n->vdev,
						    "virtio-net merged receive buffer is "
						    "device-readable or shorter than the header");
			return -EINVAL;
		}
		if (n->rx_nbufs == 0) {
			/* Remember where num_buffers goes: c->iov is reused. */
			size_t need = NET_HDR_LEN;

			for (unsigned i = 0; i < c->nr_segs && need; i++) {
				struct iovec *h = &n->rx_hdr_iov[n->rx_nr_hdr_iov++];

				*h = c->iov[i];
				if (h->iov_len > need)
					h->iov_len = need;
				need -= h->iov_len;
			}
		}
		put = iov_from_buf(c->iov, c->nr_segs, 0, n->rxbuf + n->rx_off,
				   n->rx_len - n->rx_off);
		n->rx_used[n->rx_nbufs].id = c->head;
		n->rx_used[n->rx_nbufs].len = put;
		n->rx_nbufs++;
		n->rx_off += put;
	}
	net_rx_finish(n, vq);
	return 1;
}

static void net_rx(struct net_dev *n)
{
	struct virtq *vq = &n->vdev->vqs[NET_RXQ];
	struct iovec iov[NET_MAX_SEGS];
	struct virtq_chain c = {.iov = iov, .max_segs = NET_MAX_SEGS};
	unsigned frames = 0;
	int ret;

	if (!n->attached || n->failed || !vq->ready)
		return;
	while (frames < NET_RX_BUDGET) {
		if (n->mrg || n->rx_len)
			ret = net_rx_merged(n, vq, &c);
		else
			ret = net_rx_direct(n, vq, &c);
		if (ret == -ENOBUFS) {
			/* Ask for a kick when buffers come; go on if some came meanwhile. */
			if (virtq_enable_notify(vq))
				continue;
			n->rx_stalled = true;
			break;
		}
		if (ret <= 0)
			break;
		frames++;
	}
	if (frames)
		virtio_mmio_notify_queue(n->vdev, NET_RXQ);
}

static void net_tx(struct net_dev *n)
{
	struct virtq *vq = &n->vdev->vqs[NET_TXQ];
	struct iovec iov[NET_MAX_SEGS];
	struct virtq_chain c = {.iov = iov, .max_segs = NET_MAX_SEGS};
	bool done = false;
	int ret;

	if (n->tx_blocked || !vq->ready)
		return;
	do {
		virtq_disable_notify(vq);
		for (;;) {
			ret = virtq_pop_chain(vq, &c);
			if (ret == 0)
				break;
			if (ret < 0) {
				virtio_mmio_set_needs_reset(n->vdev, c.err);
				return;
			}
			if (c.nr_readable != c.nr_segs || c.readable_len < NET_HDR_LEN) {
				virtio_mmio_set_needs_reset(
				    n->vdev, "virtio-net transmit chain is "
					     "device-writable or shorter than the header");
				return;
			}
			/* Without a tap the link is down: the frame goes nowhere. */
			if (n->attached && !n->failed &&
			    pwritev2(n->fd, c.iov, c.nr_segs, -1, 0) < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					virtq_unpop(vq);
					n->tx_blocked = true;
					goto out;
				}
				pr_debug("virtio-net tap '%s': write: %s\n", n->ifname,
					 strerror(errno));
			}
			virtq_push_used(vq, c.head, 0);
			done = true;
		}
	} while (virtq_enable_notify(vq));
out:
	if (done)
		virtio_mmio_notify_queue(n->vdev, NET_TXQ);
}

static void net_tap_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;

	virtio_dev_lock(n->vdev);
	/* with vhost on, the kernel reads the tap: only stop polling it */
	if (n->attached && !n->vhost_on && virtio_dev_running(n->vdev)) {
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && n->tx_blocked) {
			n->tx_blocked = false;
			net_tx(n);
		}
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			net_rx(n);
	}
	net_update_poll(n);
	virtio_dev_unlock(n->vdev);
}

static void net_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct net_dev *n = vdev->priv;

	if (n->vhost_on)
		return; /* a kick that raced with the hand-over to vhost-net */
	if (q == NET_RXQ) {
		/* New RX buffers: resume reading the tap. */
		n->rx_stalled = false;
		virtq_disable_notify(&vdev->vqs[NET_RXQ]);
		net_rx(n);
	} else if (q == NET_TXQ) {
		net_tx(n);
	}
	if (n->attached)
		net_update_poll(n);
}

/* Offloads the tap may hand us: what the guest accepts on receive. */
static void net_set_offloads(struct net_dev *n)
{
	struct virtio_dev *vdev = n->vdev;
	unsigned off = 0;
	int ret;

	if (!n->attached || !vdev->activated)
		return;
	if (virtio_has_feature(vdev, NET_F_GUEST_CSUM)) {
		off |= TAP_OFFLOAD_CSUM;
		if (virtio_has_feature(vdev, NET_F_GUEST_TSO4))
			off |= TAP_OFFLOAD_TSO4;
		if (virtio_has_feature(vdev, NET_F_GUEST_TSO6))
			off |= TAP_OFFLOAD_TSO6;
		if (virtio_has_feature(vdev, NET_F_GUEST_UFO))
			off |= TAP_OFFLOAD_UFO;
	}
	ret = tap_set_offload(n->fd, off);
	if (ret < 0)
		pr_warn("virtio-net tap '%s': TUNSETOFFLOAD %#x: %s\n", n->ifname, off,
			strerror(-ret));
}

/* Lock held, device activated: hands the rings to vhost-net, or stays in user space. */
static void net_vhost_start(struct net_dev *n)
{
	char why[200];

	if (!n->vhost || n->vhost_on || !n->attached || !virtio_dev_running(n->vdev))
		return;
	if (!n->vdev->vqs[NET_RXQ].ready || !n->vdev->vqs[NET_TXQ].ready)
		return;
	if (vhost_net_start(n->vhost, n->vdev, n->fd, why, sizeof(why)) < 0) {
		pr_err("virtio-net netdev '%s': vhost-net did not start (%s); user-space data "
		       "path\n",
		       n->id, why);
		return;
	}
	n->vhost_on = true;
	pr_info("virtio-net netdev '%s': vhost-net serves the rings of tap '%s'\n", n->id,
		n->ifname);
}

static void net_vhost_stop(struct net_dev *n)
{
	if (!n->vhost_on)
		return;
	vhost_net_stop(n->vhost);
	n->vhost_on = false;
}

static int net_activate(struct virtio_dev *vdev)
{
	struct net_dev *n = vdev->priv;

	n->mrg = virtio_has_feature(vdev, NET_F_MRG_RXBUF);
	n->rx_stalled = false;
	n->tx_blocked = false;
	net_set_offloads(n);
	net_vhost_start(n);
	return 0;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct net_dev *n = vdev->priv;

	net_vhost_stop(n);
	/* A frame read ahead stays in rxbuf for the next driver; its chains are gone. */
	n->rx_off = 0;
	n->rx_nbufs = n->rx_nr_hdr_iov = 0;
	n->mrg = false;
	n->rx_stalled = false;
	n->tx_blocked = false;
}

static const struct virtio_dev_ops net_dev_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .features = 1ULL << NET_F_CSUM | 1ULL << NET_F_GUEST_CSUM | 1ULL << NET_F_MAC |
		1ULL << NET_F_GUEST_TSO4 | 1ULL << NET_F_GUEST_TSO6 | 1ULL << NET_F_GUEST_UFO |
		1ULL << NET_F_HOST_TSO4 | 1ULL << NET_F_HOST_TSO6 | 1ULL << NET_F_HOST_UFO |
		1ULL << NET_F_MRG_RXBUF | 1ULL << NET_F_STATUS | 1ULL << VIRTIO_F_INDIRECT_DESC |
		1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = NET_CFG_SIZE,
    .num_queues = 2,
    .queue_size = NET_QUEUE_SIZE,
    .config_read = net_config_read,
    .activate = net_activate,
    .reset = net_reset,
    .queue_notify = net_queue_notify,
};

/* ---- back ends ---- */

static int net_open_fds(const struct net_config *nc, const char *id, int *fd_out, char *ifname)
{
	int fd = nc->fds[0], ret;

	ret = tap_check_fd(fd, ifname);
	switch (ret) {
	case 0:
		break;
	case -EBADF:
		user_err("netdev '%s': fds=%d is not an open file descriptor\n", id, fd);
		return ret;
	case -ENOTTY:
		user_err("netdev '%s': fds=%d is not a tap device\n", id, fd);
		return ret;
	case -EPROTOTYPE:
		user_err("netdev '%s': fds=%d is a tun (layer 3) device, not a tap\n", id, fd);
		return ret;
	case -EPFNOSUPPORT:
		user_err("netdev '%s': fds=%d: tap '%s' was opened without IFF_VNET_HDR\n", id, fd,
			 ifname);
		return ret;
	default:
		user_err("netdev '%s': fds=%d: %s\n", id, fd, strerror(-ret));
		return ret;
	}
	/*
	 * One queue pair is served.  Closing the other queues of a multi_queue
	 * tap takes them out of the kernel's steering, so no frame waits
	 * unread on a queue nobody reads.
	 */
	for (int i = 1; i < nc->nr_fds; i++) {
		if (nc->fds[i] == fd || nc->fds[i] < 0)
			continue;
		pr_info("netdev '%s': serving one queue pair; closing tap queue fd %d\n", id,
			nc->fds[i]);
		close(nc->fds[i]);
	}
	*fd_out = fd;
	return 0;
}

static int net_open_ifname(const char *ifname, const char *id, int *fd_out)
{
	int ret = tap_open(ifname, fd_out);

	switch (ret) {
	case 0:
		return 0;
	case -EINVAL:
		if (strlen(ifname) >= IFNAMSIZ)
			user_err("netdev '%s': tap name '%s' is longer than %d characters\n", id,
				 ifname, IFNAMSIZ - 1);
		else
			user_err("netdev '%s': cannot open tap '%s': the interface exists and is "
				 "not a tap\n",
				 id, ifname);
		return ret;
	case -EBUSY:
		user_err("netdev '%s': tap '%s' is in use by another process\n", id, ifname);
		return ret;
	case -EPERM:
		user_err("netdev '%s': cannot open tap '%s': not permitted (creating or attaching "
			 "a tap needs CAP_NET_ADMIN)\n",
			 id, ifname);
		return ret;
	default:
		user_err("netdev '%s': cannot open tap '%s': %s\n", id, ifname, strerror(-ret));
		return ret;
	}
}

static void net_backend_close(struct net_dev *n)
{
	net_vhost_stop(n);
	vhost_net_close(n->vhost);
	n->vhost = NULL;
	/* Chains that hold part of a frame go back, the frame cut short. */
	if (n->rx_nbufs && virtio_dev_running(n->vdev)) {
		net_rx_finish(n, &n->vdev->vqs[NET_RXQ]);
		virtio_mmio_notify_queue(n->vdev, NET_RXQ);
	}
	n->rx_off = 0;
	n->rx_nbufs = n->rx_nr_hdr_iov = 0;
	if (n->events)
		evloop_del(n->vdev->loop, n->fd);
	n->events = 0;
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	free(n->id);
	free(n->dev_id);
	n->id = n->dev_id = NULL;
	n->ifname[0] = '\0';
	n->attached = false;
	n->failed = false;
	n->rx_len = 0; /* a frame of the old tap is not for the next one */
	n->tx_blocked = false;
	n->status = 0;
}

/*
 * vhost=on: /dev/vhost-net when the host has it (else the user-space path,
 * said in the log), or the inherited vhostfd (which must work).
 */
static int net_vhost_open(struct net_dev *n, const struct net_config *nc)
{
	int vfd = nc->nr_vhostfds ? nc->vhostfds[0] : -1;
	char why[200];
	int ret;

	for (int i = 1; i < nc->nr_vhostfds; i++) /* one queue pair: one vhost fd */
		if (nc->vhostfds[i] >= 0 && nc->vhostfds[i] != vfd)
			close(nc->vhostfds[i]);
	ret = vhost_net_open(vfd, &n->vhost, why, sizeof(why));
	if (ret == 0) {
		pr_info("virtio-net netdev '%s': vhost=on: kernel vhost-net data path (tap '%s')\n",
			n->id, n->ifname);
		return 0;
	}
	if (vfd >= 0) {
		user_err("netdev '%s': vhostfd=%d is not a usable vhost-net fd: %s\n", n->id, vfd,
			 why);
		if (nc->nr_fds) /* a caller's tap fd stays the caller's when the attach fails */
			n->fd = -1;
		net_backend_close(n);
		return ret;
	}
	pr_warn("virtio-net netdev '%s': vhost=on but %s; user-space data path\n", n->id, why);
	return 0;
}

static int net_backend_open(struct net_dev *n, const struct net_config *nc)
{
	const char *id = nc->id ? nc->id : "";
	char ifname[IFNAMSIZ] = "";
	int fd, ret;

	if (nc->nr_fds > 0) {
		ret = net_open_fds(nc, id, &fd, ifname);
	} else if (nc->ifname) {
		ret = net_open_ifname(nc->ifname, id, &fd);
		if (!ret)
			snprintf(ifname, sizeof(ifname), "%s", nc->ifname);
	} else {
		user_err("netdev '%s' needs ifname= or fds=\n", id);
		ret = -EINVAL;
	}
	if (ret < 0)
		return ret;
	ret = tap_set_vnet_hdr_len(fd, NET_HDR_LEN);
	if (ret == 0)
		ret = tap_set_offload(fd, 0); /* none until the driver accepts them */
	if (ret < 0) {
		user_err("netdev '%s': tap '%s' refuses the virtio-net header setup: %s\n", id,
			 ifname, strerror(-ret));
		if (!nc->nr_fds) /* a caller's fd stays the caller's when the attach fails */
			close(fd);
		return ret;
	}
	n->fd = fd;
	n->id = strdup(id);
	n->dev_id = strdup(nc->device_id ? nc->device_id : id);
	memcpy(n->ifname, ifname, IFNAMSIZ);
	if (nc->has_mac)
		memcpy(n->mac, nc->mac, 6);
	n->attached = true;
	n->failed = false;
	n->status = NET_S_LINK_UP;
	if (nc->vhost)
		return net_vhost_open(n, nc);
	return 0;
}

/* ---- slots ---- */

int net_slot_count(void)
{
	return nr_slots;
}

int net_slot_find(const char *id)
{
	for (int i = 0; i < nr_slots; i++)
		if (slots[i]->attached && id &&
		    (!strcmp(slots[i]->dev_id, id) || !strcmp(slots[i]->id, id)))
			return i;
	return -ENOENT;
}

int net_slot_attach(struct vm *vm, int slot, const struct net_config *net)
{
	struct net_dev *n;
	int ret;

	(void)vm;
	if (slot < 0 || slot >= nr_slots)
		return -ENODEV;
	n = slots[slot];
	virtio_dev_lock(n->vdev);
	if (n->attached) {
		ret = -EBUSY;
		goto out;
	}
	ret = net_backend_open(n, net);
	if (ret < 0)
		goto out;
	net_set_offloads(n);
	virtio_mmio_config_changed(n->vdev);
	net_vhost_start(n);
	if (virtio_dev_running(n->vdev) && !n->vhost_on) {
		net_rx(n);
		net_update_poll(n);
	}
out:
	virtio_dev_unlock(n->vdev);
	return ret;
}

int net_slot_detach(struct vm *vm, int slot)
{
	struct net_dev *n;
	int ret = 0;

	(void)vm;
	if (slot < 0 || slot >= nr_slots)
		return -ENODEV;
	n = slots[slot];
	virtio_dev_lock(n->vdev);
	if (!n->attached) {
		ret = -ENOENT;
		goto out;
	}
	net_backend_close(n);
	virtio_mmio_config_changed(n->vdev);
out:
	virtio_dev_unlock(n->vdev);
	return ret;
}

static void net_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		for (int i = 0; i < 6; i++)
			mac[i] = rand();
	}
	mac[0] = (mac[0] & 0xfc) | 0x02; /* unicast, locally administered */
}

static int net_slot_create(struct vm *vm, const struct net_config *nc)
{
	struct evloop *loop = NULL;
	struct net_dev *n;
	int ret;

	if (nr_slots >= NET_MAX_SLOTS)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->rxbuf = malloc(NET_RXBUF_SIZE);
	if (!n->rxbuf) {
		free(n);
		return -ENOMEM;
	}
	n->fd = -1;
	n->slot = nr_slots;
	net_random_mac(n->mac);
	/* With iothread=X the queues and the tap are served on X's loop. */
	if (nc && nc->iothread) {
		loop = iothread_loop(vm, nc->iothread);
		if (!loop) {
			fprintf(stderr, "stratovirt: netdev '%s': iothread '%s' does not exist\n",
				nc->id, nc->iothread);
			free(n->rxbuf);
			free(n);
			return -EINVAL;
		}
	}
	ret = virtio_mmio_create(vm, &net_dev_ops, n, loop, &n->vdev);
	if (ret < 0) {
		free(n->rxbuf);
		free(n);
		return ret;
	}
	slots[nr_slots++] = n;
	if (nc) {
		ret = net_backend_open(n, nc);
		if (ret < 0)
			return ret;
	}
	pr_debug("virtio-net slot %d at %#llx irq %u: %s%s mac %02x:%02x:%02x:%02x:%02x:%02x\n",
		 n->slot, (unsigned long long)n->vdev->base, n->vdev->irq,
		 n->attached ? "tap " : "empty", n->ifname, n->mac[0], n->mac[1], n->mac[2],
		 n->mac[3], n->mac[4], n->mac[5]);
	return 0;
}

static void net_exit(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < nr_slots; i++) {
		struct net_dev *n = slots[i];

		net_backend_close(n);
		virtio_mmio_destroy(n->vdev);
		free(n->rxbuf);
		free(n);
		slots[i] = NULL;
	}
	nr_slots = 0;
}

static int net_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int nics = 0, ret;

	for (int i = 0; i < cfg->nr_nets; i++) {
		if (!cfg->nets[i].has_device)
			continue;
		ret = net_slot_create(vm, &cfg->nets[i]);
		if (ret < 0)
			goto err;
		nics++;
	}
	for (; nics < NET_NR_SLOTS; nics++) {
		ret = net_slot_create(vm, NULL);
		if (ret < 0)
			goto err;
	}
	return 0;
err:
	if (ret == -ENOSPC || ret == -ENOMEM)
		pr_err("virtio-net: cannot create NIC %d: %s\n", nics, strerror(-ret));
	net_exit(vm);
	return ret;
}

static const struct vm_device_ops net_vm_ops = {
    .name = "virtio-net",
    .order = 21,
    .init = net_init,
    .exit = net_exit,
};
VM_DEVICE_REGISTER(net_vm_ops);
