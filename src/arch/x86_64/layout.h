/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_LAYOUT_H
#define SV_X86_LAYOUT_H

/* Guest physical layout of the x86_64 microVM (StratoVirt-compatible). */
#define LAYOUT_GDT	      0x500ULL
#define LAYOUT_IDT	      0x520ULL
#define LAYOUT_PVH_START_INFO 0x6000ULL /* hvm_start_info + memmap (PVH boot) */
#define LAYOUT_BOOT_PARAMS    0x7000ULL
#define LAYOUT_STACK_TOP      0x8ff0ULL
#define LAYOUT_PML4	      0x9000ULL
#define LAYOUT_PDPT	      0xa000ULL
#define LAYOUT_PD	      0xb000ULL /* 4 pages: first 4 GiB, 2 MiB pages */
#define LAYOUT_CMDLINE	      0x20000ULL
#define LAYOUT_CMDLINE_MAX    0x10000ULL /* 64 KiB including the NUL */
#define LAYOUT_MPTABLE	      0x9fc00ULL /* EBDA */
#define LAYOUT_EBDA_START     0x9fc00ULL
#define LAYOUT_LOWMEM_END     0xa0000ULL /* 640 KiB: VGA/BIOS hole above */
#define LAYOUT_ACPI_RSDP      0xe0000ULL /* BIOS area, where the kernel scans */
#define LAYOUT_ACPI_TABLES    0xe1000ULL /* up to LAYOUT_ACPI_END */
#define LAYOUT_ACPI_END	      0x100000ULL
#define LAYOUT_HIMEM_START    0x100000ULL  /* 1 MiB */
#define LAYOUT_KERNEL_RAW     0x1000000ULL /* vmlinux.bin load/entry, 16 MiB */
#define LAYOUT_INITRD_MAX     0x37ffffffULL

#define LAYOUT_MEM_BELOW_4G_END 0xc0000000ULL /* RAM below 3 GiB */
#define LAYOUT_MMIO_START	0xc0000000ULL
#define LAYOUT_MEM_ABOVE_4G	0x100000000ULL

#define LAYOUT_VIRTIO_MMIO_BASE 0xf0100000ULL
#define LAYOUT_VIRTIO_MMIO_SIZE 0x200ULL
#define LAYOUT_VIRTIO_MMIO_MAX	16
#define LAYOUT_VIRTIO_IRQ_FIRST 5

#define LAYOUT_IOAPIC	    0xfec00000ULL
#define LAYOUT_LAPIC	    0xfee00000ULL
#define LAYOUT_TSS	    0xfffbd000ULL /* KVM_SET_TSS_ADDR: 3 pages */
#define LAYOUT_IDENTITY_MAP 0xfffbc000ULL

/* Ports */
#define PORT_COM1	0x3f8
#define IRQ_COM1	4
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD	0x64
#define IRQ_I8042_KBD	1
#define IRQ_I8042_AUX	12
#define PORT_CMOS	0x70
#define IRQ_RTC		8
#define PORT_BOOT_TIMER 0x80 /* guest writes here: boot-progress marker (POST port) */
#define PORT_DEBUG_EXIT 0xf4 /* test guest exit port, like QEMU's isa-debug-exit */
/* ACPI sleep control and status registers (FADT, hardware-reduced), 1 byte each */
#define PORT_ACPI_SLEEP_CTL 0x600
#define PORT_ACPI_SLEEP_STS 0x601
/*
 * ACPI Generic Event Device (src/devices/acpi_ged.c): its event status
 * register (1 byte, the DSDT's GED0.ESEL) and the IOAPIC pin of its interrupt,
 * above the virtio-mmio transports' GSIs 5-21.
 */
#define PORT_ACPI_GED_EVT 0x602
#define IRQ_ACPI_GED	  23
/* SLP_TYP of \_S5 (soft off) in the DSDT; the sleep control register decodes it */
#define ACPI_S5_SLP_TYP 5

#endif
