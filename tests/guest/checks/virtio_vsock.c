// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-vsock (device 19): a small polled stream driver.
 *
 * virtio_vsock: guest_cid must be vsock_cid= (default 3).  The guest listens
 * on port 1024: it answers each REQUEST with RESPONSE and echoes every byte
 * back, until vsock_conns= (default 1) connections have ended (the host
 * SHUTDOWN is answered with RST).  With vsock_port=P it then connects to host
 * port P, sends vsock_bytes= (default 262144) bytes of a known pattern, reads
 * them back from the host's echo and compares, then shuts down and waits for
 * the device's RST.  With vsock_stuff=P it last opens 8 connections to P (a
 * host that never reads), fills each up to the credit the device gives, and
 * waits until the host side closes every one (an RST each).
 *
 * virtio_vsock_hostile: packets the device must refuse; needs a host
 * listener on vsock_port=P that does not read.  REQUEST to a port nobody
 * listens on, RW for no connection, a SEQPACKET type, a header whose len
 * is beyond its buffer: each gets an RST; a foreign source CID gets no
 * answer; data beyond the credit resets the connection; a tx packet shorter
 * than a header sets NEEDS_RESET, and after a reset the device works again.
 */
#include "check.h"
#include "lib/cmdline.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/virtio.h"

#define VIO_ID_VSOCK 19
#define HDR	     44
#define RXBUF	     (HDR + 4096)
#define NRX	     64
#define TXBUF	     (HDR + 4096)
#define MAX_CONNS    10
#define BUF_ALLOC    (64u * 1024) /* also each echo connection's ring */
#define ECHO_PORT    1024
#define HOST_CID     2

#define OP_REQUEST	  1
#define OP_RESPONSE	  2
#define OP_RST		  3
#define OP_SHUTDOWN	  4
#define OP_RW		  5
#define OP_CREDIT_UPDATE  6
#define OP_CREDIT_REQUEST 7

/* Polls (one exit each) before giving up on the host. */
#define WAIT_POLLS (60 * IO_DELAY_PER_SEC)
#define IDLE_POLLS (IO_DELAY_PER_SEC / 2)

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

struct conn {
	bool used, open;
	uint32_t lport, pport; /* ours, the host's */
	uint32_t tx_cnt, peer_alloc, peer_fwd, fwd_cnt;
	uint32_t rx_total; /* payload bytes received */
	bool rst, shut;
	uint8_t *ring; /* echo: bytes received, not yet sent back */
	uint32_t rhead, rused;
	bool overrun;
};

static struct vdev d;
static struct vq rxq, txq, evq;
static uint8_t *rxbufs, *txbuf, *evbufs;
static uint64_t cid;
static struct conn conns[MAX_CONNS];
static uint8_t *rings[MAX_CONNS];
/* the last packet that matched no connection (for the hostile check) */
static struct hdr stray;
static bool have_stray;
/* guest-initiated stream: received bytes land here */
static uint8_t *sink;
static uint32_t sink_len, sink_cap;

static void post_rx(unsigned int i)
{
	struct vbuf b = {vaddr(rxbufs + (uint64_t)i * RXBUF), RXBUF, true};

	vq_add(&rxq, &b, 1, (void *)(uintptr_t)(i + 1));
}

static int vs_open(const char **why)
{
	if (!vio_find(VIO_ID_VSOCK, 0, &d)) {
		*why = "no virtio-vsock transport";
		return -1;
	}
	if (vio_init(&d, 0, why) < 0 || vq_setup(&d, &rxq, 0, NRX, why) < 0 ||
	    vq_setup(&d, &txq, 1, VQ_DEFAULT, why) < 0 || vq_setup(&d, &evq, 2, 8, why) < 0)
		return -1;
	if (!rxbufs) {
		rxbufs = vio_scratch((uint64_t)NRX * RXBUF);
		txbuf = vio_scratch(TXBUF);
		evbufs = vio_scratch(4096);
	}
	if (!rxbufs || !txbuf || !evbufs) {
		*why = "no scratch memory for buffers";
		return -1;
	}
	for (unsigned int i = 0; i < rxq.num && i < NRX; i++)
		post_rx(i);
	for (unsigned int i = 0; i < 4; i++)
		vq_add(&evq, &(struct vbuf){vaddr(evbufs + i * 8), 4, true}, 1, (void *)1);
	vio_driver_ok(&d);
	vq_kick(&rxq);
	vq_kick(&evq);
	cid = vio_cfg64(&d, 0);
	memset(conns, 0, sizeof(conns));
	return 0;
}

