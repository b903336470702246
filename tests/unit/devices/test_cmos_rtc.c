// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The CMOS RTC's clock (src/devices/cmos_rtc.c) and the UTC arithmetic it
 * uses instead of the C library's time-zone code (src/util/utc.c): utc.c
 * against gmtime_r()/timegm() over 1700-2400, and the RTC through the port
 * bus as a guest reads and sets it (BCD and binary, 12- and 24-hour).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "arch/x86_64/layout.h"
#include "machine/vm.h"
#include "util/utc.h"

static const struct vm_device_ops *registered;

void vm_device_register(const struct vm_device_ops *ops)
{
	registered = ops;
}

static struct vm_config cfg;
static struct vm vm;

/* What the RTC shows: the calendar fields but the day of the year. */
static void assert_same_clock(const struct tm *got, const struct tm *want)
{
	assert_int_equal(got->tm_year, want->tm_year);
	assert_int_equal(got->tm_mon, want->tm_mon);
	assert_int_equal(got->tm_mday, want->tm_mday);
	assert_int_equal(got->tm_hour, want->tm_hour);
	assert_int_equal(got->tm_min, want->tm_min);
	assert_int_equal(got->tm_sec, want->tm_sec);
	assert_int_equal(got->tm_wday, want->tm_wday);
}

static void check_against_libc(long long t)
{
	time_t tt = (time_t)t;
	struct tm want, got;

	assert_non_null(gmtime_r(&tt, &want));
	memset(&got, 0x5a, sizeof(got));
	utc_to_tm(t, &got);
	assert_same_clock(&got, &want);
	assert_int_equal(got.tm_yday, want.tm_yday);
	assert_int_equal(got.tm_isdst, 0);
	assert_true(utc_from_tm(&got) == t);
}

static void test_utc_matches_libc(void **state)
{
	/* 1700-01-01 .. 2400-12-31 */
	const long long lo = -8520336000LL, hi = 13601087999LL;
	static const long long edges[] = {0,	       -1,	    86399,	 86400,
					  -86400,      -86401,	    951782400,	 951868800,
					  4107456000,  4107542400,  978307199,	 978307200,
					  -2208988800, -2203891200, 253402300799};
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_against_libc(edges[i]);
	/* every day boundary (and the second before it) of four centuries */
	for (long long t = -2208988800LL; t < 10413792000LL; t += 86400) {
		check_against_libc(t);
		check_against_libc(t - 1);
	}
	for (int i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		long long r = ((long long)seed << 16) ^ (seed >> 7);

		check_against_libc(
		    lo + (long long)((unsigned long long)r % (unsigned long long)(hi - lo)));
	}
}

