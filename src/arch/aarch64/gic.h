/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_GIC_H
#define SV_AARCH64_GIC_H

#include <stdint.h>

/* The in-kernel interrupt controller, a KVM device. */
struct a64_gic {
	int fd;	     /* the KVM device, -1 before gic_create() */
	int version; /* 3, or 2 where KVM has no GICv3 */
};

/*
 * Creates the GICv3 (distributor and redistributors of layout.h, A64_GIC_NR_IRQS
 * interrupts) for nr_cpus vCPUs, or a GICv2 (at most 8 vCPUs) where KVM cannot
 * create a GICv3.  0 or -errno, message printed.
 */
int gic_create(int vm_fd, unsigned nr_cpus, struct a64_gic *gic);
/* KVM_DEV_ARM_VGIC_CTRL_INIT, once every vCPU exists. */
int gic_finalize(const struct a64_gic *gic);

/* kvm_irq_level.irq of KVM_IRQ_LINE for SPI number spi (the GSI irqfd takes). */
uint32_t gic_irq_line_number(uint32_t spi);

#endif
