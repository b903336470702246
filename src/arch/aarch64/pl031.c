// SPDX-License-Identifier: MulanPSL-2.0
/*
 * PL031 RTC at 0x09010000 (SPI 2): a seconds counter that runs with the
 * host's real-time clock from the moment the VM starts; a guest that loads it
 * (hwclock --systohc) keeps its own offset.  The match register is stored
 * but its alarm interrupt is never raised (not supported yet).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch/aarch64/layout.h"
#include "machine/vm.h"

enum {
	REG_DR = 0x000, /* data: the counter */
	REG_MR = 0x004, /* match */
	REG_LR = 0x008, /* load */
	REG_CR = 0x00c, /* control: bit 0 start, always set */
	REG_IMSC = 0x010,
	REG_RIS = 0x014,
	REG_MIS = 0x018,
	REG_ICR = 0x01c,
	REG_ID = 0xfe0,
};

/* PL031 (PeriphID 0x00041031), PrimeCell ID 0xb105f00d */
static const uint8_t pl031_id[8] = {0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

struct pl031 {
	pthread_mutex_t lock;
	int64_t offset; /* counter - host seconds */
	uint32_t mr, imsc;
};

static struct pl031 rtc;

static int64_t host_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static uint32_t read_reg(struct pl031 *s, uint64_t off)
{
	if (off >= REG_ID && off < REG_ID + 32)
		return (off & 3) ? 0 : pl031_id[(off - REG_ID) / 4];
	switch (off) {
	case REG_DR:
		return (uint32_t)(host_seconds() + s->offset);
	case REG_MR:
		return s->mr;
	case REG_LR:
		return (uint32_t)(host_seconds() + s->offset);
	case REG_CR:
		return 1;
	case REG_IMSC:
		return s->imsc;
	default:
		return 0; /* RIS, MIS: no alarm is ever raised */
	}
}

static void write_reg(struct pl031 *s, uint64_t off, uint32_t v)
{
	switch (off) {
	case REG_MR:
		s->mr = v;
		break;
	case REG_LR:
		s->offset = (int64_t)v - host_seconds();
		break;
	case REG_IMSC:
		s->imsc = v & 1;
		break;
	default:
		break; /* DR, RIS, MIS: read-only; CR: the counter cannot be stopped; ICR */
	}
}

static void pl031_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pl031 *s = opaque;
	uint32_t v = 0;

	if (len > 4 || offset >= A64_APB_SIZE)
		return;
	pthread_mutex_lock(&s->lock);
	if (is_write) {
		memcpy(&v, data, len);
		write_reg(s, offset & ~3ULL, v);
	} else {
		v = read_reg(s, offset & ~3ULL) >> (8 * (offset & 3));
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&s->lock);
}

static int pl031_init(struct vm *vm)
{
	int ret;

	memset(&rtc, 0, sizeof(rtc));
	pthread_mutex_init(&rtc.lock, NULL);
	ret = bus_register(&vm->mmio_bus, A64_PL031, A64_APB_SIZE, pl031_io, &rtc, "pl031");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register the PL031 at 0x%llx: %s\n",
			(unsigned long long)A64_PL031, strerror(-ret));
	return ret;
}

static const struct vm_device_ops pl031_ops = {
    .name = "pl031",
    .order = 11,
    .init = pl031_init,
};
VM_DEVICE_REGISTER(pl031_ops)