static struct conn *find(uint32_t lport, uint32_t pport)
{
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].lport == lport && conns[i].pport == pport)
			return &conns[i];
	return NULL;
}

static struct conn *add(uint32_t lport, uint32_t pport)
{
	for (unsigned int i = 0; i < MAX_CONNS; i++)
		if (!conns[i].used) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].used = true;
			conns[i].lport = lport;
			conns[i].pport = pport;
			if (!rings[i])
				rings[i] = vio_scratch(BUF_ALLOC);
			conns[i].ring = rings[i];
			return &conns[i];
		}
	return NULL;
}

/* Sends one packet (hdr fields from c where given). 1, 0 timeout, -1 NEEDS_RESET. */
static int send_raw(const struct hdr *h, const void *data, uint32_t len, uint32_t buflen)
{
	memcpy(txbuf, h, HDR);
	if (len)
		memcpy(txbuf + HDR, data, len);
	return vq_transact(&txq, &(struct vbuf){vaddr(txbuf), buflen, false}, 1, NULL);
}

static int send_pkt(struct conn *c, uint16_t op, uint32_t flags, const void *data, uint32_t len)
{
	struct hdr h = {cid, HOST_CID, c->lport, c->pport,  len,
			1,   op,       flags,	 BUF_ALLOC, c->fwd_cnt};

	if (op == OP_RW)
		c->tx_cnt += len;
	return send_raw(&h, data, len, HDR + len);
}

static uint32_t credit(const struct conn *c)
{
	uint32_t inflight = c->tx_cnt - c->peer_fwd;

	return inflight >= c->peer_alloc ? 0 : c->peer_alloc - inflight;
}

static int poll_rx(bool *got);

/* Handles one received packet for the echo server / our own streams. */
static void handle(const struct hdr *h, const uint8_t *payload)
{
	struct conn *c = find(h->dst_port, h->src_port);

	if (h->dst_cid != cid || h->src_cid != HOST_CID || !c) {
		if (h->op == OP_REQUEST && h->dst_port == ECHO_PORT && !c &&
		    (c = add(h->dst_port, h->src_port))) {
			c->peer_alloc = h->buf_alloc;
			c->peer_fwd = h->fwd_cnt;
			c->open = true;
			send_pkt(c, OP_RESPONSE, 0, NULL, 0);
			return;
		}
		stray = *h;
		have_stray = true;
		return;
	}
	c->peer_alloc = h->buf_alloc;
	c->peer_fwd = h->fwd_cnt;
	switch (h->op) {
	case OP_RESPONSE:
		c->open = true;
		break;
	case OP_RST:
		c->rst = true;
		c->open = false;
		break;
	case OP_SHUTDOWN:
		c->shut = true;
		if (c->lport == ECHO_PORT) {
			send_pkt(c, OP_RST, 0, NULL, 0);
			c->open = false;
			c->rst = true;
		}
		break;
	case OP_RW:
		c->rx_total += h->len;
		if (c->lport == ECHO_PORT) {
			/* echo: kept until the device's credit lets it out (pump) */
			if (!c->ring || c->rused + h->len > BUF_ALLOC) {
				c->overrun = true;
				break;
			}
			for (uint32_t i = 0; i < h->len; i++)
				c->ring[(c->rhead + c->rused + i) % BUF_ALLOC] = payload[i];
			c->rused += h->len;
		} else if (sink && sink_len + h->len <= sink_cap) {
			memcpy(sink + sink_len, payload, h->len);
			sink_len += h->len;
			c->fwd_cnt += h->len;
		} else {
			c->fwd_cnt += h->len;
		}
		break;
	case OP_CREDIT_REQUEST:
		send_pkt(c, OP_CREDIT_UPDATE, 0, NULL, 0);
		break;
	default:
		break;
	}
}

