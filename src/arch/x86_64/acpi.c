// SPDX-License-Identifier: MulanPSL-2.0
/*
 * ACPI tables for the microVM: RSDP -> XSDT -> FADT (hardware-reduced) and
 * MADT; FADT -> DSDT with the legacy port devices (COM1, i8042, CMOS RTC) and
 * one LNRO0005 device per virtio-mmio transport, so kernels without
 * virtio_mmio.device= on the command line find them.  The FADT's sleep
 * control/status registers and the DSDT's \_S5 give the guest its power-off
 * (src/devices/acpi_sleep.c).  The FADT is hardware-reduced, so there is no
 * fixed power button: \_SB.PWRB (PNP0C0C) is a control-method button that the
 * Generic Event Device \_SB.GED0 (ACPI0013) notifies from its _EVT method
 * when the VMM raises its interrupt (src/devices/acpi_ged.c).
 */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/aml.h"
#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "machine/vm.h"

#define ACPI_OEM_ID	  "STRATO"
#define ACPI_OEM_TABLE_ID "SVMICROV"
#define ACPI_CREATOR_ID	  "SVMM"
#define ACPI_TABLE_ALIGN  16
#define ACPI_TABLE_MAX	  4096 /* MADT for 254 vCPUs is 2.1 KiB, DSDT ~1 KiB */
#define IOAPIC_PINS	  24

struct acpi_writer {
	struct guest_mem *mem;
	uint64_t next; /* next free gpa in [LAYOUT_ACPI_TABLES, LAYOUT_ACPI_END) */
	char *err;
	size_t errlen;
};

static void fill_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	h->checksum = 0;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Checksums a finished table and stores it at the next free place. */
static int put_table(struct acpi_writer *w, void *table, uint64_t *gpa)
{
	struct acpi_header *h = table;
	uint64_t addr = (w->next + ACPI_TABLE_ALIGN - 1) & ~(uint64_t)(ACPI_TABLE_ALIGN - 1);

	if (addr + h->length > LAYOUT_ACPI_END || gmem_write(w->mem, addr, table, h->length)) {
		boot_err(w->err, w->errlen, "ACPI: table %.4s does not fit below 0x%llx",
			 h->signature, LAYOUT_ACPI_END);
		return -ENOSPC;
	}
	h->checksum = boot_checksum(table, h->length);
	gmem_write(w->mem, addr + offsetof(struct acpi_header, checksum), &h->checksum, 1);
	w->next = addr + h->length;
	*gpa = addr;
	return 0;
}

/* A legacy ISA device: up to two fixed port ranges and one ISA IRQ. */
struct isa_dev_desc {
	const char *name;
	const char *hid;
	uint16_t port[2];
	uint8_t port_len[2]; /* 0: no range */
	uint8_t irq;	     /* 0: none */
};

/*
 * With the hardware-reduced FADT Linux finds no legacy device by itself: it
 * probes these through PNP (8250_pnp, i8042 PNP, rtc_cmos PNP), which takes
 * the ports and ISA IRQs from _CRS.  The IRQs match ACPI_ISA_OVERRIDE_IRQS.
 */
static const struct isa_dev_desc isa_devs[] = {
    {"COM1", "PNP0501", {PORT_COM1, 0}, {8, 0}, IRQ_COM1},
    {"PS2K", "PNP0303", {PORT_I8042_DATA, PORT_I8042_CMD}, {1, 1}, IRQ_I8042_KBD},
    {"PS2M", "PNP0F13", {0, 0}, {0, 0}, IRQ_I8042_AUX},
    {"RTC", "PNP0B00", {PORT_CMOS, 0}, {2, 0}, IRQ_RTC},
};

static void dsdt_isa_device(struct aml_buf *b, const struct isa_dev_desc *d)
{
	uint8_t crs[32];
	size_t n = 0, dev;

	for (int i = 0; i < 2; i++)
		if (d->port_len[i])
			n += aml_res_io(crs + n, d->port[i], d->port_len[i]);
	if (d->irq)
		n += aml_res_irq_noflags(crs + n, d->irq);
	n += aml_res_end_tag(crs + n);

	dev = aml_device_begin(b, d->name);
	aml_name_decl(b, "_HID");
	aml_eisa_id(b, d->hid);
	aml_name_decl(b, "_STA");
	aml_integer(b, 0x0f); /* present, enabled, shown, functioning */
	aml_name_decl(b, "_CRS");
	aml_buffer(b, crs, n);
	aml_pkg_end(b, dev);
}

