// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-balloon: inflate and deflate queues of 32-bit page frame numbers
 * (4 KiB units), the free page reporting queue when free-page-reporting=on,
 * DEFLATE_ON_OOM when deflate-on-oom=on.  Pages given to the balloon and
 * reported free ranges are released to the host with madvise(): MADV_REMOVE
 * where guest RAM is a shared file mapping (mem-share), MADV_DONTNEED
 * otherwise.  Deflated pages need nothing from the host: they fault back in
 * (as zeros, or as the file's contents) when the guest touches them.
 *
 * A chain that breaks the rules (a PFN outside guest RAM, a length that is
 * not a whole number of PFNs, a buffer in the wrong direction, a buffer over
 * BALLOON_MAX_PFN_BYTES) puts the device into NEEDS_RESET; nothing of that
 * chain is released.
 */
#include "virtio/balloon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine/vm.h"
#include "qmp/qmp.h"
#include "util/evloop.h"
#include "util/log.h"
#include "virtio/mmio.h"

#define BALLOON_F_DEFLATE_ON_OOM 2
#define BALLOON_F_REPORTING	 5

#define BALLOON_Q_INFLATE 0
#define BALLOON_Q_DEFLATE 1
#define BALLOON_Q_REPORT  2 /* no stats queue and no free page hinting: index 2 */

#define BALLOON_QUEUE_SIZE 256
#define BALLOON_MAX_SEGS   128
/* One inflate/deflate buffer: at most 262144 PFNs (1 GiB of guest memory). */
#define BALLOON_MAX_PFN_BYTES (1u << 20)

struct balloon_config {
	uint32_t num_pages; /* le32, set by the host */
	uint32_t actual;    /* le32, written by the driver */
};

struct balloon_dev {
	struct virtio_dev *vdev;
	struct virtio_dev_ops ops; /* balloon_ops with this device's queue count */
	struct balloon_config config;
	uint64_t ram_size;
	bool shared; /* guest RAM is a MAP_SHARED file mapping */
	long host_page;
	int efd;	    /* actual changed: the main loop sends BALLOON_CHANGED */
	uint32_t announced; /* actual of the last event (main loop only) */
	bool release_warned;
	uint64_t released, reported, deflated; /* bytes, for the debug log */
	char why[160];
	struct iovec iov[BALLOON_MAX_SEGS];
	uint32_t *pfns; /* BALLOON_MAX_PFN_BYTES: one copy of the guest's array */
};

static struct balloon_dev *balloon;

static int chain_err(struct balloon_dev *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int chain_err(struct balloon_dev *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Gives the whole host pages inside [hva, hva + len) back to the host. */
static void balloon_release(struct balloon_dev *b, uint8_t *hva, uint64_t len, uint64_t *count)
{
	uintptr_t mask = (uintptr_t)b->host_page - 1;
	uintptr_t start = ((uintptr_t)hva + mask) & ~mask;
	uintptr_t end = ((uintptr_t)hva + len) & ~mask;

	if (end <= start)
		return;
	if (madvise((void *)start, end - start, b->shared ? MADV_REMOVE : MADV_DONTNEED) < 0) {
		if (!b->release_warned)
			pr_warn("virtio-balloon: cannot release guest pages to the host: %s\n",
				strerror(errno));
		b->release_warned = true;
		return;
	}
	*count += end - start;
}

/* One inflate or deflate buffer: an array of PFNs, every one in guest RAM. */
static int balloon_pfns(struct balloon_dev *b, const struct virtq_chain *c, bool inflate)
{
	const struct guest_mem *mem = &b->vdev->vm->mem;
	const char *qname = inflate ? "inflate" : "deflate";
	uint8_t *run = NULL;
	uint64_t run_len = 0;
	uint32_t n;

	if (c->nr_readable != c->nr_segs)
		return chain_err(b, "a device-writable buffer on the %s queue", qname);
	if (c->readable_len % sizeof(uint32_t))
		return chain_err(b, "%s buffer of %u bytes is not a whole number of 32-bit PFNs",
				 qname, c->readable_len);
	if (c->readable_len > BALLOON_MAX_PFN_BYTES)
		return chain_err(b, "%s buffer of %u bytes is over %u bytes (%u PFNs)", qname,
				 c->readable_len, BALLOON_MAX_PFN_BYTES,
				 BALLOON_MAX_PFN_BYTES / (unsigned)sizeof(uint32_t));
	/* one copy: the guest may change its array while we work */
	n = (uint32_t)(iov_to_buf(c->iov, c->nr_readable, 0, b->pfns, c->readable_len) /
		       sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		if (!gmem_ptr(mem, (uint64_t)b->pfns[i] << BALLOON_PAGE_SHIFT, BALLOON_PAGE_SIZE))
			return chain_err(b, "PFN %#x on the %s queue is outside guest RAM",
					 b->pfns[i], qname);
	if (!inflate) {
		b->deflated += (uint64_t)n * BALLOON_PAGE_SIZE;
		return 0;
	}
	/* adjacent frames go out in one madvise() */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *hva =
		    gmem_ptr(mem, (uint64_t)b->pfns[i] << BALLOON_PAGE_SHIFT, BALLOON_PAGE_SIZE);

		if (run && hva == run + run_len) {
			run_len += BALLOON_PAGE_SIZE;
			continue;
		}
		if (run)
			balloon_release(b, run, run_len, &b->released);
		run = hva;
		run_len = BALLOON_PAGE_SIZE;
	}
	if (run)
		balloon_release(b, run, run_len, &b->released);
	return 0;
}

/* One free page report: device-writable ranges of free guest memory. */
static int balloon_report(struct balloon_dev *b, const struct virtq_chain *c)
{
	if (c->nr_readable)
		return chain_err(b, "a device-readable buffer on the free page reporting queue");
	for (unsigned i = 0; i < c->nr_segs; i++)
		balloon_release(b, c->iov[i].iov_base, c->iov[i].iov_len, &b->reported);
	return 0;
}

static void balloon_process(struct balloon_dev *b, unsigned q)
{
	struct virtq *vq = &b->vdev->vqs[q];
	struct virtq_chain c = {.iov = b->iov, .max_segs = BALLOON_MAX_SEGS};
	bool used = false;

	do {
		virtq_disable_notify(vq);
		for (;;) {
			int ret = virtq_pop_chain(vq, &c);

			if (ret == 0)
				break;
			if (ret < 0) {
				virtio_mmio_set_needs_reset(b->vdev, c.err);
				return;
			}
			ret = q == BALLOON_Q_REPORT ? balloon_report(b, &c)
						    : balloon_pfns(b, &c, q == BALLOON_Q_INFLATE);
			if (ret < 0) {
				virtio_mmio_set_needs_reset(b->vdev, b->why);
				return;
			}
			virtq_push_used(vq, c.head, 0);
			used = true;
		}
	} while (virtq_enable_notify(vq));
	if (used)
		virtio_mmio_notify_queue(b->vdev, q);
	pr_debug("virtio-balloon: released %llu, reported %llu, deflated %llu bytes so far\n",
		 (unsigned long long)b->released, (unsigned long long)b->reported,
		 (unsigned long long)b->deflated);
}

static void balloon_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct balloon_dev *b = vdev->priv;

	if (q == BALLOON_Q_REPORT && !virtio_has_feature(vdev, BALLOON_F_REPORTING))
		return; /* no such queue without the feature */
	balloon_process(b, q);
}

static int balloon_activate(struct virtio_dev *vdev)
{
	pr_info("virtio-balloon: driver ready (deflate-on-oom %s, free page reporting %s)\n",
		virtio_has_feature(vdev, BALLOON_F_DEFLATE_ON_OOM) ? "on" : "off",
		virtio_has_feature(vdev, BALLOON_F_REPORTING) ? "on" : "off");
	return 0;
}

static void balloon_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct balloon_dev *b = vdev->priv;

	memcpy(data, (uint8_t *)&b->config + off, len);
}

static void balloon_signal(struct balloon_dev *b)
{
	uint64_t one = 1;

	if (write(b->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("virtio-balloon: eventfd: %s\n", strerror(errno));
}

/* Only `actual` is the driver's to write; writes to num_pages are ignored. */
static void balloon_config_write(struct virtio_dev *vdev, uint32_t off, const void *data,
				 uint32_t len)
{
	struct balloon_dev *b = vdev->priv;
	struct balloon_config tmp = b->config;

	memcpy((uint8_t *)&tmp + off, data, len);
	if (tmp.actual == b->config.actual)
		return;
	b->config.actual = tmp.actual;
	balloon_signal(b);
}

/* A driver that resets its device holds no balloon pages any more. */
static void balloon_reset(struct virtio_dev *vdev)
{
	struct balloon_dev *b = vdev->priv;

	if (b->config.actual) {
		b->config.actual = 0;
		balloon_signal(b);
	}
}

static uint64_t guest_bytes(const struct balloon_dev *b, uint32_t actual)
{
	uint64_t held = (uint64_t)actual << BALLOON_PAGE_SHIFT;

	return held < b->ram_size ? b->ram_size - held : 0;
}

/* Main loop: one BALLOON_CHANGED for however many writes came meanwhile. */
static void balloon_changed(void *opaque, uint32_t events)
{
	struct balloon_dev *b = opaque;
	uint32_t actual;
	uint64_t cnt;

	(void)events;
	if (read(b->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	virtio_dev_lock(b->vdev);
	actual = b->config.actual;
	virtio_dev_unlock(b->vdev);
	if (actual == b->announced)
		return;
	b->announced = actual;
	qmp_event("BALLOON_CHANGED",
		  json_pack("{s:I}", "actual", (json_int_t)guest_bytes(b, actual)));
}

/* num_queues is 3 with the reporting queue: a per-device copy sets it. */
static const struct virtio_dev_ops balloon_ops = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = sizeof(struct balloon_config),
    .num_queues = 2,
    .queue_size = BALLOON_QUEUE_SIZE,
    .config_read = balloon_config_read,
    .config_write = balloon_config_write,
    .activate = balloon_activate,
    .reset = balloon_reset,
    .queue_notify = balloon_queue_notify,
};

int balloon_set_target(uint64_t bytes)
{
	struct balloon_dev *b = balloon;

	if (!b)
		return -ENODEV;
	if (!bytes || bytes > b->ram_size)
		return -ERANGE;
	virtio_dev_lock(b->vdev);
	b->config.num_pages = (uint32_t)((b->ram_size - bytes) >> BALLOON_PAGE_SHIFT);
	virtio_mmio_config_changed(b->vdev);
	virtio_dev_unlock(b->vdev);
	pr_info("virtio-balloon: target %llu bytes (%u pages in the balloon)\n",
		(unsigned long long)bytes, b->config.num_pages);
	return 0;
}

int balloon_get_actual(uint64_t *bytes)
{
	struct balloon_dev *b = balloon;
	uint32_t actual;

	if (!b)
		return -ENODEV;
	virtio_dev_lock(b->vdev);
	actual = b->config.actual;
	virtio_dev_unlock(b->vdev);
	*bytes = guest_bytes(b, actual);
	return 0;
}

uint64_t balloon_ram_size(void)
{
	return balloon ? balloon->ram_size : 0;
}

static void balloon_exit(struct vm *vm)
{
	(void)vm;
	if (!balloon)
		return;
	if (balloon->vdev) {
		struct evloop *loop = balloon->vdev->loop;

		virtio_mmio_destroy(balloon->vdev);
		evloop_del(loop, balloon->efd);
	}
	if (balloon->efd >= 0)
		close(balloon->efd);
	free(balloon->pfns);
	free(balloon);
	balloon = NULL;
}

static int balloon_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct balloon_dev *b;
	int ret;

	if (!cfg->has_balloon)
		return 1;
	b = balloon = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b->pfns = malloc(BALLOON_MAX_PFN_BYTES);
	if (b->efd < 0 || !b->pfns) {
		ret = b->efd < 0 ? -errno : -ENOMEM;
		pr_err("virtio-balloon: %s\n", strerror(-ret));
		goto err;
	}
	b->ram_size = vm->mem.ram_size;
	b->shared = cfg->mem_share && vm->mem.memfd >= 0;
	b->host_page = sysconf(_SC_PAGESIZE);
	if (b->host_page < (long)BALLOON_PAGE_SIZE)
		b->host_page = (long)BALLOON_PAGE_SIZE;
	b->ops = balloon_ops;
	if (cfg->balloon_free_page_reporting)
		b->ops.num_queues = 3;
	ret = virtio_mmio_create(vm, &b->ops, b, NULL, &b->vdev);
	if (ret < 0)
		goto err;
	if (cfg->balloon_deflate_on_oom)
		b->vdev->host_features |= 1ULL << BALLOON_F_DEFLATE_ON_OOM;
	if (cfg->balloon_free_page_reporting)
		b->vdev->host_features |= 1ULL << BALLOON_F_REPORTING;
	ret = evloop_add(b->vdev->loop, b->efd, EPOLLIN, balloon_changed, b);
	if (ret < 0) {
		pr_err("virtio-balloon: event loop: %s\n", strerror(-ret));
		goto err;
	}
	return 0;
err:
	balloon_exit(vm);
	return ret;
}

static const struct vm_device_ops balloon_vm_ops = {
    .name = "virtio-balloon",
    .order = 26,
    .init = balloon_init,
    .exit = balloon_exit,
};
VM_DEVICE_REGISTER(balloon_vm_ops);
