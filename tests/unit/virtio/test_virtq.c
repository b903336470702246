// SPDX-License-Identifier: MulanPSL-2.0
/* The split-ring walker against well-formed and hostile descriptor tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "virtio/queue.h"

#define RAM_SIZE  (1u << 20)
#define QSIZE	  16
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define IND_GPA	  0x4000 /* indirect tables */
#define BUF_GPA	  0x10000

static uint8_t *ram;
static struct guest_mem mem;
static struct virtq vq;
static struct iovec iov[64];
static struct virtq_chain chain;

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(ram + DESC_GPA) + i;
}

static struct virtq_desc *ind(unsigned i)
{
	return (struct virtq_desc *)(ram + IND_GPA) + i;
}

static struct virtq_avail *avail(void)
{
	return (struct virtq_avail *)(ram + AVAIL_GPA);
}

static struct virtq_used *used(void)
{
	return (struct virtq_used *)(ram + USED_GPA);
}

static void set(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void post(uint16_t head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static int setup_opts(bool indirect, bool event_idx)
{
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return -1;
	gmem_init_flat(&mem, ram, 0, RAM_SIZE);
	if (virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, indirect, event_idx, NULL))
		return -1;
	memset(&chain, 0, sizeof(chain));
	chain.iov = iov;
	chain.max_segs = 64;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_opts(true, false);
}

static int setup_evidx(void **state)
{
	(void)state;
	return setup_opts(true, true);
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static int pop(void)
{
	return virtq_pop_chain(&vq, &chain);
}

/* ---- well-formed chains ---- */

static void direct_chain(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	set(desc(5), BUF_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	set(desc(3), BUF_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	assert_int_equal(pop(), 1);
	assert_int_equal(chain.head, 0);
	assert_int_equal(chain.nr_segs, 3);
	assert_int_equal(chain.nr_readable, 1);
	assert_int_equal(chain.readable_len, 16);
	assert_int_equal(chain.writable_len, 513);
	assert_ptr_equal(chain.iov[1].iov_base, ram + BUF_GPA + 0x100);
	assert_true(virtq_seg_is_write(&chain, 2));
	assert_false(virtq_seg_is_write(&chain, 0));
	assert_int_equal(pop(), 0);
	virtq_push_used(&vq, chain.head, 513);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 0);
	assert_int_equal(used()->ring[0].len, 513);
}

static void indirect_chain(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1); /* direct, then indirect */
	set(desc(1), IND_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA + 8, 8, VIRTQ_DESC_F_NEXT, 2);
	set(ind(2), BUF_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set(ind(1), BUF_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	assert_int_equal(pop(), 1);
	assert_int_equal(chain.nr_segs, 4);
	assert_int_equal(chain.nr_readable, 2);
	assert_int_equal(chain.readable_len, 16);
	assert_int_equal(chain.writable_len, 101);
}

static void zero_length_skipped(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 0, VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), BUF_GPA, 4, 0, 0);
	post(0);
	assert_int_equal(pop(), 1);
	assert_int_equal(chain.nr_segs, 1);
	assert_int_equal(chain.readable_len, 4);
}

static void many_chains_wrap(void **state)
{
	(void)state;
	/* Free-running indexes wrap at 2^16, not at the queue size. */
	avail()->idx = 65530;
	used()->idx = 65530;
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, false, NULL), 0);
	for (int i = 0; i < 40; i++) {
		set(desc(i % QSIZE), BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
		post(i % QSIZE);
		assert_int_equal(pop(), 1);
		assert_int_equal(chain.head, i % QSIZE);
		virtq_push_used(&vq, chain.head, 4);
	}
	assert_int_equal(used()->idx, (uint16_t)(65530 + 40));
}

static void unpop_returns_chain(void **state)
{
	(void)state;
	set(desc(2), BUF_GPA, 4, 0, 0);
	post(2);
	assert_false(virtq_empty(&vq));
	assert_int_equal(pop(), 1);
	assert_true(virtq_empty(&vq));
	virtq_unpop(&vq);
	assert_int_equal(pop(), 1);
	assert_int_equal(chain.head, 2);
}

/* ---- hostile tables ---- */

static void expect_error(int err)
{
	assert_int_equal(pop(), err);
	assert_non_null(chain.err);
}

static void addr_outside_ram(void **state)
{
	(void)state;
	set(desc(0), RAM_SIZE + 0x1000, 16, 0, 0);
	post(0);
	expect_error(-EFAULT);
}

static void addr_len_wraps(void **state)
{
	(void)state;
	set(desc(0), UINT64_MAX - 7, 64, 0, 0);
	post(0);
	expect_error(-EFAULT);
}

static void len_crosses_end_of_ram(void **state)
{
	(void)state;
	set(desc(0), RAM_SIZE - 8, 16, 0, 0);
	post(0);
	expect_error(-EFAULT);
}

static void huge_len(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	expect_error(-EFAULT);
}

static void next_out_of_range(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	post(0);
	expect_error(-EINVAL);
}

static void head_out_of_range(void **state)
{
	(void)state;
	post(QSIZE + 3);
	expect_error(-EINVAL);
}

static void self_loop(void **state)
{
	(void)state;
	set(desc(4), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 4);
	post(4);
	expect_error(-EINVAL);
}

static void two_desc_loop(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	expect_error(-EINVAL);
}

static void chain_longer_than_size(void **state)
{
	(void)state;
	/* A full-table cycle: every index is valid, the walk never ends. */
	for (int i = 0; i < QSIZE; i++)
		set(desc(i), BUF_GPA, 1, VIRTQ_DESC_F_NEXT, (i + 1) % QSIZE);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_not_negotiated(void **state)
{
	(void)state;
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, false, false, NULL), 0);
	set(desc(0), IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA, 16, 0, 0);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_table_outside_ram(void **state)
{
	(void)state;
	set(desc(0), RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	expect_error(-EFAULT);
}

static void indirect_len_misaligned(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA, 16, 0, 0);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_len_zero(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_too_large(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, (VIRTQ_MAX_SIZE + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	expect_error(-E2BIG);
}

static void nested_indirect(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set(ind(1), IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_with_next(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), BUF_GPA, 16, 0, 0);
	set(ind(0), BUF_GPA, 16, 0, 0);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_loop(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	for (int i = 0; i < 4; i++)
		set(ind(i), BUF_GPA, 1, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
	post(0);
	expect_error(-EINVAL);
}

static void indirect_next_out_of_table(void **state)
{
	(void)state;
	set(desc(0), IND_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	post(0);
	expect_error(-EINVAL);
}

static void read_after_write(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), BUF_GPA, 16, 0, 0);
	post(0);
	expect_error(-EINVAL);
}

static void read_after_write_indirect(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set(ind(0), BUF_GPA, 16, 0, 0);
	post(0);
	expect_error(-EINVAL);
}

static void avail_idx_jump(void **state)
{
	(void)state;
	set(desc(0), BUF_GPA, 16, 0, 0);
	avail()->ring[0] = 0;
	avail()->idx = QSIZE + 1;
	expect_error(-EINVAL);
	avail()->idx = (uint16_t)-1; /* "behind" us: also a jump of 65535 */
	expect_error(-EINVAL);
}

static void too_many_segments(void **state)
{
	(void)state;
	chain.max_segs = 2;
	set(desc(0), BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 1);
	set(desc(1), BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 2);
	set(desc(2), BUF_GPA, 1, 0, 0);
	post(0);
	expect_error(-E2BIG);
}

static void total_length_over_4g(void **state)
{
	const uint64_t big = 5ULL << 30;
	struct guest_mem bigmem;
	uint8_t *bigram = mmap(NULL, big, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct virtq_desc *d;

	(void)state;
	if (bigram == MAP_FAILED)
		skip();
	gmem_init_flat(&bigmem, bigram, 0, big);
	assert_int_equal(
	    virtq_init(&vq, &bigmem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, false, NULL), 0);
	d = (struct virtq_desc *)(bigram + DESC_GPA);
	set(&d[0], 0x100000, 3u << 30, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set(&d[1], 0x100000, 3u << 30, VIRTQ_DESC_F_WRITE, 0);
	((struct virtq_avail *)(bigram + AVAIL_GPA))->ring[0] = 0;
	((struct virtq_avail *)(bigram + AVAIL_GPA))->idx = 1;
	expect_error(-E2BIG);
	munmap(bigram, big);
}

static void init_rejects_bad_layout(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(virtq_init(&vq, &mem, 12, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, &why),
			 -EINVAL);
	assert_non_null(why);
	assert_int_equal(virtq_init(&vq, &mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, &why),
			 -EINVAL);
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0, 0, &why), -EINVAL);
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0, 0, &why), -EINVAL);
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0, 0, &why), -EINVAL);
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, RAM_SIZE - 64, AVAIL_GPA, USED_GPA, 0, 0, &why), -EINVAL);
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, RAM_SIZE - 16, 0, 0, &why), -EINVAL);
	assert_false(vq.ready);
	assert_int_equal(pop(), 0); /* not ready: nothing to pop, no crash */
	virtq_push_used(&vq, 0, 0); /* a late completion is dropped */
	assert_false(virtq_should_notify(&vq));
}

