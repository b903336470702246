// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-vsock in the VMM's own user space, for hosts without
 * /dev/vhost-vsock.  The host side speaks the unix-socket ("hybrid vsock")
 * protocol that Kata's and Firecracker's clients use (docs/vsock.md):
 *
 *   host -> guest  the host program connects to uds-path and writes
 *                  "CONNECT <port>\n"; the guest gets a REQUEST from a host
 *                  port allocated from 2^30 up; on its RESPONSE the host
 *                  program reads "OK <host port>\n" and the stream is open.
 *   guest -> host  a REQUEST to CID 2 port P is connected to "<uds-path>_<P>";
 *                  RESPONSE when that listener accepts, RST otherwise.
 *
 * Guest -> host data is written straight to the host socket; what the socket
 * does not take waits in a per-connection buffer of VSOCK_BUF_ALLOC bytes,
 * which is exactly the credit the guest is given, so a host reader that
 * stops costs at most that much.  Host -> guest data is read from the host
 * socket straight into the guest's rx buffer, and only while the guest's
 * credit allows: nothing of it is buffered here.  Replies the guest has no
 * rx buffer for wait as flags on their connection; RSTs for packets that
 * name no connection wait in a small ring, and while it is full the tx
 * queue is not served (the guest is slowed, the VMM does not grow).
 *
 * All host sockets (the listener, the connections) live in one private
 * epoll set; the device loop sees only that epoll fd and the timeout tick
 * (a timer of the loop, no timerfd), and everything runs with the device
 * lock held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "machine/vm.h"
#include "util/evloop.h"
#include "util/iothread.h"
#include "util/log.h"
#include "util/monotonic.h"
#include "util/sockpath.h"
#include "virtio/mmio.h"
#include "virtio/vsock.h"

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_MAX_SEGS	 64
#define VSOCK_HASH	 256
#define VSOCK_RST_RING	 64
#define VSOCK_TICK_MS	 100
#define VSOCK_EV_BATCH	 32

#define EV_LISTENER 1

enum conn_state {
	C_HANDSHAKE, /* host socket accepted, "CONNECT <port>\n" not read yet */
	C_HOST_REQ,  /* REQUEST to the guest queued or sent, no RESPONSE yet */
	C_EST,
	C_CLOSING, /* the guest shut both ways: flush, then RST */
	C_DEAD,	   /* host side closed; an RST to the guest is queued */
};

/* Packets a connection owes the guest. */
#define P_RST	 0x01
#define P_REQ	 0x02
#define P_RESP	 0x04
#define P_SHUT	 0x08
#define P_CREDIT 0x10
#define P_DATA	 0x20 /* the host socket may have bytes (or its end) */

struct vsock_dev;

struct vconn {
	struct vsock_dev *v;
	struct vconn *hnext;	   /* hash chain (keyed connections) */
	struct vconn *prev, *next; /* all connections */
	struct vconn *qnext;	   /* connections with pending packets */
	bool keyed, queued, hup;
	enum conn_state state;
	int fd;
	uint32_t events; /* registered epoll mask */
	uint32_t host_port, guest_port;
	uint32_t pending;
	uint32_t shut_flags; /* of the SHUTDOWN we owe */
	uint64_t deadline;   /* CLOCK_MONOTONIC ns; 0: none */

	/* guest -> host */
	uint8_t *buf; /* VSOCK_BUF_ALLOC ring, allocated while it holds bytes */
	uint32_t head, used;
	uint32_t fwd_cnt, fwd_sent;
	bool guest_shut_send, guest_shut_rcv, host_shut_wr;

	/* host -> guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	bool host_eof;
};

struct rst_ent {
	uint64_t src_cid;
	uint32_t src_port, dst_port;
};

struct vsock_dev {
	struct virtio_dev *vdev;
	struct evloop *loop;
	uint64_t cid;
	char *uds;
	int epfd, listen_fd;
	struct evloop_timer timer; /* the deadline tick, armed while one is set */
	bool timer_armed, listen_paused, tx_stalled;
	struct sockpath_owned owned;
	struct vconn *hash[VSOCK_HASH];
	struct vconn *all;
	struct vconn *qhead, *qtail;
	unsigned nr_conns;
	uint32_t next_port;
	struct rst_ent rst[VSOCK_RST_RING];
	unsigned rst_head, rst_count;
	uint64_t dropped; /* packets with a foreign source CID */
};

