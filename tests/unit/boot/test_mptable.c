// SPDX-License-Identifier: MulanPSL-2.0
/* MP table: checksums, entries and placement for 1, 4 and 254 vCPUs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arch/x86_64/boot_priv.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/mptable.h"
#include "boot_test.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void check_mptable(unsigned nr_cpus)
{
	struct test_guest g;
	struct boot_entry e;
	uint8_t k[64] = {0x90};
	struct boot_request req = {.kernel = k, .kernel_len = sizeof(k), .nr_cpus = nr_cpus};
	const struct mp_floating_ptr *fp;
	const struct mp_config_header *h;
	const uint8_t *p, *end;
	unsigned cpus = 0, buses = 0, ioapics = 0, intsrc = 0, lintsrc = 0, entries = 0;
	char err[200];

	test_guest_init(&g);
	assert_int_equal(x86_boot_setup(&g.mem, &req, &e, err, sizeof(err)), 0);

	fp = (const void *)(g.ram + LAYOUT_MPTABLE);
	assert_memory_equal(fp->signature, "_MP_", 4);
	assert_int_equal(fp->length, 1);
	assert_int_equal(fp->spec_rev, 4);
	assert_int_equal(sum((const uint8_t *)fp, 16), 0);
	assert_int_equal(fp->feature[0], 0);

	h = (const void *)(g.ram + fp->physptr);
	assert_memory_equal(h->signature, "PCMP", 4);
	assert_int_equal(h->spec_rev, 4);
	assert_int_equal(sum((const uint8_t *)h, h->length), 0);
	assert_int_equal(h->lapic_addr, LAYOUT_LAPIC);
	assert_int_equal(h->length, mptable_size(nr_cpus) - 16);
	/* The whole table lies in reserved memory below 640 KiB. */
	assert_true(fp->physptr + h->length <= LAYOUT_LOWMEM_END);
	assert_true(fp->physptr >= mptable_start(nr_cpus));
	assert_true(fp->physptr + h->length <= LAYOUT_MPTABLE ||
		    fp->physptr >= LAYOUT_MPTABLE + 16);

	p = (const uint8_t *)(h + 1);
	end = (const uint8_t *)h + h->length;
	while (p < end) {
		entries++;
		switch (*p) {
		case MP_PROCESSOR: {
			const struct mp_processor *c = (const void *)p;

			assert_int_equal(c->apic_id, cpus);
			assert_true(c->cpu_flags & MP_CPU_ENABLED);
			assert_int_equal(!!(c->cpu_flags & MP_CPU_BSP), cpus == 0);
			cpus++;
			p += sizeof(*c);
			break;
		}
		case MP_BUS:
			assert_memory_equal(((const struct mp_bus *)p)->bus_type, "ISA   ", 6);
			buses++;
			p += 8;
			break;
		case MP_IOAPIC: {
			const struct mp_ioapic *io = (const void *)p;

			assert_int_equal(io->apic_id, nr_cpus);
			assert_int_equal(io->addr, LAYOUT_IOAPIC);
			assert_true(io->flags & MP_IOAPIC_EN);
			ioapics++;
			p += 8;
			break;
		}
		case MP_INTSRC: {
			const struct mp_irq *i = (const void *)p;

			assert_int_equal(i->src_irq, intsrc);
			assert_int_equal(i->dst_pin, intsrc);
			assert_int_equal(i->dst_apic, nr_cpus);
			intsrc++;
			p += 8;
			break;
		}
		case MP_LINTSRC: {
			const struct mp_irq *i = (const void *)p;

			assert_int_equal(i->irq_type, lintsrc == 0 ? MP_EXTINT : MP_NMI);
			assert_int_equal(i->dst_pin, lintsrc);
			lintsrc++;
			p += 8;
			break;
		}
		default:
			fail_msg("unknown MP entry type %u", *p);
		}
	}
	assert_ptr_equal(p, end);
	assert_int_equal(cpus, nr_cpus);
	assert_int_equal(buses, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(intsrc, 16);
	assert_int_equal(lintsrc, 2);
	assert_int_equal(h->entry_count, entries);
	test_guest_free(&g);
}

static void test_mptable_1(void **state)
{
	(void)state;
	check_mptable(1);
}

static void test_mptable_4(void **state)
{
	(void)state;
	check_mptable(4);
	assert_int_equal(mptable_start(4), LAYOUT_MPTABLE);
}

static void test_mptable_254(void **state)
{
	(void)state;
	check_mptable(254);
	assert_true(mptable_start(254) < LAYOUT_MPTABLE);
	assert_true(mptable_start(254) + mptable_size(254) <= LAYOUT_LOWMEM_END);
}

static void test_mptable_every_count_fits(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 254; n++) {
		assert_true(mptable_start(n) >= LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX);
		assert_true(mptable_start(n) % 16 == 0);
		assert_true(mptable_start(n) + mptable_size(n) <= LAYOUT_LOWMEM_END);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mptable_1),
	    cmocka_unit_test(test_mptable_4),
	    cmocka_unit_test(test_mptable_254),
	    cmocka_unit_test(test_mptable_every_count_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
