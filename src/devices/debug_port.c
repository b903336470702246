// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Two guest-to-VMM signals used by tests and benchmarks:
 *  - port 0x80 (boot timer, the POST-code port): the first write is logged with
 *    the time since the VMM was started; always there, it only logs;
 *  - port 0xf4 (debug exit, as QEMU's isa-debug-exit): a write ends the VM
 *    with the written value as the exit status.  It lets the guest choose the
 *    VMM's exit status, so it exists only with -device isa-debug-exit.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch/x86_64/layout.h"
#include "config/config.h"
#include "machine/vm.h"
#include "util/log.h"

static atomic_bool boot_marker_seen;

static void boot_timer_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)offset;
	(void)len;
	if (!is_write || atomic_exchange(&boot_marker_seen, true))
		return;
	pr_info("guest boot marker 0x%02x at %.3f ms after start", data[0], vm_elapsed_ms());
}

static void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	(void)offset;
	(void)len;
	if (!is_write)
		return;
	pr_info("guest debug exit with status %u", data[0]);
	vm_request_shutdown(vm, SHUTDOWN_GUEST_POWEROFF, data[0]);
}

_Static_assert(PORT_DEBUG_EXIT == CFG_DEBUG_EXIT_IOBASE, "-device isa-debug-exit iobase");

static int debug_port_init(struct vm *vm)
{
	int ret = bus_register(&vm->pio_bus, PORT_BOOT_TIMER, 1, boot_timer_io, vm, "boot-timer");

	if (!ret && vm->cfg->debug_exit)
		ret = bus_register(&vm->pio_bus, CFG_DEBUG_EXIT_IOBASE, CFG_DEBUG_EXIT_IOSIZE,
				   debug_exit_io, vm, "debug-exit");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register debug ports: %s\n", strerror(-ret));
	return ret;
}

static const struct vm_device_ops debug_port_ops = {
    .name = "debug-port",
    .order = 13,
    .init = debug_port_init,
};
VM_DEVICE_REGISTER(debug_port_ops)
