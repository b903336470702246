// SPDX-License-Identifier: MulanPSL-2.0
/*
 * ACPI Generic Event Device (ACPI 6.x 5.6.9, _HID ACPI0013): the power button
 * of the hardware-reduced machine, which has no fixed-feature button and no
 * SCI.  The DSDT (src/arch/x86_64/acpi.c) declares \_SB.PWRB (PNP0C0C) and
 * \_SB.GED0, whose _CRS is an edge-triggered, active-high interrupt on GSI
 * IRQ_ACPI_GED and whose _EVT method reads the event status register at
 * PORT_ACPI_GED_EVT, writes the bits it read back to clear them, and on
 * ACPI_GED_EVT_PWR_BTN does Notify (\_SB.PWRB, 0x80).  Linux's ACPI button
 * driver turns that into KEY_POWER (input) and a "button/power" ACPI netlink
 * event.
 *
 * The register: a read returns the pending events (wider reads: zeros above
 * the first byte), a write clears the pending bits that are 1 in its first
 * byte; undefined bits read 0 and are ignored.  The VMM presses the button
 * with vm->power_button (QMP system_powerdown): the bit is set and the GSI
 * pulsed, even while the bit is still pending.  Only with ACPI on.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "config/config.h"
#include "machine/vm.h"
#include "util/log.h"

struct acpi_ged {
	pthread_mutex_t lock;
	uint8_t pending; /* ACPI_GED_EVT_* bits */
};

static struct acpi_ged ged = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void ged_evt_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	uint8_t now;

	(void)opaque;
	(void)offset;
	pthread_mutex_lock(&ged.lock);
	if (!is_write) {
		memset(data, 0, len);
		data[0] = ged.pending;
	} else {
		ged.pending &= (uint8_t)~data[0];
	}
	now = ged.pending;
	pthread_mutex_unlock(&ged.lock);
	if (is_write)
		pr_debug("ACPI GED: write 0x%02x (%u bytes), pending now 0x%02x", data[0], len,
			 now);
}

static int ged_power_button(struct vm *vm)
{
	int ret;

	pthread_mutex_lock(&ged.lock);
	ged.pending |= ACPI_GED_EVT_PWR_BTN;
	pthread_mutex_unlock(&ged.lock);
	ret = vm_irq_pulse(vm, IRQ_ACPI_GED);
	if (ret < 0)
		pr_err("ACPI GED: cannot raise GSI %u: %s", IRQ_ACPI_GED, strerror(-ret));
	else
		pr_info("ACPI power button pressed (GED GSI %u)", IRQ_ACPI_GED);
	return ret;
}

static int acpi_ged_init(struct vm *vm)
{
	int ret;

	if (!vm->cfg->acpi)
		return 0;
	pthread_mutex_lock(&ged.lock);
	ged.pending = 0;
	pthread_mutex_unlock(&ged.lock);
	ret = bus_register(&vm->pio_bus, PORT_ACPI_GED_EVT, 1, ged_evt_io, NULL, "acpi-ged");
	if (ret < 0) {
		fprintf(stderr,
			"stratovirt: cannot register the ACPI GED register at port 0x%x: %s\n",
			PORT_ACPI_GED_EVT, strerror(-ret));
		return ret;
	}
	vm->power_button = ged_power_button;
	return 0;
}

static void acpi_ged_exit(struct vm *vm)
{
	if (vm->power_button == ged_power_button)
		vm->power_button = NULL;
}

static const struct vm_device_ops acpi_ged_ops = {
    .name = "acpi-ged",
    .order = 15,
    .init = acpi_ged_init,
    .exit = acpi_ged_exit,
};
VM_DEVICE_REGISTER(acpi_ged_ops)