static struct vsock_dev *vsock;

static unsigned conn_hash(uint32_t guest_port, uint32_t host_port)
{
	return (guest_port * 2654435761u ^ host_port) % VSOCK_HASH;
}

static struct vconn *conn_find(struct vsock_dev *v, uint32_t guest_port, uint32_t host_port)
{
	struct vconn *c = v->hash[conn_hash(guest_port, host_port)];

	while (c && (c->guest_port != guest_port || c->host_port != host_port))
		c = c->hnext;
	return c;
}

static void conn_key(struct vconn *c, uint32_t guest_port, uint32_t host_port)
{
	unsigned h = conn_hash(guest_port, host_port);

	c->guest_port = guest_port;
	c->host_port = host_port;
	c->hnext = c->v->hash[h];
	c->v->hash[h] = c;
	c->keyed = true;
}

static void conn_queue(struct vconn *c, uint32_t bits)
{
	struct vsock_dev *v = c->v;

	c->pending |= bits;
	if (c->queued)
		return;
	c->queued = true;
	c->qnext = NULL;
	if (v->qtail)
		v->qtail->qnext = c;
	else
		v->qhead = c;
	v->qtail = c;
}

static void conn_unqueue(struct vconn *c)
{
	struct vsock_dev *v = c->v;
	struct vconn **pp = &v->qhead, *prev = NULL;

	if (!c->queued)
		return;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp)
		*pp = c->qnext;
	if (v->qtail == c)
		v->qtail = prev;
	c->queued = false;
	c->qnext = NULL;
}

static void arm_timer(struct vsock_dev *v)
{
	if (v->timer_armed)
		return;
	evloop_timer_arm(&v->timer, VSOCK_TICK_MS * 1000000ULL);
	v->timer_armed = true;
}

static void conn_deadline(struct vconn *c, unsigned ms)
{
	c->deadline = monotonic_ns() + (uint64_t)ms * 1000000ULL;
	arm_timer(c->v);
}

static void listener_set(struct vsock_dev *v, bool on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u64 = EV_LISTENER};

	if (v->listen_fd >= 0 && epoll_ctl(v->epfd, EPOLL_CTL_MOD, v->listen_fd, &ev) == 0)
		v->listen_paused = !on;
}

static void conn_free(struct vconn *c)
{
	struct vsock_dev *v = c->v;

	if (c->keyed) {
		struct vconn **pp = &v->hash[conn_hash(c->guest_port, c->host_port)];

		while (*pp && *pp != c)
			pp = &(*pp)->hnext;
		if (*pp)
			*pp = c->hnext;
	}
	conn_unqueue(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		v->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->fd >= 0)
		close(c->fd); /* leaves the epoll set with it */
	free(c->buf);
	free(c);
	v->nr_conns--;
	if (v->listen_paused)
		listener_set(v, true);
}

static struct vconn *conn_new(struct vsock_dev *v, int fd)
{
	struct epoll_event ev = {.events = 0};
	struct vconn *c;

