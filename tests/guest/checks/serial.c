// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The 16550 at COM1: registers read back what we wrote, the transmitter
 * drains. Input is serial_in.c.
 */
#include "check.h"
#include "defs.h"
#include "lib/io.h"
#include "lib/serial.h"

#define COM(reg) (PORT_COM1 + (reg))

#define DRAIN_POLLS 10000

static enum check_result check_serial(struct check_ctx *ctx)
{
	static const uint8_t patterns[] = {0x55, 0xaa, 0x00, 0xff};
	uint8_t v, lsr = 0;
	unsigned int i;

	for (i = 0; i < sizeof(patterns); i++) {
		outb(COM(UART_SCR), patterns[i]);
		v = inb(COM(UART_SCR));
		if (v != patterns[i])
			return check_fail(ctx, "scratch register read 0x%x after writing 0x%x", v,
					  patterns[i]);
	}
	v = inb(COM(UART_LCR));
	if (v != UART_LCR_8N1)
		return check_fail(ctx, "LCR reads 0x%x, 0x%x written", v, UART_LCR_8N1);

	outb(COM(UART_LCR), UART_LCR_DLAB | UART_LCR_8N1);
	outb(COM(UART_RBR), 0x0c);
	outb(COM(UART_IER), 0x00);
	v = inb(COM(UART_RBR));
	outb(COM(UART_RBR), 1);
	outb(COM(UART_LCR), UART_LCR_8N1);
	if (v != 0x0c)
		return check_fail(ctx, "divisor latch reads 0x%x, 0x0c written", v);

	outb(COM(UART_IER), 0x00);
	if (inb(COM(UART_IER)) != 0)
		return check_fail(ctx, "IER reads 0x%x, 0 written", inb(COM(UART_IER)));

	for (i = 0; i < DRAIN_POLLS; i++) {
		lsr = inb(COM(UART_LSR));
		if ((lsr & (UART_LSR_THRE | UART_LSR_TEMT)) == (UART_LSR_THRE | UART_LSR_TEMT))
			break;
	}
	if (i == DRAIN_POLLS)
		return check_fail(ctx, "LSR 0x%x: transmitter never empty", lsr);
	return CHECK_PASS;
}

DEFINE_CHECK(serial, check_serial, true);
