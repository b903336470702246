// SPDX-License-Identifier: MulanPSL-2.0
/*
 * ACPI tables: RSDP (from the boot structure or the BIOS area scan), XSDT
 * (or RSDT), FADT, DSDT and MADT, each with its signature and checksum; the
 * MADT lists cpus= enabled processors.  With strict=1 the DSDT must also name
 * the legacy devices (COM1, i8042 keyboard and mouse, RTC) by their EISA ids.
 * It also notes the FADT's sleep control register and the DSDT's \_S5
 * SLP_TYPa for exit=acpi_s5 (lib/exit.c), and the GED's GSI and event port
 * for the power_button check.
 */
#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
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
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

#define FADT_DSDT      40
#define FADT_X_DSDT    140
#define FADT_SLEEP_CTL 244 /* Generic Address Structure, FADT revision 5+ */
#define GAS_SYSTEM_IO  1
#define MADT_ENTRIES   44
#define MADT_LAPIC     0
#define MADT_IOAPIC    1
#define MADT_X2APIC    9

/* Tables must lie where our identity map reaches. */
#define ACPI_LIMIT 0x100000000ULL

static const struct acpi_rsdp *scan_rsdp(void)
{
	uint64_t a;

	for (a = 0xe0000; a < 0x100000; a += 16) {
		const struct acpi_rsdp *r = (const void *)a;

		if (!memcmp(r->signature, "RSD PTR ", 8) && !byte_sum(r, 20))
			return r;
	}
	return NULL;
}

/* Validates the table at addr: signature sig (NULL: any), sane length, checksum. */
static const struct acpi_header *table_at(struct check_ctx *ctx, uint64_t addr, const char *sig,
					  bool *failed)
{
	const struct acpi_header *h = (const void *)addr;

	*failed = true;
	if (!addr || addr >= ACPI_LIMIT - sizeof(*h)) {
		check_fail(ctx, "%s table address 0x%lx is out of reach", sig ? sig : "ACPI", addr);
		return NULL;
	}
	if (sig && memcmp(h->signature, sig, 4)) {
		check_fail(ctx, "table at 0x%lx is not %s", addr, sig);
		return NULL;
	}
	if (h->length < sizeof(*h) || h->length > 0x100000 || addr + h->length > ACPI_LIMIT) {
		check_fail(ctx, "%.4s length %u is bad", h->signature, h->length);
		return NULL;
	}
	if (byte_sum(h, h->length)) {
		check_fail(ctx, "%.4s checksum is wrong", h->signature);
		return NULL;
	}
	*failed = false;
	return h;
}

static enum check_result check_madt(struct check_ctx *ctx, const struct acpi_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + MADT_ENTRIES;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	unsigned int cpus = 0, ioapics = 0;

	if (*(const uint32_t *)((const uint8_t *)madt + 36) != LAPIC_BASE)
		return check_fail(ctx, "MADT local APIC address 0x%x",
				  *(const uint32_t *)((const uint8_t *)madt + 36));
	while (p + 2 <= end) {
		if (p[1] < 2 || p + p[1] > end)
			return check_fail(ctx, "MADT entry type %u has bad length %u", p[0], p[1]);
		if (p[0] == MADT_LAPIC && p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1))
			cpus++;
		else if (p[0] == MADT_X2APIC && p[1] >= 16 && (*(const uint32_t *)(p + 8) & 1))
			cpus++;
		else if (p[0] == MADT_IOAPIC && p[1] >= 12)
			ioapics++;
		p += p[1];
	}
	facts.madt_cpus = cpus;
	if (!ioapics)
		return check_fail(ctx, "MADT lists no IOAPIC");
	if (facts.cpus_expected && cpus != facts.cpus_expected)
		return check_fail(ctx, "MADT lists %u enabled processors, cpus=%u", cpus,
				  facts.cpus_expected);
	if (!cpus)
		return check_fail(ctx, "MADT lists no enabled processor");
	return CHECK_PASS;
}

/* The legacy devices our VMM describes; QEMU's microvm has no i8042. */
static const char *const legacy_hids[] = {"PNP0501", "PNP0303", "PNP0F13", "PNP0B00"};

