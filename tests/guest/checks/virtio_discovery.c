// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-mmio discovery: the transports found by probing the windows at
 * VIRTIO_MMIO_BASE must be the ones the VMM describes, with the expected
 * base and GSI (5, 6, 7, 9, 10, ...: 8 is the RTC's):
 *  - with ACPI (an RSDP exists): one LNRO0005 device per transport in the
 *    DSDT, its _CRS a Memory32Fixed window and an Extended Interrupt; the
 *    command line then carries no virtio_mmio.device= token;
 *  - without ACPI: one `virtio_mmio.device=512@0xBASE:GSI` token each.
 * discovery=acpi|cmdline on our command line says which one to expect.
 */
#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/virtio.h"

struct mmio_desc {
	uint64_t base, size;
	uint32_t irq;
};

#define MAX_DESC 32

static uint32_t expected_irq(unsigned int slot)
{
	return slot < 3 ? 5 + slot : 6 + slot;
}

static const uint8_t *find_rsdp(void)
{
	uint64_t a;

	if (boot.rsdp_addr && boot.rsdp_addr < 0x100000000ULL)
		return (const uint8_t *)boot.rsdp_addr;
	for (a = 0xe0000; a < 0x100000; a += 16) {
		if (!memcmp((const void *)a, "RSD PTR ", 8) && !byte_sum((const void *)a, 20))
			return (const uint8_t *)a;
	}
	return NULL;
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* The DSDT through XSDT (or RSDT) -> FACP; NULL if any step is missing. */
static const uint8_t *find_dsdt(const uint8_t *rsdp)
{
	const uint8_t *sdt, *fadt = NULL;
	unsigned int width = 4, i, n;
	uint64_t dsdt;

	if (rsdp[15] >= 2 && rd64(rsdp + 24)) {
		sdt = (const uint8_t *)rd64(rsdp + 24);
		width = 8;
	} else {
		sdt = (const uint8_t *)(uint64_t)rd32(rsdp + 16);
	}
	if (!sdt || rd32(sdt + 4) < 36)
		return NULL;
	n = (rd32(sdt + 4) - 36) / width;
	for (i = 0; i < n; i++) {
		const uint8_t *e = sdt + 36 + i * width;
		const uint8_t *t = (const uint8_t *)(width == 8 ? rd64(e) : rd32(e));

		if (t && !memcmp(t, "FACP", 4))
			fadt = t;
	}
	if (!fadt)
		return NULL;
	dsdt = rd32(fadt + 40);
	if (rd32(fadt + 4) >= 148 && rd64(fadt + 140))
		dsdt = rd64(fadt + 140);
	if (!dsdt || memcmp((const void *)dsdt, "DSDT", 4))
		return NULL;
	return (const uint8_t *)dsdt;
}

/*
 * Collects the resource pairs (Memory32Fixed then Extended Interrupt) of
 * the DSDT. A plain byte scan: our _CRS buffers hold these descriptors
 * verbatim, and the surrounding AML cannot contain the 12-byte pattern
 * with a 0xf01xxxxx base by chance in a table this small.
 */
static unsigned int dsdt_resources(const uint8_t *dsdt, struct mmio_desc *out, unsigned int *hids)
{
	uint32_t len = rd32(dsdt + 4);
	unsigned int n = 0;
	uint32_t i;

	*hids = 0;
	for (i = 36; i + 8 <= len; i++) {
		if (!memcmp(dsdt + i, "LNRO0005", 8))
			(*hids)++;
	}
	for (i = 36; i + 12 + 9 <= len && n < MAX_DESC; i++) {
		const uint8_t *p = dsdt + i;

		if (p[0] != 0x86 || p[1] != 9 || p[2] != 0)
			continue;
		if (p[12] != 0x89 || p[15] & 0xf0 || p[16] != 1)
			continue;
		out[n].base = rd32(p + 4);
		out[n].size = rd32(p + 8);
		out[n].irq = rd32(p + 17);
		n++;
		i += 20;
	}
	return n;
}

/* Parses `virtio_mmio.device=<size>@<base>:<irq>` tokens (size may end in K). */
static unsigned int cmdline_resources(struct mmio_desc *out)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline();
	unsigned int n = 0;

	while ((p = strchr(p, 'v')) && n < MAX_DESC) {
		const char *end;

		if (strncmp(p, key, sizeof(key) - 1) || (p != cmdline() && p[-1] != ' ')) {
			p++;
			continue;
		}
		p += sizeof(key) - 1;
		out[n].size = parse_u64(p, &end);
		if (*end == 'K' || *end == 'k') {
			out[n].size <<= 10;
			end++;
		}
		if (*end != '@')
			continue;
		out[n].base = parse_u64(end + 1, &end);
		if (*end != ':')
			continue;
		out[n].irq = (uint32_t)parse_u64(end + 1, &end);
		p = end;
		n++;
	}
	return n;
}

static enum check_result match(struct check_ctx *ctx, const char *where, const struct mmio_desc *d,
			       unsigned int nd, const uint64_t *found, unsigned int nf)
{
	unsigned int i, j;

	if (nd != nf)
		return check_fail(ctx, "%s lists %u transports, probing found %u", where, nd, nf);
	for (i = 0; i < nf; i++) {
		unsigned int slot =
		    (unsigned int)((found[i] - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_STRIDE);

		for (j = 0; j < nd; j++) {
			if (d[j].base == found[i])
				break;
		}
		if (j == nd)
			return check_fail(ctx, "%s does not list the transport at 0x%lx", where,
					  found[i]);
		if (d[j].size != VIRTIO_MMIO_STRIDE)
			return check_fail(ctx, "%s: transport 0x%lx size 0x%lx", where, d[j].base,
					  d[j].size);
		if (d[j].irq != expected_irq(slot))
			return check_fail(ctx, "%s: transport 0x%lx irq %u, expected %u", where,
					  d[j].base, d[j].irq, expected_irq(slot));
	}
	return CHECK_PASS;
}

static enum check_result check_virtio_discovery(struct check_ctx *ctx)
{
	struct mmio_desc acpi[MAX_DESC], cmd[MAX_DESC];
	uint64_t found[VIO_MAX_TRANSPORTS];
	unsigned int nf = 0, na, nc, hids, slot;
	const uint8_t *rsdp, *dsdt;
	char want[16] = "";
	uint32_t id;

	for (slot = 0; slot < VIO_MAX_TRANSPORTS; slot++) {
		if (vio_present(slot, &id)) {
			printf("INFO virtio_discovery slot %u at 0x%lx device id %u\n", slot,
			       vio_window(slot), id);
			found[nf++] = vio_window(slot);
		}
	}
	if (!nf)
		return check_skip(ctx, "no virtio-mmio transport at 0x%x", VIRTIO_MMIO_BASE);
	cmdline_get("discovery", want, sizeof(want));
	nc = cmdline_resources(cmd);
	rsdp = find_rsdp();
	if (rsdp) {
		dsdt = find_dsdt(rsdp);
		if (!dsdt)
			return check_fail(ctx, "RSDP present but no DSDT through FADT");
		na = dsdt_resources(dsdt, acpi, &hids);
		if (hids != na)
			return check_fail(ctx, "DSDT: %u LNRO0005 ids but %u resource pairs", hids,
					  na);
		if (match(ctx, "DSDT", acpi, na, found, nf) != CHECK_PASS)
			return CHECK_FAIL;
		if (nc)
			return check_fail(ctx, "ACPI on but %u virtio_mmio.device= tokens", nc);
		if (!strcmp(want, "cmdline"))
			return check_fail(ctx, "discovery=cmdline but an RSDP exists");
		printf("INFO virtio_discovery DSDT lists %u transports\n", na);
		return CHECK_PASS;
	}
	if (!strcmp(want, "acpi"))
		return check_fail(ctx, "discovery=acpi but no RSDP");
	if (match(ctx, "command line", cmd, nc, found, nf) != CHECK_PASS)
		return CHECK_FAIL;
	printf("INFO virtio_discovery command line lists %u transports\n", nc);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_discovery, check_virtio_discovery, false);
