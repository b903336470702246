// SPDX-License-Identifier: MulanPSL-2.0
/* ACPI tables: checksums, links, MADT entries, the DSDT's AML; the AML encoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/bootparam.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/aml.h"
#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "boot_test.h"
#include "machine/vm.h"

static uint8_t sum(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static struct mmio_dev_desc devs[LAYOUT_VIRTIO_MMIO_MAX];

static void boot_acpi(struct test_guest *g, unsigned cpus, int nr_devs)
{
	uint8_t k[64] = {0x90};
	struct boot_request req = {.kernel = k,
				   .kernel_len = sizeof(k),
				   .nr_cpus = cpus,
				   .acpi = true,
				   .devs = devs,
				   .nr_devs = nr_devs};
	struct boot_entry e;
	char err[200];

	for (int i = 0; i < LAYOUT_VIRTIO_MMIO_MAX; i++)
		devs[i] =
		    (struct mmio_dev_desc){LAYOUT_VIRTIO_MMIO_BASE + i * 0x1000,
					   LAYOUT_VIRTIO_MMIO_SIZE, LAYOUT_VIRTIO_IRQ_FIRST + i};
	test_guest_init(g);
	assert_int_equal(x86_boot_setup(&g->mem, &req, &e, err, sizeof(err)), 0);
}

static const struct acpi_header *table_at(struct test_guest *g, uint64_t gpa, const char *sig)
{
	const struct acpi_header *h = (const void *)(g->ram + gpa);

	assert_true(gpa >= LAYOUT_ACPI_TABLES);
	assert_true(gpa + h->length <= LAYOUT_ACPI_END);
	assert_memory_equal(h->signature, sig, 4);
	assert_int_equal(sum(h, h->length), 0);
	return h;
}

/* Follows RSDP -> XSDT -> FACP/APIC; FACP -> DSDT. */
static void find_tables(struct test_guest *g, const struct acpi_fadt **fadt,
			const struct acpi_madt **madt, const struct acpi_header **dsdt)
{
	const struct acpi_rsdp *r = (const void *)(g->ram + LAYOUT_ACPI_RSDP);
	const struct acpi_header *x;
	const uint8_t *ent;
	uint64_t gpa[2];

	assert_memory_equal(r->signature, "RSD PTR ", 8);
	assert_int_equal(r->revision, 2);
	assert_int_equal(r->length, 36);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	x = table_at(g, r->xsdt_addr, "XSDT");
	assert_int_equal(x->length, sizeof(*x) + 16);
	ent = (const uint8_t *)(x + 1);
	memcpy(gpa, ent, sizeof(gpa));
	*fadt = (const void *)table_at(g, gpa[0], "FACP");
	*madt = (const void *)table_at(g, gpa[1], "APIC");
	assert_int_equal((*fadt)->h.revision, 6);
	assert_int_equal((*fadt)->h.length, 276);
	assert_true((*fadt)->flags & ACPI_FADT_HW_REDUCED);
	assert_int_equal((*fadt)->dsdt, (*fadt)->x_dsdt);
	*dsdt = table_at(g, (*fadt)->x_dsdt, "DSDT");
}

static void test_acpi_links_and_checksums(void **state)
{
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	const struct acpi_header *dsdt;
	struct test_guest g;

	(void)state;
	boot_acpi(&g, 2, 3);
	find_tables(&g, &fadt, &madt, &dsdt);
	assert_int_equal(((const struct boot_params *)(g.ram + LAYOUT_BOOT_PARAMS))->acpi_rsdp_addr,
			 LAYOUT_ACPI_RSDP);
	test_guest_free(&g);
}

