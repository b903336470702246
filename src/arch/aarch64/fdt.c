// SPDX-License-Identifier: MulanPSL-2.0
/* The aarch64 machine's device tree, written with libfdt's sequential API. */
#include "arch/aarch64/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

#include "arch/aarch64/layout.h"
#include "machine/vm.h"

#define PHANDLE_GIC 1
#define PHANDLE_CLK 2

/* Interrupt specifier cells: type, number, flags (bindings/interrupt-controller/arm,gic*.yaml). */
#define GIC_SPI		  0
#define GIC_PPI		  1
#define IRQ_EDGE_RISING	  1
#define IRQ_LEVEL_HIGH	  4
#define IRQ_LEVEL_LOW	  8
#define GICV2_PPI_CPUS(n) ((((1U << (n)) - 1) & 0xff) << 8)
#define APB_CLOCK_HZ	  24000000

static int prop_u64s(void *fdt, const char *name, const uint64_t *v, int n)
{
	fdt64_t be[8];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt64(v[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(be[0])));
}

static int prop_u32s(void *fdt, const char *name, const uint32_t *v, int n)
{
	fdt32_t be[16];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(be[0])));
}

/* Two strings in one property ("compatible"): libfdt takes the raw bytes. */
static int prop_2str(void *fdt, const char *name, const char *a, const char *b)
{
	char s[64];
	int n = snprintf(s, sizeof(s), "%s%c%s", a, 0, b);

	return fdt_property(fdt, name, s, n + 1);
}

static int add_cpus(void *fdt, const struct fdt_params *p)
{
	char name[32];
	int r = fdt_begin_node(fdt, "cpus");

	r = r ? r : fdt_property_u32(fdt, "#address-cells", 1);
	r = r ? r : fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; !r && i < p->nr_cpus; i++) {
		/* MPIDR as KVM sets it: Aff0 0..15, then Aff1 */
		uint32_t mpidr = (i % 16) | (i / 16) << 8;

		snprintf(name, sizeof(name), "cpu@%x", mpidr);
		r = fdt_begin_node(fdt, name);
		r = r ? r : fdt_property_string(fdt, "device_type", "cpu");
		r = r ? r : fdt_property_string(fdt, "compatible", "arm,arm-v8");
		r = r ? r : fdt_property_string(fdt, "enable-method", "psci");
		r = r ? r : fdt_property_u32(fdt, "reg", mpidr);
		r = r ? r : fdt_end_node(fdt);
	}
	return r ? r : fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct fdt_params *p)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)A64_GIC_DIST);
	r = fdt_begin_node(fdt, name);
	if (p->gic_version == 3) {
		uint64_t reg[] = {A64_GIC_DIST, A64_GIC_DIST_SIZE, A64_GIC_REDIST,
				  A64_GIC_REDIST_CPU * p->nr_cpus};

		r = r ? r : fdt_property_string(fdt, "compatible", "arm,gic-v3");
		r = r ? r : prop_u64s(fdt, "reg", reg, 4);
	} else {
		uint64_t reg[] = {A64_GIC_DIST, A64_GIC_DIST_SIZE, A64_GIC_CPU, A64_GIC_CPU_SIZE};

		r = r ? r : fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic");
		r = r ? r : prop_u64s(fdt, "reg", reg, 4);
	}
	r = r ? r : fdt_property_u32(fdt, "#interrupt-cells", 3);
	r = r ? r : fdt_property(fdt, "interrupt-controller", NULL, 0);
	r = r ? r : fdt_property_u32(fdt, "#address-cells", 2);
	r = r ? r : fdt_property_u32(fdt, "#size-cells", 2);
	r = r ? r : fdt_property(fdt, "ranges", NULL, 0);
	r = r ? r : fdt_property_u32(fdt, "phandle", PHANDLE_GIC);
	return r ? r : fdt_end_node(fdt);
}

static int add_timer(void *fdt, const struct fdt_params *p)
{
	/* secure, non-secure, virtual, hypervisor physical timer PPIs */
	static const uint32_t ppi[] = {13, 14, 11, 10};
	uint32_t flags = IRQ_LEVEL_LOW;
	uint32_t irqs[12];
	int r;

	if (p->gic_version == 2)
		flags |= GICV2_PPI_CPUS(p->nr_cpus < 8 ? p->nr_cpus : 8);
	for (int i = 0; i < 4; i++) {
		irqs[i * 3] = GIC_PPI;
		irqs[i * 3 + 1] = ppi[i];
		irqs[i * 3 + 2] = flags;
	}
	r = fdt_begin_node(fdt, "timer");
	r = r ? r : fdt_property_string(fdt, "compatible", "arm,armv8-timer");
	r = r ? r : prop_u32s(fdt, "interrupts", irqs, 12);
	r = r ? r : fdt_property(fdt, "always-on", NULL, 0);
	return r ? r : fdt_end_node(fdt);
}

