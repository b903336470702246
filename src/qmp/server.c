// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The QMP unix socket on the main loop: accept, greet, read (with fds),
 * write replies and events.  One client at a time; a second one is told so
 * and closed.  Output a client does not read is buffered up to OUT_MAX, then
 * that client is dropped: nothing waits forever for a reader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine/vm.h"
#include "qmp/commands.h"
#include "qmp/fdtable.h"
#include "qmp/qmp.h"
#include "qmp/session.h"
#include "util/log.h"
#include "util/sockpath.h"

#define OUT_MAX	     (1 << 20)
#define READ_CHUNK   4096
#define FDS_PER_READ 8

struct qmp_server {
	struct vm *vm;
	int listen_fd;
	struct sockpath_owned owned;
	int client_fd; /* -1: nobody connected */
	int exit_ep;   /* epoll for the last replies at exit (no poll(2) in the filters) */
	uint32_t client_events;
	bool dead;     /* the client must go: closed once no request is being handled */
	bool in_input; /* a request is being handled (events come from handlers too) */
	struct qmp_session session;
	char *out;
	size_t out_len, out_cap;
};

static struct qmp_server srv = {.listen_fd = -1, .client_fd = -1, .exit_ep = -1};

static void client_close(void)
{
	if (srv.client_fd < 0)
		return;
	evloop_del(srv.vm->loop, srv.client_fd);
	close(srv.client_fd);
	srv.client_fd = -1;
	srv.dead = false;
	qmp_session_end(&srv.session);
	srv.out_len = 0;
	pr_debug("qmp: client disconnected");
}

static void update_events(void)
{
	uint32_t ev = EPOLLIN | (srv.out_len ? EPOLLOUT : 0);

	if (srv.client_fd >= 0 && ev != srv.client_events) {
		evloop_mod(srv.vm->loop, srv.client_fd, ev);
		srv.client_events = ev;
	}
}

/* Writes what the socket takes now; -1 when the client is gone. */
static int flush_out(void)
{
	size_t done = 0;
	int ret = 0;

	while (done < srv.out_len) {
		ssize_t n = sock_send(srv.client_fd, srv.out + done, srv.out_len - done,
				      MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ret = -1;
			break;
		}
		done += (size_t)n;
	}
	memmove(srv.out, srv.out + done, srv.out_len - done);
	srv.out_len -= done;
	return ret;
}

/*
 * Appends text and its CRLF to what waits for the client and sends what the
 * socket takes now.  Marks the client dead when it cannot take any more.
 */
static void queue_text(const char *text, size_t len)
{
	if (srv.out_len + len + 2 > OUT_MAX) {
		pr_warn("qmp: client does not read its replies; disconnecting it");
		srv.dead = true;
		return;
	}
	if (srv.out_len + len + 2 > srv.out_cap) {
		size_t cap = srv.out_cap ? srv.out_cap : 4096;
		char *p;

		while (cap < srv.out_len + len + 2)
			cap *= 2;
		/* not realloc(): a grown mmap()ed block would need mremap(2) */
		p = malloc(cap);
		if (!p) {
			srv.dead = true;
			return;
		}
		if (srv.out_len)
			memcpy(p, srv.out, srv.out_len);
		free(srv.out);
		srv.out = p;
		srv.out_cap = cap;
	}
	memcpy(srv.out + srv.out_len, text, len);
	memcpy(srv.out + srv.out_len + len, "\r\n", 2);
	srv.out_len += len + 2;
	if (flush_out() < 0)
		srv.dead = true;
}

/* Queues one message with its CRLF and tries to send it. */
static void send_msg(void *opaque, json_t *msg)
{
	char *text;

	(void)opaque;
	if (srv.client_fd < 0 || srv.dead)
		return;
	text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		return;
	queue_text(text, strlen(text));
	free(text);
	if (!srv.dead)
		update_events();
}

static void event_sink(void *opaque, json_t *ev)
{
	send_msg(opaque, ev);
	if (srv.dead && !srv.in_input)
		client_close();
}

/*
 * One recvmsg: bytes and any fds that came with them.  1: a full buffer (more
 * may wait), 0: nothing more now (a short read: the socket had no more, or
 * stopped at a message with fds; epoll is level-triggered and wakes us for
 * the rest), -1: gone.
 */
