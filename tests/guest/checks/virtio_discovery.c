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
 * The drivers themselves use every source (virtio/discover.c), so they also
 * find QEMU microvm's transports at 0xfeb00000.
 */
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/discover.h"
#include "virtio/virtio.h"

static uint32_t expected_irq(unsigned int slot)
{
	return slot < 3 ? 5 + slot : 6 + slot;
}

static enum check_result match(struct check_ctx *ctx, const char *where, const struct vio_res *d,
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
	struct vio_res acpi[VIO_MAX_DESC], cmd[VIO_MAX_DESC];
	uint64_t found[VIO_MAX_TRANSPORTS];
	unsigned int nf = 0, na, nc, hids, slot;
	int ret;
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
	nc = vio_cmdline_resources(cmd, VIO_MAX_DESC);
	ret = vio_dsdt_resources(acpi, VIO_MAX_DESC, &hids);
	if (ret >= 0) {
		na = (unsigned int)ret;
		if (hids != na)
			return check_fail(ctx, "DSDT: %u LNRO0005 ids but %u resource pairs", hids,
					  na);
		if (match(ctx, "DSDT", acpi, na, found, nf) != CHECK_PASS)
			return CHECK_FAIL;
		if (nc)
			return check_fail(ctx, "ACPI on but %u virtio_mmio.device= tokens", nc);
		if (!strcmp(want, "cmdline"))
			return check_fail(ctx, "discovery=cmdline but the VMM gave ACPI tables");
		printf("INFO virtio_discovery DSDT lists %u transports\n", na);
		return CHECK_PASS;
	}
	if (!strcmp(want, "acpi"))
		return check_fail(ctx, "discovery=acpi but no RSDP/DSDT");
	if (match(ctx, "command line", cmd, nc, found, nf) != CHECK_PASS)
		return CHECK_FAIL;
	printf("INFO virtio_discovery command line lists %u transports\n", nc);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_discovery, check_virtio_discovery, false);