	if (v->nr_conns >= VSOCK_MAX_CONNS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->v = v;
	c->fd = fd;
	ev.data.ptr = c;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->next = v->all;
	if (v->all)
		v->all->prev = c;
	v->all = c;
	v->nr_conns++;
	return c;
}

/* Closes the host side and owes the guest an RST; freed once it is sent. */
static void conn_kill(struct vconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->used = 0;
	c->state = C_DEAD;
	c->deadline = 0;
	c->pending = 0;
	conn_queue(c, P_RST);
}

static uint32_t peer_credit(const struct vconn *c)
{
	uint32_t inflight = c->tx_cnt - c->peer_fwd_cnt;

	return inflight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - inflight;
}

static bool want_read(const struct vconn *c)
{
	return c->state == C_EST && !c->host_eof && !c->guest_shut_rcv && peer_credit(c) > 0;
}

/* Brings the epoll mask (or, after a hang-up, the pending flags) in line. */
static void conn_update(struct vconn *c)
{
	struct epoll_event ev = {.data.ptr = c};
	uint32_t want = 0;

	if (c->fd < 0)
		return;
	if (c->hup) {
		if (want_read(c))
			conn_queue(c, P_DATA);
		return;
	}
	if (c->state == C_HANDSHAKE)
		want = EPOLLIN;
	if (c->used)
		want |= EPOLLOUT;
	if (want_read(c) && !(c->pending & P_DATA))
		want |= EPOLLIN;
	if (want == c->events)
		return;
	ev.events = want;
	if (epoll_ctl(c->v->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static void conn_credit_check(struct vconn *c)
{
	if (c->fwd_cnt - c->fwd_sent >= VSOCK_BUF_ALLOC / 4)
		conn_queue(c, P_CREDIT);
}

/* Everything buffered reached the host: finish what the guest asked for. */
static void conn_drained(struct vconn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->head = 0;
	if (c->state == C_CLOSING) {
		conn_kill(c);
		return;
	}
	if (c->guest_shut_send && !c->host_shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
}

/* Writes the ring to the host socket. */
static void conn_flush(struct vconn *c)
{
	while (c->used) {
		uint32_t tail = (c->head + c->used) % VSOCK_BUF_ALLOC;
		struct iovec iov[2];
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 1};
		ssize_t n;

		iov[0].iov_base = c->buf + c->head;
		if (tail > c->head) {
			iov[0].iov_len = c->used;
		} else {
			iov[0].iov_len = VSOCK_BUF_ALLOC - c->head;
			iov[1].iov_base = c->buf;
			iov[1].iov_len = tail;
			msg.msg_iovlen = tail ? 2 : 1;
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			conn_kill(c);
			return;
		}
		c->head = (c->head + n) % VSOCK_BUF_ALLOC;
		c->used -= n;
		c->fwd_cnt += n;
	}
	conn_credit_check(c);
	if (!c->used)
		conn_drained(c);
	if (c->state != C_DEAD)
		conn_update(c);
}

/* iov[] from byte skip on, at most len bytes, into out[] (max entries). */
static unsigned iov_slice(const struct iovec *iov, unsigned cnt, size_t skip, size_t len,
			  struct iovec *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cnt && len && n < max; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[n].iov_len = l - skip < len ? l - skip : len;
		len -= out[n].iov_len;
		skip = 0;
		n++;
	}
	return n;
}

/* Guest RW payload to the host: straight to the socket, the rest into the ring. */
static void conn_to_host(struct vconn *c, const struct virtq_chain *ch, uint32_t len)
{
	struct iovec part[VSOCK_MAX_SEGS];
	unsigned n = iov_slice(ch->iov, ch->nr_readable, sizeof(struct vsock_hdr), len, part,
			       VSOCK_MAX_SEGS);
	size_t done = 0;

	if (c->used + len > VSOCK_BUF_ALLOC) {
		pr_warn("virtio-vsock: guest port %u sent %u bytes beyond its credit: reset\n",
			c->guest_port, c->used + len - VSOCK_BUF_ALLOC);
		conn_kill(c);
		return;
	}
	if (!len)
		return;
	if (!c->used) {
		struct msghdr msg = {.msg_iov = part, .msg_iovlen = n};
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			conn_kill(c);
			return;
		}
		if (w > 0) {
			done = w;
			c->fwd_cnt += w;
		}
	}
	if (done < len) {
		uint32_t tail;

		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				conn_kill(c);
				return;
			}
			c->head = 0;
		}
		tail = (c->head + c->used) % VSOCK_BUF_ALLOC;
		for (size_t left = len - done; left;) {
			size_t chunk = VSOCK_BUF_ALLOC - tail;

			if (chunk > left)
				chunk = left;
			iov_to_buf(part, n, done, c->buf + tail, chunk);
			done += chunk;
			left -= chunk;
			c->used += chunk;
			tail = (tail + chunk) % VSOCK_BUF_ALLOC;
		}
	}
	conn_credit_check(c);
	conn_update(c);
}

static void rst_reply(struct vsock_dev *v, const struct vsock_hdr *h)
{
	unsigned i;

	if (h->op == VSOCK_OP_RST || v->rst_count >= VSOCK_RST_RING)
		return;
	i = (v->rst_head + v->rst_count++) % VSOCK_RST_RING;
	v->rst[i] = (struct rst_ent){h->dst_cid, h->dst_port, h->src_port};
}

/* A guest REQUEST to host port P: connect to "<uds>_<P>". */
static void guest_connect(struct vsock_dev *v, const struct vsock_hdr *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vconn *c;
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->uds, h->dst_port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) || v->nr_conns >= VSOCK_MAX_CONNS) {
		rst_reply(v, h);
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rst_reply(v, h);
		return;
	}
	/* a unix connect completes at once; EAGAIN is a full backlog */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || !(c = conn_new(v, fd))) {
		close(fd);
		rst_reply(v, h);
		return;
	}
	conn_key(c, h->src_port, h->dst_port);
	c->state = C_EST;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	conn_queue(c, P_RESP);
	conn_update(c);
}

