// SPDX-License-Identifier: MulanPSL-2.0
/*
 * vhost-user front end: request framing, fd passing and checked replies.
 * Every wait for a reply is bounded by vu->timeout_ms; a hang-up, a late
 * reply or a reply that does not match the request marks the connection
 * broken (vu->broken), after which every call fails with -ENOTCONN until the
 * caller closes and reconnects.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "machine/memory.h"
#include "virtio/vhost_user.h"

#define MAX_PAYLOAD sizeof(struct vhost_user_mem)

static const char *req_name(uint32_t req)
{
	static const char *const names[] = {
	    [VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	    [VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	    [VHOST_USER_SET_OWNER] = "SET_OWNER",
	    [VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	    [VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	    [VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	    [VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	    [VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	    [VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	    [VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	    [VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	    [VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	    [VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};

	if (req < sizeof(names) / sizeof(names[0]) && names[req])
		return names[req];
	return "request";
}

static int fail(struct vhost_user *vu, int ret, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct vhost_user *vu, int ret, bool fatal, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vu->err, sizeof(vu->err), fmt, ap);
	va_end(ap);
	if (fatal)
		vu->broken = true;
	return ret;
}

void vhost_user_init(struct vhost_user *vu, int fd)
{
	memset(vu, 0, sizeof(*vu));
	vu->fd = fd;
	vu->timeout_ms = VHOST_USER_DEFAULT_TIMEOUT_MS;
}

int vhost_user_connect(struct vhost_user *vu, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	vhost_user_init(vu, -1);
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(vu, -ENAMETOOLONG, false, "socket path '%s' too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(vu, -errno, false, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return fail(vu, -e, false, "cannot connect to '%s': %s", path, strerror(e));
	}
	vu->fd = fd;
	return vhost_user_set_timeout(vu, vu->timeout_ms);
}

int vhost_user_set_timeout(struct vhost_user *vu, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	/*
	 * A back end that stops reading or answering cannot block the VMM for
	 * ever: both directions time out in the kernel, so the reply wait needs
	 * no poll(2) (one syscall fewer for the seccomp lists).
	 */
	vu->timeout_ms = ms;
	if (setsockopt(vu->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(vu->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return fail(vu, -errno, false, "socket timeout: %s", strerror(errno));
	return 0;
}

void vhost_user_close(struct vhost_user *vu)
{
	if (vu->fd >= 0)
		close(vu->fd);
	vu->fd = -1;
	vu->broken = false;
	vu->features = 0;
	vu->protocol_features = 0;
}

static bool reply_ack(const struct vhost_user *vu)
{
	return vu->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
}

static int send_msg(struct vhost_user *vu, uint32_t req, uint32_t flags, const void *payload,
		    uint32_t size, const int *fds, unsigned nfds)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + MAX_PAYLOAD];
	struct vhost_user_hdr hdr = {req, VHOST_USER_VERSION | flags, size};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
	} ctl;
	struct iovec iov = {buf, VHOST_USER_HDR_SIZE + size};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (vu->fd < 0 || vu->broken)
		return fail(vu, -ENOTCONN, false, "not connected to the back end");
	memcpy(buf, &hdr, sizeof(hdr));
	if (size)
		memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(vu->fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		if (e == EPIPE || e == ECONNRESET)
			return fail(vu, -ECONNRESET, true, "back end hung up (%s)", req_name(req));
		if (e == EAGAIN)
			return fail(vu, -ETIMEDOUT, true, "back end stopped reading (%s)",
				    req_name(req));
		return fail(vu, -e, true, "sending %s: %s", req_name(req), strerror(e));
	}
	if ((size_t)n != iov.iov_len)
		return fail(vu, -EIO, true, "short send of %s", req_name(req));
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_passed_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

