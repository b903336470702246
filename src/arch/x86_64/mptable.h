/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_MPTABLE_H
#define SV_X86_MPTABLE_H

/* Intel MultiProcessor Specification 1.4 structures, as the guest reads them. */

#include <stdint.h>

#define MPF_SIGNATURE "_MP_"
#define MPC_SIGNATURE "PCMP"
#define MP_SPEC_REV   4

enum mp_entry_type {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

enum mp_irq_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };

#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP     0x02
#define MP_IOAPIC_EN   0x01
#define MP_LAPIC_VER   0x14
#define MP_IOAPIC_VER  0x11

struct mp_floating_ptr {
	char signature[4];
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mp_config_header {
	char signature[4];
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t cpu_flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

/* Both I/O (type 3) and local (type 4) interrupt assignments. */
struct mp_irq {
	uint8_t type;
	uint8_t irq_type;
	uint16_t irq_flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating_ptr) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config_header) == 44, "MP config header");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_bus) == 8 && sizeof(struct mp_ioapic) == 8 &&
		   sizeof(struct mp_irq) == 8,
	       "MP 8-byte entries");

#endif