static void conn_established(struct vconn *c)
{
	char line[24];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);

	/* a fresh socket takes a few bytes; anything less means the host is gone */
	if (sock_send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		conn_kill(c);
		return;
	}
	c->state = C_EST;
	c->deadline = 0;
	conn_update(c);
}

static void conn_guest_shutdown(struct vconn *c, uint32_t flags)
{
	if (flags & VSOCK_SHUTDOWN_SEND)
		c->guest_shut_send = true;
	if (flags & VSOCK_SHUTDOWN_RCV)
		c->guest_shut_rcv = true;
	if (c->guest_shut_send && c->guest_shut_rcv) {
		/* both ways: flush what is buffered, then answer with RST */
		c->state = C_CLOSING;
		if (!c->used) {
			conn_kill(c);
			return;
		}
		conn_deadline(c, VSOCK_SHUTDOWN_MS);
	} else if (c->guest_shut_send && !c->used && !c->host_shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
	conn_update(c);
}

/*
 * One tx chain.  Returns 0, or -EINVAL after putting the device in
 * NEEDS_RESET.
 */
static int vsock_tx_packet(struct vsock_dev *v, const struct virtq_chain *ch)
{
	struct vsock_hdr h;
	struct vconn *c;

	if (ch->readable_len < sizeof(h)) {
		virtio_mmio_set_needs_reset(v->vdev, "vsock tx packet shorter than its header");
		return -EINVAL;
	}
	iov_to_buf(ch->iov, ch->nr_readable, 0, &h, sizeof(h));
	if (h.src_cid != v->cid) {
		/* not a source the guest may use: nobody to answer */
		v->dropped++;
		return 0;
	}
	if (h.dst_cid != VSOCK_HOST_CID || h.type != VSOCK_TYPE_STREAM) {
		rst_reply(v, &h);
		return 0;
	}
	c = conn_find(v, h.src_port, h.dst_port);
	if (h.op == VSOCK_OP_INVALID || h.op > VSOCK_OP_CREDIT_REQUEST ||
	    h.len > ch->readable_len - sizeof(h) || h.len > VSOCK_MAX_PAYLOAD ||
	    (h.len && h.op != VSOCK_OP_RW)) {
		if (c && c->state != C_DEAD)
			conn_kill(c);
		else if (!c)
			rst_reply(v, &h);
		return 0;
	}
	if (h.op == VSOCK_OP_REQUEST) {
		if (c)
			rst_reply(v, &h);
		else
			guest_connect(v, &h);
		return 0;
	}
	if (!c) {
		rst_reply(v, &h);
		return 0;
	}
	if (c->state == C_DEAD) {
		/* our RST is on its way; the guest's RST ends it now */
		if (h.op == VSOCK_OP_RST)
			conn_free(c);
		return 0;
	}
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case VSOCK_OP_RST:
		conn_free(c);
		return 0;
	case VSOCK_OP_RESPONSE:
		if (c->state == C_HOST_REQ && !(c->pending & P_REQ))
			conn_established(c);
		else
			conn_kill(c);
		return 0;
	case VSOCK_OP_RW:
		if (c->state != C_EST || c->guest_shut_send) {
			conn_kill(c);
			return 0;
		}
		conn_to_host(c, ch, h.len);
		return 0;
	case VSOCK_OP_CREDIT_REQUEST:
		conn_queue(c, P_CREDIT);
		break;
	case VSOCK_OP_SHUTDOWN:
		if (c->state == C_EST || c->state == C_CLOSING) {
			conn_guest_shutdown(c, h.flags);
			return 0;
		}
		conn_kill(c);
		return 0;
	default: /* CREDIT_UPDATE: taken above */
		break;
	}
	if (c->state != C_HOST_REQ)
		conn_update(c);
	return 0;
}

static void fill_hdr(struct vsock_dev *v, struct vconn *c, struct vsock_hdr *h, uint16_t op)
{
	*h = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = v->cid,
	    .src_port = c->host_port,
	    .dst_port = c->guest_port,
	    .type = VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = VSOCK_BUF_ALLOC,
	    .fwd_cnt = c->fwd_cnt,
	};
	c->fwd_sent = c->fwd_cnt;
	c->pending &= ~P_CREDIT;
}

