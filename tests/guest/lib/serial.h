/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_SERIAL_H
#define SVGUEST_SERIAL_H

#include <stdint.h>

/* 16550 registers, offsets from PORT_COM1 */
#define UART_RBR 0 /* receive buffer (read), THR (write), DLL with DLAB */
#define UART_IER 1 /* DLM with DLAB */
#define UART_IIR 2 /* FCR (write) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1  0x03
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s);
/* Returns the next received byte, or -1 after about `polls` LSR reads. */
int serial_getc(uint64_t polls);

#endif