/*
 * Device (PWRB) { Name (_HID, EisaId ("PNP0C0C")) }
 * Device (GED0) {
 *     Name (_HID, "ACPI0013")
 *     Name (_UID, Zero)
 *     Name (_CRS, ResourceTemplate () {
 *         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { IRQ_ACPI_GED } })
 *     OperationRegion (EREG, SystemIO, PORT_ACPI_GED_EVT, 1)
 *     Field (EREG, ByteAcc, NoLock, WriteAsZeros) { ESEL, 8 }
 *     Method (_EVT, 1, Serialized) {
 *         Local0 = ESEL          // the events that are pending
 *         ESEL = Local0          // write-1-to-clear exactly those
 *         If (Local0 & ACPI_GED_EVT_PWR_BTN) { Notify (\_SB.PWRB, 0x80) }
 *     }
 * }
 * Notify 0x80 on a power button is "button pressed" (ACPI 6.4 4.8.2.2.1.2).
 */
static void dsdt_power_button(struct aml_buf *b)
{
	uint8_t crs[16];
	size_t n = 0, dev, method, cond, field;

	dev = aml_device_begin(b, "PWRB");
	aml_name_decl(b, "_HID");
	aml_eisa_id(b, "PNP0C0C");
	aml_name_decl(b, "_UID");
	aml_integer(b, 0);
	aml_pkg_end(b, dev);

	n += aml_res_ext_interrupt(crs + n, true, false, false, IRQ_ACPI_GED);
	n += aml_res_end_tag(crs + n);
	dev = aml_device_begin(b, "GED0");
	aml_name_decl(b, "_HID");
	aml_string(b, "ACPI0013");
	aml_name_decl(b, "_UID");
	aml_integer(b, 0);
	aml_name_decl(b, "_CRS");
	aml_buffer(b, crs, n);
	aml_operation_region(b, "EREG", AML_REGION_SYSTEM_IO, PORT_ACPI_GED_EVT, 1);
	field = aml_field_begin(b, "EREG", AML_FIELD_BYTE_ACC | AML_FIELD_WRITE_AS_ZEROS);
	aml_field_unit(b, "ESEL", 8);
	aml_pkg_end(b, field);
	method = aml_method_begin(b, "_EVT", 1, true);
	aml_byte(b, AML_STORE_OP);
	aml_name_string(b, "ESEL");
	aml_local(b, 0);
	aml_byte(b, AML_STORE_OP);
	aml_local(b, 0);
	aml_name_string(b, "ESEL");
	cond = aml_if_begin(b);
	aml_byte(b, AML_AND_OP);
	aml_local(b, 0);
	aml_integer(b, ACPI_GED_EVT_PWR_BTN);
	aml_byte(b, 0); /* no target */
	aml_byte(b, AML_NOTIFY_OP);
	aml_name_string(b, "\\_SB.PWRB");
	aml_integer(b, 0x80);
	aml_pkg_end(b, cond);
	aml_pkg_end(b, method);
	aml_pkg_end(b, dev);
}