/*
 * Host bytes for connection c into the rx chain after its header.  Returns
 * the payload length, 0 at the host's end of stream, -EAGAIN when nothing is
 * there, another -errno when the host socket failed.
 */
static ssize_t conn_read(struct vconn *c, const struct virtq_chain *ch)
{
	struct iovec part[VSOCK_MAX_SEGS];
	uint32_t room = ch->writable_len - sizeof(struct vsock_hdr), want = peer_credit(c);
	unsigned n;
	ssize_t r;

	if (!room)
		return -ENOSPC;
	if (want > room)
		want = room;
	if (want > VSOCK_MAX_PAYLOAD)
		want = VSOCK_MAX_PAYLOAD;
	if (!want)
		return -EAGAIN;
	n = iov_slice(ch->iov + ch->nr_readable, ch->nr_segs - ch->nr_readable,
		      sizeof(struct vsock_hdr), want, part, VSOCK_MAX_SEGS);
	r = recvmsg(c->fd, &(struct msghdr){.msg_iov = part, .msg_iovlen = n}, MSG_DONTWAIT);
	if (r < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	return r;
}

/*
 * Writes the next owed packet into ch.  Returns its length, or 0 when
 * nothing is owed.
 */
static uint32_t next_packet(struct vsock_dev *v, const struct virtq_chain *ch,
			    struct vconn **defer);

static uint32_t vsock_next_packet(struct vsock_dev *v, const struct virtq_chain *ch)
{
	struct vconn *defer = NULL, *c;
	uint32_t len = next_packet(v, ch, &defer);

	/* data that did not fit a header-only buffer waits for the next one */
	while ((c = defer)) {
		defer = c->qnext;
		conn_queue(c, 0);
	}
	return len;
}

static uint32_t next_packet(struct vsock_dev *v, const struct virtq_chain *ch, struct vconn **defer)
{
	const struct iovec *wiov = ch->iov + ch->nr_readable;
	unsigned wcnt = ch->nr_segs - ch->nr_readable;
	struct vsock_hdr h;
	struct vconn *c;

	if (v->rst_count) {
		struct rst_ent *r = &v->rst[v->rst_head];

		h = (struct vsock_hdr){.src_cid = r->src_cid,
				       .dst_cid = v->cid,
				       .src_port = r->src_port,
				       .dst_port = r->dst_port,
				       .type = VSOCK_TYPE_STREAM,
				       .op = VSOCK_OP_RST};
		v->rst_head = (v->rst_head + 1) % VSOCK_RST_RING;
		v->rst_count--;
		iov_from_buf(wiov, wcnt, 0, &h, sizeof(h));
		return sizeof(h);
	}
	while ((c = v->qhead)) {
		uint32_t len = sizeof(h);

		/* off the queue; put back at the tail while it owes more */
		v->qhead = c->qnext;
		if (!v->qhead)
			v->qtail = NULL;
		c->queued = false;
		if (c->pending & P_RST) {
			fill_hdr(v, c, &h, VSOCK_OP_RST);
			iov_from_buf(wiov, wcnt, 0, &h, sizeof(h));
			conn_free(c);
			return len;
		}
		if (c->pending & P_REQ) {
			c->pending &= ~P_REQ;
			fill_hdr(v, c, &h, VSOCK_OP_REQUEST);
		} else if (c->pending & P_RESP) {
			c->pending &= ~P_RESP;
			fill_hdr(v, c, &h, VSOCK_OP_RESPONSE);
		} else if (c->pending & P_SHUT) {
			c->pending &= ~P_SHUT;
			fill_hdr(v, c, &h, VSOCK_OP_SHUTDOWN);
			h.flags = c->shut_flags;
		} else if (c->pending & P_CREDIT) {
			fill_hdr(v, c, &h, VSOCK_OP_CREDIT_UPDATE);
		} else if (c->pending & P_DATA) {
			ssize_t r = want_read(c) ? conn_read(c, ch) : -EAGAIN;

			if (r == -ENOSPC) {
				c->qnext = *defer;
				*defer = c;
				continue;
			}
			if (r == -EAGAIN) {
				c->pending &= ~P_DATA;
				if (!c->hup)
					conn_update(c);
				if (c->pending)
					conn_queue(c, 0);
				continue;
			}
			if (r < 0) {
				conn_kill(c);
				continue;
			}
			if (r == 0) {
				c->host_eof = true;
				c->pending &= ~P_DATA;
				fill_hdr(v, c, &h, VSOCK_OP_SHUTDOWN);
				h.flags = VSOCK_SHUTDOWN_SEND;
				if (c->guest_shut_send) {
					/* nothing flows either way any more */
					h.flags |= VSOCK_SHUTDOWN_RCV;
					c->state = C_CLOSING;
					conn_deadline(c, VSOCK_SHUTDOWN_MS);
				}
				conn_update(c);
			} else {
				fill_hdr(v, c, &h, VSOCK_OP_RW);
				h.len = r;
				c->tx_cnt += r;
				len += r;
				if (!want_read(c))
					c->pending &= ~P_DATA;
				conn_update(c);
			}
		} else {
			continue;
		}
		iov_from_buf(wiov, wcnt, 0, &h, sizeof(h));
		if (c->pending)
			conn_queue(c, 0);
		return len;
	}
	return 0;
}

static void vsock_rx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vdev->vqs[VSOCK_QUEUE_RX];
	struct iovec iov[VSOCK_MAX_SEGS];
	struct virtq_chain ch = {.iov = iov, .max_segs = VSOCK_MAX_SEGS};
	bool used = false;

	if (!virtio_dev_running(v->vdev) || !vq->ready)
		return;
	while (v->rst_count || v->qhead) {
		int ret = virtq_pop_chain(vq, &ch);
		uint32_t len;

		if (ret == 0)
			break;
		if (ret < 0) {
			virtio_mmio_set_needs_reset(v->vdev, ch.err);
			return;
		}
		if (ch.writable_len < sizeof(struct vsock_hdr)) {
			virtio_mmio_set_needs_reset(v->vdev,
						    "vsock rx buffer shorter than a packet header");
			return;
		}
		len = vsock_next_packet(v, &ch);
		if (!len) {
			virtq_unpop(vq);
			break;
		}
		virtq_push_used(vq, ch.head, len);
		used = true;
	}
	if (used)
		virtio_mmio_notify_queue(v->vdev, VSOCK_QUEUE_RX);
}

