// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Hostile driver, second part (storm=1): register and ring abuse that is not
 * one malformed chain. Needs a virtio-blk disk (the target) and a virtio-rng
 * (the bystander, and the target of the kick storm). Phases, each reported
 * as `PASS virtio_storm_<phase>` between `INFO virtio_storm_<phase> start`
 * and `... done` lines (the host samples the VMM's memory between them):
 *
 *   ro_regs     writes of every size to the read-only registers and to the
 *               disk's capacity; each must read back unchanged
 *   queue_sel   out-of-range QueueSel values, then QueueNum, the ring
 *               addresses, QueueReady and QueueNotify for them: QueueNumMax
 *               and QueueReady read 0, queue 0 keeps working
 *   unmapped    reads and writes of every size where nothing is mapped: MMIO
 *               windows without a device, past a device's registers, the
 *               rest of the MMIO hole
 *   rewrite     the disk's descriptor table and available ring rewritten by
 *               the second vCPU (cpus=2 or more) while this one posts reads
 *               and kicks; with one vCPU, by this one between kick and
 *               completion (said in the INFO line)
 *   kicks       storm_kicks= (default 1000000) QueueNotify writes to the rng
 *               with nothing new in its ring, and 10000 to queue indexes it
 *               does not have
 *   no_reset    the disk driven to DRIVER_OK without FEATURES_OK with a chain
 *               kicked (must not complete; the device needs reset), then never
 *               reset: the VMM must still end cleanly
 *
 * After every phase the rng must serve a request, and the disk a read (until
 * no_reset, which leaves it broken on purpose).
 */
#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/blk.h"

/* Far above any RAM a test VM gets, and below the 4-level paging limit. */
#define ADDR_OUTSIDE_RAM 0x4000000000ULL
#define ADDR_WRAP	 0xfffffffffffff000ULL
#define DEFAULT_KICKS	 1000000ULL
#define DEFAULT_ROUNDS	 2000ULL
#define BAD_QUEUE_KICKS	 10000U
#define UNMAPPED_REPEAT	 50U
/* spins (no VM exit) waiting for a completion before a Status read */
#define SPINS_PER_POLL 2000U
#define POLLS	       200U
#define REOPEN_TRIES   1000U
#define MIN_AP_WRITES  50000ULL

enum phase { P_RO_REGS, P_QUEUE_SEL, P_UNMAPPED, P_REWRITE, P_KICKS, P_NO_RESET, P_COUNT };

static const char *const phase_names[P_COUNT] = {
    [P_RO_REGS] = "ro_regs", [P_QUEUE_SEL] = "queue_sel", [P_UNMAPPED] = "unmapped",
    [P_REWRITE] = "rewrite", [P_KICKS] = "kicks",	  [P_NO_RESET] = "no_reset",
};

struct storm {
	struct vblk blk;
	struct vdev rng;
	struct vq rng_q;
	uint8_t *data; /* two pages the device may write into */
	uint64_t kicks, rounds;
};

static struct storm S;
static volatile bool ap_stop;
static volatile uint64_t ap_writes;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool rng_serves(void)
{
	uint32_t len = 0;

	return vq_transact(&S.rng_q, &(struct vbuf){vaddr(S.data) + 6144, 64, true}, 1, &len) ==
		   1 &&
	       len > 0;
}

static bool blk_serves(void)
{
	return vblk_request(&S.blk, VBLK_T_IN, 0, S.data + 4096, SECTOR_SIZE) == VBLK_S_OK;
}

static int blk_reopen(const char **why)
{
	/* no INDIRECT_DESC: a scribbled INDIRECT flag is refused, never followed */
	return vblk_open_dev(&S.blk, &S.blk.dev, 0, why);
}

static enum check_result bystanders(struct check_ctx *ctx, bool disk_too)
{
	if (!rng_serves())
		return check_fail(ctx, "virtio-rng stopped serving");
	if (disk_too && !blk_serves())
		return check_fail(ctx, "the disk stopped serving");
	return CHECK_PASS;
}

/* ---- ro_regs ---- */

static const uint32_t ro_regs[] = {VIO_MAGIC_VALUE, VIO_VERSION,	 VIO_DEVICE_ID,
				   VIO_VENDOR_ID,   VIO_DEVICE_FEATURES, VIO_QUEUE_NUM_MAX,
				   VIO_CONFIG_GEN};

/* 1, 2 and 4 bytes at addr; 8 bytes too where addr is 8-aligned and wide */
static void write_sizes(uint64_t addr, uint64_t v, bool wide)
{
	mmio_write8(addr, (uint8_t)v);
	mmio_write16(addr, (uint16_t)v);
	mmio_write32(addr, (uint32_t)v);
	if (wide && !(addr & 7))
		mmio_write64(addr, v);
}

static enum check_result ro_regs_on(struct check_ctx *ctx, struct vdev *d, const char *what)
{
	for (unsigned int i = 0; i < sizeof(ro_regs) / sizeof(ro_regs[0]); i++) {
		uint32_t before = vio_read(d, ro_regs[i]), after;
		/* 8 bytes only where both halves are read-only (Magic+Version, IDs) */
		bool wide = ro_regs[i] == VIO_MAGIC_VALUE || ro_regs[i] == VIO_DEVICE_ID;

		write_sizes(d->base + ro_regs[i], 0xffffffffffffffffULL, wide);
		write_sizes(d->base + ro_regs[i], 0, wide);
		write_sizes(d->base + ro_regs[i], ~(uint64_t)before, wide);
		after = vio_read(d, ro_regs[i]);
		if (after != before)
			return check_fail(ctx, "%s register 0x%x changed 0x%x -> 0x%x", what,
					  ro_regs[i], before, after);
	}
	/* InterruptStatus: written, must not break anything (its value may change) */
	write_sizes(d->base + VIO_INTERRUPT_STATUS, 0xffffffffffffffffULL, false);
	return CHECK_PASS;
}

static enum check_result phase_ro_regs(struct check_ctx *ctx)
{
	uint64_t cap = vio_cfg64(&S.blk.dev, VBLK_CFG_CAPACITY), now;
	enum check_result r;

	r = ro_regs_on(ctx, &S.rng, "virtio-rng");
	if (r != CHECK_PASS)
		return r;
	r = ro_regs_on(ctx, &S.blk.dev, "virtio-blk");
	if (r != CHECK_PASS)
		return r;
	write_sizes(S.blk.dev.base + VIO_CONFIG + VBLK_CFG_CAPACITY, 0x1234567812345678ULL, true);
	write_sizes(S.blk.dev.base + VIO_CONFIG + VBLK_CFG_CAPACITY + 4, ~0ULL, false);
	now = vio_cfg64(&S.blk.dev, VBLK_CFG_CAPACITY);
	if (now != cap)
		return check_fail(ctx, "disk capacity changed %lu -> %lu by a config write", cap,
				  now);
	return bystanders(ctx, true);
}

/* ---- queue_sel ---- */

static const uint32_t bad_sels[] = {1, 2, 7, 8, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff};

static enum check_result bad_queue_regs(struct check_ctx *ctx, struct vdev *d, uint32_t first_bad)
{
	for (unsigned int i = 0; i < sizeof(bad_sels) / sizeof(bad_sels[0]); i++) {
		uint32_t sel = bad_sels[i];

		if (sel < first_bad)
			continue;
		vio_write(d, VIO_QUEUE_SEL, sel);
		if (vio_read(d, VIO_QUEUE_NUM_MAX))
			return check_fail(ctx, "QueueSel %u: QueueNumMax %u, not 0", sel,
					  vio_read(d, VIO_QUEUE_NUM_MAX));
		vio_write(d, VIO_QUEUE_NUM, 64);
		vio_write(d, VIO_QUEUE_DESC_LOW, 0x1000);
		vio_write(d, VIO_QUEUE_DESC_HIGH, 0x40);
		vio_write(d, VIO_QUEUE_DRIVER_LOW, 0);
		vio_write(d, VIO_QUEUE_DRIVER_HIGH, 0xffffffff);
		vio_write(d, VIO_QUEUE_DEVICE_LOW, 0x2000);
		vio_write(d, VIO_QUEUE_DEVICE_HIGH, 0);
		vio_write(d, VIO_QUEUE_READY, 1);
		if (vio_read(d, VIO_QUEUE_READY))
			return check_fail(ctx, "QueueSel %u: QueueReady reads 1", sel);
		vio_write(d, VIO_QUEUE_NOTIFY, sel);
	}
	vio_write(d, VIO_QUEUE_SEL, 0);
	if (!vio_read(d, VIO_QUEUE_READY))
		return check_fail(ctx, "queue 0 no longer ready after the bad selectors");
	return CHECK_PASS;
}

static enum check_result phase_queue_sel(struct check_ctx *ctx)
{
	enum check_result r = bad_queue_regs(ctx, &S.rng, 1);

	if (r != CHECK_PASS)
		return r;
	/* a disk may have several queues: only selectors far past any count */
	r = bad_queue_regs(ctx, &S.blk.dev, 0x100);
	if (r != CHECK_PASS)
		return r;
	return bystanders(ctx, true);
}

/* ---- unmapped ---- */

static void poke(uint64_t addr)
{
	for (unsigned int i = 0; i < UNMAPPED_REPEAT; i++) {
		(void)mmio_read8(addr);
		(void)mmio_read16(addr);
		(void)mmio_read32(addr);
		(void)mmio_read64(addr & ~7ULL);
		write_sizes(addr & ~7ULL, 0xdeadbeefcafef00dULL ^ i, true);
	}
}

static enum check_result phase_unmapped(struct check_ctx *ctx)
{
	static const uint64_t hole[] = {0xc0000000ULL, 0xd0000000ULL, 0xe0000000ULL, 0xefff0000ULL,
					0xf0000000ULL};
	unsigned int slot, empty = 0;
	uint32_t id;

	for (unsigned int i = 0; i < sizeof(hole) / sizeof(hole[0]); i++)
		poke(hole[i]);
	/* windows without a device, and past the last one */
	for (slot = 0; slot < 17; slot++) {
		if (slot < 16 && vio_present(slot, &id))
			continue;
		poke(vio_window(slot));
		poke(vio_window(slot) + 0x70);
		empty++;
	}
	/* inside a device's window, past its registers and config */
	poke(S.rng.base + 0x1f8);
	poke(S.blk.dev.base + 0x1fc);
	printf("INFO virtio_storm_unmapped %u empty windows poked\n", empty);
	return bystanders(ctx, true);
}

/* ---- rewrite ---- */

/* One rewrite of the disk's descriptor table or available ring. */
static void scribble(uint64_t *seed)
{
	struct vq *q = &S.blk.q;
	volatile struct vring_desc *d = q->desc;
	volatile struct vring_avail *a = q->avail;
	static const uint32_t lens[8] = {0, 1, 15, 16, 512, 513, 4096, 0xffffffff};
	uint64_t r = xorshift(seed);
	uint16_t num = q->num ? q->num : 1;
	unsigned int i = (unsigned int)(r >> 8) % num;
	uint64_t addr;

	switch ((r >> 4) & 3) {
	case 0:
		addr = vaddr(S.data) + ((r >> 20) & 0xff0);
		break;
	case 1:
		addr = vaddr(S.blk.hdr);
		break;
	case 2:
		addr = ADDR_OUTSIDE_RAM;
		break;
	default:
		addr = ADDR_WRAP;
		break;
	}
	switch (r & 7) {
	case 0:
	case 1:
		d[i].addr = addr;
		if (d[i].len > 4096) /* RAM addresses: within the pages the device may write */
			d[i].len = 4096;
		break;
	case 2:
		d[i].len = lens[(r >> 32) & 7];
		/* within the two pages the device may write */
		if (d[i].len > 4096 && (d[i].addr >> 32) == 0)
			d[i].len = 4096;
		break;
	case 3:
		d[i].flags = (uint16_t)((r >> 40) & 7);
		break;
	case 4:
		d[i].next = (uint16_t)((r >> 44) % (num + 4U));
		break;
	case 5:
	case 6:
		a->ring[i] = (uint16_t)((r >> 44) % (num + 4U));
		break;
	default:
		if (!((r >> 50) & 63))
			a->idx = (uint16_t)(a->idx + ((r >> 56) & 0xff));
		else
			a->ring[i] = 0;
		break;
	}
}

static void ap_scribbler(void)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;

	while (!ap_stop) {
		scribble(&seed);
		ap_writes++;
	}
}

