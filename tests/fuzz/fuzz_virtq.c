// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for the split-ring walker: the input becomes guest RAM
 * (descriptor table, avail ring, used ring, indirect tables, buffers) and
 * every available chain is popped and returned.
 *
 * Build by hand:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_virtq.c src/virtio/queue.c src/machine/memory.c -o fuzz_virtq
 *   ./fuzz_virtq -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "virtio/queue.h"

#define RAM_SIZE  0x10000
#define DESC_GPA  0x0
#define AVAIL_GPA 0x1000
#define USED_GPA  0x2000

/* memory.c logs; the fuzzer has no log file. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct iovec iov[64];
	struct virtq_chain chain = {.iov = iov, .max_segs = 64};
	struct guest_mem mem;
	struct virtq vq;
	uint16_t qsize;
	uint8_t flags;
	int ret, budget;

	if (size < 2)
		return 0;
	if (!ram)
		ram = malloc(RAM_SIZE);
	qsize = 1u << (data[0] % 9); /* 1..256 */
	flags = data[1];
	data += 2;
	size -= 2;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);
	gmem_init_flat(&mem, ram, 0, RAM_SIZE);
	if (virtq_init(&vq, &mem, qsize, DESC_GPA, AVAIL_GPA, USED_GPA, flags & 1, flags & 2, NULL))
		return 0;
	/* Re-read used->idx the way a restart would, then start from the avail ring. */
	vq.last_avail = (flags & 4) ? vq.used_idx : 0;
	for (budget = 2 * qsize + 2; budget > 0; budget--) {
		virtq_disable_notify(&vq);
		ret = virtq_pop_chain(&vq, &chain);
		if (ret <= 0)
			break;
		if (chain.nr_segs > chain.max_segs || chain.nr_readable > chain.nr_segs)
			abort();
		for (unsigned i = 0; i < chain.nr_segs; i++) {
			volatile uint8_t *p = chain.iov[i].iov_base;

			/* Every segment must lie inside guest RAM. */
			if ((uint8_t *)p < ram ||
			    (uint8_t *)p + chain.iov[i].iov_len > ram + RAM_SIZE)
				abort();
			(void)p[0];
			(void)p[chain.iov[i].iov_len - 1];
		}
		virtq_push_used(&vq, chain.head, chain.writable_len);
		virtq_should_notify(&vq);
		virtq_enable_notify(&vq);
	}
	return 0;
}
