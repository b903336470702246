// SPDX-License-Identifier: MulanPSL-2.0
/*
 * vhost-vsock: virtio-vsock (device type 19) whose data path is the host
 * kernel's vhost-vsock (-device vhost-vsock-device,id=,guest-cid=[,vhostfd=],
 * -device vsock, JSON vsock without uds_path; docs/vsock.md).
 *
 * The VMM opens /dev/vhost-vsock and binds it to the guest's CID
 * (VHOST_VSOCK_SET_GUEST_CID), or inherits an fd opened and bound by its
 * caller (Kata's way: vhostfd=N, which must be the vhost-vsock character
 * device; its CID is set again to guest-cid, a no-op when it already is).
 * At DRIVER_OK the receive and transmit queues go to the kernel through the
 * generic vhost back end (vhost.c: memory table, ring sizes, bases,
 * addresses, the transport's ioeventfds as kicks, call eventfds turned into
 * virtio-mmio interrupts) and VHOST_VSOCK_SET_RUNNING starts it; a reset
 * stops it (SET_RUNNING 0) and takes the rings back.  The event queue stays
 * with the VMM: its buffers are kept for a VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
 * which the spec wants after the device's connections were lost behind the
 * driver's back (a restore or migration).  This VMM has neither, so no event
 * is ever sent.  The config space is guest_cid.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/log.h"
#include "virtio/mmio.h"
#include "virtio/vhost.h"
#include "virtio/vhost_vsock.h"
#include "virtio/vsock.h"

#define VHOST_VSOCK_QUEUE_SIZE 256
#define VHOST_VSOCK_MAJOR      10u /* a misc device */
#define VHOST_VSOCK_MINOR      241u

/* The device the VMM opens; unit tests point it at a stand-in. */
const char *vhost_vsock_path = "/dev/vhost-vsock";

struct vhost_vsock {
	struct virtio_dev *vdev;
	struct vhost_dev vh;
	uint64_t cid;
	const char *opt, *id;
	bool running;
};

static struct vhost_vsock *vvsock;

int vhost_vsock_check_fd(int fd, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -EBADF;
	}
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != VHOST_VSOCK_MAJOR ||
	    minor(st.st_rdev) != VHOST_VSOCK_MINOR) {
		snprintf(why, whylen, "not the vhost-vsock character device (%u:%u)",
			 VHOST_VSOCK_MAJOR, VHOST_VSOCK_MINOR);
		return -ENOTTY;
	}
	return 0;
}

int vhost_vsock_preflight(const struct vm_config *cfg, char *err, size_t errlen)
{
	const char *opt = cfg->vsock_opt ? cfg->vsock_opt : "-device vhost-vsock-device";
	const char *id = cfg->vsock_id ? cfg->vsock_id : "";
	char why[128];
	struct stat st;

	if (!cfg->has_vsock || cfg->vsock_uds)
		return 0;
	if (cfg->vsock_fd >= 0) {
		int ret = vhost_vsock_check_fd(cfg->vsock_fd, why, sizeof(why));

		if (ret < 0)
			snprintf(err, errlen, "%s '%s': vhostfd=%d: %s", opt, id, cfg->vsock_fd,
				 why);
		return ret;
	}
	if (stat(vhost_vsock_path, &st) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s '%s': cannot open %s: %s%s", opt, id, vhost_vsock_path,
			 strerror(errno),
			 ret == -ENOENT ? " (no vhost_vsock module here; "
					  "virtio-vsock-device,uds-path= works without it)"
					: "");
		return ret;
	}
	return 0;
}

static int vvsock_set_running(struct vhost_vsock *v, int on)
{
	return ioctl(v->vh.fd, VHOST_VSOCK_SET_RUNNING, &on) < 0 ? -errno : 0;
}

static int vvsock_activate(struct virtio_dev *vdev)
{
	struct vhost_vsock *v = vdev->priv;
	int ret;

	if (v->running)
		return 0;
	/* ring features only: the transport agreed on them with the driver */
	ret = vhost_dev_start(&v->vh, vdev, vdev->driver_features & v->vh.features, VSOCK_QUEUE_RX,
			      2);
	if (ret < 0) {
		pr_err("vhost-vsock '%s': %s\n", v->id, v->vh.err);
		return ret;
	}
	ret = vvsock_set_running(v, 1);
	if (ret < 0) {
		pr_err("vhost-vsock '%s': VHOST_VSOCK_SET_RUNNING: %s\n", v->id, strerror(-ret));
		vhost_dev_stop(&v->vh);
		return ret;
	}
	v->running = true;
	pr_info("vhost-vsock '%s': the kernel serves CID %llu\n", v->id,
		(unsigned long long)v->cid);
	return 0;
}

