// SPDX-License-Identifier: MulanPSL-2.0
/* virtio-mmio version 2 transport: registers, ioeventfd kicks, irqfd. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/log.h"
#include "virtio/mmio.h"

static void kick_handler(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	struct virtio_dev *dev = k->dev;
	uint64_t cnt;

	(void)events;
	if (read(k->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pr_warn("%s: reading queue %u kick: %s\n", dev->ops->name, k->q, strerror(errno));
	virtio_dev_lock(dev);
	if (virtio_dev_running(dev) && dev->vqs[k->q].ready && dev->ops->queue_notify)
		dev->ops->queue_notify(dev, k->q);
	virtio_dev_unlock(dev);
}

static void signal_eventfd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_err("virtio: eventfd write: %s\n", strerror(errno));
}

static void raise_irq(struct virtio_dev *dev)
{
	if (dev->irqfd >= 0)
		signal_eventfd(dev->irqfd);
	else
		vm_irq_pulse(dev->vm, dev->irq);
}

/*
 * The line is edge-triggered, but it behaves as the level the spec describes
 * (asserted while InterruptStatus is not 0): an edge when a bit goes from 0
 * to 1, and again at InterruptACK while bits are left.  A bit set again
 * before the driver acknowledged it sends nothing: the driver acknowledges
 * first and then looks at every ring, so it sees that work anyway.  Each edge
 * the driver would take for nothing costs it an interrupt and two MMIO exits.
 */
void virtio_mmio_interrupt(struct virtio_dev *dev, uint32_t bits)
{
	uint32_t old = __atomic_fetch_or(&dev->isr, bits, __ATOMIC_SEQ_CST);

	if ((old & bits) != bits)
		raise_irq(dev);
}

void virtio_mmio_notify_queue(struct virtio_dev *dev, unsigned q)
{
	if (q < dev->ops->num_queues && virtq_should_notify(&dev->vqs[q]))
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_dev *dev)
{
	__atomic_fetch_add(&dev->config_generation, 1, __ATOMIC_SEQ_CST);
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_set_needs_reset(struct virtio_dev *dev, const char *reason)
{
	if (dev->broken)
		return;
	dev->broken = true;
	pr_err("%s at %#llx: %s; device needs reset\n", dev->ops->name,
	       (unsigned long long)dev->base, reason);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

static void transport_reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		virtq_reset(&dev->vqs[q]);
		memset(&dev->qcfg[q], 0, sizeof(dev->qcfg[q]));
	}
	dev->driver_features = 0;
	dev->device_features_sel = 0;
	dev->driver_features_sel = 0;
	dev->queue_sel = 0;
	dev->status = 0;
	__atomic_store_n(&dev->isr, 0, __ATOMIC_SEQ_CST);
	dev->activated = false;
	dev->broken = false;
}

