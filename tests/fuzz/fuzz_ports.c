// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the legacy port devices: the 16550A UART on COM1
 * (src/devices/serial8250.c), the i8042 controller (i8042.c) and the CMOS
 * RTC (cmos_rtc.c), registered on the real port bus (src/machine/bus.c) as
 * the VMM does.  The input is a sequence of accesses, 4 bytes each:
 * [port selector][len and direction][value][host input], where the port is
 * one of the devices' ports (or a neighbour) and len 1, 2 or 4; every fourth
 * byte, when odd, also feeds one byte of host input into the UART.  The
 * devices must answer any sequence without crashing or reading or writing
 * outside their state (ASan, UBSan).
 *
 * clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *   tests/fuzz/fuzz_ports.c src/machine/bus.c src/devices/{serial8250,i8042,cmos_rtc}.c \
 *   -o fuzz_ports
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "machine/bus.h"
#include "machine/vm.h"
#include "util/chardev.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vm_device_ops *devs[8];
static int nr_devs;
static struct vm vm;
static struct vm_config cfg;
static chardev_input_fn serial_in;
static void *serial_opaque;
static char fake_chr; /* any non-NULL handle */

void vm_device_register(const struct vm_device_ops *ops)
{
	if (nr_devs < 8)
		devs[nr_devs++] = ops;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level, (void)fmt;
}

int vm_irq_line(struct vm *v, uint32_t gsi, int level)
{
	(void)v, (void)gsi, (void)level;
	return 0;
}

int vm_irq_pulse(struct vm *v, uint32_t gsi)
{
	(void)v, (void)gsi;
	return 0;
}

void vm_request_shutdown(struct vm *v, enum vm_shutdown_reason reason, int status)
{
	(void)v, (void)reason, (void)status;
}

int chardev_open(struct chardev **out, const struct chardev_config *c, struct evloop *loop,
		 chardev_input_fn fn, void *opaque)
{
	(void)c, (void)loop;
	serial_in = fn;
	serial_opaque = opaque;
	*out = (struct chardev *)&fake_chr;
	return 0;
}

void chardev_close(struct chardev *chr)
{
	(void)chr;
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len)
{
	(void)chr, (void)buf, (void)len;
}

void chardev_accept_input(struct chardev *chr, int enable)
{
	(void)chr, (void)enable;
}

static const uint16_t ports[] = {
    PORT_COM1,	   PORT_COM1 + 1,   PORT_COM1 + 2,	 PORT_COM1 + 3,
    PORT_COM1 + 4, PORT_COM1 + 5,   PORT_COM1 + 6,	 PORT_COM1 + 7,
    PORT_COM1 + 8, PORT_I8042_DATA, PORT_I8042_CMD,	 PORT_CMOS,
    PORT_CMOS + 1, PORT_CMOS + 2,   PORT_I8042_DATA - 1, PORT_COM1 - 1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		cfg.serial.kind = CHR_STDIO;
		vm.cfg = &cfg;
		gmem_init_flat(&vm.mem, NULL, 0, 256ULL << 20);
		bus_init(&vm.pio_bus);
		for (int i = 0; i < nr_devs; i++)
			if (devs[i]->init(&vm) < 0)
				abort();
		ready = true;
	}
	while (size >= 4) {
		uint16_t port = ports[data[0] % (sizeof(ports) / sizeof(ports[0]))];
		uint32_t len = 1u << (data[1] % 3);
		bool is_write = data[1] & 0x80;
		uint8_t buf[8] = {data[2], data[2], data[2], data[2]};

		bus_dispatch(&vm.pio_bus, port, buf, len, is_write);
		if ((data[3] & 1) && serial_in)
			serial_in(serial_opaque, &data[3], 1);
		data += 4;
		size -= 4;
	}
	return 0;
}