/* Posts a good read at head 0 (as a driver would) and kicks; avail is ours. */
static void post_good(uint16_t *idx)
{
	struct vq *q = &S.blk.q;
	volatile struct vring_desc *d = q->desc;

	S.blk.hdr->type = VBLK_T_IN;
	S.blk.hdr->reserved = 0;
	S.blk.hdr->sector = 0;
	d[0].addr = vaddr(S.blk.hdr);
	d[0].len = sizeof(struct vblk_hdr);
	d[0].flags = VRING_DESC_F_NEXT;
	d[0].next = 1;
	d[1].addr = vaddr(S.data);
	d[1].len = SECTOR_SIZE;
	d[1].flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;
	d[1].next = 2;
	d[2].addr = vaddr(S.blk.status);
	d[2].len = 1;
	d[2].flags = VRING_DESC_F_WRITE;
	d[2].next = 0;
	q->avail->ring[*idx % q->num] = 0;
	mb();
	*idx = (uint16_t)(*idx + 1);
	*(volatile uint16_t *)&q->avail->idx = *idx;
	mb();
	vio_write(&S.blk.dev, VIO_QUEUE_NOTIFY, 0);
}

/* 1 completed, -1 needs reset, 0 nothing within the bound */
static int wait_round(uint16_t used_before, bool self_scribble, uint64_t *seed)
{
	volatile uint16_t *used_idx = &S.blk.q.used->idx;

	for (unsigned int p = 0; p < POLLS; p++) {
		for (unsigned int s = 0; s < SPINS_PER_POLL; s++) {
			if (*used_idx != used_before)
				return 1;
			if (self_scribble && s < 64)
				scribble(seed);
			cpu_relax();
		}
		if (vio_status(&S.blk.dev) & VIO_S_NEEDS_RESET)
			return -1;
	}
	return 0;
}

