// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The aarch64 machine without KVM: the KVM_IRQ_LINE number of an SPI, the
 * virtio-mmio windows, the vCPU init features, the boot registers, and the
 * boot as arch_load_kernel() does it (Image, initrd at the end of RAM, the
 * device tree at RAM base describing the GIC, timer, PSCI, PL011, PL031 and
 * every transport; dtc decompiles it without a warning).
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

#include "arch/aarch64/boot.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"
#include "machine/vm.h"

#define RAM_SIZE (128ULL << 20)

static uint8_t *ram;
static struct guest_mem mem;
static char err[256];

static void irq_encoding(void **state)
{
	(void)state;
	/* KVM_ARM_IRQ_TYPE_SPI (1) in bits 24-27, the INTID (32 + SPI) in bits 0-15 */
	assert_int_equal(arch_irq_line_number(A64_PL011_SPI), 0x01000021);
	assert_int_equal(arch_irq_line_number(A64_PL031_SPI), 0x01000022);
	assert_int_equal(arch_irq_line_number(A64_VIRTIO_SPI), 0x01000030);
	assert_int_equal(arch_irq_line_number(A64_GIC_NR_IRQS - 33), 0x0100007f);
}

static void layout(void **state)
{
	struct gmem_region r[ARCH_MAX_RAM_REGIONS];
	uint64_t base, size;
	uint32_t irq;

	(void)state;
	assert_int_equal(arch_ram_layout(256ULL << 20, r), 1);
	assert_int_equal(r[0].gpa, 0x40000000);
	assert_int_equal(r[0].size, 256ULL << 20);
	for (int n = 0; n < A64_VIRTIO_MAX; n++) {
		assert_int_equal(arch_mmio_slot(n, &base, &size, &irq), 0);
		assert_int_equal(base, 0x0a000000 + 0x200 * (uint64_t)n);
		assert_int_equal(size, 0x200);
		assert_int_equal(irq, 16 + (uint32_t)n);
		/* below the GIC's last SPI */
		assert_true(irq + 32 < A64_GIC_NR_IRQS);
	}
	assert_int_equal(arch_mmio_slot(A64_VIRTIO_MAX, &base, &size, &irq), -ENOSPC);
	assert_int_equal(arch_mmio_slot(-1, &base, &size, &irq), -ENOSPC);
	/* redistributor frames end before the PL011 */
	assert_true(A64_GIC_REDIST + A64_GIC_REDIST_CPU * A64_MAX_CPUS <= A64_PL011);
}

static void vcpu_features(void **state)
{
	struct kvm_vcpu_init pref = {.target = 5}, a;

	(void)state;
	a64_vcpu_init_arg(&pref, 0, &a);
	assert_int_equal(a.target, 5);
	assert_int_equal(a.features[0], 1U << 2); /* PSCI 0.2, powered on */
	a64_vcpu_init_arg(&pref, 1, &a);
	assert_int_equal(a.features[0], 1U << 2 | 1U << 0); /* secondaries: POWER_OFF */
	pref.features[0] = 1U << 4;			    /* a feature KVM asked for stays */
	a64_vcpu_init_arg(&pref, 3, &a);
	assert_int_equal(a.features[0], 1U << 4 | 1U << 2 | 1U << 0);
}