static void set_status(struct virtio_dev *dev, uint32_t val)
{
	uint32_t old = dev->status;

	if (val == 0) {
		transport_reset(dev);
		return;
	}
	val &= 0xff;
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if ((dev->driver_features & ~dev->host_features) ||
		    !(dev->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			pr_warn("%s: driver features %#llx refused\n", dev->ops->name,
				(unsigned long long)dev->driver_features);
			val &= ~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if (dev->broken)
		val |= VIRTIO_STATUS_NEEDS_RESET;
	dev->status = val;
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && !dev->broken) {
		int ret = 0;

		if (!(val & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_set_needs_reset(dev, "DRIVER_OK without FEATURES_OK");
			return;
		}
		dev->activated = true;
		if (dev->ops->activate)
			ret = dev->ops->activate(dev);
		if (ret < 0) {
			dev->activated = false;
			virtio_mmio_set_needs_reset(dev, "device activation failed");
			return;
		}
		/* Chains posted before DRIVER_OK were never kicked. */
		for (unsigned q = 0; q < dev->ops->num_queues; q++)
			if (dev->vqs[q].ready)
				signal_eventfd(dev->kicks[q].efd);
	}
}

static void set_queue_ready(struct virtio_dev *dev, struct virtio_queue_cfg *qc, struct virtq *vq,
			    uint32_t val)
{
	const char *why;

	if (!val) {
		virtq_reset(vq);
		return;
	}
	if (vq->ready)
		return;
	if (qc->num > dev->ops->queue_size) {
		virtio_mmio_set_needs_reset(dev, "queue size above QueueNumMax");
		return;
	}
	if (virtq_init(vq, &dev->vm->mem, qc->num, qc->desc, qc->driver, qc->device,
		       virtio_has_feature(dev, VIRTIO_F_INDIRECT_DESC),
		       virtio_has_feature(dev, VIRTIO_F_EVENT_IDX), &why) < 0)
		virtio_mmio_set_needs_reset(dev, why);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffULL) | val;
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	bool have_q = dev->queue_sel < dev->ops->num_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION_REG:
		return VIRTIO_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (dev->device_features_sel > 1)
			return 0;
		return dev->host_features >> (32 * dev->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return have_q ? dev->ops->queue_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return have_q ? dev->vqs[dev->queue_sel].ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_LOW + 4:
	case VIRTIO_MMIO_SHM_BASE_HIGH - 4:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&dev->config_generation, __ATOMIC_SEQ_CST);
	default:
		return 0;
	}
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
	bool have_q = dev->queue_sel < dev->ops->num_queues;
	struct virtio_queue_cfg *qc = have_q ? &dev->qcfg[dev->queue_sel] : NULL;
	struct virtq *vq = have_q ? &dev->vqs[dev->queue_sel] : NULL;
	/* Queue layout may only change while the queue is not ready. */
	bool q_writable = have_q && !vq->ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (dev->driver_features_sel <= 1 && !(dev->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&dev->driver_features, dev->driver_features_sel, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q_writable)
			qc->num = val > 0xffff ? 0 : val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (have_q)
			set_queue_ready(dev, qc, vq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only reached when KVM did not take the ioeventfd. */
		if (val < dev->ops->num_queues)
			signal_eventfd(dev->kicks[val].efd);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		if (__atomic_and_fetch(&dev->isr, ~val, __ATOMIC_SEQ_CST))
			raise_irq(dev); /* what is left is still owed an interrupt */
		break;
	case VIRTIO_MMIO_STATUS:
		set_status(dev, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q_writable)
			set_half(&qc->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q_writable)
			set_half(&qc->driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q_writable)
			set_half(&qc->device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, val);
		break;
	default:
		break;
	}
}

static void config_access(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	if (off + len > dev->ops->config_size || off + len < off)
		return;
	if (is_write) {
		if (dev->ops->config_write)
			dev->ops->config_write(dev, off, data, len);
	} else if (dev->ops->config_read) {
		dev->ops->config_read(dev, off, data, len);
	} else if (dev->config) {
		memcpy(data, (uint8_t *)dev->config + off, len);
	}
}

void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_dev *dev = opaque;
	uint32_t val = 0;

	virtio_dev_lock(dev);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		config_access(dev, offset - VIRTIO_MMIO_CONFIG, data, len, is_write);
		goto out;
	}
	/* Registers are 32 bits wide and aligned (4.2.2.2). */
	if (len != 4 || (offset & 3)) {
		pr_debug("%s: ignored %u-byte access at %#llx\n", dev->ops->name, len,
			 (unsigned long long)offset);
		goto out;
	}
	if (is_write) {
		memcpy(&val, data, 4);
		reg_write(dev, offset, val);
	} else {
		val = reg_read(dev, offset);
		memcpy(data, &val, 4);
	}
out:
	virtio_dev_unlock(dev);
}

static int kick_setup(struct virtio_dev *dev, unsigned q)
{
	struct virtio_kick *k = &dev->kicks[q];
	struct kvm_ioeventfd ioev = {
	    .datamatch = q,
	    .addr = dev->base + VIRTIO_MMIO_QUEUE_NOTIFY,
	    .len = 4,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	int ret;

	k->dev = dev;
	k->q = q;
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0)
		return -errno;
	ioev.fd = k->efd;
	if (dev->vm->vm_fd >= 0) {
		if (ioctl(dev->vm->vm_fd, KVM_IOEVENTFD, &ioev) == 0)
			k->ioeventfd = true;
		else
			pr_warn("%s: KVM_IOEVENTFD for queue %u: %s; kicks will exit to the VMM\n",
				dev->ops->name, q, strerror(errno));
	}
	ret = evloop_add(dev->loop, k->efd, EPOLLIN, kick_handler, k);
	if (ret < 0) {
		close(k->efd);
		k->efd = -1;
		return ret;
	}
	return 0;
}

int virtio_mmio_hand_over_kick(struct virtio_dev *dev, unsigned q)
{
	struct virtio_kick *k = &dev->kicks[q];

	if (q >= dev->ops->num_queues || k->efd < 0)
		return -1;
	if (!k->handed_over && evloop_del(dev->loop, k->efd) == 0)
		k->handed_over = true;
	return k->handed_over ? k->efd : -1;
}