static enum check_result phase_rewrite(struct check_ctx *ctx)
{
	unsigned int done = 0, resets = 0, silent = 0, reopen_failed = 0, tries;
	uint64_t r;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	bool other_cpu = facts.cpus_expected >= 2;
	const char *why;
	uint16_t idx = 0;

	if (blk_reopen(&why) < 0)
		return check_fail(ctx, "disk set-up: %s", why);
	ap_stop = false;
	ap_writes = 0;
	if (other_cpu && !smp_start_job(1, ap_scribbler))
		return check_fail(ctx, "the second vCPU did not start");
	/* at least storm_rounds=; more while the other vCPU has made few rewrites */
	for (r = 0; r < S.rounds || (other_cpu && ap_writes < MIN_AP_WRITES && r < 50 * S.rounds);
	     r++) {
		uint16_t used_before = *(volatile uint16_t *)&S.blk.q.used->idx;
		int w;

		post_good(&idx);
		w = wait_round(used_before, !other_cpu, &seed);
		if (w > 0) {
			done++;
			continue;
		}
		if (w == 0)
			silent++;
		else
			resets++;
		/*
		 * A broken or stuck ring: start over, as a driver would. The other
		 * vCPU keeps scribbling, so the device may find a bad ring again as
		 * soon as DRIVER_OK: try again, a bounded number of times.
		 */
		for (tries = 0; tries < REOPEN_TRIES && blk_reopen(&why) < 0; tries++)
			reopen_failed++;
		if (tries == REOPEN_TRIES) {
			ap_stop = true;
			return check_fail(ctx, "disk set-up after round %lu: %s", r, why);
		}
		idx = 0;
	}
	ap_stop = true;
	mb();
	io_delay(100);
	printf("INFO virtio_storm_rewrite %s: %lu rounds, %u completed, %u needed reset, %u "
	       "silent, %u set-ups refused, %lu rewrites by the other vCPU\n",
	       other_cpu ? "by the second vCPU" : "same vCPU between kick and completion", r, done,
	       resets, silent, reopen_failed, ap_writes);
	if (other_cpu && !ap_writes)
		return check_fail(ctx, "the second vCPU made no rewrite");
	if (blk_reopen(&why) < 0)
		return check_fail(ctx, "disk set-up after the storm: %s", why);
	return bystanders(ctx, true);
}

