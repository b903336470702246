// SPDX-License-Identifier: MulanPSL-2.0
/*
 * MP table (Intel MP spec 1.4).  The floating pointer sits at 639 KiB, where
 * Linux scans for it.  The configuration table follows it while it fits below
 * 640 KiB (up to 40 vCPUs); a larger one is placed just below the pointer, and
 * the e820 map reserves from its start.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/mptable.h"

#define MP_ISA_BUS_ID 0
#define MP_ISA_IRQS   16
#define MP_MAX_CPUS   254

static size_t config_size(unsigned nr_cpus)
{
	if (nr_cpus > MP_MAX_CPUS)
		nr_cpus = MP_MAX_CPUS;
	return sizeof(struct mp_config_header) + nr_cpus * sizeof(struct mp_processor) +
	       sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +
	       (MP_ISA_IRQS + 2) * sizeof(struct mp_irq);
}

static uint64_t config_addr(unsigned nr_cpus)
{
	size_t size = config_size(nr_cpus);
	uint64_t after = LAYOUT_MPTABLE + sizeof(struct mp_floating_ptr);

	if (after + size <= LAYOUT_LOWMEM_END)
		return after;
	return (LAYOUT_MPTABLE - size) & ~0xfULL;
}

uint64_t mptable_start(unsigned nr_cpus)
{
	uint64_t cfg = config_addr(nr_cpus);

	return cfg < LAYOUT_MPTABLE ? cfg : LAYOUT_MPTABLE;
}

size_t mptable_size(unsigned nr_cpus)
{
	return sizeof(struct mp_floating_ptr) + config_size(nr_cpus);
}

/* Appends one entry to the table under construction. */
static void put(uint8_t **p, const void *entry, size_t len)
{
	memcpy(*p, entry, len);
	*p += len;
}

int mptable_build(struct guest_mem *mem, unsigned nr_cpus, char *err, size_t errlen)
{
	const uint8_t ioapic_id = (uint8_t)nr_cpus;
	uint64_t cfg_gpa = config_addr(nr_cpus);
	size_t cfg_len = config_size(nr_cpus);
	struct mp_floating_ptr fp = {
	    .signature = MPF_SIGNATURE,
	    .physptr = (uint32_t)cfg_gpa,
	    .length = 1,
	    .spec_rev = MP_SPEC_REV,
	};
	struct mp_config_header hdr = {
	    .signature = MPC_SIGNATURE,
	    .length = (uint16_t)cfg_len,
	    .spec_rev = MP_SPEC_REV,
	    .oem_id = "STRATO  ",
	    .product_id = "MICROVM     ",
	    .entry_count = (uint16_t)(nr_cpus + 2 + MP_ISA_IRQS + 2),
	    .lapic_addr = (uint32_t)LAYOUT_LAPIC,
	};
	uint8_t *base, *p;

	if (nr_cpus < 1 || nr_cpus > MP_MAX_CPUS) {
		boot_err(err, errlen, "MP table: %u vCPUs (1 to %d are supported)", nr_cpus,
			 MP_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg_gpa < LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX) {
		boot_err(err, errlen, "MP table of %zu bytes does not fit below 640 KiB", cfg_len);
		return -E2BIG;
	}
	base = gmem_ptr(mem, cfg_gpa, cfg_len);
	if (!base || !gmem_ptr(mem, LAYOUT_MPTABLE, sizeof(fp))) {
		boot_err(err, errlen, "MP table: guest RAM does not cover 0x%llx",
			 (unsigned long long)cfg_gpa);
		return -EFAULT;
	}

	p = base + sizeof(hdr);
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct mp_processor cpu = {
		    .type = MP_PROCESSOR,
		    .apic_id = (uint8_t)i,
		    .apic_ver = MP_LAPIC_VER,
		    .cpu_flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
		    .signature = 0x600, /* family 6 */
		    .features = 0x201,	/* FPU, APIC */
		};

		put(&p, &cpu, sizeof(cpu));
	}
	put(&p, &(struct mp_bus){.type = MP_BUS, .bus_id = MP_ISA_BUS_ID, .bus_type = "ISA   "},
	    sizeof(struct mp_bus));
	put(&p,
	    &(struct mp_ioapic){.type = MP_IOAPIC,
				.apic_id = ioapic_id,
				.apic_ver = MP_IOAPIC_VER,
				.flags = MP_IOAPIC_EN,
				.addr = (uint32_t)LAYOUT_IOAPIC},
	    sizeof(struct mp_ioapic));
	/* KVM's default GSI routing wires ISA IRQ n to IOAPIC pin n, the timer included. */
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++) {
		struct mp_irq e = {.type = MP_INTSRC,
				   .irq_type = MP_INT,
				   .src_bus = MP_ISA_BUS_ID,
				   .src_irq = irq,
				   .dst_apic = ioapic_id,
				   .dst_pin = irq};

		put(&p, &e, sizeof(e));
	}
	put(&p,
	    &(struct mp_irq){.type = MP_LINTSRC,
			     .irq_type = MP_EXTINT,
			     .src_bus = MP_ISA_BUS_ID,
			     .dst_apic = 0xff,
			     .dst_pin = 0},
	    sizeof(struct mp_irq));
	put(&p,
	    &(struct mp_irq){.type = MP_LINTSRC,
			     .irq_type = MP_NMI,
			     .src_bus = MP_ISA_BUS_ID,
			     .dst_apic = 0xff,
			     .dst_pin = 1},
	    sizeof(struct mp_irq));

	memcpy(base, &hdr, sizeof(hdr));
	((struct mp_config_header *)base)->checksum = boot_checksum(base, cfg_len);
	fp.checksum = boot_checksum(&fp, sizeof(fp));
	gmem_write(mem, LAYOUT_MPTABLE, &fp, sizeof(fp));
	return 0;
}