static void vsock_tx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vdev->vqs[VSOCK_QUEUE_TX];
	struct iovec iov[VSOCK_MAX_SEGS];
	struct virtq_chain ch = {.iov = iov, .max_segs = VSOCK_MAX_SEGS};
	bool used = false;

	if (!virtio_dev_running(v->vdev) || !vq->ready)
		return;
	do {
		virtq_disable_notify(vq);
		for (;;) {
			int ret;

			if (v->rst_count >= VSOCK_RST_RING) {
				/* served again once the guest takes replies */
				v->tx_stalled = true;
				virtq_enable_notify(vq);
				goto out;
			}
			ret = virtq_pop_chain(vq, &ch);
			if (ret == 0)
				break;
			if (ret < 0) {
				virtio_mmio_set_needs_reset(v->vdev, ch.err);
				return;
			}
			if (vsock_tx_packet(v, &ch) < 0)
				return;
			virtq_push_used(vq, ch.head, 0);
			used = true;
		}
	} while (virtq_enable_notify(vq));
out:
	if (used)
		virtio_mmio_notify_queue(v->vdev, VSOCK_QUEUE_TX);
}

/* Replies, then tx again while replies made room for it. */
static void vsock_run(struct vsock_dev *v)
{
	vsock_rx(v);
	while (v->tx_stalled && v->rst_count < VSOCK_RST_RING && virtio_dev_running(v->vdev)) {
		v->tx_stalled = false;
		vsock_tx(v);
		vsock_rx(v);
	}
}

static bool parse_connect(const char *line, uint32_t *port)
{
	unsigned long long p = 0;
	const char *s;

	if (strncasecmp(line, "CONNECT ", 8))
		return false;
	s = line + 8;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		p = p * 10 + (*s - '0');
		if (p > UINT32_MAX)
			return false;
	}
	while (*s == ' ' || *s == '\r')
		s++;
	if (*s)
		return false;
	*port = p;
	return true;
}

static uint32_t alloc_host_port(struct vsock_dev *v)
{
	for (;;) {
		uint32_t p = v->next_port++;
		bool used = false;

		if (v->next_port == 0)
			v->next_port = VSOCK_HOST_PORT_FIRST;
		for (struct vconn *c = v->all; c && !used; c = c->next)
			used = c->keyed && c->host_port == p;
		if (!used)
			return p;
	}
}