/* Sends echo bytes back as far as the device's credit allows. */
static void pump(void)
{
	static uint8_t chunk[4096];

	for (unsigned int k = 0; k < MAX_CONNS; k++) {
		struct conn *c = &conns[k];

		while (c->used && c->open && c->rused && credit(c)) {
			uint32_t n = c->rused, cr = credit(c);

			if (n > sizeof(chunk))
				n = sizeof(chunk);
			if (n > cr)
				n = cr;
			for (uint32_t i = 0; i < n; i++)
				chunk[i] = c->ring[(c->rhead + i) % BUF_ALLOC];
			c->rhead = (c->rhead + n) % BUF_ALLOC;
			c->rused -= n;
			c->fwd_cnt += n;
			send_pkt(c, OP_RW, 0, chunk, n);
		}
	}
}

/* Takes every used rx buffer. 0, or -1 when the device set NEEDS_RESET. */
static int poll_rx(bool *got)
{
	uint32_t len;
	void *tok;
	int ret;

	while ((ret = vq_get_used(&rxq, &len, &tok)) == 1) {
		unsigned int i = (unsigned int)(uintptr_t)tok - 1;
		uint8_t *b = rxbufs + (uint64_t)i * RXBUF;
		struct hdr h;

		*got = true;
		memcpy(&h, b, HDR);
		if (len >= HDR && h.len <= len - HDR)
			handle(&h, b + HDR);
		post_rx(i);
		vq_kick(&rxq);
	}
	pump();
	return ret < 0 ? -1 : 0;
}

/* Polls until cond() or `polls` idle polls; false on timeout or NEEDS_RESET. */
static bool wait_for(bool (*cond)(void *), void *arg, uint64_t polls)
{
	for (uint64_t i = 0; i < polls; i++) {
		bool got = false;

		if (cond(arg))
			return true;
		if (poll_rx(&got) < 0)
			return false;
		if (!got && (vio_status(&d) & VIO_S_NEEDS_RESET))
			return false;
	}
	return cond(arg);
}

static bool echo_done(void *arg)
{
	unsigned int want = *(unsigned int *)arg, closed = 0;

	for (unsigned int i = 0; i < MAX_CONNS; i++)
		closed += conns[i].used && conns[i].lport == ECHO_PORT && conns[i].rst;
	return closed >= want;
}

static bool conn_state(void *arg)
{
	struct conn *c = arg;

	return c->open || c->rst;
}

static bool conn_rst(void *arg)
{
	return ((struct conn *)arg)->rst;
}

static bool sink_full(void *arg)
{
	(void)arg;
	return sink_len >= sink_cap;
}

static bool stray_seen(void *arg)
{
	(void)arg;
	return have_stray;
}

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) * 13 + 3);
}

/* Connects to host port, returns the connection or NULL (rst tells). */
static struct conn *vs_connect(uint32_t lport, uint32_t port, bool *refused)
{
	struct conn *c = add(lport, port);

	*refused = false;
	if (!c)
		return NULL;
	c->peer_alloc = 0;
	if (send_pkt(c, OP_REQUEST, 0, NULL, 0) != 1)
		return NULL;
	if (!wait_for(conn_state, c, WAIT_POLLS))
		return NULL;
	*refused = c->rst;
	return c->open ? c : NULL;
}

static enum check_result guest_stream(struct check_ctx *ctx, uint32_t port, uint32_t bytes)
{
	static uint8_t chunk[4096];
	uint32_t sent = 0, sum = 0;
	struct conn *c;
	bool refused;

	sink = vio_scratch(bytes);
	sink_cap = bytes;
	sink_len = 0;
	if (!sink)
		return check_fail(ctx, "no scratch memory for %u bytes", bytes);
	c = vs_connect(5000, port, &refused);
	if (!c)
		return check_fail(ctx, "connect to host port %u: %s", port,
				  refused ? "RST" : "no answer");
	while (sent < bytes) {
		uint32_t n = bytes - sent < sizeof(chunk) ? bytes - sent : sizeof(chunk);
		bool got = false;

		if (credit(c) < n) {
			if (poll_rx(&got) < 0 || c->rst)
				return check_fail(ctx, "stream reset after %u bytes", sent);
			if (!got)
				vio_status(&d);
			continue;
		}
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = pattern(sent + i);
		if (send_pkt(c, OP_RW, 0, chunk, n) != 1)
			return check_fail(ctx, "tx failed after %u bytes", sent);
		sent += n;
		poll_rx(&got);
	}
	if (!wait_for(sink_full, NULL, WAIT_POLLS))
		return check_fail(ctx, "echo: %u of %u bytes came back", sink_len, bytes);
	for (uint32_t i = 0; i < bytes; i++) {
		if (sink[i] != pattern(i))
			return check_fail(ctx, "echo differs at byte %u", i);
		sum = sum * 31 + sink[i];
	}
	send_pkt(c, OP_SHUTDOWN, 3, NULL, 0);
	if (!wait_for(conn_rst, c, WAIT_POLLS))
		return check_fail(ctx, "no RST after SHUTDOWN");
	printf("INFO virtio_vsock guest->host %u bytes echoed sum 0x%x\n", bytes, sum);
	return CHECK_PASS;
}

