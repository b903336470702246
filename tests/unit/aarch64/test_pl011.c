// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The PL011 register model, through its registration and the MMIO bus as the
 * VMM drives it: IDs, flags, transmit to the chardev, receive with its RX
 * interrupt on SPI 1, masks, loopback, back-pressure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/aarch64/layout.h"
#include "machine/vm.h"
#include "util/chardev.h"

#define FR    0x018
#define IMSC  0x038
#define RIS   0x03c
#define MIS   0x040
#define ICR   0x044
#define CR    0x030
#define RX_IM 0x10
#define TX_IM 0x20
#define RT_IM 0x40

/* Stubs of what the device calls. */
static const struct vm_device_ops *registered;
static chardev_input_fn input_fn;
static void *input_opaque;
static uint8_t out[64];
static size_t out_len;
static int irq_level = -1;
static uint32_t irq_gsi, irq_changes;
static int accepting = 1;
static int fake_chr;

void vm_device_register(const struct vm_device_ops *ops)
{
	registered = ops;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	(void)vm;
	irq_gsi = gsi;
	irq_level = level;
	irq_changes++;
	return 0;
}

int chardev_open(struct chardev **chr, const struct chardev_config *cfg, struct evloop *loop,
		 chardev_input_fn on_input, void *opaque)
{
	(void)cfg;
	(void)loop;
	*chr = (struct chardev *)&fake_chr;
	input_fn = on_input;
	input_opaque = opaque;
	return 0;
}

void chardev_close(struct chardev *chr)
{
	(void)chr;
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len)
{
	assert_ptr_equal(chr, &fake_chr);
	assert_true(out_len + len <= sizeof(out));
	memcpy(out + out_len, buf, len);
	out_len += len;
}

void chardev_accept_input(struct chardev *chr, int enable)
{
	(void)chr;
	accepting = enable;
}

static struct vm vm;
static struct vm_config cfg;

static uint32_t rd(uint64_t off, uint32_t len)
{
	uint8_t d[8] = {0};
	uint32_t v;

	assert_true(bus_dispatch(&vm.mmio_bus, A64_PL011 + off, d, len, false));
	memcpy(&v, d, sizeof(v));
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	uint8_t d[4];

	memcpy(d, &v, sizeof(d));
	assert_true(bus_dispatch(&vm.mmio_bus, A64_PL011 + off, d, 4, true));
}

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(&cfg, 0, sizeof(cfg));
	cfg.serial.kind = CHR_STDIO;
	vm.cfg = &cfg;
	bus_init(&vm.mmio_bus);
	out_len = 0;
	irq_level = -1;
	irq_changes = 0;
	accepting = 1;
	assert_non_null(registered);
	assert_string_equal(registered->name, "pl011");
	return registered->init(&vm);
}

static int teardown(void **state)
{
	(void)state;
	registered->exit(&vm);
	return 0;
}

/* Linux's amba bus matches the UART by these (0x00341011, 0xb105f00d). */
static void ids(void **state)
{
	static const uint8_t id[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(rd(0xfe0 + 4 * i, 4), id[i]);
}

static void transmit(void **state)
{
	(void)state;
	assert_int_equal(rd(FR, 4), 0x90); /* TXFE | RXFE */
	wr(0, 'o');
	wr(0, 'k');
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "ok", 2);
	assert_int_equal(rd(FR, 4) & 0x20, 0); /* never TXFF */
	/* TX interrupt: raised as soon as the driver unmasks it, gone when masked */
	assert_int_equal(rd(RIS, 4) & TX_IM, TX_IM);
	wr(IMSC, TX_IM);
	assert_int_equal(irq_level, 1);
	assert_int_equal(irq_gsi, A64_PL011_SPI);
	assert_int_equal(rd(MIS, 4), TX_IM);
	wr(IMSC, 0);
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(MIS, 4), 0);
}

static void receive(void **state)
{
	(void)state;
	wr(IMSC, RX_IM | RT_IM);
	assert_int_equal(irq_changes, 0); /* nothing received yet */
	input_fn(input_opaque, (const uint8_t *)"hi", 2);
	assert_int_equal(irq_level, 1);
	assert_int_equal(irq_gsi, A64_PL011_SPI);
	assert_int_equal(rd(FR, 4) & 0x10, 0); /* RXFE clear */
	assert_int_equal(rd(MIS, 4), RX_IM | RT_IM);
	assert_int_equal(rd(0, 4), 'h');
	wr(ICR, RX_IM | RT_IM); /* still one byte: the interrupt stays */
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(0, 4), 'i');
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(FR, 4) & 0x10, 0x10);
	assert_int_equal(rd(RIS, 4) & (RX_IM | RT_IM), 0);
	assert_int_equal(rd(0, 4), 0); /* empty: no error bits, no data */
	/* byte-wide access to a register */
	input_fn(input_opaque, (const uint8_t *)"x", 1);
	assert_int_equal(rd(0, 1), 'x');
}

static void loopback(void **state)
{
	(void)state;
	wr(CR, 0x0381); /* UARTEN | LBE | TXE | RXE */
	wr(0, 'z');
	assert_int_equal(out_len, 0);
	assert_int_equal(rd(0, 4), 'z');
	wr(CR, 0x0301);
	wr(0, 'y');
	assert_int_equal(out_len, 1);
}

static void backpressure(void **state)
{
	uint8_t buf[800];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	input_fn(input_opaque, buf, sizeof(buf));
	assert_int_equal(accepting, 0); /* the chardev stops reading */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(rd(0, 4), 'a');
	assert_int_equal(accepting, 1);
	assert_int_equal(rd(FR, 4) & 0x10, 0x10);
}

static void bad_access(void **state)
{
	uint8_t d[8];

	(void)state;
	input_fn(input_opaque, (const uint8_t *)"q", 1);
	memset(d, 0x55, sizeof(d));
	/* 8-byte access: ignored, the byte stays */
	bus_dispatch(&vm.mmio_bus, A64_PL011, d, 8, false);
	assert_int_equal(rd(FR, 4) & 0x10, 0);
	/* read-only and unknown registers ignore writes */
	wr(FR, 0);
	wr(RIS, 0);
	wr(0x800, 0xffffffff);
	assert_int_equal(rd(0x800, 4), 0);
	assert_int_equal(rd(0, 4), 'q');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(transmit, setup, teardown),
	    cmocka_unit_test_setup_teardown(receive, setup, teardown),
	    cmocka_unit_test_setup_teardown(loopback, setup, teardown),
	    cmocka_unit_test_setup_teardown(backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_access, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
