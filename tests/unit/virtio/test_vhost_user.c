// SPDX-License-Identifier: MulanPSL-2.0
/*
 * vhost-user front end against a fake back end on the other end of a
 * socketpair: the test queues the back end's replies before the call (the
 * socket buffers them), makes the call, then reads and checks what the front
 * end sent, fds included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "machine/memory.h"
#include "virtio/vhost_user.h"

#define F_VERSION_1 (1ULL << 32)
#define F_PROTO	    (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)
#define P_REPLY_ACK (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define P_MQ	    1ULL

struct pair {
	struct vhost_user vu;
	int be;
};

static int setup(void **state)
{
	static struct pair p;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vhost_user_init(&p.vu, sv[0]);
	assert_int_equal(vhost_user_set_timeout(&p.vu, 200), 0);
	p.be = sv[1];
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	vhost_user_close(&p->vu);
	if (p->be >= 0)
		close(p->be);
	return 0;
}

static void be_raw(struct pair *p, uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	uint8_t buf[512];
	struct vhost_user_hdr h = {req, flags, size};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, size);
	assert_int_equal(write(p->be, buf, sizeof(h) + size), (ssize_t)(sizeof(h) + size));
}

static void be_reply_u64(struct pair *p, uint32_t req, uint64_t v)
{
	be_raw(p, req, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &v, sizeof(v));
}

/* Reads one message the front end sent; returns its payload size. */
static uint32_t be_read(struct pair *p, uint32_t want_req, uint32_t *flags, void *payload, int *fds,
			int *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	uint8_t buf[512];
	struct iovec iov = {buf, sizeof(struct vhost_user_hdr)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct vhost_user_hdr h;
	struct cmsghdr *c;

	assert_int_equal(recvmsg(p->be, &msg, MSG_WAITALL), (ssize_t)sizeof(h));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.request, want_req);
	assert_int_equal(h.flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
	assert_true(h.size <= sizeof(buf));
	if (h.size)
		assert_int_equal(recv(p->be, payload, h.size, MSG_WAITALL), (ssize_t)h.size);
	if (flags)
		*flags = h.flags;
	if (nfds) {
		*nfds = 0;
		c = CMSG_FIRSTHDR(&msg);
		if (c && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), sizeof(int) * *nfds);
		}
	} else {
		assert_null(CMSG_FIRSTHDR(&msg));
	}
	return h.size;
}

static void test_negotiate_reply_ack(void **state)
{
	struct pair *p = *state;
	uint64_t v;
	uint32_t flags;

	be_reply_u64(p, VHOST_USER_GET_FEATURES, F_VERSION_1 | F_PROTO);
	be_reply_u64(p, VHOST_USER_GET_PROTOCOL_FEATURES, P_REPLY_ACK | P_MQ);
	be_reply_u64(p, VHOST_USER_SET_OWNER, 0); /* the ack */
	assert_int_equal(vhost_user_negotiate(&p->vu, P_REPLY_ACK), 0);
	assert_int_equal(p->vu.features, F_VERSION_1 | F_PROTO);
	assert_int_equal(p->vu.protocol_features, P_REPLY_ACK);

	assert_int_equal(be_read(p, VHOST_USER_GET_FEATURES, NULL, &v, NULL, NULL), 0);
	assert_int_equal(be_read(p, VHOST_USER_GET_PROTOCOL_FEATURES, NULL, &v, NULL, NULL), 0);
	assert_int_equal(be_read(p, VHOST_USER_SET_PROTOCOL_FEATURES, &flags, &v, NULL, NULL), 8);
	assert_int_equal(v, P_REPLY_ACK); /* only what we asked for and it offered */
	assert_false(flags & VHOST_USER_FLAG_NEED_REPLY);
	assert_int_equal(be_read(p, VHOST_USER_SET_OWNER, &flags, &v, NULL, NULL), 0);
	assert_true(flags & VHOST_USER_FLAG_NEED_REPLY);

	/* with reply-ack every request waits for its ack; a refusal is -EIO */
	be_reply_u64(p, VHOST_USER_SET_FEATURES, 1);
	assert_int_equal(vhost_user_set_features(&p->vu, F_VERSION_1), -EIO);
	assert_false(p->vu.broken);
	assert_non_null(strstr(p->vu.err, "refused SET_FEATURES"));
	assert_int_equal(be_read(p, VHOST_USER_SET_FEATURES, &flags, &v, NULL, NULL), 8);
	assert_int_equal(v, F_VERSION_1 | F_PROTO); /* PROTOCOL_FEATURES kept */
}

static void test_negotiate_plain(void **state)
{
	struct pair *p = *state;
	uint64_t v;
	uint32_t flags;

	be_reply_u64(p, VHOST_USER_GET_FEATURES, F_VERSION_1);
	assert_int_equal(vhost_user_negotiate(&p->vu, P_REPLY_ACK), 0);
	assert_int_equal(p->vu.protocol_features, 0);
	be_read(p, VHOST_USER_GET_FEATURES, NULL, &v, NULL, NULL);
	be_read(p, VHOST_USER_SET_OWNER, &flags, &v, NULL, NULL);
	assert_false(flags & VHOST_USER_FLAG_NEED_REPLY);
	/* a feature the back end never offered is not sent */
	assert_int_equal(vhost_user_set_features(&p->vu, F_VERSION_1 | 1), -EINVAL);
}