static void test_utc_from_tm_carries_like_timegm(void **state)
{
	static const int cases[][6] = {
	    /* year-1900, mon, mday, hour, min, sec */
	    {126, 12, 1, 0, 0, 0},    {126, -1, 1, 0, 0, 0},	 {126, 1, 31, 0, 0, 0},
	    {100, 1, 30, 0, 0, 0},    {200, 1, 29, 0, 0, 0},	 {126, 0, 0, 0, 0, 0},
	    {126, 5, 15, 25, 61, 61}, {126, 23, 45, 23, 59, 59}, {165, 164, 153, 23, 59, 59},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tm tm = {.tm_year = cases[i][0],
				.tm_mon = cases[i][1],
				.tm_mday = cases[i][2],
				.tm_hour = cases[i][3],
				.tm_min = cases[i][4],
				.tm_sec = cases[i][5]};
		struct tm copy = tm;

		assert_true(utc_from_tm(&tm) == (long long)timegm(&copy));
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &cfg;
	vm.mem.ram_size = 128ULL << 20;
	bus_init(&vm.pio_bus);
	assert_non_null(registered);
	assert_int_equal(registered->init(&vm), 0);
	return 0;
}

static uint8_t rd(uint8_t reg)
{
	uint8_t b = reg;

	assert_true(bus_dispatch(&vm.pio_bus, PORT_CMOS, &b, 1, true));
	assert_true(bus_dispatch(&vm.pio_bus, PORT_CMOS + 1, &b, 1, false));
	return b;
}

static void wr(uint8_t reg, uint8_t v)
{
	uint8_t b = reg;

	assert_true(bus_dispatch(&vm.pio_bus, PORT_CMOS, &b, 1, true));
	assert_true(bus_dispatch(&vm.pio_bus, PORT_CMOS + 1, &v, 1, true));
}

static int bcd(int v)
{
	return (v / 10) << 4 | v % 10;
}

/* The clock's registers; retried when a second boundary falls between reads. */
static void read_clock(struct tm *tm, int bin, time_t *host)
{
	for (;;) {
		time_t before = time(NULL);
		uint8_t r[8];

		r[0] = rd(0x00);
		r[1] = rd(0x02);
		r[2] = rd(0x04);
		r[3] = rd(0x06);
		r[4] = rd(0x07);
		r[5] = rd(0x08);
		r[6] = rd(0x09);
		r[7] = rd(0x32);
		if (time(NULL) != before)
			continue;
#define V(x) (bin ? (x) : ((x) >> 4) * 10 + ((x)&0xf))
		tm->tm_sec = V(r[0]);
		tm->tm_min = V(r[1]);
		tm->tm_hour = V(r[2]);
		tm->tm_wday = V(r[3]) - 1;
		tm->tm_mday = V(r[4]);
		tm->tm_mon = V(r[5]) - 1;
		tm->tm_year = V(r[7]) * 100 + V(r[6]) - 1900;
#undef V
		*host = before;
		return;
	}
}

static void test_rtc_reads_host_utc(void **state)
{
	struct tm got, want;
	time_t now;

	(void)state;
	/* as left at reset: BCD, 24-hour */
	assert_int_equal(rd(0x0b), 0x02);
	for (int bin = 0; bin < 2; bin++) {
		wr(0x0b, bin ? 0x06 : 0x02);
		read_clock(&got, bin, &now);
		assert_non_null(gmtime_r(&now, &want));
		assert_same_clock(&got, &want);
	}
	/* 12-hour BCD: 1-12 with bit 7 for PM */
	wr(0x0b, 0x00);
	for (;;) {
		time_t before = time(NULL);
		uint8_t h = rd(0x04);

		if (time(NULL) != before)
			continue;
		assert_non_null(gmtime_r(&before, &want));
		int h12 = want.tm_hour % 12 ? want.tm_hour % 12 : 12;

		assert_int_equal(h, bcd(h12) | (want.tm_hour >= 12 ? 0x80 : 0));
		break;
	}
}

/* A guest write of the date registers (BCD; 0 leaves one alone), then the clock. */
static void set_date(uint8_t yy, uint8_t mm, uint8_t dd, int year, int mon, int mday, int wday)
{
	struct tm got, host;
	time_t now;

	if (yy)
		wr(0x09, yy);
	if (mm)
		wr(0x08, mm);
	wr(0x07, dd);
	read_clock(&got, 0, &now);
	assert_int_equal(got.tm_year, year);
	assert_int_equal(got.tm_mon, mon);
	assert_int_equal(got.tm_mday, mday);
	assert_int_equal(got.tm_wday, wday);
	/* the time of day still follows the host's */
	assert_non_null(gmtime_r(&now, &host));
	assert_int_equal(got.tm_hour, host.tm_hour);
	assert_int_equal(got.tm_min, host.tm_min);
	assert_int_equal(got.tm_sec, host.tm_sec);
}

static void test_rtc_guest_sets_the_date(void **state)
{
	(void)state;
	/* 2031-02-28, a Friday; then the day to 29: not a leap year, March 1st */
	set_date(0x31, 0x02, 0x28, 131, 1, 28, 5);
	set_date(0, 0, 0x29, 131, 2, 1, 6);
	/* 2032 is a leap year: February 29th stays (a Sunday) */
	set_date(0x32, 0x02, 0x29, 132, 1, 29, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utc_matches_libc),
	    cmocka_unit_test(test_utc_from_tm_carries_like_timegm),
	    cmocka_unit_test_setup(test_rtc_reads_host_utc, setup),
	    cmocka_unit_test_setup(test_rtc_guest_sets_the_date, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
