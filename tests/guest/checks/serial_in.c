// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Serial input (only with serial_in=1): after SVTEST READY-FOR-INPUT the
 * host side sends the line "ping", which must arrive through the RBR.
 */
#include "check.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"

/* Time for the harness to answer READY-FOR-INPUT: LSR polls, 10-40 s. */
#define INPUT_POLLS (20 * IO_DELAY_PER_SEC)

/* Reads lines until one is "ping"; CR, LF or both end a line. */
static enum check_result check_serial_in(struct check_ctx *ctx)
{
	char line[64];
	size_t len = 0;
	int c;

	if (!cmdline_is("serial_in", "1"))
		return check_skip(ctx, "serial_in=1 not given");

	/* Drop whatever arrived before we asked. */
	while (serial_getc(1) >= 0)
		;
	printf("SVTEST READY-FOR-INPUT\n");
	for (;;) {
		c = serial_getc(INPUT_POLLS);
		if (c < 0)
			return check_fail(ctx, "no \"ping\" line received (got \"%s\")",
					  len ? (line[len] = '\0', line) : "");
		if (c == '\r' || c == '\n') {
			line[len] = '\0';
			if (!strcmp(line, "ping"))
				return CHECK_PASS;
			len = 0;
			continue;
		}
		if (len < sizeof(line) - 1)
			line[len++] = (char)c;
	}
}

DEFINE_CHECK(serial_in, check_serial_in, true);