/* Reads exactly len bytes before the deadline; fds that come along are closed. */
static int recv_exact(struct vhost_user *vu, uint32_t req, void *buf, size_t len, int64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 8)];
		} ctl;
		struct iovec iov = {(uint8_t *)buf + got, len - got};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf)};
		ssize_t n;

		if (deadline - now_ms() <= 0)
			return fail(vu, -ETIMEDOUT, true, "no reply to %s within %d ms",
				    req_name(req), vu->timeout_ms);
		/* blocks for SO_RCVTIMEO at most (EAGAIN then), set at connect */
		n = recvmsg(vu->fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0 && errno != ECONNRESET)
			return fail(vu, -errno, true, "reading the reply to %s: %s", req_name(req),
				    strerror(errno));
		close_passed_fds(&msg);
		if (n <= 0)
			return fail(vu, -ECONNRESET, true, "back end hung up (reply to %s)",
				    req_name(req));
		got += (size_t)n;
	}
	return 0;
}

int vhost_user_check_reply(const struct vhost_user_hdr *hdr, uint32_t request, size_t want_size,
			   char *err, size_t errlen)
{
	if (hdr->request != request) {
		snprintf(err, errlen, "reply for request %u when %s was asked", hdr->request,
			 req_name(request));
		return -EPROTO;
	}
	if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    !(hdr->flags & VHOST_USER_FLAG_REPLY)) {
		snprintf(err, errlen, "reply to %s has flags %#x (want version 1, reply)",
			 req_name(request), hdr->flags);
		return -EPROTO;
	}
	if (hdr->size != want_size) {
		snprintf(err, errlen, "reply to %s has %u payload bytes, want %zu",
			 req_name(request), hdr->size, want_size);
		return -EPROTO;
	}
	return 0;
}

static int recv_reply(struct vhost_user *vu, uint32_t req, void *payload, size_t size)
{
	uint8_t buf[MAX_PAYLOAD];
	struct vhost_user_hdr hdr;
	int64_t deadline = now_ms() + vu->timeout_ms;
	int ret;

	ret = recv_exact(vu, req, &hdr, sizeof(hdr), deadline);
	if (ret < 0)
		return ret;
	if (hdr.size > MAX_PAYLOAD)
		return fail(vu, -EPROTO, true, "reply to %s claims %u payload bytes", req_name(req),
			    hdr.size);
	ret = recv_exact(vu, req, buf, hdr.size, deadline);
	if (ret < 0)
		return ret;
	ret = vhost_user_check_reply(&hdr, req, size, vu->err, sizeof(vu->err));
	if (ret < 0) {
		vu->broken = true;
		return ret;
	}
	memcpy(payload, buf, size);
	return 0;
}

/* A request that has no reply of its own: with REPLY_ACK, wait for the ack. */
static int request(struct vhost_user *vu, uint32_t req, const void *payload, uint32_t size,
		   const int *fds, unsigned nfds)
{
	bool ack = reply_ack(vu);
	uint64_t status;
	int ret;

	ret = send_msg(vu, req, ack ? VHOST_USER_FLAG_NEED_REPLY : 0, payload, size, fds, nfds);
	if (ret < 0 || !ack)
		return ret;
	ret = recv_reply(vu, req, &status, sizeof(status));
	if (ret < 0)
		return ret;
	if (status)
		return fail(vu, -EIO, false, "back end refused %s (status %llu)", req_name(req),
			    (unsigned long long)status);
	return 0;
}

static int get_u64(struct vhost_user *vu, uint32_t req, uint64_t *val)
{
	int ret = send_msg(vu, req, 0, NULL, 0, NULL, 0);

	if (ret < 0)
		return ret;
	return recv_reply(vu, req, val, sizeof(*val));
}

int vhost_user_negotiate(struct vhost_user *vu, uint64_t want_protocol)
{
	uint64_t proto = 0;
	int ret;

	ret = get_u64(vu, VHOST_USER_GET_FEATURES, &vu->features);
	if (ret < 0)
		return ret;
	if (vu->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) {
		ret = get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &proto);
		if (ret < 0)
			return ret;
		proto &= want_protocol;
		ret = request(vu, VHOST_USER_SET_PROTOCOL_FEATURES, &proto, sizeof(proto), NULL, 0);
		if (ret < 0)
			return ret;
		vu->protocol_features = proto;
	}
	return request(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
}