static int add_primecell(void *fdt, const char *kind, uint64_t base, uint32_t spi, bool uart)
{
	uint64_t reg[] = {base, A64_APB_SIZE};
	uint32_t irq[] = {GIC_SPI, spi, IRQ_LEVEL_HIGH};
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%s@%llx", kind, (unsigned long long)base);
	r = fdt_begin_node(fdt, name);
	r = r ? r : prop_2str(fdt, "compatible", uart ? "arm,pl011" : "arm,pl031", "arm,primecell");
	r = r ? r : prop_u64s(fdt, "reg", reg, 2);
	r = r ? r : prop_u32s(fdt, "interrupts", irq, 3);
	if (uart) {
		uint32_t clocks[] = {PHANDLE_CLK, PHANDLE_CLK};

		r = r ? r : prop_u32s(fdt, "clocks", clocks, 2);
		r = r ? r : prop_2str(fdt, "clock-names", "uartclk", "apb_pclk");
	} else {
		r = r ? r : fdt_property_u32(fdt, "clocks", PHANDLE_CLK);
		r = r ? r : fdt_property_string(fdt, "clock-names", "apb_pclk");
	}
	return r ? r : fdt_end_node(fdt);
}

static int add_virtio(void *fdt, const struct mmio_dev_desc *d)
{
	uint64_t reg[] = {d->base, d->size};
	uint32_t irq[] = {GIC_SPI, d->irq, IRQ_EDGE_RISING};
	char name[40];
	int r;

	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)d->base);
	r = fdt_begin_node(fdt, name);
	r = r ? r : fdt_property_string(fdt, "compatible", "virtio,mmio");
	r = r ? r : prop_u64s(fdt, "reg", reg, 2);
	r = r ? r : prop_u32s(fdt, "interrupts", irq, 3);
	r = r ? r : fdt_property(fdt, "dma-coherent", NULL, 0);
	return r ? r : fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct fdt_params *p)
{
	char path[40];
	int r = fdt_begin_node(fdt, "chosen");

	snprintf(path, sizeof(path), "/pl011@%llx", (unsigned long long)A64_PL011);
	r = r ? r : fdt_property_string(fdt, "bootargs", p->bootargs ? p->bootargs : "");
	r = r ? r : fdt_property_string(fdt, "stdout-path", path);
	if (p->initrd_size) {
		r = r ? r : fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start);
		r = r ? r
		      : fdt_property_u64(fdt, "linux,initrd-end", p->initrd_start + p->initrd_size);
	}
	return r ? r : fdt_end_node(fdt);
}

int fdt_build(const struct fdt_params *p, void *buf, size_t bufsize, char *err, size_t errlen)
{
	uint64_t mem[] = {p->ram_base, p->ram_size};
	char name[40];
	int r;

	if (!p->nr_cpus || p->nr_cpus > A64_MAX_CPUS ||
	    (p->gic_version != 2 && p->gic_version != 3) ||
	    (p->gic_version == 2 && p->nr_cpus > 8) || !p->ram_size ||
	    p->ram_base + p->ram_size < p->ram_base || p->nr_devs < 0 ||
	    p->initrd_start + p->initrd_size < p->initrd_start || bufsize > INT32_MAX) {
		snprintf(err, errlen,
			 "device tree: invalid machine (%u vCPUs, GICv%d, %llu bytes of RAM)",
			 p->nr_cpus, p->gic_version, (unsigned long long)p->ram_size);
		return -EINVAL;
	}
	r = fdt_create(buf, (int)bufsize);
	r = r ? r : fdt_finish_reservemap(buf);
	r = r ? r : fdt_begin_node(buf, "");
	r = r ? r : fdt_property_string(buf, "compatible", "linux,dummy-virt");
	r = r ? r : fdt_property_string(buf, "model", "StratoVirt (C) aarch64 microVM");
	r = r ? r : fdt_property_u32(buf, "#address-cells", 2);
	r = r ? r : fdt_property_u32(buf, "#size-cells", 2);
	r = r ? r : fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC);
	r = r ? r : add_chosen(buf, p);
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->ram_base);
	r = r ? r : fdt_begin_node(buf, name);
	r = r ? r : fdt_property_string(buf, "device_type", "memory");
	r = r ? r : prop_u64s(buf, "reg", mem, 2);
	r = r ? r : fdt_end_node(buf);
	r = r ? r : add_cpus(buf, p);
	r = r ? r : fdt_begin_node(buf, "psci");
	r = r ? r : prop_2str(buf, "compatible", "arm,psci-1.0", "arm,psci-0.2");
	r = r ? r : fdt_property_string(buf, "method", "hvc");
	r = r ? r : fdt_end_node(buf);
	r = r ? r : add_gic(buf, p);
	r = r ? r : add_timer(buf, p);
	r = r ? r : fdt_begin_node(buf, "apb-pclk");
	r = r ? r : fdt_property_string(buf, "compatible", "fixed-clock");
	r = r ? r : fdt_property_u32(buf, "#clock-cells", 0);
	r = r ? r : fdt_property_u32(buf, "clock-frequency", APB_CLOCK_HZ);
	r = r ? r : fdt_property_string(buf, "clock-output-names", "clk24mhz");
	r = r ? r : fdt_property_u32(buf, "phandle", PHANDLE_CLK);
	r = r ? r : fdt_end_node(buf);
	r = r ? r : add_primecell(buf, "pl011", A64_PL011, A64_PL011_SPI, true);
	r = r ? r : add_primecell(buf, "pl031", A64_PL031, A64_PL031_SPI, false);
	for (int i = 0; !r && i < p->nr_devs; i++)
		r = add_virtio(buf, &p->devs[i]);
	r = r ? r : fdt_end_node(buf);
	r = r ? r : fdt_finish(buf);
	if (r) {
		snprintf(err, errlen, "device tree: %s", fdt_strerror(r));
		return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	}
	return (int)fdt_totalsize(buf);
}
