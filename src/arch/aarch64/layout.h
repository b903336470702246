/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_AARCH64_LAYOUT_H
#define SV_AARCH64_LAYOUT_H

/* Guest physical layout of the aarch64 microVM (StratoVirt's: RAM from 1 GiB). */
#define A64_GIC_DIST	   0x08000000ULL
#define A64_GIC_DIST_SIZE  0x10000ULL
#define A64_GIC_CPU	   0x08010000ULL /* GICv2 CPU interface */
#define A64_GIC_CPU_SIZE   0x10000ULL
#define A64_GIC_REDIST	   0x080a0000ULL /* GICv3: one 128 KiB frame per vCPU */
#define A64_GIC_REDIST_CPU 0x20000ULL
#define A64_MAX_CPUS	   123 /* redistributor frames up to A64_PL011 */
#define A64_PL011	   0x09000000ULL
#define A64_PL011_SPI	   1
#define A64_PL031	   0x09010000ULL
#define A64_PL031_SPI	   2
#define A64_APB_SIZE	   0x1000ULL
#define A64_VIRTIO_MMIO	   0x0a000000ULL
#define A64_VIRTIO_SIZE	   0x200ULL
#define A64_VIRTIO_MAX	   16
#define A64_VIRTIO_SPI	   16  /* SPI of the first transport */
#define A64_GIC_NR_IRQS	   128 /* 32 private interrupts + SPIs 0..95 */
#define A64_RAM_BASE	   0x40000000ULL
#define A64_RAM_MAX	   (1ULL << 40) /* KVM's default 40-bit IPA space ends here */
#define A64_FDT		   A64_RAM_BASE /* the device tree: RAM base, below the kernel */
#define A64_FDT_MAX	   0x100000ULL
#define A64_KERNEL_OFFSET  0x200000ULL /* the Image's 2 MiB-aligned base: RAM + 2 MiB */

#endif