static int build_dsdt(struct acpi_writer *w, const struct boot_request *req, uint64_t *gpa)
{
	uint8_t table[ACPI_TABLE_MAX];
	struct aml_buf b;
	size_t scope, pkg;

	aml_init(&b, table, sizeof(table));
	aml_bytes(&b, &(struct acpi_header){0}, sizeof(struct acpi_header));
	/*
	 * \_S5 (soft off): SLP_TYPa, SLP_TYPb, two reserved.  With the
	 * hardware-reduced FADT only SLP_TYPa is used, written to the sleep
	 * control register.
	 */
	aml_name_decl(&b, "_S5");
	pkg = aml_package_begin(&b, 4);
	aml_integer(&b, ACPI_S5_SLP_TYP);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_pkg_end(&b, pkg);
	scope = aml_scope_begin(&b, "\\_SB");
	for (size_t i = 0; i < sizeof(isa_devs) / sizeof(isa_devs[0]); i++)
		dsdt_isa_device(&b, &isa_devs[i]);
	dsdt_power_button(&b);
	for (int i = 0; i < req->nr_devs; i++) {
		const struct mmio_dev_desc *d = &req->devs[i];
		uint8_t crs[32];
		size_t n = 0, dev;
		char name[5] = {'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0};

		n += aml_res_memory32_fixed(crs + n, true, (uint32_t)d->base, (uint32_t)d->size);
		/* Edge, active high: irqfd pulses the line; see docs/boot.md. */
		n += aml_res_ext_interrupt(crs + n, true, false, false, d->irq);
		n += aml_res_end_tag(crs + n);

		dev = aml_device_begin(&b, name);
		aml_name_decl(&b, "_HID");
		aml_string(&b, "LNRO0005");
		aml_name_decl(&b, "_UID");
		aml_integer(&b, (uint64_t)i);
		aml_name_decl(&b, "_CCA");
		aml_integer(&b, 1);
		aml_name_decl(&b, "_CRS");
		aml_buffer(&b, crs, n);
		aml_pkg_end(&b, dev);
	}
	aml_pkg_end(&b, scope);
	if (b.error) {
		boot_err(w->err, w->errlen, "ACPI: DSDT does not fit in %zu bytes", sizeof(table));
		return b.error;
	}
	fill_header((struct acpi_header *)table, "DSDT", (uint32_t)b.len, 2);
	return put_table(w, table, gpa);
}

/* A 1-byte register in I/O space, accessed with byte accesses. */
static struct acpi_gas io_byte_reg(uint16_t port)
{
	return (struct acpi_gas){.space_id = ACPI_GAS_SYSTEM_IO,
				 .bit_width = 8,
				 .bit_offset = 0,
				 .access_size = ACPI_GAS_ACCESS_BYTE,
				 .address = port};
}

static int build_fadt(struct acpi_writer *w, uint64_t dsdt, uint64_t *gpa)
{
	struct acpi_fadt f;

	memset(&f, 0, sizeof(f));
	fill_header(&f.h, "FACP", sizeof(f), 6);
	f.minor_version = 5;
	f.dsdt = (uint32_t)dsdt;
	f.x_dsdt = dsdt;
	f.flags = ACPI_FADT_HW_REDUCED;
	f.iapc_boot_arch = ACPI_IAPC_8042 | ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_MSI_NOT_PRESENT;
	/* Linux offers ACPI power-off on reduced hardware only with both set. */
	f.sleep_control_reg = io_byte_reg(PORT_ACPI_SLEEP_CTL);
	f.sleep_status_reg = io_byte_reg(PORT_ACPI_SLEEP_STS);
	memcpy(&f.hypervisor_vendor_id, "STRATOVM", 8);
	return put_table(w, &f, gpa);
}

static int build_madt(struct acpi_writer *w, unsigned nr_cpus, uint64_t *gpa)
{
	static const uint8_t isa_irqs[] = ACPI_ISA_OVERRIDE_IRQS;
	uint8_t table[ACPI_TABLE_MAX];
	struct acpi_madt *m = (struct acpi_madt *)table;
	size_t len = sizeof(*m);
	struct acpi_madt_ioapic io = {
	    .type = ACPI_MADT_IOAPIC,
	    .length = sizeof(io),
	    .id = (uint8_t)nr_cpus,
	    .addr = (uint32_t)LAYOUT_IOAPIC,
	    .gsi_base = 0,
	};
	struct acpi_madt_lapic_nmi nmi = {
	    .type = ACPI_MADT_LAPIC_NMI,
	    .length = sizeof(nmi),
	    .processor_uid = 0xff, /* all processors */
	    .lint = 1,
	};

	memset(table, 0, sizeof(*m));
	m->lapic_addr = (uint32_t)LAYOUT_LAPIC;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct acpi_madt_lapic l = {
		    .type = ACPI_MADT_LAPIC,
		    .length = sizeof(l),
		    .processor_uid = (uint8_t)i,
		    .apic_id = (uint8_t)i,
		    .flags = 1,
		};

		memcpy(table + len, &l, sizeof(l));
		len += sizeof(l);
	}
	memcpy(table + len, &io, sizeof(io));
	len += sizeof(io);
	/*
	 * KVM routes ISA IRQ n to IOAPIC pin n, which ACPI assumes without an
	 * override.  But with the hardware-reduced FADT Linux sets up no legacy
	 * PIC and so maps no ISA IRQ by itself: the legacy devices' IRQs get
	 * identity overrides, or i8042, the UART and the RTC cannot request
	 * theirs.  No override for IRQ 0 (the PIT): Linux does not use it here.
	 */
	for (unsigned i = 0; i < sizeof(isa_irqs) / sizeof(isa_irqs[0]); i++) {
		struct acpi_madt_int_override o = {
		    .type = ACPI_MADT_INT_OVERRIDE,
		    .length = sizeof(o),
		    .bus = 0,
		    .source = isa_irqs[i],
		    .gsi = isa_irqs[i],
		    .flags = 0,
		};

		memcpy(table + len, &o, sizeof(o));
		len += sizeof(o);
	}
	memcpy(table + len, &nmi, sizeof(nmi));
	len += sizeof(nmi);
	fill_header(&m->h, "APIC", (uint32_t)len, 5);
	return put_table(w, table, gpa);
}

