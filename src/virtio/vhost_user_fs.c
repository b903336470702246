// SPDX-License-Identifier: MulanPSL-2.0
/*
 * vhost-user-fs (virtio device 26): a virtio-fs device whose queues are
 * served by an external virtiofsd over vhost-user.  The VMM owns the
 * transport and the config space (tag, number of request queues); at
 * DRIVER_OK it hands guest memory (the mem-share memfd), the rings and the
 * queues' kick eventfds to virtiofsd, and turns virtiofsd's call eventfds
 * into virtio-mmio interrupts (the interrupt status register must be set by
 * the VMM, so a call cannot go to the irqfd directly).
 *
 * virtiofsd is untrusted: a hang-up, a bad or late reply during set-up, or
 * unsolicited data on the socket puts the device in NEEDS_RESET with one log
 * line; the VMM carries on.  There is no reconnection: the device stays
 * failed until the VMM is restarted with a new virtiofsd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "machine/vm.h"
#include "util/evloop.h"
#include "util/log.h"
#include "virtio/mmio.h"
#include "virtio/vhost_user.h"

#define VIRTIO_ID_FS  26
#define FS_NUM_QUEUES 2 /* hiprio + one request queue */
#define FS_OFFERED                                                                                 \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX)

struct virtio_fs_config {
	char tag[CFG_FS_TAG_MAX];
	uint32_t num_request_queues;
} __attribute__((packed));

struct fs_call {
	struct fs_dev *fs;
	int efd;
};

struct fs_dev {
	struct virtio_dev *vdev;
	struct virtio_dev_ops ops;
	const char *id;
	char *path;
	struct vhost_user vu;
	bool watching; /* vu.fd is in the event loop */
	bool started[FS_NUM_QUEUES];
	struct fs_call calls[FS_NUM_QUEUES];
	struct virtio_fs_config config;
};

static struct fs_dev *fs_devs[CFG_MAX_FS];

static void fs_disconnect(struct fs_dev *fs)
{
	if (fs->watching)
		evloop_del(fs->vdev->loop, fs->vu.fd);
	fs->watching = false;
	vhost_user_close(&fs->vu);
}

/* Lock held.  Logs the reason, drops the connection, fails the device. */
static void fs_fail(struct fs_dev *fs, const char *what)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "vhost-user-fs '%s': virtiofsd at %s: %s: %s", fs->id,
		 fs->path, what, fs->vu.err[0] ? fs->vu.err : "failed");
	for (unsigned q = 0; q < FS_NUM_QUEUES; q++) {
		if (fs->started[q])
			virtio_mmio_reclaim_kick(fs->vdev, q);
		fs->started[q] = false;
	}
	fs_disconnect(fs);
	if (fs->vdev->activated)
		virtio_mmio_set_needs_reset(fs->vdev, reason);
	else
		pr_err("%s\n", reason);
}

/* The socket is readable outside a request: a hang-up or a message we never asked for. */
static void fs_sock_event(void *opaque, uint32_t events)
{
	struct fs_dev *fs = opaque;
	char c;
	struct iovec iov = {&c, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	virtio_dev_lock(fs->vdev);
	if (!fs->watching)
		goto out;
	/* a reply we were waiting for may have woken us: look before judging */
	n = recvmsg(fs->vu.fd, &msg, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLHUP | EPOLLERR)))
		goto out;
	snprintf(fs->vu.err, sizeof(fs->vu.err), "%s",
		 n > 0 ? "sent a message nobody asked for" : "hung up");
	fs_fail(fs, "connection");
out:
	virtio_dev_unlock(fs->vdev);
}

static void fs_call_event(void *opaque, uint32_t events)
{
	struct fs_call *c = opaque;
	uint64_t cnt;

	(void)events;
	if (read(c->efd, &cnt, sizeof(cnt)) < 0)
		return;
	/* virtiofsd applied the guest's interrupt suppression already */
	if (c->fs->vdev && virtio_dev_running(c->fs->vdev))
		virtio_mmio_interrupt(c->fs->vdev, VIRTIO_MMIO_INT_VRING);
}