static void check_madt(unsigned cpus)
{
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	const struct acpi_header *dsdt;
	struct test_guest g;
	const uint8_t *p, *end;
	static const uint8_t isa_irqs[] = ACPI_ISA_OVERRIDE_IRQS;
	unsigned lapics = 0, ioapics = 0, nmis = 0, overrides = 0;

	boot_acpi(&g, cpus, 1);
	find_tables(&g, &fadt, &madt, &dsdt);
	assert_int_equal(madt->lapic_addr, LAYOUT_LAPIC);
	p = (const uint8_t *)(madt + 1);
	end = (const uint8_t *)madt + madt->h.length;
	while (p < end) {
		assert_true(p[1] >= 2 && p + p[1] <= end);
		switch (p[0]) {
		case ACPI_MADT_LAPIC: {
			const struct acpi_madt_lapic *l = (const void *)p;

			assert_int_equal(l->apic_id, lapics);
			assert_int_equal(l->processor_uid, lapics);
			assert_int_equal(l->flags, 1);
			lapics++;
			break;
		}
		case ACPI_MADT_IOAPIC: {
			const struct acpi_madt_ioapic *io = (const void *)p;

			assert_int_equal(io->addr, LAYOUT_IOAPIC);
			assert_int_equal(io->gsi_base, 0);
			assert_int_equal(io->id, cpus);
			ioapics++;
			break;
		}
		case ACPI_MADT_LAPIC_NMI:
			assert_int_equal(((const struct acpi_madt_lapic_nmi *)p)->lint, 1);
			nmis++;
			break;
		case ACPI_MADT_INT_OVERRIDE: {
			const struct acpi_madt_int_override *o = (const void *)p;

			assert_true(overrides < sizeof(isa_irqs));
			assert_int_equal(o->length, 10);
			assert_int_equal(o->bus, 0);
			assert_int_equal(o->source, isa_irqs[overrides]);
			assert_int_equal(o->gsi, isa_irqs[overrides]); /* identity: KVM's routing */
			assert_int_equal(o->flags, 0);
			overrides++;
			break;
		}
		default:
			fail_msg("unexpected MADT entry %u", p[0]);
		}
		p += p[1];
	}
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_int_equal(overrides, sizeof(isa_irqs));
	test_guest_free(&g);
}

static void test_madt_1(void **state)
{
	(void)state;
	check_madt(1);
}

static void test_madt_254(void **state)
{
	(void)state;
	check_madt(254);
}

