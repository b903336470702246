// SPDX-License-Identifier: MulanPSL-2.0
/*
 * i8042 keyboard controller as Linux's i8042 driver first sees it: the status
 * register has the system flag and "keyboard not inhibited" set (else Linux
 * warns "Keylock active"), and the controller self-test answers 0x55.
 * A machine without an i8042 (QEMU's microvm) reads 0xff: SKIP.
 */
#include "check.h"
#include "defs.h"
#include "lib/io.h"

#define PORT_I8042_DATA	 0x60
#define STATUS_OBF	 0x01
#define STATUS_IBF	 0x02
#define STATUS_SYS	 0x04
#define STATUS_UNLOCKED	 0x10
#define CMD_SELF_TEST	 0xaa
#define SELF_TEST_PASSED 0x55
#define POLL_MAX	 100000

static enum check_result check_i8042(struct check_ctx *ctx)
{
	uint8_t status = inb(PORT_I8042_CMD);
	unsigned int i;

	if (status == 0xff)
		return check_skip(ctx, "no i8042 (status reads 0xff)");
	if (!(status & STATUS_SYS))
		return check_fail(ctx, "status 0x%x: system flag clear", status);
	if (!(status & STATUS_UNLOCKED))
		return check_fail(ctx, "status 0x%x: keyboard inhibited (bit 4 clear)", status);
	/* Drain anything pending, then run the controller self-test. */
	for (i = 0; i < 16 && (inb(PORT_I8042_CMD) & STATUS_OBF); i++)
		(void)inb(PORT_I8042_DATA);
	for (i = 0; i < POLL_MAX && (inb(PORT_I8042_CMD) & STATUS_IBF); i++)
		;
	outb(PORT_I8042_CMD, CMD_SELF_TEST);
	for (i = 0; i < POLL_MAX && !(inb(PORT_I8042_CMD) & STATUS_OBF); i++)
		;
	if (i == POLL_MAX)
		return check_fail(ctx, "no answer to the self-test command");
	status = inb(PORT_I8042_DATA);
	if (status != SELF_TEST_PASSED)
		return check_fail(ctx, "self-test answered 0x%x, not 0x55", status);
	return CHECK_PASS;
}

DEFINE_CHECK(i8042, check_i8042, true);
