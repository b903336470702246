// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Bring up every application processor with INIT-SIPI-SIPI through the
 * xAPIC. Each AP runs the trampoline (trampoline.S) into long mode, records
 * its APIC id, counts itself in and halts.
 */
#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/io.h"
#include "lib/string.h"

#define MSR_APIC_BASE	 0x1b
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_X2APIC (1ULL << 10)

#define APIC_ID	      0x20
#define APIC_SVR      0xf0
#define APIC_ICR_LOW  0x300
#define APIC_ICR_HIGH 0x310

#define SVR_ENABLE	  0x100
#define ICR_INIT	  0x500
#define ICR_STARTUP	  0x600
#define ICR_LEVEL_ASSERT  0x4000
#define ICR_LEVEL_TRIGGER 0x8000
#define ICR_BUSY	  0x1000

/* In io_delay() units: no timer is calibrated. */
#define INIT_DELAY (IO_DELAY_PER_SEC / 100)	 /* 10 ms */
#define SIPI_DELAY (IO_DELAY_PER_SEC / 1000 + 1) /* 200 us or more */
#define WAIT_APS   (2 * IO_DELAY_PER_SEC)	 /* about 2 s */
#define ICR_POLLS  10000

extern const uint8_t trampoline_start[], trampoline_end[];
extern void idt_load(void);

static volatile unsigned int ap_count;
static volatile uint8_t ap_ids[MAX_CPUS];
/* smp_start_job(): what the next AP to start runs instead of checking in */
static void (*volatile ap_job)(void);
static volatile unsigned int ap_job_started;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static unsigned int lapic_id(void)
{
	return lapic_read(APIC_ID) >> 24;
}

void ap_main(void);

void ap_main(void)
{
	unsigned int slot;

	idt_load();
	if (ap_job) {
		void (*job)(void) = ap_job;

		ap_job = NULL;
		__atomic_store_n(&ap_job_started, 1, __ATOMIC_SEQ_CST);
		job(); /* then back to head.S: cli; hlt */
		return;
	}
	slot = __atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
	if (slot < MAX_CPUS)
		ap_ids[slot] = (uint8_t)lapic_id();
}

static bool icr_wait_idle(void)
{
	unsigned int i;

	for (i = 0; i < ICR_POLLS; i++) {
		if (!(lapic_read(APIC_ICR_LOW) & ICR_BUSY))
			return true;
		io_delay(1);
	}
	return false;
}

static bool send_ipi(unsigned int apic_id, uint32_t low)
{
	lapic_write(APIC_ICR_HIGH, apic_id << 24);
	lapic_write(APIC_ICR_LOW, low);
	return icr_wait_idle();
}

static bool start_ap(unsigned int apic_id)
{
	uint32_t vector = AP_TRAMPOLINE_BASE >> 12;

	if (!send_ipi(apic_id, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT))
		return false;
	if (!send_ipi(apic_id, ICR_INIT | ICR_LEVEL_TRIGGER))
		return false;
	io_delay(INIT_DELAY);
	if (!send_ipi(apic_id, ICR_STARTUP | vector))
		return false;
	io_delay(SIPI_DELAY);
	return send_ipi(apic_id, ICR_STARTUP | vector);
}

bool smp_start_job(unsigned int apic_id, void (*job)(void))
{
	size_t tramp_len = (size_t)(trampoline_end - trampoline_start);
	uint64_t n;

	if (boot.nr_mem && !boot_is_ram(AP_TRAMPOLINE_BASE, tramp_len))
		return false;
	memcpy((void *)AP_TRAMPOLINE_BASE, trampoline_start, tramp_len);
	lapic_write(APIC_SVR, SVR_ENABLE | 0xff);
	ap_job_started = 0;
	ap_job = job;
	mb();
	/* INIT-SIPI-SIPI restarts an AP that the smp check left halted, too */
	if (!start_ap(apic_id)) {
		ap_job = NULL;
		return false;
	}
	for (n = 0; n < WAIT_APS && !ap_job_started; n++)
		io_delay(1);
	if (!ap_job_started)
		ap_job = NULL;
	return ap_job_started;
}

static enum check_result check_smp(struct check_ctx *ctx)
{
	size_t tramp_len = (size_t)(trampoline_end - trampoline_start);
	unsigned int cpus = facts.cpus_expected, bsp, i, j, id, seen;
	uint64_t base, n;

	if (!cpus)
		cpus = facts.madt_cpus ? facts.madt_cpus : facts.mptable_cpus;
	if (!cpus)
		return check_skip(ctx, "cpus= not given and no CPU count from MP table or MADT");
	if (cpus > MAX_CPUS)
		return check_fail(ctx, "cpus=%u, the guest handles at most %u", cpus, MAX_CPUS);

	base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE) || (base & APIC_BASE_X2APIC) ||
	    (base & ~0xfffULL) != LAPIC_BASE)
		return check_fail(ctx, "APIC base MSR 0x%lx: not an enabled xAPIC at 0x%x", base,
				  LAPIC_BASE);
	bsp = lapic_id();
	if (bsp != 0)
		return check_fail(ctx, "BSP APIC id is %u, not 0", bsp);
	lapic_write(APIC_SVR, SVR_ENABLE | 0xff);
	if (cpus == 1)
		return CHECK_PASS;

	if (boot.nr_mem && !boot_is_ram(AP_TRAMPOLINE_BASE, tramp_len))
		return check_fail(ctx, "trampoline area 0x%x is not RAM", AP_TRAMPOLINE_BASE);
	memcpy((void *)AP_TRAMPOLINE_BASE, trampoline_start, tramp_len);
	mb();

	for (id = 1; id < cpus; id++) {
		if (!start_ap(id))
			return check_fail(ctx, "IPI to APIC id %u never left the ICR", id);
	}
	for (n = 0; n < WAIT_APS && ap_count < cpus - 1; n++)
		io_delay(1);
	seen = ap_count;
	if (seen != cpus - 1)
		return check_fail(ctx, "%u of %u application processors checked in", seen,
				  cpus - 1);
	for (i = 0; i < seen; i++) {
		if (ap_ids[i] == bsp || ap_ids[i] >= cpus)
			return check_fail(ctx, "an AP reports APIC id %u", ap_ids[i]);
		for (j = 0; j < i; j++) {
			if (ap_ids[i] == ap_ids[j])
				return check_fail(ctx, "two APs report APIC id %u", ap_ids[i]);
		}
	}
	return CHECK_PASS;
}

DEFINE_CHECK(smp, check_smp, true);