static void test_mem_table_fds(void **state)
{
	struct pair *p = *state;
	struct guest_mem mem = {0};
	struct vhost_user_mem m;
	struct stat a, b;
	int fds[8], nfds;
	uint8_t *base;

	mem.memfd = memfd_create("vu-test", MFD_CLOEXEC);
	assert_true(mem.memfd >= 0);
	assert_int_equal(ftruncate(mem.memfd, 3 << 20), 0);
	base = mmap(NULL, 3 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, mem.memfd, 0);
	assert_true(base != MAP_FAILED);
	mem.regions[0] = (struct gmem_region){0, 2 << 20, base};
	mem.regions[1] = (struct gmem_region){1ULL << 32, 1 << 20, base + (2 << 20)};
	mem.nr_regions = 2;

	assert_int_equal(vhost_user_set_mem_table(&p->vu, &mem), 0);
	assert_int_equal(be_read(p, VHOST_USER_SET_MEM_TABLE, NULL, &m, fds, &nfds),
			 8 + 2 * sizeof(struct vhost_user_region));
	assert_int_equal(m.nregions, 2);
	assert_int_equal(nfds, 2);
	assert_int_equal(m.regions[1].guest_addr, 1ULL << 32);
	assert_int_equal(m.regions[1].size, 1 << 20);
	assert_int_equal(m.regions[1].user_addr, (uint64_t)(uintptr_t)(base + (2 << 20)));
	assert_int_equal(m.regions[1].mmap_offset, 2 << 20);
	assert_int_equal(m.regions[0].mmap_offset, 0);
	assert_int_equal(fstat(mem.memfd, &a), 0);
	for (int i = 0; i < nfds; i++) {
		assert_int_equal(fstat(fds[i], &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
		close(fds[i]);
	}
	/* anonymous RAM cannot be shared */
	mem.memfd = -1;
	assert_int_equal(vhost_user_set_mem_table(&p->vu, &mem), -EINVAL);
	munmap(base, 3 << 20);
}

static void test_vrings(void **state)
{
	struct pair *p = *state;
	uint8_t ring[64];
	struct vhost_user_vring_addr a;
	struct vhost_user_vring_state s;
	uint64_t v;
	int fds[8], nfds, efd[2];
	unsigned base = 0;

	assert_int_equal(pipe(efd), 0);
	assert_int_equal(vhost_user_set_vring_num(&p->vu, 1, 256), 0);
	assert_int_equal(vhost_user_set_vring_addr(&p->vu, 1, ring, ring + 16, ring + 32), 0);
	assert_int_equal(vhost_user_set_vring_kick(&p->vu, 1, efd[0]), 0);
	assert_int_equal(vhost_user_set_vring_call(&p->vu, 0, -1), 0);
	be_read(p, VHOST_USER_SET_VRING_NUM, NULL, &s, NULL, NULL);
	assert_int_equal(s.index, 1);
	assert_int_equal(s.num, 256);
	assert_int_equal(be_read(p, VHOST_USER_SET_VRING_ADDR, NULL, &a, NULL, NULL), sizeof(a));
	assert_int_equal(a.used, (uint64_t)(uintptr_t)(ring + 16));
	assert_int_equal(a.avail, (uint64_t)(uintptr_t)(ring + 32));
	be_read(p, VHOST_USER_SET_VRING_KICK, NULL, &v, fds, &nfds);
	assert_int_equal(v, 1);
	assert_int_equal(nfds, 1);
	close(fds[0]);
	be_read(p, VHOST_USER_SET_VRING_CALL, NULL, &v, fds, &nfds);
	assert_int_equal(v, VHOST_USER_VRING_NOFD);
	assert_int_equal(nfds, 0);

	s = (struct vhost_user_vring_state){1, 77};
	be_raw(p, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &s,
	       sizeof(s));
	assert_int_equal(vhost_user_get_vring_base(&p->vu, 1, &base), 0);
	assert_int_equal(base, 77);
	/* the answer names another queue: rejected */
	s = (struct vhost_user_vring_state){0, 5};
	be_raw(p, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &s,
	       sizeof(s));
	assert_int_equal(vhost_user_get_vring_base(&p->vu, 1, &base), -EPROTO);
	assert_true(p->vu.broken);
	close(efd[0]);
	close(efd[1]);
}

/* Each malformed reply fails the call and the connection. */
static void check_bad_reply(struct pair *p, uint32_t req, uint32_t flags, const void *payload,
			    uint32_t size, int want, const char *msg)
{
	uint64_t v = 0;

	be_raw(p, req, flags, payload, size);
	assert_int_equal(vhost_user_negotiate(&p->vu, 0), want);
	assert_true(p->vu.broken);
	assert_non_null(strstr(p->vu.err, msg));
	/* a broken connection sends nothing more */
	assert_int_equal(vhost_user_set_vring_num(&p->vu, 0, 8), -ENOTCONN);
	be_read(p, VHOST_USER_GET_FEATURES, NULL, &v, NULL, NULL);
}

static void test_bad_replies(void **state)
{
	struct pair *p = *state;
	const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	uint64_t v = F_VERSION_1;
	uint8_t big[300] = {0};

	check_bad_reply(p, VHOST_USER_SET_OWNER, ok, &v, 8, -EPROTO, "when GET_FEATURES was asked");
	p->vu.broken = false;
	check_bad_reply(p, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, &v, 8, -EPROTO, "flags");
	p->vu.broken = false;
	check_bad_reply(p, VHOST_USER_GET_FEATURES, 2 | VHOST_USER_FLAG_REPLY, &v, 8, -EPROTO,
			"flags");
	p->vu.broken = false;
	check_bad_reply(p, VHOST_USER_GET_FEATURES, ok, &v, 4, -EPROTO, "4 payload bytes");
	p->vu.broken = false;
	check_bad_reply(p, VHOST_USER_GET_FEATURES, ok, big, sizeof(big), -EPROTO,
			"claims 300 payload bytes");
}

static void test_timeout(void **state)
{
	struct pair *p = *state;
	uint64_t v;

	assert_int_equal(vhost_user_set_timeout(&p->vu, 50), 0);
	assert_int_equal(vhost_user_negotiate(&p->vu, 0), -ETIMEDOUT);
	assert_true(p->vu.broken);
	assert_non_null(strstr(p->vu.err, "no reply to GET_FEATURES within 50 ms"));
	be_read(p, VHOST_USER_GET_FEATURES, NULL, &v, NULL, NULL);
	/* half a reply, then silence: also a timeout */
	p->vu.broken = false;
	assert_int_equal(write(p->be, "\x01\0\0\0\x05", 5), 5);
	assert_int_equal(vhost_user_negotiate(&p->vu, 0), -ETIMEDOUT);
}

static void test_hangup(void **state)
{
	struct pair *p = *state;

	/* a short reply, then the back end goes */
	assert_int_equal(write(p->be, "\x01\0\0\0", 4), 4);
	close(p->be);
	p->be = -1;
	assert_int_equal(vhost_user_negotiate(&p->vu, 0), -ECONNRESET);
	assert_non_null(strstr(p->vu.err, "hung up"));
	p->vu.broken = false;
	/* sending to a closed peer: no SIGPIPE, an error */
	assert_int_equal(vhost_user_set_vring_num(&p->vu, 0, 8), -ECONNRESET);
	assert_true(p->vu.broken);
}

static void test_reply_fds_closed(void **state)
{
	struct pair *p = *state;
	uint8_t buf[20];
	struct vhost_user_hdr h = {VHOST_USER_GET_FEATURES,
				   VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 8};
	uint64_t v = F_VERSION_1;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c;
	int fd = dup(0), probe;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &v, 8);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	assert_int_equal(sendmsg(p->be, &msg, 0), (ssize_t)sizeof(buf));
	close(fd);
	be_reply_u64(p, VHOST_USER_SET_OWNER, 0);
	assert_int_equal(vhost_user_negotiate(&p->vu, 0), 0);
	/* the fd that came with the reply was closed: the lowest free number is free again */
	probe = dup(0);
	assert_true(probe <= fd);
	close(probe);
}

static void test_check_reply(void **state)
{
	struct vhost_user_hdr h = {VHOST_USER_GET_VRING_BASE,
				   VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 8};
	char err[160];

	(void)state;
	assert_int_equal(vhost_user_check_reply(&h, VHOST_USER_GET_VRING_BASE, 8, err, sizeof(err)),
			 0);
	h.flags |= VHOST_USER_FLAG_NEED_REPLY; /* other bits are tolerated */
	assert_int_equal(vhost_user_check_reply(&h, VHOST_USER_GET_VRING_BASE, 8, err, sizeof(err)),
			 0);
	h.size = 0;
	assert_int_equal(vhost_user_check_reply(&h, VHOST_USER_GET_VRING_BASE, 8, err, sizeof(err)),
			 -EPROTO);
}

static void test_connect_errors(void **state)
{
	struct vhost_user vu;
	char longpath[200];

	(void)state;
	assert_int_equal(vhost_user_connect(&vu, "/nonexistent/vhost.sock"), -ENOENT);
	assert_non_null(strstr(vu.err, "cannot connect to '/nonexistent/vhost.sock'"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	assert_int_equal(vhost_user_connect(&vu, longpath), -ENAMETOOLONG);
	assert_int_equal(vu.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_negotiate_reply_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_negotiate_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_table_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vrings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_fds_closed, setup, teardown),
	    cmocka_unit_test(test_check_reply),
	    cmocka_unit_test(test_connect_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