static void boot_regs(void **state)
{
	struct boot_entry e = {.entry = 0x40200000, .info_gpa = 0x40000000};
	struct a64_reg r[A64_BOOT_REGS];
	/* KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | offset in 32-bit words */
	static const struct {
		uint64_t id, val;
	} want[] = {
	    {0x6030000000100042ULL, 0x3c5},	 /* pstate: EL1h, DAIF masked */
	    {0x6030000000100000ULL, 0x40000000}, /* x0: the device tree */
	    {0x6030000000100002ULL, 0},		 /* x1 */
	    {0x6030000000100004ULL, 0},		 /* x2 */
	    {0x6030000000100006ULL, 0},		 /* x3 */
	    {0x6030000000100040ULL, 0x40200000}, /* pc: the Image */
	};

	(void)state;
	a64_boot_regs(&e, r);
	for (int i = 0; i < A64_BOOT_REGS; i++) {
		assert_int_equal(r[i].id, want[i].id);
		assert_int_equal(r[i].val, want[i].val);
	}
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *make_image(size_t len, uint64_t image_size)
{
	uint8_t *k = calloc(1, len);

	assert_non_null(k);
	put64(k + 16, image_size);
	put64(k + 24, 2);
	memcpy(k + ARM64_IMAGE_MAGIC_OFF, "ARM\x64", 4);
	return k;
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	gmem_init_flat(&mem, ram, A64_RAM_BASE, RAM_SIZE);
	err[0] = '\0';
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static const void *prop(const char *path, const char *name, int *len)
{
	int off = fdt_path_offset(ram, path);

	if (off < 0)
		fail_msg("%s: %s", path, fdt_strerror(off));
	return fdt_getprop(ram, off, name, len);
}

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

static int boot(int gic, unsigned cpus, uint8_t *initrd, size_t initrd_len, struct boot_entry *e)
{
	struct mmio_dev_desc devs[3];
	uint8_t *k = make_image(65536, 4 << 20);
	struct arch_kernel_files f = {k, 65536, initrd, initrd_len};
	struct a64_boot_params p = {
	    .nr_cpus = cpus,
	    .gic_version = gic,
	    .cmdline = "console=ttyAMA0 reboot=k panic=1",
	    .devs = devs,
	    .nr_devs = 3,
	};
	int ret;

	for (int n = 0; n < 3; n++)
		assert_int_equal(arch_mmio_slot(n, &devs[n].base, &devs[n].size, &devs[n].irq), 0);
	ret = a64_boot_setup(&mem, &f, &p, e, err, sizeof(err));
	free(k);
	return ret;
}

static void boot_gicv3(void **state)
{
	uint8_t initrd[300001];
	uint64_t start = (A64_RAM_BASE + RAM_SIZE - sizeof(initrd)) & ~0xfffULL;
	struct boot_entry e;
	const void *p;
	int len;

	(void)state;
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13);
	assert_int_equal(boot(3, 2, initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.entry, 0x40200000);
	assert_int_equal(e.info_gpa, 0x40000000);
	assert_int_equal(e.kernel_end, 0x40200000 + (4 << 20));
	assert_int_equal(ram[0x200000 + 0x38], 'A'); /* the Image at RAM + 2 MiB */
	assert_memory_equal(ram + (start - A64_RAM_BASE), initrd, sizeof(initrd));
	/* the device tree at RAM base */
	assert_int_equal(fdt_check_full(ram, A64_FDT_MAX), 0);
	assert_true(fdt_totalsize(ram) < A64_FDT_MAX);
	p = prop("/chosen", "bootargs", &len);
	assert_string_equal(p, "console=ttyAMA0 reboot=k panic=1");
	assert_int_equal(cell64(prop("/chosen", "linux,initrd-start", &len), 0), start);
	assert_int_equal(cell64(prop("/chosen", "linux,initrd-end", &len), 0),
			 start + sizeof(initrd));
	p = prop("/memory@40000000", "reg", &len);
	assert_int_equal(cell64(p, 0), 0x40000000);
	assert_int_equal(cell64(p, 1), RAM_SIZE);
	assert_string_equal(prop("/cpus/cpu@1", "enable-method", &len), "psci");
	assert_string_equal(prop("/psci", "method", &len), "hvc");
	assert_string_equal(prop("/intc@8000000", "compatible", &len), "arm,gic-v3");
	p = prop("/intc@8000000", "reg", &len);
	assert_int_equal(len, 32);
	assert_int_equal(cell64(p, 2), A64_GIC_REDIST);
	assert_int_equal(cell64(p, 3), 2 * A64_GIC_REDIST_CPU);
	assert_string_equal(prop("/timer", "compatible", &len), "arm,armv8-timer");
	assert_string_equal(prop("/pl011@9000000", "compatible", &len), "arm,pl011");
	assert_int_equal(cell(prop("/pl011@9000000", "interrupts", &len), 1), A64_PL011_SPI);
	assert_string_equal(prop("/pl031@9010000", "compatible", &len), "arm,pl031");
	assert_int_equal(cell(prop("/pl031@9010000", "interrupts", &len), 1), A64_PL031_SPI);
	p = prop("/virtio_mmio@a000400", "interrupts", &len);
	assert_int_equal(cell(p, 0), 0);  /* SPI */
	assert_int_equal(cell(p, 1), 18); /* the third transport's */
	assert_int_equal(cell(p, 2), 1);  /* edge rising */
	p = prop("/virtio_mmio@a000400", "reg", &len);
	assert_int_equal(cell64(p, 0), 0x0a000400);
}

/* A machine without GICv3 gets the GICv2 node; no initrd, no initrd properties. */
static void boot_gicv2(void **state)
{
	struct boot_entry e;
	int len;

	(void)state;
	assert_int_equal(boot(2, 1, NULL, 0, &e), 0);
	assert_int_equal(fdt_check_full(ram, A64_FDT_MAX), 0);
	assert_string_equal(prop("/intc@8000000", "compatible", &len), "arm,cortex-a15-gic");
	assert_null(prop("/chosen", "linux,initrd-start", &len));
	assert_int_equal(fdt_path_offset(ram, "/cpus/cpu@1"), -FDT_ERR_NOTFOUND); /* one vCPU */
}

static void initrd_too_large(void **state)
{
	size_t n = RAM_SIZE - (4 << 20);
	uint8_t *initrd = calloc(1, n);
	struct boot_entry e;

	(void)state;
	assert_non_null(initrd);
	assert_int_equal(boot(3, 1, initrd, n, &e), -E2BIG);
	assert_non_null(strstr(err, "initrd"));
	free(initrd);
}

static void dtc_no_warnings(void **state)
{
	char dir[] = "/tmp/sv-a64-XXXXXX", cmd[512], path[300], line[512];
	struct boot_entry e;

	(void)state;
	if (system("dtc --version >/dev/null 2>&1") != 0)
		skip(); /* dtc is Debian's device-tree-compiler: make check installs it */
	assert_non_null(mkdtemp(dir));
	for (int gic = 2; gic <= 3; gic++) {
		uint8_t initrd[4096] = {1};
		FILE *f;
		int nodes = 0;

		assert_int_equal(boot(gic, 4, initrd, sizeof(initrd), &e), 0);
		snprintf(path, sizeof(path), "%s/vm.dtb", dir);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(ram, 1, fdt_totalsize(ram), f), fdt_totalsize(ram));
		fclose(f);
		snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s/vm.dts %s 2>%s/stderr", dir,
			 path, dir);
		assert_int_equal(system(cmd), 0);
		unlink(path);
		snprintf(path, sizeof(path), "%s/stderr", dir);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			fail_msg("GICv%d: dtc: %s", gic, line);
		fclose(f);
		unlink(path);
		snprintf(path, sizeof(path), "%s/vm.dts", dir);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			nodes += strstr(line, "intc@8000000 {") || strstr(line, "timer {") ||
				 strstr(line, "psci {") || strstr(line, "pl011@9000000 {") ||
				 strstr(line, "pl031@9010000 {") || strstr(line, "virtio_mmio@") ||
				 strstr(line, "cpu@");
		fclose(f);
		unlink(path);
		assert_int_equal(nodes, 5 + 3 + 4); /* 3 transports, 4 cpus */
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(irq_encoding),
	    cmocka_unit_test(layout),
	    cmocka_unit_test(vcpu_features),
	    cmocka_unit_test(boot_regs),
	    cmocka_unit_test_setup_teardown(boot_gicv3, setup, teardown),
	    cmocka_unit_test_setup_teardown(boot_gicv2, setup, teardown),
	    cmocka_unit_test_setup_teardown(initrd_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(dtc_no_warnings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
