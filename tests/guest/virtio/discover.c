// SPDX-License-Identifier: MulanPSL-2.0
/* Finding virtio-mmio transports in the DSDT and on the command line. */
#include "boot.h"
#include "lib/cmdline.h"
#include "lib/string.h"
#include "virtio/discover.h"

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
 * by chance in a table this small.
 */
static unsigned int dsdt_pairs(const uint8_t *dsdt, struct vio_res *out, unsigned int max,
			       unsigned int *hids)
{
	uint32_t len = rd32(dsdt + 4);
	unsigned int n = 0;
	uint32_t i;

	*hids = 0;
	for (i = 36; i + 8 <= len; i++) {
		if (!memcmp(dsdt + i, "LNRO0005", 8))
			(*hids)++;
	}
	for (i = 36; i + 12 + 9 <= len && n < max; i++) {
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
unsigned int vio_cmdline_resources(struct vio_res *out, unsigned int max)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline();
	unsigned int n = 0;

	while ((p = strchr(p, 'v')) && n < max) {
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

int vio_dsdt_resources(struct vio_res *out, unsigned int max, unsigned int *hids)
{
	const uint8_t *rsdp = find_rsdp(), *dsdt;

	*hids = 0;
	if (!rsdp)
		return -1;
	dsdt = find_dsdt(rsdp);
	if (!dsdt)
		return -1;
	return (int)dsdt_pairs(dsdt, out, max, hids);
}