static void vvsock_stop(struct vhost_vsock *v)
{
	if (!v->running)
		return;
	vvsock_set_running(v, 0);
	vhost_dev_stop(&v->vh);
	v->running = false;
}

static void vvsock_reset(struct virtio_dev *vdev)
{
	vvsock_stop(vdev->priv);
}

static void vvsock_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	/*
	 * Event queue buffers stay posted for a TRANSPORT_RESET; a kick on rx or
	 * tx is one that raced with the hand-over: the kernel has the ring now.
	 */
	(void)vdev;
	(void)q;
}

static void vvsock_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct vhost_vsock *v = vdev->priv;
	struct vsock_config cfg = {.guest_cid = v->cid};

	memcpy(data, (uint8_t *)&cfg + off, len);
}

static const struct virtio_dev_ops vvsock_dev_ops = {
    .name = "vhost-vsock",
    .device_id = VIRTIO_ID_VSOCK,
    .features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = sizeof(struct vsock_config),
    .num_queues = 3,
    .queue_size = VHOST_VSOCK_QUEUE_SIZE,
    .config_read = vvsock_config_read,
    .activate = vvsock_activate,
    .reset = vvsock_reset,
    .queue_notify = vvsock_queue_notify,
};

static void vvsock_exit(struct vm *vm)
{
	(void)vm;
	if (!vvsock)
		return;
	/* the rings back to the transport first, then the transport goes */
	vvsock_stop(vvsock);
	vhost_dev_close(&vvsock->vh);
	if (vvsock->vdev)
		virtio_mmio_destroy(vvsock->vdev);
	free(vvsock);
	vvsock = NULL;
}

static int vvsock_open(struct vhost_vsock *v, int vhostfd)
{
	char why[160];
	int fd = vhostfd, ret;

	if (fd >= 0) {
		ret = vhost_vsock_check_fd(fd, why, sizeof(why));
		if (ret < 0) {
			user_err("%s '%s': vhostfd=%d: %s\n", v->opt, v->id, fd, why);
			return ret;
		}
	} else {
		fd = open(vhost_vsock_path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			user_err("%s '%s': cannot open %s: %s\n", v->opt, v->id, vhost_vsock_path,
				 strerror(errno));
			return ret;
		}
	}
	ret = vhost_dev_init(&v->vh, fd);
	if (ret < 0) {
		user_err("%s '%s': %s: %s\n", v->opt, v->id,
			 vhostfd >= 0 ? "vhostfd" : vhost_vsock_path, v->vh.err);
		if (vhostfd < 0)
			close(fd);
		return ret;
	}
	if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &v->cid) < 0) {
		ret = -errno;
		user_err("%s '%s': guest-cid=%llu: VHOST_VSOCK_SET_GUEST_CID: %s\n", v->opt, v->id,
			 (unsigned long long)v->cid,
			 errno == EADDRINUSE ? "the CID is in use by another VM" : strerror(errno));
		return ret; /* vh owns fd now: the caller's vhost_dev_close closes it */
	}
	return 0;
}

static int vvsock_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int ret;

	if (!cfg->has_vsock || cfg->vsock_uds)
		return 1;
	vvsock = calloc(1, sizeof(*vvsock));
	if (!vvsock)
		return -ENOMEM;
	vvsock->vh.fd = -1;
	for (unsigned i = 0; i < VHOST_DEV_MAX_VQS; i++)
		vvsock->vh.calls[i] = (struct vhost_call){&vvsock->vh, -1};
	vvsock->cid = cfg->vsock_cid;
	vvsock->opt = cfg->vsock_opt ? cfg->vsock_opt : "-device vhost-vsock-device";
	vvsock->id = cfg->vsock_id ? cfg->vsock_id : "";
	ret = vvsock_open(vvsock, cfg->vsock_fd);
	if (ret < 0)
		goto err;
	ret = virtio_mmio_create(vm, &vvsock_dev_ops, vvsock, NULL, &vvsock->vdev);
	if (ret < 0)
		goto err;
	/* offer only what the kernel serves (VIRTIO_F_VERSION_1 among it) */
	vvsock->vdev->host_features &= vvsock->vh.features;
	if (!(vvsock->vdev->host_features & (1ULL << VIRTIO_F_VERSION_1))) {
		user_err("%s '%s': the kernel's vhost-vsock lacks VIRTIO_F_VERSION_1\n",
			 vvsock->opt, vvsock->id);
		ret = -EOPNOTSUPP;
		goto err;
	}
	return 0;
err:
	vvsock_exit(vm);
	return ret;
}

static const struct vm_device_ops vvsock_vm_ops = {
    .name = "vhost-vsock",
    .order = 26,
    .init = vvsock_init,
    .exit = vvsock_exit,
};
VM_DEVICE_REGISTER(vvsock_vm_ops);