/* ---- kicks ---- */

static enum check_result phase_kicks(struct check_ctx *ctx)
{
	uint32_t nq_probe;

	for (uint64_t i = 0; i < S.kicks; i++)
		vio_write(&S.rng, VIO_QUEUE_NOTIFY, 0);
	for (uint32_t i = 0; i < BAD_QUEUE_KICKS; i++) {
		nq_probe = 1 + (i * 2654435761U) % 0xfffffffeU;
		vio_write(&S.rng, VIO_QUEUE_NOTIFY, nq_probe);
	}
	printf("INFO virtio_storm_kicks %lu kicks of queue 0, %u of absent queues\n", S.kicks,
	       BAD_QUEUE_KICKS);
	return bystanders(ctx, true);
}

/* ---- no_reset ---- */

static enum check_result phase_no_reset(struct check_ctx *ctx)
{
	struct vdev *d = &S.blk.dev;
	struct vq *q = &S.blk.q;
	uint16_t used_before;
	const char *why;

	vio_reset(d);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	vio_write(d, VIO_DRIVER_FEAT_SEL, 1);
	vio_write(d, VIO_DRIVER_FEATURES, 1); /* VERSION_1, never confirmed by FEATURES_OK */
	if (vq_setup(d, q, 0, VQ_DEFAULT, &why) < 0) {
		/* a device may refuse queue set-up before FEATURES_OK: fine */
		printf("INFO virtio_storm_no_reset queue set-up refused: %s\n", why);
	}
	used_before = *(volatile uint16_t *)&q->used->idx;
	for (unsigned int i = 0; i < 1000; i++) {
		uint16_t idx = (uint16_t)i;

		post_good(&idx);
	}
	for (unsigned int i = 0; i < 100000; i++)
		cpu_relax();
	if (*(volatile uint16_t *)&q->used->idx != used_before)
		return check_fail(ctx, "a chain completed before FEATURES_OK and DRIVER_OK");
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_DRIVER_OK);
	for (unsigned int i = 0; i < 100000; i++)
		cpu_relax();
	if (*(volatile uint16_t *)&q->used->idx != used_before)
		return check_fail(ctx, "a chain completed after DRIVER_OK without FEATURES_OK");
	if (!(vio_status(d) & VIO_S_NEEDS_RESET))
		printf("INFO virtio_storm_no_reset status 0x%x (no NEEDS_RESET)\n", vio_status(d));
	/* and it stays that way: the driver never resets the disk again */
	return bystanders(ctx, false);
}

