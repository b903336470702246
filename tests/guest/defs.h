/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Constants shared by the test guest's assembly and C code. Only plain
 * #defines here: this header is included from .S files too.
 */
#ifndef SVGUEST_DEFS_H
#define SVGUEST_DEFS_H

/* Ports */
#define PORT_BOOT_TIMER 0x80 /* first-instruction marker (POST-code port) */
#define PORT_DEBUG_EXIT 0xf4 /* QEMU isa-debug-exit compatible */
#define PORT_I8042_CMD	0x64
#define PORT_COM1	0x3f8
#define PORT_CMOS_INDEX 0x70
#define PORT_CMOS_DATA	0x71

/* Boot paths, as passed from the entry stubs to guest_main() */
#define BOOT_KIND_PVH	  1 /* 32-bit entry, ebx = struct hvm_start_info */
#define BOOT_KIND_LINUX64 2 /* 64-bit entry, rsi = struct boot_params */

#define PVH_START_MAGIC 0x336ec578

/* GDT selectors (head.S) */
#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18
#define GDT_BYTES  0x20 /* four descriptors */

/* Memory the guest uses for itself */
#define AP_TRAMPOLINE_BASE 0x10000   /* real-mode AP entry, SIPI vector 0x10 */
#define ALLOC_START	   0x2000000 /* page allocator: 32 MiB .. 48 MiB */
#define ALLOC_END	   0x3000000

#define BSP_STACK_SIZE 0x4000
#define AP_STACK_SHIFT 12 /* 4 KiB per AP: ap_main() is shallow */
#define MAX_CPUS       64

/* Devices */
#define LAPIC_BASE	   0xfee00000
#define IOAPIC_BASE	   0xfec00000
#define VIRTIO_MMIO_BASE   0xf0100000
#define VIRTIO_MMIO_STRIDE 0x200

#endif