/* Minimal AML reader for what the DSDT holds. */
static size_t pkg_len(const uint8_t *p, size_t *len)
{
	size_t n = (p[0] >> 6) + 1;

	if (n == 1) {
		*len = p[0] & 0x3f;
		return 1;
	}
	*len = p[0] & 0x0f;
	for (size_t i = 1; i < n; i++)
		*len |= (size_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

/*
 * The legacy devices' AML, bytes taken from iasl 20200925's output for the ASL
 * shown in docs/boot.md (Device, _HID EisaId, _STA, _CRS).
 */
static const uint8_t com1_aml[] = {
    0x5b, 0x82, 0x2c, 'C',  'O',  'M',	'1',  0x08, '_',  'H',	'I',  'D',  0x0c, 0x41, 0xd0, 0x05,
    0x01, 0x08, '_',  'S',  'T',  'A',	0x0a, 0x0f, 0x08, '_',	'C',  'R',  'S',  0x11, 0x10, 0x0a,
    0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00};
static const uint8_t ps2k_aml[] = {0x5b, 0x82, 0x34, 'P',  'S',	 '2',  'K',  0x08, '_',	 'H',  'I',
				   'D',	 0x0c, 0x41, 0xd0, 0x03, 0x03, 0x08, '_',  'S',	 'T',  'A',
				   0x0a, 0x0f, 0x08, '_',  'C',	 'R',  'S',  0x11, 0x18, 0x0a, 0x15,
				   0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01, 0x47, 0x01, 0x64,
				   0x00, 0x64, 0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00};
static const uint8_t ps2m_aml[] = {0x5b, 0x82, 0x24, 'P',  'S',	 '2',  'M',  0x08, '_', 'H',
				   'I',	 'D',  0x0c, 0x41, 0xd0, 0x0f, 0x13, 0x08, '_', 'S',
				   'T',	 'A',  0x0a, 0x0f, 0x08, '_',  'C',  'R',  'S', 0x11,
				   0x08, 0x0a, 0x05, 0x22, 0x00, 0x10, 0x79, 0x00};
static const uint8_t rtc_aml[] = {
    0x5b, 0x82, 0x2c, 'R',  'T',  'C',	'_',  0x08, '_',  'H',	'I',  'D',  0x0c, 0x41, 0xd0, 0x0b,
    0x00, 0x08, '_',  'S',  'T',  'A',	0x0a, 0x0f, 0x08, '_',	'C',  'R',  'S',  0x11, 0x10, 0x0a,
    0x0d, 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00};

/*
 * After them the power button and the GED that notifies it, encoded by hand
 * from the AML grammar (ACPI 6.4 chapter 20):
 * Device (PWRB) { Name (_HID, EisaId ("PNP0C0C")) Name (_UID, Zero) }
 */
static const uint8_t pwrb_aml[] = {0x5b, 0x82, 0x15, 'P', 'W',	'R',  'B',  0x08,
				   '_',	 'H',  'I',  'D', 0x0c, 0x41, 0xd0, 0x0c,
				   0x0c, 0x08, '_',  'U', 'I',	'D',  0x00};
/*
 * Device (GED0) { Name (_HID, "ACPI0013") Name (_UID, Zero)
 *   Name (_CRS, ResourceTemplate () { Interrupt (, Edge, ActiveHigh, Exclusive) { 23 } })
 *   OperationRegion (EREG, SystemIO, 0x602, One)
 *   Field (EREG, ByteAcc, NoLock, WriteAsZeros) { ESEL, 8 }
 *   Method (_EVT, 1, Serialized) { Local0 = ESEL  ESEL = Local0
 *     If ((Local0 & One)) { Notify (\_SB.PWRB, 0x80) } } }
 */
static const uint8_t ged_aml[] = {
    0x5b, 0x82, 0x4d, 0x06, 'G', 'E', 'D', '0',
    /* Name (_HID, "ACPI0013") */
    0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3', 0x00,
    /* Name (_UID, Zero) */
    0x08, '_', 'U', 'I', 'D', 0x00,
    /* Name (_CRS, Buffer (11) { Extended Interrupt GSI 23, End Tag }) */
    0x08, '_', 'C', 'R', 'S', 0x11, 0x0e, 0x0a, 0x0b, 0x89, 0x06, 0x00, 0x03, 0x01, 0x17, 0x00,
    0x00, 0x00, 0x79, 0x00,
    /* OperationRegion (EREG, SystemIO, 0x0602, One) */
    0x5b, 0x80, 'E', 'R', 'E', 'G', 0x01, 0x0b, 0x02, 0x06, 0x01,
    /* Field (EREG, ByteAcc | WriteAsZeros) { ESEL, 8 } */
    0x5b, 0x81, 0x0b, 'E', 'R', 'E', 'G', 0x41, 'E', 'S', 'E', 'L', 0x08,
    /* Method (_EVT, 1, Serialized) */
    0x14, 0x25, '_', 'E', 'V', 'T', 0x09,
    /* Store (ESEL, Local0), Store (Local0, ESEL) */
    0x70, 'E', 'S', 'E', 'L', 0x60, 0x70, 0x60, 'E', 'S', 'E', 'L',
    /* If (And (Local0, One, )) { Notify (\_SB.PWRB, 0x80) } */
    0xa0, 0x12, 0x7b, 0x60, 0x01, 0x00, 0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
    0x0a, 0x80};

/* COM1, the i8042 (keyboard and mouse) and the RTC come first in \_SB. */
/* Name (_S5, Package (4) { 5, 0, 0, 0 }), the first object of the DSDT. */
static const uint8_t s5_aml[] = {0x08, '_',  'S',  '5',	 '_',  0x12, 0x07,
				 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};

static const uint8_t *check_s5(const uint8_t *p, const uint8_t *end)
{
	assert_true((size_t)(end - p) >= sizeof(s5_aml));
	assert_memory_equal(p, s5_aml, sizeof(s5_aml));
	assert_int_equal(p[9], ACPI_S5_SLP_TYP);
	return p + sizeof(s5_aml);
}

static void assert_io_byte_reg(const struct acpi_gas *r, uint64_t port)
{
	assert_int_equal(r->space_id, 1); /* SystemIO */
	assert_int_equal(r->bit_width, 8);
	assert_int_equal(r->bit_offset, 0);
	assert_int_equal(r->access_size, 1); /* byte access */
	assert_int_equal(r->address, port);
}

/* The sleep registers Linux needs for power-off on reduced hardware. */
static void test_fadt_sleep_registers(void **state)
{
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	const struct acpi_header *dsdt;
	struct test_guest g;
	const uint8_t *f;

	(void)state;
	boot_acpi(&g, 1, 0);
	find_tables(&g, &fadt, &madt, &dsdt);
	f = (const uint8_t *)fadt;
	/* ACPI 6.x table 5.9: SLEEP_CONTROL_REG at 244, SLEEP_STATUS_REG at 256. */
	assert_io_byte_reg((const struct acpi_gas *)(f + 244), 0x600);
	assert_io_byte_reg((const struct acpi_gas *)(f + 256), 0x601);
	assert_int_equal(PORT_ACPI_SLEEP_CTL, 0x600);
	/* No legacy PM1 blocks: the FADT stays hardware-reduced. */
	assert_int_equal(fadt->pm1a_cnt_blk, 0);
	assert_int_equal(fadt->x_pm1a_cnt_blk.address, 0);
	assert_int_equal(fadt->minor_version, 5);
	assert_int_equal(ACPI_SLP_EN | (ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT), 0x34);
	test_guest_free(&g);
}

static void test_aml_package(void **state)
{
	uint8_t data[32];
	struct aml_buf b;
	size_t pkg;

	(void)state;
	aml_init(&b, data, sizeof(data));
	pkg = aml_package_begin(&b, 2);
	aml_integer(&b, 0x1234);
	aml_string(&b, "A");
	aml_pkg_end(&b, pkg);
	assert_int_equal(b.error, 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(data,
			    "\x12\x08\x02\x0b\x34\x12\x0d"
			    "A\0",
			    9);
}

/* The legacy devices, then the power button and its GED. */
static const uint8_t *check_isa_devices(const uint8_t *p, const uint8_t *end)
{
	static const struct {
		const uint8_t *aml;
		size_t len;
	} want[] = {
	    {com1_aml, sizeof(com1_aml)}, {ps2k_aml, sizeof(ps2k_aml)},
	    {ps2m_aml, sizeof(ps2m_aml)}, {rtc_aml, sizeof(rtc_aml)},
	    {pwrb_aml, sizeof(pwrb_aml)}, {ged_aml, sizeof(ged_aml)},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true((size_t)(end - p) >= want[i].len);
		assert_memory_equal(p, want[i].aml, want[i].len);
		p += want[i].len;
	}
	return p;
}

static void test_dsdt_isa_devices_only(void **state)
{
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	const struct acpi_header *dsdt;
	struct test_guest g;
	const uint8_t *p, *end;

	(void)state;
	boot_acpi(&g, 1, 0);
	find_tables(&g, &fadt, &madt, &dsdt);
	p = (const uint8_t *)(dsdt + 1);
	end = (const uint8_t *)dsdt + dsdt->length;
	p = check_s5(p, end);
	/* ScopeOp, 2-byte PkgLength, \_SB_ */
	assert_int_equal(p[0], 0x10);
	p += 1 + 2 + 5;
	assert_ptr_equal(check_isa_devices(p, end), end);
	test_guest_free(&g);
}

static void test_dsdt_devices(void **state)
{
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	const struct acpi_header *dsdt;
	struct test_guest g;
	const uint8_t *p, *end;
	size_t len, n;
	int dev = 0;

	(void)state;
	boot_acpi(&g, 1, LAYOUT_VIRTIO_MMIO_MAX);
	find_tables(&g, &fadt, &madt, &dsdt);
	assert_int_equal(dsdt->revision, 2);
	p = (const uint8_t *)(dsdt + 1);
	end = (const uint8_t *)dsdt + dsdt->length;

	p = check_s5(p, end);
	assert_int_equal(*p++, 0x10); /* ScopeOp */
	n = pkg_len(p, &len);
	assert_ptr_equal(p + len, end);
	p += n;
	assert_memory_equal(p, "\\_SB_", 5);
	p += 5;
	p = check_isa_devices(p, end);
	while (p < end) {
		const uint8_t *dev_end;
		char name[16];
		uint32_t v;

		assert_int_equal(p[0], 0x5b); /* DeviceOp */
		assert_int_equal(p[1], 0x82);
		p += 2;
		n = pkg_len(p, &len);
		dev_end = p + len;
		p += n;
		snprintf(name, sizeof(name), "VR%02d", dev);
		assert_memory_equal(p, name, 4);
		p += 4;
		assert_memory_equal(p, "\x08_HID\x0dLNRO0005", 15);
		p += 15;
		assert_memory_equal(p, "\x08_UID", 5);
		p += 5;
		if (dev <= 1) {
			assert_int_equal(*p++, dev); /* ZeroOp / OneOp */
		} else {
			assert_int_equal(*p++, 0x0a);
			assert_int_equal(*p++, dev);
		}
		assert_memory_equal(p, "\x08_CCA\x01", 6);
		p += 6;
		assert_memory_equal(p, "\x08_CRS\x11", 6);
		p += 6;
		n = pkg_len(p, &len);
		assert_ptr_equal(p + len, dev_end);
		p += n;
		assert_memory_equal(p, "\x0a\x17", 2); /* BufferSize 23 */
		p += 2;
		assert_int_equal(p[0], 0x86); /* Memory32Fixed */
		assert_int_equal(p[3], 1);
		memcpy(&v, p + 4, 4);
		assert_int_equal(v, devs[dev].base);
		memcpy(&v, p + 8, 4);
		assert_int_equal(v, LAYOUT_VIRTIO_MMIO_SIZE);
		p += 12;
		assert_int_equal(p[0], 0x89); /* Extended Interrupt */
		assert_int_equal(p[3], 0x03); /* consumer, edge, active high, exclusive */
		assert_int_equal(p[4], 1);
		memcpy(&v, p + 5, 4);
		assert_int_equal(v, LAYOUT_VIRTIO_IRQ_FIRST + dev);
		p += 9;
		assert_memory_equal(p, "\x79\x00", 2);
		p += 2;
		assert_ptr_equal(p, dev_end);
		dev++;
	}
	assert_int_equal(dev, LAYOUT_VIRTIO_MMIO_MAX);
	test_guest_free(&g);
}

static void test_acpi_bad_device(void **state)
{
	uint8_t k[64] = {0x90};
	struct mmio_dev_desc bad = {0x100000000ULL, 0x200, 5};
	struct boot_request req = {.kernel = k,
				   .kernel_len = sizeof(k),
				   .nr_cpus = 1,
				   .acpi = true,
				   .devs = &bad,
				   .nr_devs = 1};
	struct test_guest g;
	struct boot_entry e;
	char err[200];

	(void)state;
	test_guest_init(&g);
	assert_int_equal(x86_boot_setup(&g.mem, &req, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "virtio-mmio device 0"));
	bad = (struct mmio_dev_desc){0xf0000000, 0x200, 24};
	assert_int_equal(x86_boot_setup(&g.mem, &req, &e, err, sizeof(err)), -EINVAL);
	test_guest_free(&g);
}

static void test_aml_pkg_length(void **state)
{
	static uint8_t data[0x200000];
	static const size_t bodies[] = {0, 62, 63, 0xffd, 0xffe, 0xffffc, 0xffffd};
	struct aml_buf b;

	(void)state;
	assert_int_equal(aml_pkg_length_size(62), 1);
	assert_int_equal(aml_pkg_length_size(63), 2);
	assert_int_equal(aml_pkg_length_size(0xffd), 2);
	assert_int_equal(aml_pkg_length_size(0xffe), 3);
	assert_int_equal(aml_pkg_length_size(0xffffc), 3);
	assert_int_equal(aml_pkg_length_size(0xffffd), 4);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t body = bodies[i] < 4 ? 4 : bodies[i];
		size_t mark, len, n;

		aml_init(&b, data, sizeof(data));
		mark = aml_scope_begin(&b, "A");
		/* The name "A___" is the first 4 bytes of the body. */
		for (size_t j = 4; j < body; j++)
			aml_byte(&b, 0xa5);
		aml_pkg_end(&b, mark);
		assert_int_equal(b.error, 0);
		n = pkg_len(data + 1, &len);
		assert_int_equal(n, aml_pkg_length_size(body));
		assert_int_equal(len + 1, b.len); /* PkgLength covers all after ScopeOp */
		assert_memory_equal(data + 1 + n, "A___", 4);
	}
}

static void test_aml_names_and_integers(void **state)
{
	uint8_t data[64];
	struct aml_buf b;

	(void)state;
	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "\\_SB.PCI0.S08");
	assert_int_equal(b.error, 0);
	assert_memory_equal(data, "\\\x2f\x03_SB_PCI0S08_", 15);

	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "^AB.CD");
	assert_memory_equal(data,
			    "^\x2e"
			    "AB__CD__",
			    10);

	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "1BAD");
	assert_int_equal(b.error, -EINVAL);
	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "TOOLONG");
	assert_int_equal(b.error, -EINVAL);
	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "A..B");
	assert_int_equal(b.error, -EINVAL);

	aml_init(&b, data, sizeof(data));
	aml_integer(&b, 0);
	aml_integer(&b, 1);
	aml_integer(&b, 0xff);
	aml_integer(&b, 0x1234);
	aml_integer(&b, 0xf0100000);
	aml_integer(&b, 0x100000000ULL);
	aml_integer(&b, UINT64_MAX);
	assert_int_equal(b.error, 0);
	assert_int_equal(b.len, 1 + 1 + 2 + 3 + 5 + 9 + 1);
	assert_memory_equal(data, "\x00\x01\x0a\xff\x0b\x34\x12\x0c\x00\x00\x10\xf0", 12);
	assert_memory_equal(data + 12, "\x0e\x00\x00\x00\x00\x01\x00\x00\x00\xff", 10);

	aml_init(&b, data, 8);
	aml_string(&b, "LNRO0005");
	assert_int_equal(b.error, -ENOSPC);
}