static enum check_result check_virtio_storm(struct check_ctx *ctx)
{
	static enum check_result (*const phases[P_COUNT])(struct check_ctx *) = {
	    [P_RO_REGS] = phase_ro_regs,   [P_QUEUE_SEL] = phase_queue_sel,
	    [P_UNMAPPED] = phase_unmapped, [P_REWRITE] = phase_rewrite,
	    [P_KICKS] = phase_kicks,	   [P_NO_RESET] = phase_no_reset,
	};
	unsigned int failed = 0;
	struct check_ctx sub;
	char name[64];
	const char *why;

	if (!cmdline_is("storm", "1"))
		return check_skip(ctx, "storm=1 not given");
	if (!cmdline_get_u64("storm_kicks", &S.kicks))
		S.kicks = DEFAULT_KICKS;
	if (!cmdline_get_u64("storm_rounds", &S.rounds))
		S.rounds = DEFAULT_ROUNDS;
	S.data = page_alloc(2);
	if (!S.data)
		return check_fail(ctx, "out of guest pages");
	if (!vio_find(VIO_ID_RNG, 0, &S.rng) || vio_init(&S.rng, 0, &why) < 0 ||
	    vq_setup(&S.rng, &S.rng_q, 0, VQ_DEFAULT, &why) < 0)
		return check_fail(ctx, "no virtio-rng to serve as bystander");
	vio_driver_ok(&S.rng);
	for (unsigned int nth = 0;; nth++) {
		if (vblk_open(&S.blk, nth, 0, &why) < 0)
			return check_fail(ctx, "no virtio-blk disk: %s", why);
		if (S.blk.capacity)
			break;
	}
	for (int p = 0; p < P_COUNT; p++) {
		enum check_result r;

		printf("INFO virtio_storm_%s start\n", phase_names[p]);
		sub.reason[0] = '\0';
		r = phases[p](&sub);
		printf("INFO virtio_storm_%s done\n", phase_names[p]);
		snprintf(name, sizeof(name), "virtio_storm_%s", phase_names[p]);
		report(name, r, sub.reason);
		if (r == CHECK_FAIL)
			failed++;
	}
	if (failed)
		return check_fail(ctx, "%u of %u phases failed", failed, P_COUNT);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_storm, check_virtio_storm, false);
