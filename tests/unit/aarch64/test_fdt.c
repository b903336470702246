// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The aarch64 device tree: libfdt reads every node back, and Debian's dtc
 * (device-tree-compiler) decompiles the blob without a warning.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/layout.h"
#include "machine/vm.h"

static char err[256];
static uint8_t blob[65536];

static const struct mmio_dev_desc devs[] = {
    {A64_VIRTIO_MMIO, A64_VIRTIO_SIZE, A64_VIRTIO_SPI},
    {A64_VIRTIO_MMIO + A64_VIRTIO_SIZE, A64_VIRTIO_SIZE, A64_VIRTIO_SPI + 1},
    {A64_VIRTIO_MMIO + 2 * A64_VIRTIO_SIZE, A64_VIRTIO_SIZE, A64_VIRTIO_SPI + 2},
};

static struct fdt_params params(int gic)
{
	return (struct fdt_params){
	    .ram_base = A64_RAM_BASE,
	    .ram_size = 256ULL << 20,
	    .nr_cpus = 2,
	    .gic_version = gic,
	    .bootargs = "console=ttyAMA0 reboot=k panic=1",
	    .initrd_start = A64_RAM_BASE + (200ULL << 20),
	    .initrd_size = 0x123000,
	    .devs = devs,
	    .nr_devs = 3,
	};
}

static const void *prop(const char *path, const char *name, int *len)
{
	int off = fdt_path_offset(blob, path);

	assert_true(off >= 0);
	return fdt_getprop(blob, off, name, len);
}

/* Properties are only 4-byte aligned in a blob: copy before converting. */
static uint32_t cell(const void *p, int i)
{
	fdt32_t v;

	memcpy(&v, (const char *)p + (size_t)i * sizeof(v), sizeof(v));
	return fdt32_to_cpu(v);
}

static uint64_t cell64(const void *p, int i)
{
	fdt64_t v;

	memcpy(&v, (const char *)p + (size_t)i * sizeof(v), sizeof(v));
	return fdt64_to_cpu(v);
}

static void every_node(void **state)
{
	struct fdt_params p = params(3);
	const void *v;
	int len;

	(void)state;
	assert_true(fdt_build(&p, blob, sizeof(blob), err, sizeof(err)) > 0);
	assert_int_equal(fdt_check_full(blob, sizeof(blob)), 0);

	v = prop("/memory@40000000", "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(cell64(v, 0), A64_RAM_BASE);
	assert_int_equal(cell64(v, 1), 256ULL << 20);
	assert_string_equal(prop("/memory@40000000", "device_type", NULL), "memory");

	assert_string_equal(prop("/cpus/cpu@0", "enable-method", NULL), "psci");
	assert_string_equal(prop("/cpus/cpu@1", "enable-method", NULL), "psci");
	assert_int_equal(cell(prop("/cpus/cpu@1", "reg", NULL), 0), 1);
	assert_true(fdt_path_offset(blob, "/cpus/cpu@2") < 0);
	assert_string_equal(prop("/psci", "method", NULL), "hvc");
	assert_string_equal(prop("/psci", "compatible", NULL), "arm,psci-1.0");

	assert_string_equal(prop("/intc@8000000", "compatible", NULL), "arm,gic-v3");
	v = prop("/intc@8000000", "reg", &len);
	assert_int_equal(len, 32);
	assert_int_equal(cell64(v, 2), A64_GIC_REDIST);
	assert_int_equal(cell64(v, 3), 2 * A64_GIC_REDIST_CPU);
	assert_non_null(prop("/intc@8000000", "interrupt-controller", &len));

	assert_string_equal(prop("/timer", "compatible", NULL), "arm,armv8-timer");
	v = prop("/timer", "interrupts", &len);
	assert_int_equal(len, 48);
	assert_int_equal(cell(v, 1), 13);
	assert_int_equal(cell(v, 2), 8); /* GICv3: no CPU mask */

	assert_string_equal(prop("/pl011@9000000", "compatible", NULL), "arm,pl011");
	assert_int_equal(cell64(prop("/pl011@9000000", "reg", NULL), 0), 0x09000000);
	assert_int_equal(cell(prop("/pl011@9000000", "interrupts", NULL), 1), A64_PL011_SPI);
	assert_string_equal(prop("/pl031@9010000", "compatible", NULL), "arm,pl031");
	assert_int_equal(cell64(prop("/pl031@9010000", "reg", NULL), 0), 0x09010000);

	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/virtio_mmio@%llx", (unsigned long long)devs[i].base);
		assert_string_equal(prop(path, "compatible", NULL), "virtio,mmio");
		v = prop(path, "interrupts", &len);
		assert_int_equal(len, 12);
		assert_int_equal(cell(v, 0), 0);
		assert_int_equal(cell(v, 1), devs[i].irq);
		assert_int_equal(cell64(prop(path, "reg", NULL), 1), A64_VIRTIO_SIZE);
	}

	assert_string_equal(prop("/chosen", "bootargs", NULL), "console=ttyAMA0 reboot=k panic=1");
	assert_string_equal(prop("/chosen", "stdout-path", NULL), "/pl011@9000000");
	assert_int_equal(cell64(prop("/chosen", "linux,initrd-start", NULL), 0),
			 A64_RAM_BASE + (200ULL << 20));
	assert_int_equal(cell64(prop("/chosen", "linux,initrd-end", NULL), 0),
			 A64_RAM_BASE + (200ULL << 20) + 0x123000);
}