/* Decodes a compressed EISA id (the DWord's bytes as stored) to "PNP0501". */
static void eisa_id_str(const uint8_t *b, char out[8])
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];

	out[0] = (char)('@' + ((v >> 26) & 0x1f));
	out[1] = (char)('@' + ((v >> 21) & 0x1f));
	out[2] = (char)('@' + ((v >> 16) & 0x1f));
	for (int i = 0; i < 4; i++)
		out[3 + i] = hex[(v >> (12 - 4 * i)) & 0xf];
	out[7] = '\0';
}

/*
 * Looks for Name (_HID, EisaId ("...")) in the AML: the name "_HID" followed
 * by a DWord constant.  A byte scan, not an AML parser: good enough to tell
 * whether a device is declared.
 */
static bool dsdt_has_hid(const struct acpi_header *dsdt, const char *hid)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	char id[8];

	for (; p + 9 <= end; p++) {
		if (memcmp(p, "_HID\x0c", 5))
			continue;
		eisa_id_str(p + 5, id);
		if (!strcmp(id, hid))
			return true;
	}
	return false;
}

/*
 * Finds Name (_S5, Package (n) { SLP_TYPa, ... }) by its bytes (NameOp,
 * "_S5_", PackageOp, PkgLength, NumElements, then the integer) and notes
 * SLP_TYPa if it is a ZeroOp, OneOp or ByteConst.
 */
static void dsdt_find_s5(const struct acpi_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 6 <= end; p++) {
		const uint8_t *v;

		if (memcmp(p, "\x08_S5_\x12", 6))
			continue;
		v = p + 6 + 1 + (p[6] >> 6) + 1; /* PkgLength, NumElements */
		if (v + 2 > end)
			return;
		if (v[0] == 0x00 || v[0] == 0x01)
			facts.s5_slp_typ = v[0];
		else if (v[0] == 0x0a)
			facts.s5_slp_typ = v[1];
		else
			return;
		facts.s5_found = true;
		return;
	}
}

/* An AML ByteConst, WordConst or DWordConst at p; -1 otherwise. */
static long aml_const(const uint8_t *p, const uint8_t *end)
{
	unsigned int n = p < end && p[0] == 0x0a   ? 1
			 : p < end && p[0] == 0x0b ? 2
			 : p < end && p[0] == 0x0c ? 4
						   : 0;
	long v = 0;

	if (!n || p + 1 + n > end)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		v |= (long)p[1 + i] << (8 * i);
	return v;
}

/*
 * Finds Name (_HID, "ACPI0013") and, after it, the first Extended Interrupt
 * descriptor (its GSI) and OperationRegion (EREG, SystemIO, port, ...).
 */
static void dsdt_find_ged(const struct acpi_header *dsdt)
{
	static const char hid[] = "_HID\x0d"
				  "ACPI0013";
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	bool irq = false, port = false;

	for (; p + sizeof(hid) <= end && memcmp(p, hid, sizeof(hid)); p++)
		;
	for (; p + 10 <= end && !(irq && port); p++) {
		if (!irq && p[0] == 0x89 && p[1] == 6 && p[2] == 0 && p[4] == 1) {
			facts.ged_gsi = *(const uint32_t *)(p + 5);
			irq = true;
		} else if (!port && !memcmp(p,
					    "\x5b\x80"
					    "EREG\x01",
					    7)) {
			long v = aml_const(p + 7, end);

			if (v < 0 || v > 0xffff)
				return;
			facts.ged_port = (unsigned int)v;
			port = true;
		}
	}
	facts.ged_found = irq && port;
}

/* Notes SLEEP_CONTROL_REG when it is a port (hardware-reduced power-off). */
static void fadt_find_sleep_control(const struct acpi_header *fadt)
{
	const uint8_t *gas = (const uint8_t *)fadt + FADT_SLEEP_CTL;
	uint64_t addr;

	if (fadt->length < FADT_SLEEP_CTL + 12 || gas[0] != GAS_SYSTEM_IO)
		return;
	addr = *(const uint64_t *)(gas + 4);
	if (addr && addr <= 0xffff)
		facts.acpi_sleep_port = (unsigned int)addr;
}

static enum check_result check_dsdt(struct check_ctx *ctx, const struct acpi_header *dsdt)
{
	unsigned int i;

