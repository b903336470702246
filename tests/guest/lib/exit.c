// SPDX-License-Identifier: MulanPSL-2.0
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/exit.h"
#include "lib/io.h"
#include "lib/printf.h"

/* How long a reset may take to end the VM before we call it a failure. */
#define RESET_GRACE (2 * IO_DELAY_PER_SEC)

void guest_exit(unsigned int status)
{
	if (cmdline_is("exit", "i8042")) {
		outb(PORT_I8042_CMD, 0xfe);
		io_delay(RESET_GRACE);
		printf("FAIL reset: the VM still runs after the i8042 reset command\n");
		status++;
	}
	outl(PORT_DEBUG_EXIT, status);
	halt_forever();
	__builtin_unreachable();
}
