// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Fuzz target: arbitrary bytes as the kernel image given to x86_boot_setup()
 * with a 64 MiB guest.  The input's length also picks the vCPU count, ACPI on
 * or off and whether an initrd comes along, so those paths run too.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *   tests/fuzz/fuzz_boot.c src/arch/x86_64/{boot,bzimage,elf,mptable,acpi,aml}.c \
 *   src/machine/memory.c -o fuzz_boot
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/layout.h"
#include "machine/memory.h"
#include "machine/vm.h"

#define FUZZ_RAM_SIZE (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static const uint8_t initrd[8192];
	struct mmio_dev_desc devs[3];
	struct guest_mem mem;
	struct boot_entry e;
	struct boot_request req = {
	    .kernel = data,
	    .kernel_len = size,
	    .cmdline = "console=ttyS0 reboot=k panic=1",
	    .nr_cpus = 1 + (unsigned)(size % 254),
	    .acpi = size & 1,
	    .devs = devs,
	    .nr_devs = 3,
	};
	char err[256];

	if (!ram) {
		ram = calloc(1, FUZZ_RAM_SIZE);
		if (!ram)
			abort();
	}
	for (int i = 0; i < 3; i++)
		devs[i] =
		    (struct mmio_dev_desc){LAYOUT_VIRTIO_MMIO_BASE + i * 0x1000,
					   LAYOUT_VIRTIO_MMIO_SIZE, LAYOUT_VIRTIO_IRQ_FIRST + i};
	if (size & 2) {
		req.initrd = initrd;
		req.initrd_len = sizeof(initrd);
	}
	gmem_init_flat(&mem, ram, 0, FUZZ_RAM_SIZE);
	if (x86_boot_setup(&mem, &req, &e, err, sizeof(err)) == 0) {
		/* A successful boot must point inside RAM. */
		if (!gmem_ptr(&mem, e.entry, 1) || !gmem_ptr(&mem, e.info_gpa, 1))
			abort();
	} else if (!err[0] || memchr(err, '\n', strnlen(err, sizeof(err)))) {
		abort(); /* every failure says why, on one line */
	}
	return 0;
}
