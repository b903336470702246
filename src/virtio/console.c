// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-console (StratoVirt's: one port, no MULTIPORT) on a unix-socket
 * chardev.  What the guest transmits goes to the socket's client; what the
 * client sends is buffered here until the guest posts receive buffers, and
 * the socket is not read while that buffer is full.
 *
 * Threading: the chardev's input callback, queue kicks and everything that
 * changes chardev reading run on the main loop with the device lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine/vm.h"
#include "util/chardev.h"
#include "util/log.h"
#include "virtio/mmio.h"

#define CON_QUEUE_SIZE 256
#define CON_RXQ	       0
#define CON_TXQ	       1
#define CON_MAX_SEGS   256
#define CON_BUF_SIZE   4096
#define CON_READ_CHUNK 256 /* the most one chardev input callback delivers */
#define CON_CFG_SIZE   12  /* cols, rows, max_nr_ports, emerg_wr */
#define CON_MAX	       4

struct con_dev {
	struct virtio_dev *vdev;
	struct chardev *chr;
	char *id;
	size_t len; /* host input waiting for the guest */
	uint8_t buf[CON_BUF_SIZE];
};

static struct con_dev *consoles[CON_MAX];
static int nr_consoles;

static void con_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	(void)vdev;
	(void)off;
	memset(data, 0, len); /* no SIZE, MULTIPORT or EMERG_WRITE */
}

/* Reads the socket only while a whole chunk fits into the buffer. */
static void con_update_input(struct con_dev *c)
{
	chardev_accept_input(c->chr, c->len + CON_READ_CHUNK <= CON_BUF_SIZE);
}

/* Host input into the guest's receive buffers. */
static void con_rx(struct con_dev *c)
{
	struct virtq *vq = &c->vdev->vqs[CON_RXQ];
	struct iovec iov[CON_MAX_SEGS];
	struct virtq_chain ch = {.iov = iov, .max_segs = CON_MAX_SEGS};
	size_t done = 0;
	int ret;

	if (!virtio_dev_running(c->vdev) || !vq->ready)
		return;
	while (done < c->len) {
		size_t put;

		ret = virtq_pop_chain(vq, &ch);
		if (ret == 0) {
			if (virtq_enable_notify(vq))
				continue;
			break;
		}
		if (ret < 0) {
			virtio_mmio_set_needs_reset(c->vdev, ch.err);
			break;
		}
		if (ch.nr_readable) {
			virtio_mmio_set_needs_reset(
			    c->vdev, "virtio-console receive buffer is device-readable");
			break;
		}
		put = iov_from_buf(ch.iov, ch.nr_segs, 0, c->buf + done, c->len - done);
		virtq_push_used(vq, ch.head, put);
		done += put;
	}
	if (done) {
		memmove(c->buf, c->buf + done, c->len - done);
		c->len -= done;
		virtio_mmio_notify_queue(c->vdev, CON_RXQ);
	}
}

static void con_tx(struct con_dev *c)
{
	struct virtq *vq = &c->vdev->vqs[CON_TXQ];
	struct iovec iov[CON_MAX_SEGS];
	struct virtq_chain ch = {.iov = iov, .max_segs = CON_MAX_SEGS};
	bool done = false;
	int ret;

	do {
		virtq_disable_notify(vq);
		while ((ret = virtq_pop_chain(vq, &ch)) == 1) {
			if (ch.nr_readable != ch.nr_segs) {
				virtio_mmio_set_needs_reset(
				    c->vdev, "virtio-console transmit buffer is device-writable");
				return;
			}
			for (unsigned i = 0; i < ch.nr_segs; i++)
				chardev_write(c->chr, ch.iov[i].iov_base, ch.iov[i].iov_len);
			virtq_push_used(vq, ch.head, 0);
			done = true;
		}
		if (ret < 0) {
			virtio_mmio_set_needs_reset(c->vdev, ch.err);
			return;
		}
	} while (virtq_enable_notify(vq));
	if (done)
		virtio_mmio_notify_queue(c->vdev, CON_TXQ);
}

static void con_input(void *opaque, const uint8_t *data, size_t len)
{
	struct con_dev *c = opaque;
	size_t room;

	virtio_dev_lock(c->vdev);
	room = CON_BUF_SIZE - c->len;
	if (len > room) {
		/* Only when a new client connected while the buffer was full. */
		pr_warn("virtio-console '%s': input buffer full; %zu bytes dropped\n", c->id,
			len - room);
		len = room;
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	con_rx(c);
	con_update_input(c);
	virtio_dev_unlock(c->vdev);
}

static void con_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct con_dev *c = vdev->priv;

	if (q == CON_TXQ) {
		con_tx(c);
	} else if (q == CON_RXQ) {
		con_rx(c);
		con_update_input(c);
	}
}

static const struct virtio_dev_ops con_dev_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = CON_CFG_SIZE,
    .num_queues = 2,
    .queue_size = CON_QUEUE_SIZE,
    .config_read = con_config_read,
    .queue_notify = con_queue_notify,
};

static const struct chardev_config *con_find_chardev(const struct vm_config *cfg, const char *id)
{
	for (int i = 0; id && i < cfg->nr_chardevs; i++)
		if (cfg->chardevs[i].id && !strcmp(cfg->chardevs[i].id, id))
			return &cfg->chardevs[i];
	return NULL;
}

static void con_exit(struct vm *vm)
{
	(void)vm;
	for (int i = 0; i < nr_consoles; i++) {
		struct con_dev *c = consoles[i];

		if (c->vdev)
			virtio_mmio_destroy(c->vdev);
		chardev_close(c->chr);
		free(c->id);
		free(c);
		consoles[i] = NULL;
	}
	nr_consoles = 0;
}

static int con_create(struct vm *vm, const struct console_config *cc)
{
	const char *id = cc->id ? cc->id : (cc->chardev ? cc->chardev : "");
	const struct chardev_config *chr_cfg = con_find_chardev(vm->cfg, cc->chardev);
	struct con_dev *c;
	int ret;

	if (!chr_cfg || chr_cfg->kind != CHR_SOCKET) {
		user_err("virtconsole '%s': chardev '%s' is not a unix socket chardev\n", id,
			 cc->chardev ? cc->chardev : "");
		return -EINVAL;
	}
	if (nr_consoles >= CON_MAX) {
		user_err("virtconsole '%s': at most %d consoles\n", id, CON_MAX);
		return -ENOSPC;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->id = strdup(id);
	consoles[nr_consoles++] = c;
	ret = virtio_mmio_create(vm, &con_dev_ops, c, NULL, &c->vdev);
	if (ret < 0)
		return ret;
	ret = chardev_open(&c->chr, chr_cfg, c->vdev->loop, con_input, c);
	if (ret < 0)
		return ret; /* the chardev named the socket path */
	pr_debug("virtio-console '%s' at %#llx irq %u on socket %s\n", id,
		 (unsigned long long)c->vdev->base, c->vdev->irq, chr_cfg->path);
	return 0;
}

static int con_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int ret;

	if (cfg->nr_consoles == 0)
		return 1;
	for (int i = 0; i < cfg->nr_consoles; i++) {
		ret = con_create(vm, &cfg->consoles[i]);
		if (ret < 0) {
			con_exit(vm);
			return ret;
		}
	}
	return 0;
}

static const struct vm_device_ops con_vm_ops = {
    .name = "virtio-console",
    .order = 22,
    .init = con_init,
    .exit = con_exit,
};
VM_DEVICE_REGISTER(con_vm_ops);