int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
{
	features |= vu->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	if (features & ~vu->features)
		return fail(vu, -EINVAL, false, "features %#llx not offered by the back end",
			    (unsigned long long)(features & ~vu->features));
	return request(vu, VHOST_USER_SET_FEATURES, &features, sizeof(features), NULL, 0);
}

int vhost_user_set_mem_table(struct vhost_user *vu, const struct guest_mem *mem)
{
	struct vhost_user_mem m = {0};
	int fds[VHOST_USER_MAX_REGIONS];
	uint32_t size;

	if (mem->memfd < 0 || mem->nr_regions <= 0 || mem->nr_regions > VHOST_USER_MAX_REGIONS)
		return fail(vu, -EINVAL, false, "guest memory is not shareable");
	for (int i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];

		/* RAM is one mapping of the memfd; regions are views into it */
		m.regions[i] = (struct vhost_user_region){
		    .guest_addr = r->gpa,
		    .size = r->size,
		    .user_addr = (uint64_t)(uintptr_t)r->hva,
		    .mmap_offset = (uint64_t)(r->hva - mem->regions[0].hva),
		};
		fds[i] = mem->memfd;
	}
	m.nregions = (uint32_t)mem->nr_regions;
	size = (uint32_t)(8 + sizeof(struct vhost_user_region) * m.nregions);
	return request(vu, VHOST_USER_SET_MEM_TABLE, &m, size, fds, m.nregions);
}

static int set_state(struct vhost_user *vu, uint32_t req, unsigned idx, unsigned num)
{
	struct vhost_user_vring_state s = {idx, num};

	return request(vu, req, &s, sizeof(s), NULL, 0);
}

int vhost_user_set_vring_num(struct vhost_user *vu, unsigned idx, unsigned num)
{
	return set_state(vu, VHOST_USER_SET_VRING_NUM, idx, num);
}

int vhost_user_set_vring_base(struct vhost_user *vu, unsigned idx, unsigned base)
{
	return set_state(vu, VHOST_USER_SET_VRING_BASE, idx, base);
}

int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned idx, int enable)
{
	return set_state(vu, VHOST_USER_SET_VRING_ENABLE, idx, enable ? 1 : 0);
}

int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned idx, const void *desc,
			      const void *used, const void *avail)
{
	struct vhost_user_vring_addr a = {
	    .index = idx,
	    .desc = (uint64_t)(uintptr_t)desc,
	    .used = (uint64_t)(uintptr_t)used,
	    .avail = (uint64_t)(uintptr_t)avail,
	};

	return request(vu, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

static int set_vring_fd(struct vhost_user *vu, uint32_t req, unsigned idx, int fd)
{
	uint64_t v = idx & 0xff;

	if (idx > 0xff)
		return fail(vu, -EINVAL, false, "queue index %u too large", idx);
	if (fd < 0)
		v |= VHOST_USER_VRING_NOFD;
	return request(vu, req, &v, sizeof(v), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned idx, int fd)
{
	return set_vring_fd(vu, VHOST_USER_SET_VRING_KICK, idx, fd);
}

int vhost_user_set_vring_call(struct vhost_user *vu, unsigned idx, int fd)
{
	return set_vring_fd(vu, VHOST_USER_SET_VRING_CALL, idx, fd);
}

int vhost_user_get_vring_base(struct vhost_user *vu, unsigned idx, unsigned *base)
{
	struct vhost_user_vring_state s = {idx, 0};
	int ret;

	ret = send_msg(vu, VHOST_USER_GET_VRING_BASE, 0, &s, sizeof(s), NULL, 0);
	if (ret < 0)
		return ret;
	ret = recv_reply(vu, VHOST_USER_GET_VRING_BASE, &s, sizeof(s));
	if (ret < 0)
		return ret;
	if (s.index != idx || s.num > 0xffff)
		return fail(vu, -EPROTO, true,
			    "GET_VRING_BASE reply for queue %u base %u, asked %u", s.index, s.num,
			    idx);
	*base = s.num;
	return 0;
}