static enum check_result guest_stuff(struct check_ctx *ctx, uint32_t port)
{
	static uint8_t chunk[4096];
	struct conn *cs[8];
	uint32_t total = 0;
	bool refused;

	for (unsigned int k = 0; k < 8; k++) {
		cs[k] = vs_connect(6000 + k, port, &refused);
		if (!cs[k])
			return check_fail(ctx, "stuff: connect %u: %s", k,
					  refused ? "RST" : "no answer");
	}
	for (unsigned int k = 0; k < 8; k++) {
		/* send while the device gives credit; stop when it stays at zero */
		for (uint64_t idle = 0; idle < IDLE_POLLS && !cs[k]->rst;) {
			uint32_t n = credit(cs[k]);
			bool got = false;

			if (n > sizeof(chunk))
				n = sizeof(chunk);
			if (n) {
				send_pkt(cs[k], OP_RW, 0, chunk, n);
				total += n;
				idle = 0;
			} else {
				poll_rx(&got);
				if (!got) {
					vio_status(&d);
					idle++;
				}
			}
		}
	}
	printf("INFO virtio_vsock stuffed %u bytes into 8 connections\n", total);
	printf("SVTEST VSOCK-STUFFED\n");
	for (unsigned int k = 0; k < 8; k++)
		if (!wait_for(conn_rst, cs[k], WAIT_POLLS))
			return check_fail(
			    ctx, "stuff: connection %u not reset after the host closed", k);
	return CHECK_PASS;
}

static enum check_result check_virtio_vsock(struct check_ctx *ctx)
{
	uint64_t want_cid = 3, nconns = 1, port = 0, bytes = 256 * 1024, stuff = 0;
	unsigned int want;
	const char *why;

	cmdline_get_u64("vsock_cid", &want_cid);
	cmdline_get_u64("vsock_conns", &nconns);
	cmdline_get_u64("vsock_port", &port);
	cmdline_get_u64("vsock_bytes", &bytes);
	cmdline_get_u64("vsock_stuff", &stuff);
	if (vs_open(&why) < 0)
		return check_fail(ctx, "%s", why);
	if (cid != want_cid)
		return check_fail(ctx, "guest_cid %lu, want %lu", cid, want_cid);
	printf("INFO virtio_vsock slot %u cid %lu features 0x%lx\n", d.slot, cid, d.negotiated);
	printf("SVTEST VSOCK-LISTENING %u\n", ECHO_PORT);
	want = (unsigned int)nconns;
	if (!wait_for(echo_done, &want, WAIT_POLLS))
		return check_fail(ctx, "echo server: fewer than %u connections ended", want);
	for (unsigned int i = 0; i < MAX_CONNS; i++) {
		if (!conns[i].used || conns[i].lport != ECHO_PORT)
			continue;
		if (conns[i].overrun)
			return check_fail(ctx, "the device sent beyond our credit on port %u",
					  conns[i].pport);
		printf("INFO virtio_vsock echoed %u bytes to host port %u\n", conns[i].rx_total,
		       conns[i].pport);
	}
	memset(conns, 0, sizeof(conns));
	if (port) {
		enum check_result r = guest_stream(ctx, (uint32_t)port, (uint32_t)bytes);

		if (r != CHECK_PASS)
			return r;
	}
	if (stuff) {
		enum check_result r = guest_stuff(ctx, (uint32_t)stuff);

		if (r != CHECK_PASS)
			return r;
	}
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_vsock, check_virtio_vsock, false);

