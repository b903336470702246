// SPDX-License-Identifier: MulanPSL-2.0
/*
 * PL011 UART at 0x09000000 (SPI 1, level high), the aarch64 -serial.  The
 * transmitter sends each byte at once, so its FIFO is always empty: TXFE set,
 * the TX interrupt always raised (the driver masks it when it has nothing to
 * send).  Received bytes wait in a buffer; RX and receive-timeout interrupts
 * are raised while it holds any.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/layout.h"
#include "machine/vm.h"
#include "util/chardev.h"

#define PL011_RX_SIZE 1024

enum {
	REG_DR = 0x000,
	REG_RSR = 0x004, /* read: receive status; write: error clear */
	REG_FR = 0x018,
	REG_ILPR = 0x020,
	REG_IBRD = 0x024,
	REG_FBRD = 0x028,
	REG_LCR_H = 0x02c,
	REG_CR = 0x030,
	REG_IFLS = 0x034,
	REG_IMSC = 0x038,
	REG_RIS = 0x03c,
	REG_MIS = 0x040,
	REG_ICR = 0x044,
	REG_DMACR = 0x048,
	REG_ID = 0xfe0, /* PeriphID0..3, PCellID0..3 */
};

#define FR_RXFE 0x10
#define FR_TXFF 0x20
#define FR_RXFF 0x40
#define FR_TXFE 0x80

#define INT_RX	0x10
#define INT_TX	0x20
#define INT_RT	0x40
#define INT_ALL 0x7ff

#define CR_LBE 0x80 /* loopback */

/* PL011 r1p5 (PeriphID 0x00341011), PrimeCell ID 0xb105f00d */
static const uint8_t pl011_id[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

struct pl011 {
	struct vm *vm;
	pthread_mutex_t lock;
	struct chardev *chr;
	uint32_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr;
	bool irq_level;
	uint8_t rx[PL011_RX_SIZE];
	unsigned rx_head, rx_len;
};

static struct pl011 uart;

static uint32_t raw_status(const struct pl011 *s)
{
	return INT_TX | (s->rx_len ? INT_RX | INT_RT : 0);
}

/* Called with the lock held after every state change. */
static void update_irq(struct pl011 *s)
{
	bool level = (raw_status(s) & s->imsc) != 0;

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, A64_PL011_SPI, level);
	}
}

static void rx_push(struct pl011 *s, uint8_t c)
{
	if (s->rx_len == PL011_RX_SIZE)
		return; /* input is throttled before this can happen */
	s->rx[(s->rx_head + s->rx_len) % PL011_RX_SIZE] = c;
	s->rx_len++;
}

static uint32_t rx_pop(struct pl011 *s)
{
	uint8_t c;

	if (!s->rx_len)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % PL011_RX_SIZE;
	s->rx_len--;
	if (s->rx_len == 0)
		chardev_accept_input(s->chr, 1);
	return c;
}

static uint32_t read_reg(struct pl011 *s, uint64_t off)
{
	if (off >= REG_ID && off < REG_ID + 32)
		return (off & 3) ? 0 : pl011_id[(off - REG_ID) / 4];
	switch (off) {
	case REG_DR:
		return rx_pop(s);
	case REG_RSR:
		return 0; /* no framing, parity, break or overrun errors */
	case REG_FR:
		return FR_TXFE | (s->rx_len ? 0 : FR_RXFE) |
		       (s->rx_len == PL011_RX_SIZE ? FR_RXFF : 0);
	case REG_ILPR:
		return s->ilpr;
	case REG_IBRD:
		return s->ibrd;
	case REG_FBRD:
		return s->fbrd;
	case REG_LCR_H:
		return s->lcr_h;
	case REG_CR:
		return s->cr;
	case REG_IFLS:
		return s->ifls;
	case REG_IMSC:
		return s->imsc;
	case REG_RIS:
		return raw_status(s);
	case REG_MIS:
		return raw_status(s) & s->imsc;
	case REG_DMACR:
		return s->dmacr;
	default:
		return 0;
	}
}

static void write_reg(struct pl011 *s, uint64_t off, uint32_t v)
{
	uint8_t c = (uint8_t)v;

	switch (off) {
	case REG_DR:
		if (s->cr & CR_LBE)
			rx_push(s, c);
		else
			chardev_write(s->chr, &c, 1);
		break;
	case REG_ILPR:
		s->ilpr = v & 0xff;
		break;
	case REG_IBRD:
		s->ibrd = v & 0xffff;
		break;
	case REG_FBRD:
		s->fbrd = v & 0x3f;
		break;
	case REG_LCR_H:
		s->lcr_h = v & 0xff;
		break;
	case REG_CR:
		s->cr = v & 0xffff;
		break;
	case REG_IFLS:
		s->ifls = v & 0x3f;
		break;
	case REG_IMSC:
		s->imsc = v & INT_ALL;
		break;
	case REG_DMACR:
		s->dmacr = 0; /* no DMA */
		break;
	default:
		break; /* RSR/ECR, ICR: the status is recomputed from the state; FR, RIS, MIS: RO */
	}
}

static void pl011_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pl011 *s = opaque;
	uint32_t v = 0;

	if (len > 4 || offset >= A64_APB_SIZE)
		return;
	pthread_mutex_lock(&s->lock);
	if (is_write) {
		memcpy(&v, data, len);
		write_reg(s, offset & ~3ULL, v);
	} else {
		v = read_reg(s, offset & ~3ULL) >> (8 * (offset & 3));
		memcpy(data, &v, len);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void pl011_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct pl011 *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(s, buf[i]);
	/* Hold further input until the guest drains the buffer. */
	if (s->rx_len > PL011_RX_SIZE - 256)
		chardev_accept_input(s->chr, 0);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int pl011_init(struct vm *vm)
{
	struct pl011 *s = &uart;
	int ret;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->cr = 0x300; /* TXE | RXE, the reset value */
	s->ifls = 0x12;
	pthread_mutex_init(&s->lock, NULL);
	if (vm->cfg->serial.kind != CHR_NONE) {
		ret = chardev_open(&s->chr, &vm->cfg->serial, vm->loop, pl011_input, s);
		if (ret < 0)
			return ret;
	}
	/* The UART exists even without a back end: the device tree names it. */
	ret = bus_register(&vm->mmio_bus, A64_PL011, A64_APB_SIZE, pl011_io, s, "pl011");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register the PL011 at 0x%llx: %s\n",
			(unsigned long long)A64_PL011, strerror(-ret));
	return ret;
}

static void pl011_exit(struct vm *vm)
{
	(void)vm;
	chardev_close(uart.chr);
	uart.chr = NULL;
}

static const struct vm_device_ops pl011_ops = {
    .name = "pl011",
    .order = 10,
    .init = pl011_init,
    .exit = pl011_exit,
};
VM_DEVICE_REGISTER(pl011_ops)
