// SPDX-License-Identifier: MulanPSL-2.0
/* CMOS RTC and NVRAM at ports 0x70/0x71: the host's time, in UTC. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch/x86_64/layout.h"
#include "machine/vm.h"
#include "util/utc.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_WDAY    0x06
#define RTC_MDAY    0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32

#define REG_B_24H 0x02
#define REG_B_BIN 0x04

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
	long long offset; /* guest-set time minus host time, seconds */
};

static struct cmos cmos;

static uint8_t to_bcd(const struct cmos *c, int v)
{
	if (c->ram[RTC_REG_B] & REG_B_BIN)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_bcd(const struct cmos *c, uint8_t v)
{
	if (c->ram[RTC_REG_B] & REG_B_BIN)
		return v;
	return (v >> 4) * 10 + (v & 0xf);
}

/* clock_gettime(): the one clock call the seccomp lists allow (no time(2)) */
static long long wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint8_t read_time(struct cmos *c, uint8_t reg)
{
	struct tm tm;

	utc_to_tm(wall_now() + c->offset, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return to_bcd(c, tm.tm_sec);
	case RTC_MINUTES:
		return to_bcd(c, tm.tm_min);
	case RTC_HOURS:
		if (c->ram[RTC_REG_B] & REG_B_24H)
			return to_bcd(c, tm.tm_hour);
		return to_bcd(c, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12) |
		       (tm.tm_hour >= 12 ? 0x80 : 0);
	case RTC_WDAY:
		return to_bcd(c, tm.tm_wday + 1);
	case RTC_MDAY:
		return to_bcd(c, tm.tm_mday);
	case RTC_MONTH:
		return to_bcd(c, tm.tm_mon + 1);
	case RTC_YEAR:
		return to_bcd(c, tm.tm_year % 100);
	default:
		return to_bcd(c, (tm.tm_year + 1900) / 100);
	}
}

/* A guest that sets the clock moves our offset; the host clock is untouched. */
static void write_time(struct cmos *c, uint8_t reg, uint8_t v)
{
	struct tm tm;

	utc_to_tm(wall_now() + c->offset, &tm);
	switch (reg) {
	case RTC_SECONDS:
		tm.tm_sec = from_bcd(c, v);
		break;
	case RTC_MINUTES:
		tm.tm_min = from_bcd(c, v);
		break;
	case RTC_HOURS:
		tm.tm_hour = from_bcd(c, v & 0x7f) % 24;
		break;
	case RTC_MDAY:
		tm.tm_mday = from_bcd(c, v);
		break;
	case RTC_MONTH:
		tm.tm_mon = from_bcd(c, v) - 1;
		break;
	case RTC_YEAR:
		tm.tm_year = (tm.tm_year / 100) * 100 + from_bcd(c, v) % 100;
		break;
	default:
		return;
	}
	c->offset = utc_from_tm(&tm) - wall_now();
}

static bool is_time_reg(uint8_t r)
{
	return r == RTC_SECONDS || r == RTC_MINUTES || r == RTC_HOURS || r == RTC_WDAY ||
	       r == RTC_MDAY || r == RTC_MONTH || r == RTC_YEAR || r == RTC_CENTURY;
}

static void cmos_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct cmos *c = opaque;

	if (len != 1)
		return;
	pthread_mutex_lock(&c->lock);
	if (offset == 0) {
		if (is_write)
			c->index = data[0] & 0x7f; /* bit 7 is the NMI mask */
		else
			data[0] = c->index;
	} else if (is_write) {
		if (is_time_reg(c->index))
			write_time(c, c->index, data[0]);
		else if (c->index == RTC_REG_A)
			c->ram[RTC_REG_A] = data[0] & 0x7f; /* UIP is read-only */
		else if (c->index != RTC_REG_C && c->index != RTC_REG_D)
			c->ram[c->index] = data[0];
	} else {
		data[0] = is_time_reg(c->index) ? read_time(c, c->index) : c->ram[c->index];
		if (c->index == RTC_REG_C)
			c->ram[RTC_REG_C] = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

static int cmos_init(struct vm *vm)
{
	uint64_t mem = vm->mem.ram_size;
	uint64_t below4g = mem < LAYOUT_MEM_BELOW_4G_END ? mem : LAYOUT_MEM_BELOW_4G_END;
	uint64_t ext, high, above4g = mem - below4g;

	memset(&cmos, 0, sizeof(cmos));
	pthread_mutex_init(&cmos.lock, NULL);
	cmos.ram[RTC_REG_A] = 0x26;
	cmos.ram[RTC_REG_B] = REG_B_24H;
	cmos.ram[RTC_REG_D] = 0x80; /* battery good */
	/* Memory sizes, as firmware would leave them. */
	ext = below4g > (1 << 20) ? (below4g - (1 << 20)) >> 10 : 0;
	if (ext > 0xffff)
		ext = 0xffff;
	cmos.ram[0x17] = cmos.ram[0x30] = (uint8_t)ext;
	cmos.ram[0x18] = cmos.ram[0x31] = (uint8_t)(ext >> 8);
	high = below4g > (16 << 20) ? (below4g - (16 << 20)) >> 16 : 0;
	if (high > 0xffff)
		high = 0xffff;
	cmos.ram[0x34] = (uint8_t)high;
	cmos.ram[0x35] = (uint8_t)(high >> 8);
	above4g >>= 16;
	cmos.ram[0x5b] = (uint8_t)above4g;
	cmos.ram[0x5c] = (uint8_t)(above4g >> 8);
	cmos.ram[0x5d] = (uint8_t)(above4g >> 16);
	return bus_register(&vm->pio_bus, PORT_CMOS, 2, cmos_io, &cmos, "cmos-rtc");
}

static const struct vm_device_ops cmos_ops = {
    .name = "cmos-rtc",
    .order = 12,
    .init = cmos_init,
};
VM_DEVICE_REGISTER(cmos_ops)