static void test_aml_eisa_id_and_resources(void **state)
{
	uint8_t data[16];
	struct aml_buf b;

	(void)state;
	aml_init(&b, data, sizeof(data));
	aml_eisa_id(&b, "PNP0501");
	aml_eisa_id(&b, "ABC12EF");
	assert_int_equal(b.error, 0);
	/* A=1 B=2 C=3: 00001 00010 00011 -> 0x0443, then 0x12ef. */
	assert_memory_equal(data, "\x0c\x41\xd0\x05\x01\x0c\x04\x43\x12\xef", 10);
	for (size_t i = 0; i < 5; i++) {
		static const char *const bad[] = {"PNP050", "PNP05011", "pnp0501", "PNP05G1",
						  "P1P0501"};

		aml_init(&b, data, sizeof(data));
		aml_eisa_id(&b, bad[i]);
		assert_int_equal(b.error, -EINVAL);
	}

	assert_int_equal(aml_res_io(data, 0x3f8, 8), 8);
	assert_memory_equal(data, "\x47\x01\xf8\x03\xf8\x03\x01\x08", 8);
	assert_int_equal(aml_res_irq_noflags(data, 12), 3);
	assert_memory_equal(data, "\x22\x00\x10", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acpi_links_and_checksums),
	    cmocka_unit_test(test_madt_1),
	    cmocka_unit_test(test_madt_254),
	    cmocka_unit_test(test_dsdt_devices),
	    cmocka_unit_test(test_dsdt_isa_devices_only),
	    cmocka_unit_test(test_aml_eisa_id_and_resources),
	    cmocka_unit_test(test_acpi_bad_device),
	    cmocka_unit_test(test_aml_pkg_length),
	    cmocka_unit_test(test_aml_names_and_integers),
	    cmocka_unit_test(test_fadt_sleep_registers),
	    cmocka_unit_test(test_aml_package),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