/* Sends h (payload len bytes, buffer buflen) and waits for a stray reply. */
static bool stray_reply(struct hdr *h, uint32_t len, uint32_t buflen, uint64_t polls)
{
	static uint8_t zero[64];

	have_stray = false;
	if (send_raw(h, zero, len, buflen) != 1)
		return false;
	return wait_for(stray_seen, NULL, polls);
}

static enum check_result check_virtio_vsock_hostile(struct check_ctx *ctx)
{
	static uint8_t big[4096];
	uint64_t port = 0;
	struct conn *c;
	struct hdr h;
	const char *why;
	bool refused;
	int ret;

	if (!cmdline_get_u64("vsock_port", &port))
		return check_skip(ctx, "needs vsock_port= (a host listener)");
	if (vs_open(&why) < 0)
		return check_fail(ctx, "%s", why);

	h = (struct hdr){cid, HOST_CID, 7000, 9, 0, 1, OP_REQUEST, 0, BUF_ALLOC, 0};
	if (!stray_reply(&h, 0, HDR, WAIT_POLLS) || stray.op != OP_RST || stray.dst_port != 7000)
		return check_fail(ctx, "REQUEST to a port nobody listens on: no RST");
	h = (struct hdr){cid, HOST_CID, 7001, 4242, 4, 1, OP_RW, 0, BUF_ALLOC, 0};
	if (!stray_reply(&h, 4, HDR + 4, WAIT_POLLS) || stray.op != OP_RST)
		return check_fail(ctx, "RW for no connection: no RST");
	h = (struct hdr){cid, HOST_CID, 7002, (uint32_t)port, 0, 2, OP_REQUEST, 0, BUF_ALLOC, 0};
	if (!stray_reply(&h, 0, HDR, WAIT_POLLS) || stray.op != OP_RST)
		return check_fail(ctx, "SEQPACKET REQUEST: no RST");
	h = (struct hdr){cid + 1, HOST_CID, 7004, 4242, 0, 1, OP_RW, 0, BUF_ALLOC, 0};
	if (stray_reply(&h, 0, HDR, IDLE_POLLS))
		return check_fail(ctx, "foreign source CID answered with op %u", stray.op);

	c = vs_connect(7003, (uint32_t)port, &refused);
	if (!c)
		return check_fail(ctx, "connect to host port %lu: %s", port,
				  refused ? "RST" : "no answer");
	h = (struct hdr){cid, HOST_CID, 7003, (uint32_t)port, 1000, 1, OP_RW, 0, BUF_ALLOC, 0};
	if (send_raw(&h, big, 16, HDR + 16) != 1 || !wait_for(conn_rst, c, WAIT_POLLS))
		return check_fail(ctx, "len beyond its buffer: connection not reset");
	c = vs_connect(7005, (uint32_t)port, &refused);
	if (!c)
		return check_fail(ctx, "second connect to host port %lu: %s", port,
				  refused ? "RST" : "no answer");
	/* ignore the credit: more than the socket and 64 KiB to a host that does not read */
	for (unsigned int i = 0; i < 400 && !c->rst; i++) {
		bool got = false;

		c->tx_cnt = 0;
		send_pkt(c, OP_RW, 0, big, sizeof(big));
		poll_rx(&got);
	}
	if (!wait_for(conn_rst, c, WAIT_POLLS))
		return check_fail(ctx, "data beyond the credit: connection not reset");

	/* shorter than a header: the device must stop and ask for a reset */
	memset(&h, 0, sizeof(h));
	ret = send_raw(&h, NULL, 0, 20);
	if (ret != -1 && !(vio_status(&d) & VIO_S_NEEDS_RESET))
		return check_fail(ctx, "20-byte tx packet: no NEEDS_RESET (status 0x%x)",
				  vio_status(&d));
	if (vs_open(&why) < 0)
		return check_fail(ctx, "after reset: %s", why);
	h = (struct hdr){cid, HOST_CID, 7006, 4242, 0, 1, OP_RW, 0, BUF_ALLOC, 0};
	if (!stray_reply(&h, 0, HDR, WAIT_POLLS) || stray.op != OP_RST)
		return check_fail(ctx, "after reset: RW for no connection gets no RST");
	printf("INFO virtio_vsock_hostile all refused\n");
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_vsock_hostile, check_virtio_vsock_hostile, false);
