// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-console (port 0, queues receiveq 0 and transmitq 1): prints
 * SVTEST CONSOLE-READY, waits for the line "ping-console" from the host end
 * of the chardev, then sends "hello-from-guest\n". Answering rather than
 * speaking first means the host is surely connected when we write.
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/virtio.h"

#define CON_RXQ	 0
#define CON_TXQ	 1
#define NR_RX	 8
#define RX_SIZE	 256
#define RX_POLLS (20 * IO_DELAY_PER_SEC)
#define HELLO	 "hello-from-guest\n"

static enum check_result check_virtio_console(struct check_ctx *ctx)
{
	static struct vdev d;
	static struct vq rx, tx;
	char line[64];
	size_t llen = 0;
	uint8_t *bufs;
	const char *why;
	uint32_t len;
	unsigned int i;
	void *tok;
	int ret;

	if (!vio_find(VIO_ID_CONSOLE, 0, &d))
		return check_fail(ctx, "no virtio-console transport");
	if (vio_init(&d, VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT_DESC), &why) < 0 ||
	    vq_setup(&d, &rx, CON_RXQ, VQ_DEFAULT, &why) < 0 ||
	    vq_setup(&d, &tx, CON_TXQ, VQ_DEFAULT, &why) < 0)
		return check_fail(ctx, "%s", why);
	bufs = page_alloc(1);
	if (!bufs)
		return check_fail(ctx, "out of guest pages");
	for (i = 0; i < NR_RX; i++)
		vq_add(&rx, &(struct vbuf){vaddr(bufs + i * RX_SIZE), RX_SIZE, true}, 1,
		       (void *)(uintptr_t)(i + 1));
	vio_driver_ok(&d);
	vq_kick(&rx);
	printf("SVTEST CONSOLE-READY\n");

	for (;;) {
		const char *p;

		ret = vq_wait(&rx, &len, &tok, RX_POLLS);
		if (ret != 1)
			return check_fail(ctx, "no \"ping-console\" line: %s",
					  ret ? "device error" : "timed out");
		i = (unsigned int)(uintptr_t)tok - 1;
		if (i >= NR_RX || len > RX_SIZE)
			return check_fail(ctx, "bad used element (token %u len %u)", i, len);
		for (p = (const char *)bufs + i * RX_SIZE; len--; p++) {
			if (*p == '\n' || *p == '\r') {
				line[llen] = '\0';
				if (!strcmp(line, "ping-console"))
					goto got_ping;
				llen = 0;
			} else if (llen < sizeof(line) - 1) {
				line[llen++] = *p;
			}
		}
		vq_add(&rx, &(struct vbuf){vaddr(bufs + i * RX_SIZE), RX_SIZE, true}, 1, tok);
		vq_kick(&rx);
	}
got_ping:
	memcpy(bufs + NR_RX * RX_SIZE, HELLO, sizeof(HELLO) - 1);
	tx.use_indirect = vio_has(&d, VIO_F_INDIRECT_DESC);
	ret = vq_transact(
	    &tx, &(struct vbuf){vaddr(bufs + NR_RX * RX_SIZE), sizeof(HELLO) - 1, false}, 1, &len);
	if (ret != 1)
		return check_fail(ctx, "TX: %s", ret ? "device error" : "not completed");
	printf("INFO virtio_console got ping-console, sent hello-from-guest\n");
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_console, check_virtio_console, false);