	dsdt_find_s5(dsdt);
	if (facts.s5_found)
		printf("INFO acpi: _S5 SLP_TYPa %u, sleep control port 0x%x\n", facts.s5_slp_typ,
		       facts.acpi_sleep_port);
	dsdt_find_ged(dsdt);
	if (facts.ged_found)
		printf("INFO acpi: GED GSI %u, event port 0x%x, power button %s\n", facts.ged_gsi,
		       facts.ged_port, dsdt_has_hid(dsdt, "PNP0C0C") ? "PNP0C0C" : "none");

	printf("INFO acpi: DSDT %u bytes, legacy devices:", dsdt->length);
	for (i = 0; i < sizeof(legacy_hids) / sizeof(legacy_hids[0]); i++)
		if (dsdt_has_hid(dsdt, legacy_hids[i]))
			printf(" %s", legacy_hids[i]);
	printf("\n");
	if (!strict_mode())
		return CHECK_PASS;
	for (i = 0; i < sizeof(legacy_hids) / sizeof(legacy_hids[0]); i++)
		if (!dsdt_has_hid(dsdt, legacy_hids[i]))
			return check_fail(ctx, "DSDT declares no %s device", legacy_hids[i]);
	return CHECK_PASS;
}

static enum check_result check_acpi(struct check_ctx *ctx)
{
	const struct acpi_header *sdt, *fadt = NULL, *madt = NULL, *dsdt;
	const struct acpi_rsdp *rsdp;
	unsigned int i, n, width;
	uint64_t dsdt_addr;
	bool failed;

	if (cmdline_is("acpi", "off"))
		return check_skip(ctx, "acpi=off");
	if (boot.rsdp_addr && boot.rsdp_addr < 0x100000)
		rsdp = (const void *)boot.rsdp_addr;
	else
		rsdp = scan_rsdp();
	if (!rsdp)
		return check_fail(ctx, "no RSDP in the boot structure or at 0xe0000-0xfffff");
	if (memcmp(rsdp->signature, "RSD PTR ", 8) || byte_sum(rsdp, 20))
		return check_fail(ctx, "bad RSDP at 0x%lx", (uint64_t)(uintptr_t)rsdp);
	if (rsdp->revision >= 2) {
		if (rsdp->length < 36 || byte_sum(rsdp, rsdp->length))
			return check_fail(ctx, "RSDP extended checksum or length is wrong");
	}

	if (rsdp->revision >= 2 && rsdp->xsdt) {
		sdt = table_at(ctx, rsdp->xsdt, "XSDT", &failed);
		width = 8;
	} else {
		sdt = table_at(ctx, rsdp->rsdt, "RSDT", &failed);
		width = 4;
	}
	if (failed)
		return CHECK_FAIL;

	n = (sdt->length - sizeof(*sdt)) / width;
	for (i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)(sdt + 1) + i * width;
		uint64_t a = width == 8 ? *(const uint64_t *)e : *(const uint32_t *)e;
		const struct acpi_header *h = table_at(ctx, a, NULL, &failed);

		if (failed)
			return CHECK_FAIL;
		if (!memcmp(h->signature, "FACP", 4))
			fadt = h;
		else if (!memcmp(h->signature, "APIC", 4))
			madt = h;
	}
	if (!fadt)
		return check_fail(ctx, "no FADT (FACP) in the %s", width == 8 ? "XSDT" : "RSDT");
	if (!madt)
		return check_fail(ctx, "no MADT (APIC) in the %s", width == 8 ? "XSDT" : "RSDT");

	dsdt_addr = *(const uint32_t *)((const uint8_t *)fadt + FADT_DSDT);
	if (fadt->length >= FADT_X_DSDT + 8 &&
	    *(const uint64_t *)((const uint8_t *)fadt + FADT_X_DSDT))
		dsdt_addr = *(const uint64_t *)((const uint8_t *)fadt + FADT_X_DSDT);
	fadt_find_sleep_control(fadt);
	dsdt = table_at(ctx, dsdt_addr, "DSDT", &failed);
	if (failed)
		return CHECK_FAIL;
	if (check_dsdt(ctx, dsdt) != CHECK_PASS)
		return CHECK_FAIL;
	return check_madt(ctx, madt);
}

DEFINE_CHECK(acpi, check_acpi, true);