/* "CONNECT <port>\n" from a host program. */
static void conn_handshake(struct vconn *c)
{
	struct vsock_dev *v = c->v;
	char line[VSOCK_CONNECT_LINE + 1];
	char *nl;
	uint32_t port;
	ssize_t n;

	/* peek, so bytes after the newline stay for the guest */
	n = sock_recv(c->fd, line, VSOCK_CONNECT_LINE, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	line[n] = '\0';
	nl = memchr(line, '\n', n);
	if (!nl) {
		if (n >= VSOCK_CONNECT_LINE || memchr(line, '\0', n))
			conn_free(c);
		return;
	}
	if (sock_recv(c->fd, line, (size_t)(nl - line + 1), MSG_DONTWAIT) != nl - line + 1) {
		conn_free(c);
		return;
	}
	*nl = '\0';
	if (!parse_connect(line, &port) || !virtio_dev_running(v->vdev)) {
		conn_free(c);
		return;
	}
	conn_key(c, port, alloc_host_port(v));
	c->state = C_HOST_REQ;
	conn_deadline(c, VSOCK_CONNECT_MS);
	conn_queue(c, P_REQ);
	conn_update(c);
}

static void conn_event(struct vconn *c, uint32_t events)
{
	if (c->state == C_DEAD)
		return;
	if (c->state == C_HANDSHAKE) {
		if (events & EPOLLIN)
			conn_handshake(c);
		else if (events & (EPOLLHUP | EPOLLERR))
			conn_free(c);
		return;
	}
	if (c->state == C_HOST_REQ) {
		/* the host gave up before the guest answered */
		if (!(events & (EPOLLHUP | EPOLLERR)))
			return;
		if (c->pending & P_REQ)
			conn_free(c);
		else
			conn_kill(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		epoll_ctl(c->v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->hup = true;
		c->events = 0;
		if (c->used) {
			conn_flush(c);
			if (c->state == C_DEAD)
				return;
		}
		if (c->guest_shut_rcv && !c->used) {
			conn_kill(c);
			return;
		}
		conn_update(c);
		return;
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->state != C_DEAD && (events & EPOLLIN)) {
		conn_queue(c, P_DATA);
		conn_update(c);
	}
}

static void vsock_accept(struct vsock_dev *v)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vconn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* back when a connection ends */
				pr_warn("virtio-vsock: accept on '%s': %s\n", v->uds,
					strerror(errno));
				listener_set(v, false);
			}
			return;
		}
		if (v->nr_conns >= VSOCK_MAX_CONNS) {
			close(fd);
			listener_set(v, false);
			return;
		}
		c = conn_new(v, fd);
		if (!c) {
			close(fd);
			return;
		}
		c->state = C_HANDSHAKE;
		conn_deadline(c, VSOCK_CONNECT_MS);
		conn_update(c);
	}
}

static void vsock_tick(struct vsock_dev *v)
{
	uint64_t now = monotonic_ns();
	struct vconn *c, *next;
	bool any = false;

	for (c = v->all; c; c = next) {
		next = c->next;
		if (!c->deadline)
			continue;
		if (c->deadline > now) {
			any = true;
			continue;
		}
		c->deadline = 0;
		if (c->state == C_HANDSHAKE || (c->state == C_HOST_REQ && (c->pending & P_REQ)))
			conn_free(c);
		else if (c->state == C_HOST_REQ || c->state == C_CLOSING)
			conn_kill(c);
	}
	/* the tick repeats while a deadline is set */
	v->timer_armed = false;
	if (any)
		arm_timer(v);
}

static void vsock_timer(void *opaque)
{
	struct vsock_dev *v = opaque;

	virtio_dev_lock(v->vdev);
	vsock_tick(v);
	vsock_run(v);
	virtio_dev_unlock(v->vdev);
}

static void vsock_events(void *opaque, uint32_t events)
{
	struct vsock_dev *v = opaque;
	struct epoll_event ev[VSOCK_EV_BATCH];
	int n;

	(void)events;
	virtio_dev_lock(v->vdev);
	n = epoll_wait(v->epfd, ev, VSOCK_EV_BATCH, 0);
	/* a connection frees only itself here; the timer, which frees any, runs apart */
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == EV_LISTENER)
			vsock_accept(v);
		else
			conn_event(ev[i].data.ptr, ev[i].events);
	}
	vsock_run(v);
	virtio_dev_unlock(v->vdev);
}

