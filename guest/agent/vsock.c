// SPDX-License-Identifier: MulanPSL-2.0
/*
 * svvsock: the vsock program of the demo/test Linux guest (docs/guest.md,
 * guest/checks.d/vsock.sh).  Prints one key=value line; exit 0 or 1.
 *
 *   svvsock serve PORT COUNT [MARK]
 *       listens on AF_VSOCK port PORT (any CID), writes MARK (default
 *       "SVVSOCK listening") to /dev/console once listening, then accepts
 *       COUNT connections one after the other and echoes each until the
 *       peer's end of stream:  conns=N bytes=B (bytes echoed in all)
 *   svvsock echo CID PORT BYTES
 *       connects to CID:PORT, sends BYTES of a fixed pseudo-random stream
 *       while reading the echo back, and compares every byte:
 *       bytes=B fnv=HEX (FNV-1a 64 of what came back) connect_us=U
 *   svvsock bench PORT [MARK]
 *       listens on PORT like serve, then serves connections one after the
 *       other (bench/vsock.py), each opened with a command line:
 *         "send N\n"  writes N bytes to the peer, then closes (guest -> host)
 *         "recv N\n"  reads N bytes, answers "ok N\n", closes (host -> guest)
 *         "ping\n"    answers "pong\n", closes (connection set-up)
 *         "quit\n"    ends:  conns=N sent=B received=B
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static int fail(const char *what)
{
	printf("error=%s:%s\n", what, strerror(errno));
	return 1;
}

/* xorshift64: the stream both ends agree on (bench/vsock.py makes the same) */
static uint8_t stream_byte(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint8_t)*s;
}

static int cmd_serve(unsigned port, unsigned count, const char *mark)
{
	struct sockaddr_vm a = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	static char buf[CHUNK];
	uint64_t total = 0;
	unsigned n;
	int l, con;

	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (l < 0)
		return fail("socket");
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0)
		return fail("listen");
	con = open("/dev/console", O_WRONLY);
	if (con >= 0) {
		dprintf(con, "%s\n", mark);
		close(con);
	}
	for (n = 0; n < count; n++) {
		int c = accept(l, NULL, NULL);
		ssize_t r;

		if (c < 0)
			return fail("accept");
		while ((r = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < r;) {
				ssize_t w = write(c, buf + off, (size_t)(r - off));

				if (w <= 0)
					return fail("write");
				off += w;
			}
			total += (uint64_t)r;
		}
		if (r < 0)
			return fail("read");
		shutdown(c, SHUT_WR);
		close(c);
	}
	printf("conns=%u bytes=%" PRIu64 "\n", n, total);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmd_echo(unsigned cid, unsigned port, uint64_t bytes)
{
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	static uint8_t out[CHUNK], in[CHUNK];
	uint64_t ws = 0x9e3779b97f4a7c15ULL, rs = ws, sent = 0, got = 0;
	uint64_t fnv = 0xcbf29ce484222325ULL, t0;
	size_t olen = 0, ooff = 0;
	int s;

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		return fail("socket");
	t0 = now_us();
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("connect");
	t0 = now_us() - t0;
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (got < bytes) {
		struct pollfd p = {s, POLLIN | (sent < bytes || ooff < olen ? POLLOUT : 0), 0};

		if (poll(&p, 1, 30000) <= 0)
			return fail("poll");
		if ((p.revents & POLLOUT) && ooff == olen && sent < bytes) {
			olen = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
			for (size_t i = 0; i < olen; i++)
				out[i] = stream_byte(&ws);
			ooff = 0;
		}
		if ((p.revents & POLLOUT) && ooff < olen) {
			ssize_t w = write(s, out + ooff, olen - ooff);

			if (w < 0 && errno != EAGAIN)
				return fail("write");
			if (w > 0) {
				ooff += (size_t)w;
				sent += (uint64_t)w;
				if (sent == bytes && ooff == olen)
					shutdown(s, SHUT_WR);
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(s, in, sizeof(in));

			if (r == 0)
				break;
			if (r < 0 && errno != EAGAIN)
				return fail("read");
			for (ssize_t i = 0; i < r; i++) {
				if (in[i] != stream_byte(&rs)) {
					printf("error=mismatch-at-%" PRIu64 "\n",
					       got + (uint64_t)i);
					return 1;
				}
				fnv = (fnv ^ in[i]) * 0x100000001b3ULL;
			}
			if (r > 0)
				got += (uint64_t)r;
		}
	}
	close(s);
	printf("bytes=%" PRIu64 " fnv=%016" PRIx64 " connect_us=%" PRIu64 "\n", got, fnv, t0);
	if (got != bytes) {
		printf("error=short-echo\n");
		return 1;
	}
	return 0;
}

/* One '\n'-terminated line, read a byte at a time so nothing after it is taken. */
static int read_line(int fd, char *line, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0)
			return -1;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int cmd_bench(unsigned port, const char *mark)
{
	struct sockaddr_vm a = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	static char buf[CHUNK];
	uint64_t sent = 0, received = 0;
	unsigned conns = 0;
	int l, con;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1);
	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (l < 0)
		return fail("socket");
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0)
		return fail("listen");
	con = open("/dev/console", O_WRONLY);
	if (con >= 0) {
		dprintf(con, "%s\n", mark);
		close(con);
	}
	for (;;) {
		char line[64], rbuf[CHUNK];
		unsigned long long n = 0;
		int c = accept(l, NULL, NULL);

		if (c < 0)
			return fail("accept");
		conns++;
		if (read_line(c, line, sizeof(line)) < 0) {
			close(c);
			continue;
		}
		if (!strcmp(line, "quit")) {
			close(c);
			break;
		} else if (!strcmp(line, "ping")) {
			write_all(c, "pong\n", 5);
		} else if (sscanf(line, "send %llu", &n) == 1) {
			for (uint64_t left = n; left;) {
				size_t k = left < CHUNK ? (size_t)left : CHUNK;

				if (write_all(c, buf, k) < 0)
					break;
				left -= k;
				sent += k;
			}
		} else if (sscanf(line, "recv %llu", &n) == 1) {
			uint64_t got = 0;
			ssize_t r = 1;

			while (got < n && (r = read(c, rbuf, sizeof(rbuf))) > 0)
				got += (uint64_t)r;
			received += got;
			if (got == n)
				dprintf(c, "ok %llu\n", n);
		}
		shutdown(c, SHUT_WR);
		close(c);
	}
	printf("conns=%u sent=%" PRIu64 " received=%" PRIu64 "\n", conns, sent, received);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "serve"))
		return cmd_serve((unsigned)strtoul(argv[2], NULL, 0),
				 (unsigned)strtoul(argv[3], NULL, 0),
				 argc >= 5 ? argv[4] : "SVVSOCK listening");
	if (argc == 5 && !strcmp(argv[1], "echo"))
		return cmd_echo((unsigned)strtoul(argv[2], NULL, 0),
				(unsigned)strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc >= 3 && !strcmp(argv[1], "bench"))
		return cmd_bench((unsigned)strtoul(argv[2], NULL, 0),
				 argc >= 4 ? argv[3] : "SVVSOCK listening");
	fprintf(stderr, "usage: svvsock serve PORT COUNT [MARK] | echo CID PORT BYTES | "
			"bench PORT [MARK]\n");
	return 2;
}
