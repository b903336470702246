/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_UTC_H
#define SV_UTIL_UTC_H

/*
 * UTC calendar arithmetic (proleptic Gregorian, no leap seconds) for the
 * emulated clocks.  The C library's gmtime_r() and timegm() bring in its
 * whole time-zone code (tzset, the TZ file reader and sscanf with the
 * floating-point strto* family: about 100 KiB of the static binary, all of
 * it resident) and read /etc/localtime on first use; a guest clock in UTC
 * needs none of it.
 */
#include <time.h>

/* t (seconds since 1970-01-01 00:00:00 UTC) as broken-down UTC time. */
void utc_to_tm(long long t, struct tm *tm);

/*
 * The inverse; out-of-range fields carry over as timegm() does (a month of
 * 12 is January of the next year, a day of 32 runs into the next month).
 */
long long utc_from_tm(const struct tm *tm);

#endif