static void vsock_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct vsock_dev *v = vdev->priv;

	if (q == VSOCK_QUEUE_TX)
		vsock_tx(v);
	/* rx: new buffers for what is owed; event: buffers kept for later */
	vsock_run(v);
}

static void vsock_reset(struct virtio_dev *vdev)
{
	struct vsock_dev *v = vdev->priv;

	while (v->all)
		conn_free(v->all);
	v->rst_count = 0;
	v->rst_head = 0;
	v->tx_stalled = false;
}

static void vsock_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct vsock_dev *v = vdev->priv;
	struct vsock_config cfg = {.guest_cid = v->cid};

	memcpy(data, (uint8_t *)&cfg + off, len);
}

static const struct virtio_dev_ops vsock_dev_ops = {
    .name = "virtio-vsock",
    .device_id = VIRTIO_ID_VSOCK,
    .features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
    .config_size = sizeof(struct vsock_config),
    .num_queues = 3,
    .queue_size = VSOCK_QUEUE_SIZE,
    .config_read = vsock_config_read,
    .reset = vsock_reset,
    .queue_notify = vsock_queue_notify,
};

static void vsock_exit(struct vm *vm)
{
	(void)vm;
	if (!vsock)
		return;
	if (vsock->vdev) {
		struct evloop *loop = vsock->vdev->loop;

		virtio_mmio_destroy(vsock->vdev);
		evloop_del(loop, vsock->epfd);
	}
	while (vsock->all)
		conn_free(vsock->all);
	if (vsock->listen_fd >= 0)
		close(vsock->listen_fd);
	sockpath_release(&vsock->owned);
	evloop_timer_del(&vsock->timer);
	if (vsock->epfd >= 0)
		close(vsock->epfd);
	free(vsock->uds);
	free(vsock);
	vsock = NULL;
}

static int vsock_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct epoll_event ev = {.events = EPOLLIN};
	struct evloop *loop = NULL;
	char err[512];
	int ret;

	if (!cfg->has_vsock || !cfg->vsock_uds)
		return 1;
	if (cfg->vsock_iothread) {
		loop = iothread_loop(vm, cfg->vsock_iothread);
		if (!loop) {
			user_err("virtio-vsock '%s': iothread '%s' does not exist\n",
				 cfg->vsock_id ? cfg->vsock_id : "", cfg->vsock_iothread);
			return -EINVAL;
		}
	}
	vsock = calloc(1, sizeof(*vsock));
	if (!vsock)
		return -ENOMEM;
	vsock->listen_fd = -1;
	vsock->cid = cfg->vsock_cid;
	vsock->next_port = VSOCK_HOST_PORT_FIRST;
	vsock->uds = strdup(cfg->vsock_uds);
	vsock->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!vsock->uds || vsock->epfd < 0) {
		ret = vsock->uds ? -errno : -ENOMEM;
		pr_err("virtio-vsock: %s\n", strerror(-ret));
		goto err;
	}
	ret = sockpath_listen(vsock->uds, 64, &vsock->owned, err, sizeof(err));
	if (ret < 0) {
		user_err("virtio-vsock uds-path: %s\n", err);
		goto err;
	}
	vsock->listen_fd = ret;
	ev.data.u64 = EV_LISTENER;
	if (epoll_ctl(vsock->epfd, EPOLL_CTL_ADD, vsock->listen_fd, &ev) < 0)
		goto err_errno;
	ret = virtio_mmio_create(vm, &vsock_dev_ops, vsock, loop, &vsock->vdev);
	if (ret < 0)
		goto err;
	ret = evloop_add(vsock->vdev->loop, vsock->epfd, EPOLLIN, vsock_events, vsock);
	if (ret < 0) {
		pr_err("virtio-vsock: event loop: %s\n", strerror(-ret));
		goto err;
	}
	evloop_timer_add(vsock->vdev->loop, &vsock->timer, vsock_timer, vsock);
	return 0;
err_errno:
	ret = -errno;
	pr_err("virtio-vsock: epoll: %s\n", strerror(-ret));
err:
	vsock_exit(vm);
	return ret;
}

static const struct vm_device_ops vsock_vm_ops = {
    .name = "virtio-vsock",
    .order = 26,
    .init = vsock_init,
    .exit = vsock_exit,
};
VM_DEVICE_REGISTER(vsock_vm_ops);
