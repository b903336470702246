// SPDX-License-Identifier: MulanPSL-2.0
/*
 * CMOS real-time clock: read the date with the update-in-progress protocol,
 * decode BCD or binary and 12/24-hour per register B, and compare with the
 * host time the harness passed as now=EPOCH.
 */
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/io.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_DAY	    0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_CENTURY 0x32

#define REG_A_UIP     0x80
#define REG_B_24H     0x02
#define REG_B_BINARY  0x04
#define HOUR_PM	      0x80
#define MAX_TIME_SKEW 5

struct rtc_time {
	unsigned int sec, min, hour, day, mon, year, century;
};

static bool wait_no_update(void)
{
	unsigned int i;

	/* UIP stays set for 2 ms at most; allow two seconds */
	for (i = 0; i < 2 * IO_DELAY_PER_SEC; i++) {
		if (!(cmos_read(RTC_REG_A) & REG_A_UIP))
			return true;
	}
	return false;
}

static void read_raw(struct rtc_time *t)
{
	t->sec = cmos_read(RTC_SECONDS);
	t->min = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->mon = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static bool same_time(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
	       a->mon == b->mon && a->year == b->year && a->century == b->century;
}

static unsigned int bcd(unsigned int v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static enum check_result check_rtc(struct check_ctx *ctx)
{
	struct rtc_time t, again;
	unsigned int tries, pm;
	uint8_t reg_b;
	uint64_t now;
	int64_t epoch, year, diff;

	for (tries = 0; tries < 10; tries++) {
		if (!wait_no_update())
			return check_fail(ctx, "update-in-progress never clears");
		read_raw(&t);
		if (!wait_no_update())
			return check_fail(ctx, "update-in-progress never clears");
		read_raw(&again);
		if (same_time(&t, &again))
			break;
	}
	if (tries == 10)
		return check_fail(ctx, "time keeps changing between two reads");

	reg_b = cmos_read(RTC_REG_B);
	pm = t.hour & HOUR_PM;
	t.hour &= ~HOUR_PM;
	if (!(reg_b & REG_B_BINARY)) {
		t.sec = bcd(t.sec);
		t.min = bcd(t.min);
		t.hour = bcd(t.hour);
		t.day = bcd(t.day);
		t.mon = bcd(t.mon);
		t.year = bcd(t.year);
		t.century = bcd(t.century);
	}
	if (!(reg_b & REG_B_24H))
		t.hour = t.hour % 12 + (pm ? 12 : 0);

	if (t.sec > 59 || t.min > 59 || t.hour > 23 || t.day < 1 || t.day > 31 || t.mon < 1 ||
	    t.mon > 12 || t.year > 99)
		return check_fail(ctx, "invalid date %u-%u-%u %u:%u:%u (register B 0x%x)", t.year,
				  t.mon, t.day, t.hour, t.min, t.sec, reg_b);

	year = (t.century >= 19 && t.century <= 30 ? t.century : 20) * 100 + t.year;
	epoch = days_from_civil(year, t.mon, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec;

	if (!cmdline_get_u64("now", &now)) {
		if (year < 2020)
			return check_fail(ctx, "RTC says year %ld", year);
		return CHECK_PASS;
	}
	diff = epoch - (int64_t)now;
	if (diff < -MAX_TIME_SKEW || diff > MAX_TIME_SKEW)
		return check_fail(ctx,
				  "RTC %04ld-%02u-%02u %02u:%02u:%02u = %ld, now=%lu (%ld s off)",
				  year, t.mon, t.day, t.hour, t.min, t.sec, epoch, now, diff);
	return CHECK_PASS;
}

DEFINE_CHECK(rtc, check_rtc, true);