static int build_xsdt(struct acpi_writer *w, const uint64_t *tables, int n, uint64_t *gpa)
{
	uint8_t table[sizeof(struct acpi_header) + 8 * sizeof(uint64_t)];
	size_t len = sizeof(struct acpi_header) + (size_t)n * 8;

	memset(table, 0, sizeof(table));
	memcpy(table + sizeof(struct acpi_header), tables, (size_t)n * 8);
	fill_header((struct acpi_header *)table, "XSDT", (uint32_t)len, 1);
	return put_table(w, table, gpa);
}

static int check_devices(const struct boot_request *req, char *err, size_t errlen)
{
	for (int i = 0; i < req->nr_devs; i++) {
		const struct mmio_dev_desc *d = &req->devs[i];

		if (!d->size || d->base > UINT32_MAX || d->size > UINT32_MAX - d->base ||
		    d->irq >= IOAPIC_PINS) {
			boot_err(err, errlen,
				 "ACPI: virtio-mmio device %d (0x%llx, size 0x%llx, IRQ %u) is not "
				 "below 4 GiB on an IOAPIC pin",
				 i, (unsigned long long)d->base, (unsigned long long)d->size,
				 d->irq);
			return -EINVAL;
		}
	}
	return 0;
}

int acpi_build_tables(struct guest_mem *mem, const struct boot_request *req, uint64_t *rsdp,
		      char *err, size_t errlen)
{
	struct acpi_writer w = {
	    .mem = mem, .next = LAYOUT_ACPI_TABLES, .err = err, .errlen = errlen};
	uint64_t dsdt, sdts[2], xsdt;
	struct acpi_rsdp r;
	int ret;

	ret = check_devices(req, err, errlen);
	if (ret)
		return ret;
	ret = build_dsdt(&w, req, &dsdt);
	if (!ret)
		ret = build_fadt(&w, dsdt, &sdts[0]);
	if (!ret)
		ret = build_madt(&w, req->nr_cpus, &sdts[1]);
	if (!ret)
		ret = build_xsdt(&w, sdts, 2, &xsdt);
	if (ret)
		return ret;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, ACPI_OEM_ID, 6);
	r.revision = 2;
	r.length = sizeof(r);
	r.xsdt_addr = xsdt;
	r.checksum = boot_checksum(&r, 20);
	r.ext_checksum = boot_checksum(&r, sizeof(r));
	if (gmem_write(mem, LAYOUT_ACPI_RSDP, &r, sizeof(r))) {
		boot_err(err, errlen, "ACPI: guest RAM does not cover the RSDP at 0x%llx",
			 LAYOUT_ACPI_RSDP);
		return -EFAULT;
	}
	*rsdp = LAYOUT_ACPI_RSDP;
	return 0;
}
