/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_CHECK_H
#define SVGUEST_CHECK_H

#include <stdbool.h>

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_SKIP };

#define CHECK_REASON_MAX 200

struct check_ctx {
	char reason[CHECK_REASON_MAX];
};

struct check {
	const char *name;
	enum check_result (*run)(struct check_ctx *ctx);
	bool in_default; /* run when tests= is not given */
};

/*
 * A check lives in one file and registers itself; checks run in link order
 * (the order of the sources in meson.build). Adding one needs no other edit.
 */
#define DEFINE_CHECK(name_, fn_, default_)                                                         \
	static const struct check check_entry_##name_                                              \
	    __attribute__((used, section(".checks"), aligned(8))) = {#name_, fn_, default_}

/* Set the reason and return CHECK_FAIL / CHECK_SKIP: `return check_fail(ctx, ...)`. */
enum check_result check_fail(struct check_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum check_result check_skip(struct check_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints one protocol line and counts it; for sub-results such as serial_in. */
void report(const char *name, enum check_result res, const char *reason);

/* Facts one check learns that a later one can use (0 = unknown). */
struct guest_facts {
	unsigned int cpus_expected; /* cpus= */
	unsigned int mptable_cpus;
	unsigned int madt_cpus;
	/* From the acpi check: the FADT's SLEEP_CONTROL_REG if it is an I/O port */
	unsigned int acpi_sleep_port;
	/* and the DSDT's \_S5 SLP_TYPa (valid when s5_found) */
	bool s5_found;
	unsigned int s5_slp_typ;
	/* and its Generic Event Device (ACPI0013): interrupt GSI, event register port */
	bool ged_found;
	unsigned int ged_gsi;
	unsigned int ged_port;
};

extern struct guest_facts facts;

/*
 * strict=1 on the command line: also hold the VMM to rules that QEMU's
 * firmware does not keep (sorted memory map without empty entries, an MP
 * table entry count, the command line in RAM). Our own harness sets it.
 */
bool strict_mode(void);

#endif
