// SPDX-License-Identifier: MulanPSL-2.0
/*
 * ACPI sleep control and status registers (ACPI 6.x 4.8.3.7), the power-off
 * of the hardware-reduced machine: the FADT points SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG here and the DSDT's \_S5 names ACPI_S5_SLP_TYP.  A byte
 * written to the control register with SLP_EN set and SLP_TYP equal to the
 * \_S5 value ends the VM as a guest power-off (exit status 0, QMP SHUTDOWN
 * guest-shutdown); any other write is logged at debug level and ignored.
 * The status register reads 0 (WAK_STS clear: the machine never sleeps and
 * wakes) and ignores writes.  Only with ACPI on (-machine acpi=on, the
 * default): without the tables a guest knows no such register.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "config/config.h"
#include "machine/vm.h"
#include "util/log.h"

static void sleep_ctl_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	unsigned int typ;

	(void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	typ = (data[0] & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;
	if (len != 1 || !(data[0] & ACPI_SLP_EN) || typ != ACPI_S5_SLP_TYP) {
		pr_debug("ACPI sleep control: write 0x%02x (%u bytes) ignored", data[0], len);
		return;
	}
	pr_info("guest ACPI power-off (S5)");
	vm_request_shutdown(vm, SHUTDOWN_GUEST_POWEROFF, 0);
}

static void sleep_sts_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0, len);
}

_Static_assert(PORT_ACPI_SLEEP_STS == PORT_ACPI_SLEEP_CTL + 1, "sleep registers are adjacent");

static int acpi_sleep_init(struct vm *vm)
{
	int ret;

	if (!vm->cfg->acpi)
		return 0;
	ret =
	    bus_register(&vm->pio_bus, PORT_ACPI_SLEEP_CTL, 1, sleep_ctl_io, vm, "acpi-sleep-ctl");
	if (!ret)
		ret = bus_register(&vm->pio_bus, PORT_ACPI_SLEEP_STS, 1, sleep_sts_io, vm,
				   "acpi-sleep-sts");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register the ACPI sleep registers: %s\n",
			strerror(-ret));
	return ret;
}

static const struct vm_device_ops acpi_sleep_ops = {
    .name = "acpi-sleep",
    .order = 14,
    .init = acpi_sleep_init,
};
VM_DEVICE_REGISTER(acpi_sleep_ops)
