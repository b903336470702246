// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The ACPI GED event status register (src/devices/acpi_ged.c) through its
 * registration and the port bus: absent with acpi=off, a press sets the power
 * button bit and pulses GSI 23, reads of any width, write-1-to-clear, and
 * every byte value and width a guest may write.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "machine/vm.h"

static const struct vm_device_ops *registered;
static unsigned pulses;
static uint32_t pulse_gsi;
static int pulse_ret;

void vm_device_register(const struct vm_device_ops *ops)
{
	registered = ops;
}

int vm_irq_pulse(struct vm *vm, uint32_t gsi)
{
	(void)vm;
	pulse_gsi = gsi;
	pulses++;
	return pulse_ret;
}

static struct vm_config cfg;
static struct vm vm;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&vm, 0, sizeof(vm));
	cfg.acpi = true;
	vm.cfg = &cfg;
	bus_init(&vm.pio_bus);
	pulses = 0;
	pulse_gsi = 0;
	pulse_ret = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (registered->exit)
		registered->exit(&vm);
	return 0;
}

static uint32_t rd(uint16_t port, uint32_t len)
{
	uint8_t data[8];
	uint32_t v = 0;

	memset(data, 0xa5, sizeof(data));
	assert_true(bus_dispatch(&vm.pio_bus, port, data, len, false));
	memcpy(&v, data, len < 4 ? len : 4);
	return v;
}

static void wr(uint16_t port, uint32_t v, uint32_t len)
{
	uint8_t data[8] = {0};

	memcpy(data, &v, len < 4 ? len : 4);
	assert_true(bus_dispatch(&vm.pio_bus, port, data, len, true));
}

static void test_registered_at_its_port(void **state)
{
	(void)state;
	assert_non_null(registered);
	assert_string_equal(registered->name, "acpi-ged");
	assert_int_equal(registered->init(&vm), 0);
	assert_int_equal(PORT_ACPI_GED_EVT, 0x602);
	assert_int_equal(IRQ_ACPI_GED, 23);
	assert_non_null(vm.power_button);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), 0);
	/* Its neighbours are not its own. */
	uint8_t b = 0;
	assert_false(bus_dispatch(&vm.pio_bus, PORT_ACPI_GED_EVT + 1, &b, 1, false));
	registered->exit(&vm);
	assert_null(vm.power_button);
}

static void test_acpi_off_has_no_button(void **state)
{
	uint8_t b = 0;

	(void)state;
	cfg.acpi = false;
	assert_int_equal(registered->init(&vm), 0);
	assert_null(vm.power_button);
	assert_false(bus_dispatch(&vm.pio_bus, PORT_ACPI_GED_EVT, &b, 1, false));
}

static void test_press_sets_bit_and_pulses(void **state)
{
	(void)state;
	assert_int_equal(registered->init(&vm), 0);
	assert_int_equal(vm.power_button(&vm), 0);
	assert_int_equal(pulses, 1);
	assert_int_equal(pulse_gsi, IRQ_ACPI_GED);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), ACPI_GED_EVT_PWR_BTN);
	/* Reading does not clear it: _EVT writes the bits back. */
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), ACPI_GED_EVT_PWR_BTN);
	/* Wider reads: the register in the low byte, zeros above. */
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 2), ACPI_GED_EVT_PWR_BTN);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 4), ACPI_GED_EVT_PWR_BTN);
	/* Writing 0 or other bits clears nothing. */
	wr(PORT_ACPI_GED_EVT, 0, 1);
	wr(PORT_ACPI_GED_EVT, 0xfe, 1);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), ACPI_GED_EVT_PWR_BTN);
	/* A second press while pending: another edge, the bit stays set. */
	assert_int_equal(vm.power_button(&vm), 0);
	assert_int_equal(pulses, 2);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), ACPI_GED_EVT_PWR_BTN);
	/* What _EVT does: write back what it read. */
	wr(PORT_ACPI_GED_EVT, rd(PORT_ACPI_GED_EVT, 1), 1);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), 0);
}

static void test_pulse_failure_is_reported(void **state)
{
	(void)state;
	assert_int_equal(registered->init(&vm), 0);
	pulse_ret = -EIO;
	assert_int_equal(vm.power_button(&vm), -EIO);
}

static void test_init_clears_old_state(void **state)
{
	(void)state;
	assert_int_equal(registered->init(&vm), 0);
	assert_int_equal(vm.power_button(&vm), 0);
	registered->exit(&vm);
	setup(NULL);
	assert_int_equal(registered->init(&vm), 0);
	assert_int_equal(rd(PORT_ACPI_GED_EVT, 1), 0);
}

/* Every value at every width: never a crash, only bit 0 ever reads back. */
static void test_any_guest_write(void **state)
{
	(void)state;
	assert_int_equal(registered->init(&vm), 0);
	for (uint32_t len = 1; len <= 8; len++) {
		for (uint32_t v = 0; v < 256; v++) {
			uint8_t data[8];

			memset(data, (int)v, sizeof(data));
			assert_int_equal(vm.power_button(&vm), 0);
			assert_true(bus_dispatch(&vm.pio_bus, PORT_ACPI_GED_EVT, data, len, true));
			assert_int_equal(rd(PORT_ACPI_GED_EVT, len > 4 ? 4 : len),
					 (v & ACPI_GED_EVT_PWR_BTN) ? 0 : ACPI_GED_EVT_PWR_BTN);
			assert_int_equal(rd(PORT_ACPI_GED_EVT, 1) & ~ACPI_GED_EVT_MASK, 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registered_at_its_port, setup, NULL),
	    cmocka_unit_test_setup_teardown(test_acpi_off_has_no_button, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_press_sets_bit_and_pulses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pulse_failure_is_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_clears_old_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_any_guest_write, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
