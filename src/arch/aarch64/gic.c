// SPDX-License-Identifier: MulanPSL-2.0
/* The in-kernel GICv3 (or GICv2) through KVM_CREATE_DEVICE. */
#include "arch/aarch64/gic.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/aarch64/layout.h"
#include "util/log.h"

static int set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int create(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = {.type = type};

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0 ? -errno : (int)cd.fd;
}

static int setup(int fd, int version)
{
	uint64_t dist = A64_GIC_DIST, cpu = A64_GIC_CPU, redist = A64_GIC_REDIST;
	uint32_t nr_irqs = A64_GIC_NR_IRQS;
	int r;

	if (version == 3) {
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
		r = r ? r
		      : set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
				 &redist);
	} else {
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
		r = r ? r
		      : set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu);
	}
	return r ? r : set_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
}

int gic_create(int vm_fd, unsigned nr_cpus, struct a64_gic *gic)
{
	int fd, r;

	gic->fd = -1;
	fd = create(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (fd >= 0) {
		gic->version = 3;
	} else {
		pr_info("no in-kernel GICv3 (%s): trying GICv2", strerror(-fd));
		if (nr_cpus > 8) {
			fprintf(stderr,
				"stratovirt: -smp %u: KVM has no GICv3 (%s) and a GICv2 serves "
				"at most 8 vCPUs\n",
				nr_cpus, strerror(-fd));
			return -EINVAL;
		}
		fd = create(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V2);
		if (fd < 0) {
			fprintf(stderr,
				"stratovirt: cannot create the in-kernel GIC (neither GICv3 nor "
				"GICv2): %s\n",
				strerror(-fd));
			return fd;
		}
		gic->version = 2;
	}
	r = setup(fd, gic->version);
	if (r < 0) {
		fprintf(stderr, "stratovirt: cannot set up the in-kernel GICv%d: %s\n",
			gic->version, strerror(-r));
		close(fd);
		return r;
	}
	gic->fd = fd;
	pr_info("in-kernel GICv%d, %d interrupts", gic->version, A64_GIC_NR_IRQS);
	return 0;
}

int gic_finalize(const struct a64_gic *gic)
{
	int r = set_attr(gic->fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (r < 0)
		fprintf(stderr, "stratovirt: cannot initialise the in-kernel GICv%d: %s\n",
			gic->version, strerror(-r));
	return r;
}

uint32_t gic_irq_line_number(uint32_t spi)
{
	/* type SPI, vCPU field unused, the interrupt's INTID (SPIs start at 32) */
	return (uint32_t)KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT |
	       ((spi + 32) & KVM_ARM_IRQ_NUM_MASK) << KVM_ARM_IRQ_NUM_SHIFT;
}
