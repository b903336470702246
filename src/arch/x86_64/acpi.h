/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_ACPI_H
#define SV_X86_ACPI_H

/* ACPI 6.x table layouts the microVM publishes (and the tests read back). */

#include <stdint.h>

#include "arch/x86_64/layout.h"

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 2: ACPI 2.0+ with XSDT */
	uint32_t rsdt_addr;
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum; /* all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO   1
#define ACPI_GAS_ACCESS_BYTE 1

/* Sleep control register (ACPI 6.x 4.8.3.7): SLP_TYP in bits 2-4, SLP_EN bit 5. */
#define ACPI_SLP_TYP_SHIFT 2
#define ACPI_SLP_TYP_MASK  (7U << ACPI_SLP_TYP_SHIFT)
#define ACPI_SLP_EN	   (1U << 5)
/* Sleep status register: WAK_STS bit 7 (write 1 to clear). */
#define ACPI_WAK_STS (1U << 7)

/*
 * GED event status register (PORT_ACPI_GED_EVT): a bit per event source, set
 * by the VMM with an edge on IRQ_ACPI_GED, cleared by writing it back as 1.
 * Bit 0: the power button (\_SB.PWRB, PNP0C0C) was pressed.
 */
#define ACPI_GED_EVT_PWR_BTN (1U << 0)
#define ACPI_GED_EVT_MASK    ACPI_GED_EVT_PWR_BTN

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

#define ACPI_FADT_HW_REDUCED	  (1U << 20)
#define ACPI_IAPC_8042		  (1U << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT (1U << 2)
#define ACPI_IAPC_MSI_NOT_PRESENT (1U << 3)

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

#define ACPI_MADT_PCAT_COMPAT 1

enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_INT_OVERRIDE = 2,
	ACPI_MADT_LAPIC_NMI = 4,
};

struct acpi_madt_lapic {
	uint8_t type, length, processor_uid, apic_id;
	uint32_t flags; /* bit 0: enabled */
} __attribute__((packed));

struct acpi_madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_int_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags; /* 0: as the bus defines (ISA: edge, active high) */
} __attribute__((packed));

/* ISA IRQs of the legacy devices: i8042 keyboard and aux, COM1, RTC. */
#define ACPI_ISA_OVERRIDE_IRQS                                                                     \
	{                                                                                          \
		IRQ_I8042_KBD, IRQ_COM1, IRQ_RTC, IRQ_I8042_AUX                                    \
	}

struct acpi_madt_lapic_nmi {
	uint8_t type, length, processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_madt_int_override) == 10, "MADT override is 10 bytes");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP v2 is 36 bytes");
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header is 36 bytes");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

#endif
