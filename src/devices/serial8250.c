// SPDX-License-Identifier: MulanPSL-2.0
/* 16550A UART on COM1 (0x3f8, IRQ 4). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "machine/vm.h"
#include "util/chardev.h"
#include "util/log.h"

#define UART_RX_SIZE 1024

enum {
	REG_DATA = 0,
	REG_IER = 1,
	REG_IIR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI	 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI	 0x08
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI	 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR	 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCTS 0x01
#define MSR_CTS	 0x10
#define MSR_DSR	 0x20
#define MSR_RI	 0x40
#define MSR_DCD	 0x80

struct serial8250 {
	struct vm *vm;
	pthread_mutex_t lock;
	struct chardev *chr;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	bool thr_irq_pending; /* THR became empty and the guest hasn't seen it */
	bool irq_level;
	uint8_t rx[UART_RX_SIZE];
	unsigned rx_head, rx_len;
};

static struct serial8250 com1;

static uint8_t pending_iir(struct serial8250 *s)
{
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_irq_pending)
		return IIR_THRI;
	return IIR_NONE;
}

/* Called with the lock held after every state change. */
static void update_irq(struct serial8250 *s)
{
	bool level = pending_iir(s) != IIR_NONE;

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, IRQ_COM1, level);
	}
}

static void rx_push(struct serial8250 *s, uint8_t c)
{
	if (s->rx_len == UART_RX_SIZE)
		return; /* input is throttled before this can happen */
	s->rx[(s->rx_head + s->rx_len) % UART_RX_SIZE] = c;
	s->rx_len++;
}

static void write_reg(struct serial8250 *s, unsigned reg, uint8_t v)
{
	if ((s->lcr & LCR_DLAB) && reg <= REG_IER) {
		if (reg == REG_DATA)
			s->dll = v;
		else
			s->dlm = v;
		return;
	}
	switch (reg) {
	case REG_DATA:
		if (s->mcr & MCR_LOOP)
			rx_push(s, v);
		else
			chardev_write(s->chr, &v, 1);
		/* The byte leaves at once: THR is empty again. */
		s->thr_irq_pending = true;
		break;
	case REG_IER:
		/* Enabling THRI while THR is empty raises the interrupt at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_irq_pending = true;
		s->ier = v & 0x0f;
		break;
	case REG_IIR:
		s->fcr = v;
		if (v & 0x02) { /* clear receive FIFO */
			s->rx_len = 0;
			s->rx_head = 0;
		}
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & 0x1f;
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static uint8_t read_reg(struct serial8250 *s, unsigned reg)
{
	uint8_t v = 0;

	if ((s->lcr & LCR_DLAB) && reg <= REG_IER)
		return reg == REG_DATA ? s->dll : s->dlm;
	switch (reg) {
	case REG_DATA:
		if (s->rx_len) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % UART_RX_SIZE;
			s->rx_len--;
			if (s->rx_len == 0)
				chardev_accept_input(s->chr, 1);
		}
		break;
	case REG_IER:
		v = s->ier;
		break;
	case REG_IIR:
		v = pending_iir(s);
		if (v == IIR_THRI)
			s->thr_irq_pending = false;
		if (s->fcr & 0x01)
			v |= IIR_FIFO;
		break;
	case REG_LCR:
		v = s->lcr;
		break;
	case REG_MCR:
		v = s->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
		break;
	case REG_MSR:
		if (s->mcr & MCR_LOOP) {
			/* loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			v = ((s->mcr & 0x01) ? MSR_DSR : 0) | ((s->mcr & 0x02) ? MSR_CTS : 0) |
			    ((s->mcr & 0x04) ? MSR_RI : 0) | ((s->mcr & 0x08) ? MSR_DCD : 0);
		} else {
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		}
		break;
	case REG_SCR:
		v = s->scr;
		break;
	}
	return v;
}

static void serial_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial8250 *s = opaque;

	if (len != 1 || offset > 7)
		return;
	pthread_mutex_lock(&s->lock);
	if (is_write)
		write_reg(s, (unsigned)offset, data[0]);
	else
		data[0] = read_reg(s, (unsigned)offset);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial8250 *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(s, buf[i]);
	/* Hold further input until the guest drains the buffer. */
	if (s->rx_len > UART_RX_SIZE - 256)
		chardev_accept_input(s->chr, 0);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial_init(struct vm *vm)
{
	struct serial8250 *s = &com1;
	int ret;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->mcr = 0x08; /* OUT2 */
	s->dll = 0x0c; /* 9600 baud */
	pthread_mutex_init(&s->lock, NULL);
	if (vm->cfg->serial.kind != CHR_NONE) {
		ret = chardev_open(&s->chr, &vm->cfg->serial, vm->loop, serial_input, s);
		if (ret < 0)
			return ret;
	}
	/* The UART exists even without a back end, so guests probing it behave. */
	ret = bus_register(&vm->pio_bus, PORT_COM1, 8, serial_io, s, "serial8250");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register COM1: %s\n", strerror(-ret));
	return ret;
}

static void serial_exit(struct vm *vm)
{
	(void)vm;
	chardev_close(com1.chr);
	com1.chr = NULL;
}

static const struct vm_device_ops serial_ops = {
    .name = "serial8250",
    .order = 10,
    .init = serial_init,
    .exit = serial_exit,
};
VM_DEVICE_REGISTER(serial_ops)
