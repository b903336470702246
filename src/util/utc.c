// SPDX-License-Identifier: MulanPSL-2.0
/* UTC calendar arithmetic without the C library's time-zone code (utc.h). */
#include <stdbool.h>

#include "util/utc.h"

#define SECS_PER_DAY 86400LL

/* Days before the first of each month in a common year. */
static const int days_before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/* a / b rounded towards minus infinity (b > 0). */
static long long floor_div(long long a, long long b)
{
	return a / b - (a % b < 0);
}

static bool is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y). */
static long long leaps_before(long long y)
{
	y--;
	return floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
}

/* Days from 1970-01-01 to January 1st of year y. */
static long long year_start(long long y)
{
	return (y - 1970) * 365 + leaps_before(y) - leaps_before(1970);
}

void utc_to_tm(long long t, struct tm *tm)
{
	long long days = floor_div(t, SECS_PER_DAY);
	long long secs = t - days * SECS_PER_DAY;
	long long y = 1970 + floor_div(days, 366);
	int yday, mon;

	/* a year has at most 366 days: walk from the estimate to the day's year */
	while (year_start(y) > days)
		y--;
	while (year_start(y + 1) <= days)
		y++;
	yday = (int)(days - year_start(y));
	for (mon = 11; mon > 0; mon--)
		if (yday >= days_before_month[mon] + (mon >= 2 && is_leap(y)))
			break;
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = mon;
	tm->tm_mday = yday - days_before_month[mon] - (mon >= 2 && is_leap(y)) + 1;
	tm->tm_yday = yday;
	tm->tm_wday = (int)(days - 7 * floor_div(days + 4, 7) + 4); /* 1970-01-01: Thursday */
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_isdst = 0;
}

long long utc_from_tm(const struct tm *tm)
{
	long long mon = tm->tm_mon;
	long long y = 1900LL + tm->tm_year + floor_div(mon, 12);
	long long days;

	mon -= 12 * floor_div(mon, 12);
	days = year_start(y) + days_before_month[mon] + (mon >= 2 && is_leap(y)) + tm->tm_mday - 1;
	return ((days * 24 + tm->tm_hour) * 60 + tm->tm_min) * 60 + tm->tm_sec;
}