static int read_once(void)
{
	char buf[READ_CHUNK];
	char ctl[CMSG_SPACE(FDS_PER_READ * sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	ssize_t n;
	int ret;

	n = recvmsg(srv.client_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[FDS_PER_READ];

			memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
			for (size_t i = 0; i < nfds && i < FDS_PER_READ; i++)
				qmp_session_add_fd(&srv.session, fds[i]);
		}
	}
	if (n <= 0)
		return -1;
	srv.in_input = true;
	ret = qmp_session_input(&srv.session, buf, (size_t)n) < 0 ? -1 : n == sizeof(buf);
	srv.in_input = false;
	return ret;
}

static void on_client(void *opaque, uint32_t events)
{
	(void)opaque;
	if (events & EPOLLOUT) {
		if (flush_out() < 0) {
			client_close();
			return;
		}
		update_events();
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		/* a bounded number of reads per wake-up, so one client cannot starve the loop */
		for (int i = 0; i < 16 && srv.client_fd >= 0; i++) {
			int ret = read_once();

			if (ret < 0 || srv.dead) {
				if (!srv.dead)
					flush_out(); /* the last error, if the peer still reads */
				client_close();
				return;
			}
			if (ret == 0)
				break;
		}
	}
}

static void refuse(int fd)
{
	json_t *msg = qmp_error_msg(QMP_ERR_GENERIC,
				    "Another QMP client is connected; one client is served at "
				    "a time");
	char *text = json_dumps(msg, JSON_COMPACT);

	if (text) {
		size_t len = strlen(text);

		if (sock_send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			(void)!sock_send(fd, "\r\n", 2, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(text);
	json_decref(msg);
	close(fd);
}

/* A client that already hung up (Kata reconnects at once) is not "connected". */
static bool client_alive(void)
{
	/* what it still sent is handled first; a short read stops on_client, so loop */
	for (int i = 0; i < 16 && srv.client_fd >= 0; i++) {
		char c = 0;

		/* a peek: bytes (>0), a hang-up (0) or an error other than EAGAIN */
		if (sock_recv(srv.client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		on_client(NULL, EPOLLIN);
	}
	return srv.client_fd >= 0;
}

static void on_accept(void *opaque, uint32_t events)
{
	const char *greeting;
	size_t len;
	int fd;

	(void)opaque;
	(void)events;
	fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (client_alive()) {
		pr_info("qmp: refusing a second client");
		refuse(fd);
		return;
	}
	/* the greeting first: the client waits for it, the set-up below does not delay it */
	srv.client_fd = fd;
	srv.out_len = 0;
	srv.dead = false;
	greeting = qmp_greeting_text(&len);
	if (greeting)
		queue_text(greeting, len);
	else
		srv.dead = true;
	srv.client_events = EPOLLIN | (srv.out_len ? EPOLLOUT : 0);
	if (srv.dead || evloop_add(srv.vm->loop, fd, srv.client_events, on_client, NULL) < 0) {
		close(fd);
		srv.client_fd = -1;
		srv.dead = false;
		srv.out_len = 0;
		return;
	}
	qmp_session_init(&srv.session, srv.vm, send_msg, NULL);
	pr_debug("qmp: client connected");
}

int qmp_server_start(struct vm *vm, const char *path)
{
	char err[256] = "";
	size_t len;
	int fd;

	if (!path)
		return 0;
	srv.vm = vm;
	if (!qmp_greeting_text(&len)) /* built now, so no connection waits for it */
		return -ENOMEM;
	fd = sockpath_listen(path, 4, &srv.owned, err, sizeof(err));
	if (fd < 0) {
		user_err("QMP socket: %s", err[0] ? err : strerror(-fd));
		return fd;
	}
	srv.listen_fd = fd;
	srv.exit_ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv.exit_ep < 0 || evloop_add(vm->loop, fd, EPOLLIN, on_accept, NULL) < 0) {
		qmp_server_stop();
		return -ENOMEM;
	}
	qmp_event_set_sink(event_sink, NULL);
	return 0;
}

void qmp_server_stop(void)
{
	if (srv.client_fd >= 0 && srv.out_len && !srv.dead) {
		/* the last events (SHUTDOWN) and replies: a short wait for the reader */
		struct epoll_event ev = {.events = EPOLLOUT};

		if (srv.exit_ep >= 0 &&
		    !epoll_ctl(srv.exit_ep, EPOLL_CTL_ADD, srv.client_fd, &ev)) {
			for (int i = 0; i < 20 && srv.out_len && srv.client_fd >= 0; i++) {
				if (epoll_wait(srv.exit_ep, &ev, 1, 10) < 0 || flush_out() < 0)
					break;
			}
			epoll_ctl(srv.exit_ep, EPOLL_CTL_DEL, srv.client_fd, NULL);
		}
	}
	qmp_event_set_sink(NULL, NULL);
	client_close();
	if (srv.listen_fd >= 0) {
		evloop_del(srv.vm->loop, srv.listen_fd);
		close(srv.listen_fd);
		srv.listen_fd = -1;
	}
	if (srv.exit_ep >= 0)
		close(srv.exit_ep);
	srv.exit_ep = -1;
	sockpath_release(&srv.owned);
	qmp_fd_clear();
	qmp_blk_cleanup();
	qmp_net_cleanup();
	free(srv.out);
	srv.out = NULL;
	srv.out_cap = srv.out_len = 0;
}
