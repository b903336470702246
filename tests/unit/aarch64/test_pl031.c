// SPDX-License-Identifier: MulanPSL-2.0
/* The PL031 RTC: IDs, the host's time, a guest-loaded counter, the registers it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "arch/aarch64/layout.h"
#include "machine/vm.h"

static const struct vm_device_ops *registered;

void vm_device_register(const struct vm_device_ops *ops)
{
	registered = ops;
}

static struct vm vm;

static uint32_t rd(uint64_t off)
{
	uint8_t d[8] = {0};
	uint32_t v;

	assert_true(bus_dispatch(&vm.mmio_bus, A64_PL031 + off, d, 4, false));
	memcpy(&v, d, sizeof(v));
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	uint8_t d[4];

	memcpy(d, &v, sizeof(d));
	assert_true(bus_dispatch(&vm.mmio_bus, A64_PL031 + off, d, 4, true));
}

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.mmio_bus);
	assert_non_null(registered);
	assert_string_equal(registered->name, "pl031");
	return registered->init(&vm);
}

static void ids(void **state)
{
	static const uint8_t id[8] = {0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(rd(0xfe0 + 4 * i), id[i]);
}

static void host_time(void **state)
{
	time_t before = time(NULL);
	uint32_t dr = rd(0);
	time_t after = time(NULL);

	(void)state;
	assert_true(dr >= (uint32_t)before && dr <= (uint32_t)after);
	assert_int_equal(rd(0x00c), 1); /* started */
	wr(0x00c, 0);			/* cannot be stopped */
	assert_int_equal(rd(0x00c), 1);
}

static void load(void **state)
{
	uint32_t dr;

	(void)state;
	wr(0x008, 1000000000U); /* the guest sets 2001-09-09 */
	dr = rd(0);
	assert_true(dr >= 1000000000U && dr <= 1000000001U);
	wr(0x000, 5); /* DR is read-only */
	dr = rd(0);
	assert_true(dr >= 1000000000U && dr <= 1000000001U);
}

static void registers(void **state)
{
	(void)state;
	wr(0x004, 0x12345678);
	assert_int_equal(rd(0x004), 0x12345678);
	wr(0x010, 0xff);
	assert_int_equal(rd(0x010), 1);
	assert_int_equal(rd(0x014), 0); /* no alarm raised */
	assert_int_equal(rd(0x018), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(ids, setup),
	    cmocka_unit_test_setup(host_time, setup),
	    cmocka_unit_test_setup(load, setup),
	    cmocka_unit_test_setup(registers, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
