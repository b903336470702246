// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Intel MultiProcessor Specification 1.4 tables: the floating pointer in the
 * EBDA, the last KiB of base memory or the BIOS ROM area, then the
 * configuration table it points to.
 */
#include "check.h"
#include "defs.h"
#include "lib/printf.h"
#include "lib/string.h"

struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1; /* nonzero: a default configuration, no table */
	uint8_t feature2;
	uint8_t feature3, feature4, feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };

#define CPU_ENABLED 1
#define CPU_BSP	    2

static const struct mpf_intel *scan(uint64_t start, uint64_t len)
{
	uint64_t a;

	for (a = start; a + sizeof(struct mpf_intel) <= start + len; a += 16) {
		const struct mpf_intel *mpf = (const void *)a;

		if (!memcmp(mpf->signature, "_MP_", 4) && mpf->length == 1 && !byte_sum(mpf, 16))
			return mpf;
	}
	return NULL;
}

static const struct mpf_intel *find_mpf(void)
{
	uint64_t ebda = (uint64_t) * (const uint16_t *)0x40e << 4;
	const struct mpf_intel *mpf = NULL;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		mpf = scan(ebda, 1024);
	if (!mpf)
		mpf = scan(0x9fc00, 1024);
	if (!mpf)
		mpf = scan(0xf0000, 0x10000);
	return mpf;
}

static enum check_result check_mptable(struct check_ctx *ctx)
{
	unsigned int cpus = 0, bsps = 0, ioapics = 0, i;
	const struct mpc_table *mpc;
	const struct mpf_intel *mpf = find_mpf();
	const uint8_t *p, *end;
	uint8_t ids[MAX_CPUS];

	if (!mpf)
		return check_fail(ctx, "no MP floating pointer with a valid checksum");
	if (mpf->feature1)
		return check_fail(ctx, "MP default configuration %u, no table", mpf->feature1);
	if (!mpf->physptr || mpf->physptr >= 0x100000)
		return check_fail(ctx, "MP table pointer 0x%x is not below 1 MiB", mpf->physptr);
	mpc = (const void *)(uintptr_t)mpf->physptr;
	if (memcmp(mpc->signature, "PCMP", 4))
		return check_fail(ctx, "no PCMP signature at 0x%x", mpf->physptr);
	if (mpc->length < sizeof(*mpc) || mpf->physptr + mpc->length > 0x100000)
		return check_fail(ctx, "MP table length %u is bad", mpc->length);
	if (byte_sum(mpc, mpc->length))
		return check_fail(ctx, "MP table checksum is wrong");
	if (mpc->lapic != LAPIC_BASE)
		return check_fail(ctx, "MP table local APIC at 0x%x", mpc->lapic);

	printf("INFO mptable at 0x%x (pointer 0x%lx) length %u entries %u\n", mpf->physptr,
	       (uint64_t)(uintptr_t)mpf, mpc->length, mpc->oemcount);
	p = (const uint8_t *)(mpc + 1);
	end = (const uint8_t *)mpc + mpc->length;
	/* Walk by length, as Linux does: QEMU's firmware leaves the count 0. */
	for (i = 0; p < end; i++) {
		unsigned int size = *p == MP_PROCESSOR ? 20 : 8;

		if (*p > MP_LINTSRC)
			return check_fail(ctx, "MP table entry %u has unknown type %u", i, *p);
		if (p + size > end)
			return check_fail(ctx, "MP table entry %u runs past the table", i);
		if (*p == MP_PROCESSOR && (p[3] & CPU_ENABLED)) {
			unsigned int j;

			for (j = 0; j < cpus && j < MAX_CPUS; j++) {
				if (ids[j] == p[1])
					return check_fail(ctx, "APIC id %u listed twice", p[1]);
			}
			if (cpus < MAX_CPUS)
				ids[cpus] = p[1];
			cpus++;
			bsps += !!(p[3] & CPU_BSP);
		} else if (*p == MP_IOAPIC) {
			if (*(const uint32_t *)(p + 4) != IOAPIC_BASE)
				return check_fail(ctx, "IOAPIC at 0x%x",
						  *(const uint32_t *)(p + 4));
			ioapics++;
		}
		p += size;
	}
	if ((mpc->oemcount || strict_mode()) && i != mpc->oemcount)
		return check_fail(ctx, "MP table holds %u entries, its header says %u", i,
				  mpc->oemcount);
	facts.mptable_cpus = cpus;
	/* QEMU's firmware marks none; more than one is wrong anywhere. */
	if (bsps > 1)
		return check_fail(ctx, "%u processors marked as BSP", bsps);
	if (!ioapics)
		return check_fail(ctx, "no IOAPIC entry");
	if (facts.cpus_expected && cpus != facts.cpus_expected)
		return check_fail(ctx, "%u processors, cpus=%u", cpus, facts.cpus_expected);
	return CHECK_PASS;
}

DEFINE_CHECK(mptable, check_mptable, true);
