// SPDX-License-Identifier: MulanPSL-2.0
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/exit.h"
#include "lib/io.h"
#include "lib/printf.h"

/* How long a reset may take to end the VM before we call it a failure. */
#define RESET_GRACE (2 * IO_DELAY_PER_SEC)

#define SLP_TYP_SHIFT 2
#define SLP_EN	      0x20

/*
 * exit=acpi_s5: first two writes that must not power off (SLP_TYP of S5
 * without SLP_EN, SLP_EN with another SLP_TYP), then SLP_TYP|SLP_EN.
 */
static unsigned int acpi_s5_exit(unsigned int status)
{
	unsigned int port = facts.acpi_sleep_port, typ = facts.s5_slp_typ;
	uint8_t other = (uint8_t)((((typ + 1) & 7) << SLP_TYP_SHIFT) | SLP_EN);
	uint8_t off = (uint8_t)(((typ & 7) << SLP_TYP_SHIFT) | SLP_EN);

	if (!port || !facts.s5_found) {
		printf("FAIL acpi_s5: no FADT sleep control port (0x%x) or no \\_S5 in the DSDT\n",
		       port);
		return status + 1;
	}
	outb((uint16_t)port, (uint8_t)(off & ~SLP_EN));
	outb((uint16_t)port, other);
	io_delay(IO_DELAY_PER_SEC / 5);
	printf("INFO acpi_s5: still running after writing 0x%02x and 0x%02x to port 0x%x\n",
	       off & ~SLP_EN, other, port);
	outb((uint16_t)port, off);
	io_delay(RESET_GRACE);
	printf("FAIL acpi_s5: the VM still runs after writing 0x%02x to port 0x%x\n", off, port);
	return status + 1;
}

void guest_exit(unsigned int status)
{
	if (cmdline_is("exit", "acpi_s5"))
		status = acpi_s5_exit(status);
	if (cmdline_is("exit", "i8042")) {
		outb(PORT_I8042_CMD, 0xfe);
		io_delay(RESET_GRACE);
		printf("FAIL reset: the VM still runs after the i8042 reset command\n");
		status++;
	}
	outl(PORT_DEBUG_EXIT, status);
	halt_forever();
	__builtin_unreachable();
}
