/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_MMIO_H
#define SV_VIRTIO_MMIO_H

/*
 * virtio-mmio version 2 transport (virtio 1.2, 4.2.2).
 *
 * A device is a struct virtio_dev_ops plus private state.  It calls
 * virtio_mmio_create() from its VM_DEVICE_REGISTER init (main thread, before
 * the vCPUs run); the transport takes the next MMIO window and GSI with
 * vm_alloc_mmio_slot(), serves the registers from vCPU threads, and delivers
 * queue kicks to ops->queue_notify on the device's event loop (the main loop,
 * or an I/O thread's loop).
 *
 * Threading and locking: every ops callback runs with dev->lock held.  Code a
 * device runs on its own (an I/O completion, a timer, a host socket becoming
 * readable) takes the lock with virtio_dev_lock() before touching queues.
 * Queue kicks come from ioeventfd (KVM completes the guest's QueueNotify write
 * without an exit); when KVM refuses the ioeventfd the MMIO write signals the
 * same eventfd, so queue processing always happens on the device's loop.
 *
 * Interrupts go through irqfd on the device's GSI (an edge on the in-kernel
 * IOAPIC), falling back to vm_irq_pulse().
 *
 * Errors the guest causes (a malformed chain, bad queue setup) are reported
 * with virtio_mmio_set_needs_reset(): the device stops serving its queues
 * until the driver resets it, and the VMM carries on.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue.h"

struct vm;
struct evloop;

#define VIRTIO_MMIO_MAGIC	0x74726976
#define VIRTIO_MMIO_VERSION	2
#define VIRTIO_MMIO_VENDOR	0x0
#define VIRTIO_MMIO_REGION_SIZE 0x200
#define VIRTIO_MMIO_MAX_QUEUES	8

/* Register offsets */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION_REG		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_INT_VRING  1
#define VIRTIO_MMIO_INT_CONFIG 2

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* Device ids */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_VSOCK	  19

struct virtio_dev;

struct virtio_dev_ops {
	const char *name; /* "virtio-blk": used in messages */
	uint32_t device_id;
	uint64_t features; /* offered; VIRTIO_F_VERSION_1 is always added */
	uint32_t config_size;
	unsigned num_queues; /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_size; /* QueueNumMax, a power of two */

	/*
	 * Optional.  off + len <= config_size is guaranteed.  Without
	 * config_read the transport reads dev->config; without config_write
	 * the driver's writes are ignored.
	 */
	void (*config_read)(struct virtio_dev *dev, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *dev, uint32_t off, const void *data, uint32_t len);
	/* DRIVER_OK was set; ready queues are in dev->vqs.  0 or -errno. */
	int (*activate)(struct virtio_dev *dev);
	/* The driver reset the device (also called by virtio_mmio_destroy). */
	void (*reset)(struct virtio_dev *dev);
	/* The guest kicked queue q (device activated, not broken, queue ready). */
	void (*queue_notify)(struct virtio_dev *dev, unsigned q);
};

struct virtio_queue_cfg {
	uint16_t num;
	uint64_t desc, driver, device;
};

struct virtio_kick {
	struct virtio_dev *dev;
	unsigned q;
	int efd;
	bool ioeventfd;	  /* registered with KVM */
	bool handed_over; /* read by a vhost back end, not by our loop */
};

struct virtio_dev {
	/* Fields a device may use */
	const struct virtio_dev_ops *ops;
	void *priv;
	struct vm *vm;
	struct evloop *loop;	/* where queue_notify runs */
	uint64_t host_features; /* changed right after create, or with the lock held */
	void *config;		/* default config space, config_size bytes */
	struct virtq vqs[VIRTIO_MMIO_MAX_QUEUES];
	pthread_mutex_t lock;
	uint64_t base;
	uint32_t irq;

	/* Transport state: private to mmio.c */
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_generation;
	bool activated;
	bool broken;
	struct virtio_queue_cfg qcfg[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_kick kicks[VIRTIO_MMIO_MAX_QUEUES];
	int irqfd;
};

/*
 * Creates the transport in the next MMIO slot.  loop NULL means vm->loop.
 * Returns 0 or -errno (message printed).
 */
int virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops, void *priv,
		       struct evloop *loop, struct virtio_dev **out);
void virtio_mmio_destroy(struct virtio_dev *dev);

static inline void virtio_dev_lock(struct virtio_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
}

static inline void virtio_dev_unlock(struct virtio_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

/* Negotiated feature test (valid once FEATURES_OK). */
static inline bool virtio_has_feature(const struct virtio_dev *dev, unsigned bit)
{
	return dev->driver_features & (1ULL << bit);
}

/* True while queues may be served: DRIVER_OK and no NEEDS_RESET. */
static inline bool virtio_dev_running(const struct virtio_dev *dev)
{
	return dev->activated && !dev->broken;
}

/* Interrupts the guest for queue q if its suppression state asks for it. */
void virtio_mmio_notify_queue(struct virtio_dev *dev, unsigned q);
/* Sets InterruptStatus bits and signals the GSI. Any thread. */
void virtio_mmio_interrupt(struct virtio_dev *dev, uint32_t bits);
/* Bumps ConfigGeneration and raises the config-change interrupt.  Lock held. */
void virtio_mmio_config_changed(struct virtio_dev *dev);
/*
 * Logs reason, sets DEVICE_NEEDS_RESET, raises a config interrupt and stops
 * serving the queues until the driver writes 0 to Status.  Lock held.
 */
void virtio_mmio_set_needs_reset(struct virtio_dev *dev, const char *reason);

/*
 * vhost back ends: queue q's kick eventfd is handed to the back end, which
 * reads it from then on; the transport stops watching it until it is
 * reclaimed (before the back end lets go of the queue).  Lock held.
 * Returns the eventfd (-1 when the queue has none).
 */
int virtio_mmio_hand_over_kick(struct virtio_dev *dev, unsigned q);
void virtio_mmio_reclaim_kick(struct virtio_dev *dev, unsigned q);

/* The register handler (exposed for tests and the fuzzer). */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
