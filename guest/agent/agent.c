// SPDX-License-Identifier: MulanPSL-2.0
/*
 * svagent: the test agent of the demo/test Linux guest (docs/guest.md).
 *
 * A small static program that guest/init runs for the checks busybox cannot
 * do or cannot do exactly.  Each command prints one line of key=value pairs
 * on stdout and exits 0 when it could measure, 1 when it could not (the
 * line then carries error=...).
 *
 *   svagent sha256 FILE [OFFSET [LENGTH]]   bytes=N sha256=HEX
 *   svagent tcpget IPV4 PORT                bytes=N sha256=HEX (connect, read to EOF)
 *   svagent hwrng N [DEVICE]                bytes=N distinct=D (byte values seen)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sha256 {
	uint32_t h[8];
	uint8_t block[64];
	size_t fill;
	uint64_t total;
};

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, iv, sizeof(iv));
	s->fill = 0;
	s->total = 0;
}

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
		t2 = (ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->total += len;
	while (len) {
		size_t n = sizeof(s->block) - s->fill;

		if (n > len)
			n = len;
		memcpy(s->block + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == sizeof(s->block)) {
			sha256_block(s, s->block);
			s->fill = 0;
		}
	}
}

static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->total * 8;
	uint8_t pad = 0x80, len[8];
	int i;

	sha256_update(s, &pad, 1);
	pad = 0;
	while (s->fill != 56)
		sha256_update(s, &pad, 1);
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, len, sizeof(len));
	for (i = 0; i < 8; i++)
		sprintf(out + 8 * i, "%08x", s->h[i]);
}

static int fail(const char *what)
{
	printf("error=%s:%s\n", what, strerror(errno));
	return 1;
}

/* Hashes what fd gives until EOF or limit bytes (limit < 0: no limit). */
static int hash_stream(int fd, int64_t limit)
{
	static uint8_t buf[1 << 16];
	struct sha256 s;
	uint64_t bytes = 0;
	char hex[65];

	sha256_init(&s);
	while (limit < 0 || (int64_t)bytes < limit) {
		size_t want = sizeof(buf);
		ssize_t n;

		if (limit >= 0 && (uint64_t)(limit - (int64_t)bytes) < want)
			want = (size_t)(limit - (int64_t)bytes);
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read");
		if (n == 0)
			break;
		sha256_update(&s, buf, (size_t)n);
		bytes += (uint64_t)n;
	}
	sha256_hex(&s, hex);
	printf("bytes=%" PRIu64 " sha256=%s\n", bytes, hex);
	return 0;
}

static int cmd_sha256(int argc, char **argv)
{
	int64_t offset = argc > 3 ? strtoll(argv[3], NULL, 0) : 0;
	int64_t length = argc > 4 ? strtoll(argv[4], NULL, 0) : -1;
	int fd = open(argv[2], O_RDONLY);

	if (fd < 0)
		return fail("open");
	if (offset && lseek(fd, offset, SEEK_SET) < 0)
		return fail("lseek");
	return hash_stream(fd, length);
}

static int cmd_tcpget(char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd, tries;

	sa.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		printf("error=bad-address:%s\n", argv[2]);
		return 1;
	}
	/* The link may come up a moment after init starts. */
	for (tries = 0;; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return fail("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (tries == 20)
			return fail("connect");
		sleep(1);
	}
	return hash_stream(fd, -1);
}

static int cmd_hwrng(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	const char *dev = argc > 3 ? argv[3] : "/dev/hwrng";
	size_t want = (size_t)strtoul(argv[2], NULL, 0), got = 0;
	int seen[256] = {0}, distinct = 0, fd;

	if (want > sizeof(buf))
		want = sizeof(buf);
	fd = open(dev, O_RDONLY);
	if (fd < 0)
		return fail("open");
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("read");
		got += (size_t)n;
	}
	for (size_t i = 0; i < got; i++)
		if (!seen[buf[i]]++)
			distinct++;
	printf("bytes=%zu distinct=%d\n", got, distinct);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "sha256"))
		return cmd_sha256(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "tcpget"))
		return cmd_tcpget(argv);
	if (argc >= 3 && !strcmp(argv[1], "hwrng"))
		return cmd_hwrng(argc, argv);
	fprintf(stderr, "usage: svagent sha256 FILE [OFFSET [LENGTH]] | tcpget IPV4 PORT | "
			"hwrng N [DEVICE]\n");
	return 2;
}