void virtio_mmio_reclaim_kick(struct virtio_dev *dev, unsigned q)
{
	struct virtio_kick *k = &dev->kicks[q];
	int ret;

	if (q >= dev->ops->num_queues || k->efd < 0 || !k->handed_over)
		return;
	ret = evloop_add(dev->loop, k->efd, EPOLLIN, kick_handler, k);
	if (ret < 0)
		pr_err("%s: queue %u kick back to the event loop: %s\n", dev->ops->name, q,
		       strerror(-ret));
	else
		k->handed_over = false;
}

static void kick_teardown(struct virtio_dev *dev, unsigned q)
{
	struct virtio_kick *k = &dev->kicks[q];
	struct kvm_ioeventfd ioev = {
	    .datamatch = q,
	    .addr = dev->base + VIRTIO_MMIO_QUEUE_NOTIFY,
	    .len = 4,
	    .fd = k->efd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (k->efd < 0)
		return;
	if (k->ioeventfd && !dev->vm->exiting)
		ioctl(dev->vm->vm_fd, KVM_IOEVENTFD, &ioev);
	if (!k->handed_over)
		evloop_del(dev->loop, k->efd);
	close(k->efd);
	k->efd = -1;
}

static void irqfd_setup(struct virtio_dev *dev)
{
	struct kvm_irqfd irqfd = {.gsi = dev->irq};

	dev->irqfd = -1;
	if (dev->vm->vm_fd < 0)
		return;
	irqfd.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if ((int)irqfd.fd < 0)
		return;
	if (ioctl(dev->vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_warn("%s: KVM_IRQFD on GSI %u: %s; using KVM_IRQ_LINE\n", dev->ops->name,
			dev->irq, strerror(errno));
		close(irqfd.fd);
		return;
	}
	dev->irqfd = irqfd.fd;
}

static void irqfd_teardown(struct virtio_dev *dev)
{
	struct kvm_irqfd irqfd = {
	    .fd = dev->irqfd, .gsi = dev->irq, .flags = KVM_IRQFD_FLAG_DEASSIGN};

	if (dev->irqfd < 0)
		return;
	if (!dev->vm->exiting)
		ioctl(dev->vm->vm_fd, KVM_IRQFD, &irqfd);
	close(dev->irqfd);
	dev->irqfd = -1;
}

int virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops, void *priv,
		       struct evloop *loop, struct virtio_dev **out)
{
	struct virtio_dev *dev;
	unsigned q;
	int ret;

	if (ops->num_queues == 0 || ops->num_queues > VIRTIO_MMIO_MAX_QUEUES ||
	    ops->queue_size == 0 || (ops->queue_size & (ops->queue_size - 1)))
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ops = ops;
	dev->priv = priv;
	dev->vm = vm;
	dev->loop = loop ? loop : vm->loop;
	dev->host_features = ops->features | (1ULL << VIRTIO_F_VERSION_1);
	dev->irqfd = -1;
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		dev->kicks[q].efd = -1;
	pthread_mutex_init(&dev->lock, NULL);

	ret = vm_alloc_mmio_slot(vm, &dev->base, &dev->irq);
	if (ret < 0) {
		pr_err("%s: no virtio-mmio slot left: %s\n", ops->name, strerror(-ret));
		goto err_free;
	}
	ret = bus_register(&vm->mmio_bus, dev->base, VIRTIO_MMIO_REGION_SIZE, virtio_mmio_access,
			   dev, ops->name);
	if (ret < 0) {
		pr_err("%s: registering MMIO range %#llx: %s\n", ops->name,
		       (unsigned long long)dev->base, strerror(-ret));
		goto err_free;
	}
	for (q = 0; q < ops->num_queues; q++) {
		ret = kick_setup(dev, q);
		if (ret < 0) {
			pr_err("%s: queue %u notification: %s\n", ops->name, q, strerror(-ret));
			goto err_kicks;
		}
	}
	irqfd_setup(dev);
	*out = dev;
	return 0;

err_kicks:
	while (q-- > 0)
		kick_teardown(dev, q);
	bus_unregister(&vm->mmio_bus, dev->base);
err_free:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

void virtio_mmio_destroy(struct virtio_dev *dev)
{
	if (!dev)
		return;
	bus_unregister(&dev->vm->mmio_bus, dev->base);
	virtio_dev_lock(dev);
	transport_reset(dev);
	virtio_dev_unlock(dev);
	for (unsigned q = 0; q < dev->ops->num_queues; q++)
		kick_teardown(dev, q);
	irqfd_teardown(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