/* ---- notification suppression ---- */

static void no_interrupt_flag(void **state)
{
	(void)state;
	virtq_push_used(&vq, 0, 0);
	assert_true(virtq_should_notify(&vq));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push_used(&vq, 0, 0);
	assert_false(virtq_should_notify(&vq));
}

static void no_notify_flag(void **state)
{
	(void)state;
	virtq_disable_notify(&vq);
	assert_int_equal(used()->flags, VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(used()->flags, 0);
	post(0);
	virtq_disable_notify(&vq);
	assert_true(virtq_enable_notify(&vq)); /* a chain arrived meanwhile */
}

static void event_idx_used_event(void **state)
{
	uint16_t *used_event = &avail()->ring[QSIZE];

	(void)state;
	virtq_push_used(&vq, 0, 0); /* first interrupt is always sent */
	assert_true(virtq_should_notify(&vq));
	*used_event = 1; /* interrupt when used idx moves past 1 */
	virtq_push_used(&vq, 0, 0);
	assert_true(virtq_should_notify(&vq));
	*used_event = 5;
	virtq_push_used(&vq, 0, 0); /* idx 3 */
	assert_false(virtq_should_notify(&vq));
	virtq_push_used(&vq, 0, 0); /* idx 4 */
	assert_false(virtq_should_notify(&vq));
	virtq_push_used(&vq, 0, 0); /* idx 5 */
	virtq_push_used(&vq, 0, 0); /* idx 6: crossed 5 in this batch */
	assert_true(virtq_should_notify(&vq));
	assert_false(virtq_should_notify(&vq)); /* nothing new */
	/* NO_INTERRUPT is ignored with EVENT_IDX. */
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	*used_event = 6;
	virtq_push_used(&vq, 0, 0);
	assert_true(virtq_should_notify(&vq));
}

static void event_idx_wraps(void **state)
{
	uint16_t *used_event = &avail()->ring[QSIZE];

	(void)state;
	used()->idx = 65534;
	avail()->idx = 65534;
	assert_int_equal(
	    virtq_init(&vq, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, true, NULL), 0);
	virtq_push_used(&vq, 0, 0); /* 65535 */
	assert_true(virtq_should_notify(&vq));
	*used_event = 0;
	virtq_push_used(&vq, 0, 0); /* 0 */
	assert_false(virtq_should_notify(&vq));
	virtq_push_used(&vq, 0, 0); /* 1: crossed 0 */
	assert_true(virtq_should_notify(&vq));
}

static void event_idx_avail_event(void **state)
{
	uint16_t *avail_event = (uint16_t *)&used()->ring[QSIZE];

	(void)state;
	set(desc(0), BUF_GPA, 16, 0, 0);
	post(0);
	post(0);
	assert_int_equal(pop(), 1);
	virtq_disable_notify(&vq);
	assert_int_equal(used()->flags, 0);    /* EVENT_IDX: flags untouched */
	assert_true(virtq_enable_notify(&vq)); /* one still pending */
	assert_int_equal(*avail_event, 1);
	assert_int_equal(pop(), 1);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(*avail_event, 2);
}

static void iov_helpers(void **state)
{
	char a[3] = "abc", b[4] = "defg", out[8] = {0};
	struct iovec v[2] = {{a, 3}, {b, 4}};

	(void)state;
	assert_int_equal(iov_length(v, 2), 7);
	assert_int_equal(iov_to_buf(v, 2, 2, out, 4), 4);
	assert_memory_equal(out, "cdef", 4);
	assert_int_equal(iov_from_buf(v, 2, 5, "XYZ", 3), 2);
	assert_memory_equal(b, "deXY", 4);
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TE(fn) cmocka_unit_test_setup_teardown(fn, setup_evidx, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(direct_chain),
	    T(indirect_chain),
	    T(zero_length_skipped),
	    T(many_chains_wrap),
	    T(unpop_returns_chain),
	    T(addr_outside_ram),
	    T(addr_len_wraps),
	    T(len_crosses_end_of_ram),
	    T(huge_len),
	    T(next_out_of_range),
	    T(head_out_of_range),
	    T(self_loop),
	    T(two_desc_loop),
	    T(chain_longer_than_size),
	    T(indirect_not_negotiated),
	    T(indirect_table_outside_ram),
	    T(indirect_len_misaligned),
	    T(indirect_len_zero),
	    T(indirect_too_large),
	    T(nested_indirect),
	    T(indirect_with_next),
	    T(indirect_loop),
	    T(indirect_next_out_of_table),
	    T(read_after_write),
	    T(read_after_write_indirect),
	    T(avail_idx_jump),
	    T(too_many_segments),
	    T(total_length_over_4g),
	    T(init_rejects_bad_layout),
	    T(no_interrupt_flag),
	    T(no_notify_flag),
	    TE(event_idx_used_event),
	    TE(event_idx_wraps),
	    TE(event_idx_avail_event),
	    T(iov_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
