// SPDX-License-Identifier: MulanPSL-2.0
/*
 * clock_gap (clock_gap=1): how long this vCPU goes without running while the
 * host does something (QMP hot-plug, stop/cont), seen from inside.
 *
 * The vCPU spins reading the TSC and keeps the largest gap between two
 * consecutive reads.  About once a millisecond it also reads the COM1 line
 * status (an exit to the VMM) and, when there is one, a bystander disk's
 * capacity (an MMIO exit to a device the host does not touch): so a gap
 * counts the time the vCPU was not running and the time an exit waited in
 * the VMM.  The TSC is calibrated first against the RTC's seconds (two to
 * three seconds), or taken from tsc_khz=K.
 *
 * Then "SVTEST CLOCKGAP-READY tsc_khz=K" and, for each byte the host sends:
 *   'r'  report and start a new window:
 *        "CLOCKGAP n=I ms=T reads=R gap_us=G exit_us=E over100us=A over1ms=B"
 *        (window I lasted T ms, R TSC reads, largest gap G, largest single
 *        exit E, A gaps above 100 us and B above 1 ms); the time spent
 *        printing is in no window
 *   'q'  the same report, then PASS
 * FAIL when the bystander disk's capacity changes, or nothing arrives for
 * clock_gap_idle_s=N seconds (default 300).
 */
#include "check.h"
#include "defs.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "virtio/blk.h"

#define RTC_SECONDS 0x00 /* the CMOS seconds register */
#define EDGES	    3	 /* RTC seconds edges the calibration uses */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * TSC ticks in one RTC second.  Each seconds edge is bracketed by the last
 * poll that read the old second and the first that read the new one; a vCPU
 * preempted there widens the bracket.  Of three edges, the pair whose
 * brackets are narrowest per second between them gives the rate (on an idle
 * host each bracket is one poll, two exits).  0 if the seconds do not tick.
 */
static uint64_t calibrate(void)
{
	uint64_t lo[EDGES], hi[EDGES], before = rdtsc(), now, best = 0, best_w = ~0ULL;
	uint8_t old = cmos_read(RTC_SECONDS), s;
	unsigned int n = 0;

	for (uint64_t polls = 0; polls < 8 * IO_DELAY_PER_SEC && n < EDGES; polls++) {
		s = cmos_read(RTC_SECONDS);
		now = rdtsc();
		if (s != old) {
			lo[n] = before;
			hi[n++] = now;
			old = s;
		}
		before = now;
	}
	if (n < EDGES)
		return 0;
	for (unsigned int i = 0; i < EDGES; i++)
		for (unsigned int j = i + 1; j < EDGES; j++) {
			uint64_t w = (hi[i] - lo[i] + hi[j] - lo[j]) / (j - i);

			if (w < best_w) {
				best_w = w;
				best = ((lo[j] + hi[j]) / 2 - (lo[i] + hi[i]) / 2) / (j - i);
			}
		}
	return best;
}

struct window {
	uint64_t start, reads, gap, exit, over100us, over1ms;
};

static void window_reset(struct window *w)
{
	w->reads = w->gap = w->exit = w->over100us = w->over1ms = 0;
	w->start = rdtsc();
}

static uint64_t us(uint64_t ticks, uint64_t khz)
{
	return ticks * 1000 / khz;
}

static enum check_result check_clock_gap(struct check_ctx *ctx)
{
	uint64_t khz = 0, idle_s = 300, n = 0, prev, now, d, next_poll, last_cmd;
	uint64_t t100, t1ms, poll_ticks, cap = 0;
	struct vdev disk = {0};
	bool have_disk = false;
	struct window w;
	uint8_t lsr;
	int c;

	if (!cmdline_is("clock_gap", "1"))
		return check_skip(ctx, "clock_gap=1 not given");
	cmdline_get_u64("clock_gap_idle_s", &idle_s);
	if (!cmdline_get_u64("tsc_khz", &khz) || !khz)
		khz = calibrate() / 1000;
	if (!khz)
		return check_fail(ctx, "the RTC's seconds did not tick: cannot calibrate the TSC");
	for (unsigned int i = 0; i < vio_count(VIO_ID_BLOCK) && !have_disk; i++) {
		if (vio_find(VIO_ID_BLOCK, i, &disk)) {
			cap = vio_cfg64(&disk, VBLK_CFG_CAPACITY);
			have_disk = cap != 0;
		}
	}
	t100 = khz / 10;
	t1ms = khz;
	poll_ticks = khz;
	while (serial_getc(1) >= 0)
		; /* whatever arrived before we asked */
	printf("SVTEST CLOCKGAP-READY tsc_khz=%lu bystander=%s\n", khz,
	       have_disk ? "disk" : "none");
	window_reset(&w);
	prev = w.start;
	next_poll = prev + poll_ticks;
	last_cmd = prev;
	for (;;) {
		now = rdtsc();
		d = now - prev;
		prev = now;
		w.reads++;
		if (d > w.gap)
			w.gap = d;
		if (d > t100)
			w.over100us++;
		if (d > t1ms)
			w.over1ms++;
		if (now < next_poll)
			continue;
		next_poll = now + poll_ticks;
		/* the exits count in the next gap: prev stays at now */
		if (have_disk && vio_cfg64(&disk, VBLK_CFG_CAPACITY) != cap)
			return check_fail(ctx, "the bystander disk's capacity changed");
		lsr = inb(PORT_COM1 + UART_LSR);
		d = rdtsc() - now;
		if (d > w.exit)
			w.exit = d;
		c = lsr & UART_LSR_DR ? inb(PORT_COM1 + UART_RBR) : -1;
		if (c != 'r' && c != 'q') {
			if (now - last_cmd > idle_s * khz * 1000)
				return check_fail(ctx, "no command from the host in %lu s", idle_s);
			continue;
		}
		/* this poll is the window's last gap: the next read is in the next one */
		if (d > w.gap)
			w.gap = d;
		w.over100us += d > t100;
		w.over1ms += d > t1ms;
		printf("CLOCKGAP n=%lu ms=%lu reads=%lu gap_us=%lu exit_us=%lu over100us=%lu "
		       "over1ms=%lu\n",
		       n++, us(now - w.start, khz) / 1000, w.reads, us(w.gap, khz), us(w.exit, khz),
		       w.over100us, w.over1ms);
		if (c == 'q')
			return CHECK_PASS;
		window_reset(&w);
		prev = last_cmd = w.start;
		next_poll = prev + poll_ticks;
	}
}
DEFINE_CHECK(clock_gap, check_clock_gap, false);
