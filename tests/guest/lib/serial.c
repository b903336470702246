// SPDX-License-Identifier: MulanPSL-2.0
/* Polled 16550 on COM1: 115200 8N1, FIFOs on, no interrupts. */
#include "defs.h"
#include "lib/io.h"
#include "lib/serial.h"

/* A transmitter that never drains must not hang the guest. */
#define THRE_POLLS 10000

void serial_init(void)
{
	outb(PORT_COM1 + UART_IER, 0);
	outb(PORT_COM1 + UART_LCR, UART_LCR_DLAB);
	outb(PORT_COM1 + UART_RBR, 1); /* divisor 1: 115200 */
	outb(PORT_COM1 + UART_IER, 0);
	outb(PORT_COM1 + UART_LCR, UART_LCR_8N1);
	outb(PORT_COM1 + UART_IIR, 0x07); /* enable and clear FIFOs */
	outb(PORT_COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
	int i;

	for (i = 0; i < THRE_POLLS; i++) {
		if (inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	}
	outb(PORT_COM1 + UART_RBR, (uint8_t)c);
}

void serial_write(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int serial_getc(uint64_t polls)
{
	while (polls--) {
		if (inb(PORT_COM1 + UART_LSR) & UART_LSR_DR)
			return inb(PORT_COM1 + UART_RBR);
	}
	return -1;
}
