// SPDX-License-Identifier: MulanPSL-2.0
/*
 * power_button (tests=acpi,power_button): the ACPI power button as a guest OS
 * sees it, for QMP system_powerdown (tests/integration/test_powerdown.py).
 * From the acpi check's facts it takes the GED's GSI and event port, routes
 * the GSI through the IOAPIC to vector 0x40 of this CPU (edge, active high,
 * unmasked) with interrupts off, so a raised line stays in the local APIC's
 * IRR, prints "SVTEST POWER-BUTTON-READY gsi=G port=0xP" and polls the event
 * register (pwrwait=N seconds, default 30).  On the power button bit it
 * checks that the interrupt came (IRR), that writing 0 clears nothing and
 * that writing the bit back (what the DSDT's _EVT does) clears it, and
 * prints "INFO power_button: pressed ...".  Then the pin is masked again.
 */
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"

#define IOAPIC_SEL    0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_REDIR  0x10 /* + 2 * pin: low dword, then high */
#define REDIR_MASKED  (1U << 16)
#define APIC_SVR      0xf0
#define APIC_IRR      0x200
#define SVR_ENABLE    0x100
#define PB_VECTOR     0x40
#define GED_PWR_BTN   0x01
#define POLLS_PER_SEC 100

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_SEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

static bool irr_set(unsigned int vec)
{
	return mmio_read32(LAPIC_BASE + APIC_IRR + 0x10 * (vec / 32)) & (1U << (vec % 32));
}

static enum check_result check_power_button(struct check_ctx *ctx)
{
	uint64_t wait = 30, polls;
	unsigned int pin = facts.ged_gsi;
	uint16_t port = (uint16_t)facts.ged_port;
	uint8_t v = 0;
	bool irr;

	if (cmdline_is("acpi", "off"))
		return check_skip(ctx, "acpi=off");
	if (!facts.ged_found)
		return check_fail(ctx, "the DSDT has no GED (ACPI0013) with an interrupt and "
				       "an EREG port (run the acpi check first)");
	if (pin >= 24)
		return check_fail(ctx, "GED GSI %u is not an IOAPIC pin", pin);
	cmdline_get_u64("pwrwait", &wait);
	if (inb(port) != 0)
		return check_fail(ctx, "event register 0x%x reads 0x%02x before any press", port,
				  inb(port));
	mmio_write32(LAPIC_BASE + APIC_SVR, mmio_read32(LAPIC_BASE + APIC_SVR) | SVR_ENABLE | 0xff);
	ioapic_write(IOAPIC_REDIR + 2 * pin + 1, (mmio_read32(LAPIC_BASE + 0x20) >> 24) << 24);
	ioapic_write(IOAPIC_REDIR + 2 * pin, PB_VECTOR); /* fixed, physical, edge, high */
	printf("SVTEST POWER-BUTTON-READY gsi=%u port=0x%x\n", pin, port);
	for (polls = 0; polls < wait * POLLS_PER_SEC; polls++) {
		v = inb(port);
		if (v)
			break;
		io_delay(IO_DELAY_PER_SEC / POLLS_PER_SEC);
	}
	irr = irr_set(PB_VECTOR);
	ioapic_write(IOAPIC_REDIR + 2 * pin, REDIR_MASKED | PB_VECTOR);
	if (!v)
		return check_fail(ctx, "no press in %lu s (register 0x%x stayed 0)", wait, port);
	if (v != GED_PWR_BTN)
		return check_fail(ctx,
				  "event register reads 0x%02x, want only the power button "
				  "bit 0x%02x",
				  v, GED_PWR_BTN);
	if (!irr)
		return check_fail(ctx,
				  "the register says pressed, but vector 0x%x (GSI %u) is not "
				  "pending in the local APIC",
				  PB_VECTOR, pin);
	outb(port, 0);
	if (inb(port) != GED_PWR_BTN)
		return check_fail(ctx, "writing 0 changed the register to 0x%02x", inb(port));
	outb(port, v);
	if (inb(port) != 0)
		return check_fail(ctx, "writing 0x%02x back left 0x%02x", v, inb(port));
	printf("INFO power_button: pressed, register 0x%02x, vector 0x%x pending, cleared by "
	       "writing it back\n",
	       v, PB_VECTOR);
	return CHECK_PASS;
}
DEFINE_CHECK(power_button, check_power_button, false);