static int fs_start_queue(struct fs_dev *fs, unsigned q)
{
	struct virtq *vq = &fs->vdev->vqs[q];
	int kick, ret;

	ret = vhost_user_set_vring_num(&fs->vu, q, vq->size);
	if (!ret)
		ret = vhost_user_set_vring_base(&fs->vu, q, vq->last_avail);
	if (!ret)
		ret = vhost_user_set_vring_addr(&fs->vu, q, vq->desc, vq->used, vq->avail);
	if (!ret)
		ret = vhost_user_set_vring_call(&fs->vu, q, fs->calls[q].efd);
	if (ret)
		return ret;
	kick = virtio_mmio_hand_over_kick(fs->vdev, q);
	fs->started[q] = true;
	ret = vhost_user_set_vring_kick(&fs->vu, q, kick);
	if (!ret && (fs->vu.features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
		ret = vhost_user_set_vring_enable(&fs->vu, q, 1);
	return ret;
}

static int fs_activate(struct virtio_dev *vdev)
{
	struct fs_dev *fs = vdev->priv;
	int ret;

	if (fs->vu.fd < 0) {
		/* no reconnection: a restarted virtiofsd needs a restarted VMM */
		virtio_mmio_set_needs_reset(vdev, "vhost-user-fs: the connection to virtiofsd is "
						  "gone");
		return -ENOTCONN;
	}
	ret = vhost_user_set_features(&fs->vu, vdev->driver_features);
	if (!ret)
		ret = vhost_user_set_mem_table(&fs->vu, &vdev->vm->mem);
	for (unsigned q = 0; !ret && q < FS_NUM_QUEUES; q++)
		if (vdev->vqs[q].ready)
			ret = fs_start_queue(fs, q);
	if (ret) {
		fs_fail(fs, "set-up");
		return ret;
	}
	pr_info("vhost-user-fs '%s': virtiofsd at %s serves tag '%.36s'\n", fs->id, fs->path,
		fs->config.tag);
	return 0;
}

static void fs_reset(struct virtio_dev *vdev)
{
	struct fs_dev *fs = vdev->priv;
	unsigned base;

	for (unsigned q = 0; q < FS_NUM_QUEUES; q++) {
		if (!fs->started[q])
			continue;
		/* stops the ring in virtiofsd; not worth waiting for at exit */
		if (!vdev->vm->exiting && fs->vu.fd >= 0 &&
		    vhost_user_get_vring_base(&fs->vu, q, &base) < 0) {
			fs_fail(fs, "stopping a queue");
			return;
		}
		virtio_mmio_reclaim_kick(vdev, q);
		fs->started[q] = false;
	}
}

static void fs_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	/* Reached only for a kick that raced with the hand-over: virtiofsd owns the queue. */
	(void)vdev;
	(void)q;
}

static void fs_free(struct fs_dev *fs)
{
	struct evloop *loop = fs->vdev ? fs->vdev->loop : NULL;

	/* the transport's reset may still talk to virtiofsd: destroy it first */
	if (fs->vdev)
		virtio_mmio_destroy(fs->vdev);
	fs->vdev = NULL;
	for (unsigned q = 0; q < FS_NUM_QUEUES; q++) {
		if (fs->calls[q].efd < 0)
			continue;
		if (loop)
			evloop_del(loop, fs->calls[q].efd);
		close(fs->calls[q].efd);
	}
	if (fs->watching && loop)
		evloop_del(loop, fs->vu.fd);
	fs->watching = false;
	vhost_user_close(&fs->vu);
	free(fs->path);
	free(fs);
}

static void fs_exit(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < CFG_MAX_FS; i++) {
		if (fs_devs[i])
			fs_free(fs_devs[i]);
		fs_devs[i] = NULL;
	}
}

