// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Writes the ACPI tables a guest would get (4 vCPUs, 3 virtio-mmio devices)
 * to DIR/<SIGNATURE>.dat, one file per table, for iasl -d to check.
 * usage: dump_acpi DIR [CPUS] [DEVICES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/layout.h"
#include "boot_test.h"
#include "machine/vm.h"

static int dump(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	printf("%s\n", path);
	return 0;
}

static int dump_table(const char *dir, const uint8_t *ram, uint64_t gpa)
{
	const struct acpi_header *h = (const void *)(ram + gpa);
	char name[5] = {0};

	memcpy(name, h->signature, 4);
	return dump(dir, name, h, h->length);
}

int main(int argc, char **argv)
{
	struct mmio_dev_desc devs[LAYOUT_VIRTIO_MMIO_MAX];
	uint8_t kernel[64] = {0xf4};
	struct test_guest g;
	struct boot_request req = {
	    .kernel = kernel, .kernel_len = sizeof(kernel), .cmdline = "", .acpi = true};
	struct boot_entry e;
	const struct acpi_rsdp *rsdp;
	const struct acpi_header *xsdt;
	const struct acpi_fadt *fadt;
	uint64_t fadt_gpa;
	char err[256];
	int ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [CPUS] [DEVICES]\n", argv[0]);
		return 2;
	}
	req.nr_cpus = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
	req.nr_devs = argc > 3 ? atoi(argv[3]) : 3;
	if (req.nr_devs < 0 || req.nr_devs > LAYOUT_VIRTIO_MMIO_MAX) {
		fprintf(stderr, "%s: 0 to %d devices\n", argv[0], LAYOUT_VIRTIO_MMIO_MAX);
		return 2;
	}
	for (int i = 0; i < LAYOUT_VIRTIO_MMIO_MAX; i++)
		devs[i] =
		    (struct mmio_dev_desc){LAYOUT_VIRTIO_MMIO_BASE + i * 0x1000,
					   LAYOUT_VIRTIO_MMIO_SIZE, LAYOUT_VIRTIO_IRQ_FIRST + i};
	req.devs = devs;

	test_guest_init(&g);
	if (x86_boot_setup(&g.mem, &req, &e, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	rsdp = (const void *)(g.ram + LAYOUT_ACPI_RSDP);
	ret |= dump(argv[1], "RSDP", rsdp, sizeof(*rsdp));
	xsdt = (const void *)(g.ram + rsdp->xsdt_addr);
	ret |= dump_table(argv[1], g.ram, rsdp->xsdt_addr);
	for (size_t off = sizeof(*xsdt); off < xsdt->length; off += 8) {
		uint64_t gpa;

		memcpy(&gpa, (const uint8_t *)xsdt + off, 8);
		ret |= dump_table(argv[1], g.ram, gpa);
	}
	memcpy(&fadt_gpa, xsdt + 1, 8);
	fadt = (const void *)(g.ram + fadt_gpa);
	ret |= dump_table(argv[1], g.ram, fadt->x_dsdt);
	test_guest_free(&g);
	return ret;
}