static void gic_v2_and_no_initrd(void **state)
{
	struct fdt_params p = params(2);
	const void *v;
	int len;

	(void)state;
	p.initrd_size = 0;
	assert_true(fdt_build(&p, blob, sizeof(blob), err, sizeof(err)) > 0);
	assert_string_equal(prop("/intc@8000000", "compatible", NULL), "arm,cortex-a15-gic");
	v = prop("/intc@8000000", "reg", &len);
	assert_int_equal(cell64(v, 2), A64_GIC_CPU);
	v = prop("/timer", "interrupts", &len);
	assert_int_equal(cell(v, 2), 8 | 0x300); /* level low, CPUs 0 and 1 */
	assert_null(prop("/chosen", "linux,initrd-start", &len));
}

static void refused(void **state)
{
	struct fdt_params p = params(3);

	(void)state;
	assert_int_equal(fdt_build(&p, blob, 100, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "device tree"));
	p.nr_cpus = 0;
	assert_int_equal(fdt_build(&p, blob, sizeof(blob), err, sizeof(err)), -EINVAL);
	p = params(2);
	p.nr_cpus = 9; /* GICv2 has 8 CPU interfaces */
	assert_int_equal(fdt_build(&p, blob, sizeof(blob), err, sizeof(err)), -EINVAL);
	p = params(4);
	assert_int_equal(fdt_build(&p, blob, sizeof(blob), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "GICv4"));
}

/* dtc decompiles each blob with no output on stderr (every check passes). */
static void dtc_no_warnings(void **state)
{
	char dir[] = "/tmp/sv-fdt-XXXXXX", cmd[512], path[300], line[512];

	(void)state;
	if (system("dtc --version >/dev/null 2>&1") != 0)
		skip(); /* dtc is Debian's device-tree-compiler: make check installs it */
	assert_non_null(mkdtemp(dir));
	for (int gic = 2; gic <= 3; gic++) {
		struct fdt_params p = params(gic);
		int n = fdt_build(&p, blob, sizeof(blob), err, sizeof(err));
		FILE *f;

		assert_true(n > 0);
		snprintf(path, sizeof(path), "%s/virt.dtb", dir);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(blob, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s/virt.dts %s 2>%s/stderr", dir,
			 path, dir);
		assert_int_equal(system(cmd), 0);
		snprintf(path, sizeof(path), "%s/stderr", dir);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			fail_msg("GICv%d: dtc: %s", gic, line);
		fclose(f);
		unlink(path);
		snprintf(path, sizeof(path), "%s/virt.dts", dir);
		f = fopen(path, "r");
		assert_non_null(f);
		n = 0;
		while (fgets(line, sizeof(line), f))
			n += strstr(line, "virtio_mmio@") != NULL;
		fclose(f);
		assert_int_equal(n, 3);
		unlink(path);
		snprintf(path, sizeof(path), "%s/virt.dtb", dir);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_node),
	    cmocka_unit_test(gic_v2_and_no_initrd),
	    cmocka_unit_test(refused),
	    cmocka_unit_test(dtc_no_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