static int fs_create(struct vm *vm, const struct fs_config *fc, struct fs_dev **out)
{
	const struct vm_config *cfg = vm->cfg;
	struct fs_dev *fs;
	int k, ret;

	k = -1;
	for (int i = 0; i < cfg->nr_chardevs; i++)
		if (cfg->chardevs[i].id && !strcmp(cfg->chardevs[i].id, fc->chardev))
			k = i;
	if (k < 0 || !cfg->chardevs[k].path)
		return -EINVAL;
	if (vm->mem.memfd < 0) {
		user_err("vhost-user-fs '%s': guest memory is not shared: use -machine "
			 "mem-share=on\n",
			 fc->id);
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	*out = fs;
	vhost_user_init(&fs->vu, -1);
	for (unsigned q = 0; q < FS_NUM_QUEUES; q++)
		fs->calls[q] = (struct fs_call){fs, -1};
	fs->id = fc->id;
	fs->path = strdup(cfg->chardevs[k].path);
	if (!fs->path)
		return -ENOMEM;
	/* tag[36] is not NUL-terminated when all 36 bytes are used */
	memcpy(fs->config.tag, fc->tag, strnlen(fc->tag, sizeof(fs->config.tag)));
	fs->config.num_request_queues = FS_NUM_QUEUES - 1;

	ret = vhost_user_connect(&fs->vu, fs->path);
	if (!ret)
		ret = vhost_user_negotiate(&fs->vu, 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	if (ret < 0) {
		user_err("vhost-user-fs '%s': chardev '%s' (%s): %s\n", fc->id, fc->chardev,
			 fs->path, fs->vu.err);
		return ret;
	}
	if (!(fs->vu.features & (1ULL << VIRTIO_F_VERSION_1))) {
		user_err("vhost-user-fs '%s': virtiofsd at %s offers no VIRTIO_F_VERSION_1\n",
			 fc->id, fs->path);
		return -EPROTO;
	}
	fs->ops = (struct virtio_dev_ops){
	    .name = "vhost-user-fs",
	    .device_id = VIRTIO_ID_FS,
	    .features = fs->vu.features & FS_OFFERED,
	    .config_size = sizeof(fs->config),
	    .num_queues = FS_NUM_QUEUES,
	    .queue_size = (uint16_t)fc->queue_size,
	    .activate = fs_activate,
	    .reset = fs_reset,
	    .queue_notify = fs_queue_notify,
	};
	ret = virtio_mmio_create(vm, &fs->ops, fs, NULL, &fs->vdev);
	if (ret < 0)
		return ret;
	fs->vdev->config = &fs->config;
	ret = evloop_add(fs->vdev->loop, fs->vu.fd, EPOLLIN | EPOLLRDHUP, fs_sock_event, fs);
	if (ret < 0)
		return ret;
	fs->watching = true;
	for (unsigned q = 0; q < FS_NUM_QUEUES; q++) {
		fs->calls[q].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fs->calls[q].efd < 0)
			return -errno;
		ret = evloop_add(fs->vdev->loop, fs->calls[q].efd, EPOLLIN, fs_call_event,
				 &fs->calls[q]);
		if (ret < 0) {
			close(fs->calls[q].efd);
			fs->calls[q].efd = -1;
			return ret;
		}
	}
	pr_info("vhost-user-fs '%s': connected to virtiofsd at %s (features %#llx%s)\n", fc->id,
		fs->path, (unsigned long long)fs->vu.features,
		fs->vu.protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) ? ", reply-ack"
										     : "");
	return 0;
}

static int fs_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int ret;

	if (!cfg->nr_fs)
		return 1;
	for (int i = 0; i < cfg->nr_fs && i < CFG_MAX_FS; i++) {
		ret = fs_create(vm, &cfg->fs[i], &fs_devs[i]);
		if (ret < 0) {
			if (ret == -ENOMEM)
				pr_err("vhost-user-fs '%s': out of memory\n", cfg->fs[i].id);
			fs_exit(vm);
			return ret;
		}
	}
	return 0;
}

static const struct vm_device_ops fs_vm_ops = {
    .name = "vhost-user-fs",
    .order = 28,
    .init = fs_init,
    .exit = fs_exit,
};
VM_DEVICE_REGISTER(fs_vm_ops);
