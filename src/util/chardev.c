// SPDX-License-Identifier: MulanPSL-2.0
#include "util/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util/hostpath.h"
#include "util/log.h"
#include "util/sockpath.h"

struct chardev {
	enum chardev_kind kind;
	struct evloop *loop;
	int in_fd;		  /* read side, -1 when none (file) */
	int out_fd;		  /* write side, -1 when no client; changes under out_lock */
	pthread_mutex_t out_lock; /* writers run on vCPU threads, clients come and go on the loop */
	int listen_fd;		  /* socket server */
	struct sockpath_owned owned; /* the socket file we bound, removed at close */
	bool reading;
	chardev_input_fn on_input;
	void *opaque;
};

static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

static int set_raw_terminal(void)
{
	struct termios tio;

	if (!isatty(STDIN_FILENO))
		return 0;
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -errno;
	tio = saved_tio;
	/* Raw input, but keep ISIG so Ctrl-C still ends the VMM. */
	tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	tio.c_cflag |= CS8;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) < 0)
		return -errno;
	tio_saved = true;
	atexit(restore_terminal);
	return 0;
}

static void on_readable(void *opaque, uint32_t events);

static void watch_input(struct chardev *chr)
{
	if (chr->in_fd < 0)
		return;
	if (evloop_add(chr->loop, chr->in_fd, EPOLLIN, on_readable, chr) == 0)
		chr->reading = true;
}

static void drop_client(struct chardev *chr)
{
	pthread_mutex_lock(&chr->out_lock);
	if (chr->in_fd >= 0) {
		evloop_del(chr->loop, chr->in_fd);
		close(chr->in_fd);
	}
	chr->in_fd = chr->out_fd = -1;
	chr->reading = false;
	pthread_mutex_unlock(&chr->out_lock);
}

static void on_readable(void *opaque, uint32_t events)
{
	struct chardev *chr = opaque;
	uint8_t buf[256];
	ssize_t n;

	(void)events;
	n = read(chr->in_fd, buf, sizeof(buf));
	if (n > 0) {
		chr->on_input(chr->opaque, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF or error */
	if (chr->kind == CHR_SOCKET) {
		drop_client(chr);
	} else {
		evloop_del(chr->loop, chr->in_fd);
		chr->reading = false;
		chr->in_fd = -1;
	}
}

static void on_accept(void *opaque, uint32_t events)
{
	struct chardev *chr = opaque;
	int fd = accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd < 0)
		return;
	if (chr->in_fd >= 0) {
		close(fd); /* one client at a time */
		return;
	}
	pthread_mutex_lock(&chr->out_lock);
	chr->in_fd = chr->out_fd = fd;
	pthread_mutex_unlock(&chr->out_lock);
	watch_input(chr);
}

static int open_socket(struct chardev *chr, const struct chardev_config *cfg)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char err[256];
	int fd;

	if (cfg->server) {
		fd = sockpath_listen(cfg->path, 1, &chr->owned, err, sizeof(err));
		if (fd < 0) {
			user_err("%s", err);
			return fd;
		}
		chr->listen_fd = fd;
		return evloop_add(chr->loop, fd, EPOLLIN, on_accept, chr);
	}
	if (!cfg->path || strlen(cfg->path) >= sizeof(addr.sun_path)) {
		user_err("chardev socket path '%s' is missing or too long",
			 cfg->path ? cfg->path : "");
		return -EINVAL;
	}
	strcpy(addr.sun_path, cfg->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		user_err("cannot connect to chardev socket '%s': %s", cfg->path, strerror(e));
		close(fd);
		return -e;
	}
	chr->in_fd = chr->out_fd = fd;
	watch_input(chr);
	return 0;
}

int chardev_open(struct chardev **out, const struct chardev_config *cfg, struct evloop *loop,
		 chardev_input_fn on_input, void *opaque)
{
	struct chardev *chr = calloc(1, sizeof(*chr));
	int ret = 0;

	if (!chr)
		return -ENOMEM;
	chr->kind = cfg->kind;
	chr->loop = loop;
	chr->in_fd = chr->out_fd = chr->listen_fd = -1;
	pthread_mutex_init(&chr->out_lock, NULL);
	chr->on_input = on_input;
	chr->opaque = opaque;

	switch (cfg->kind) {
	case CHR_STDIO:
		/* close-on-exec from the start, as every fd the VMM opens */
		chr->in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
		chr->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
		if (chr->in_fd >= 0) {
			set_raw_terminal();
			watch_input(chr);
		}
		break;
	case CHR_PTY: {
		int master, slave;

		if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
			ret = -errno;
			fprintf(stderr, "stratovirt: cannot open a pty: %s\n", strerror(errno));
			break;
		}
		fcntl(master, F_SETFD, FD_CLOEXEC);
		fcntl(master, F_SETFL, O_NONBLOCK);
		fprintf(stderr, "stratovirt: serial pty is %s\n", ptsname(master));
		/* keep the slave open so writes before a reader attaches don't fail */
		chr->listen_fd = slave;
		chr->in_fd = chr->out_fd = master;
		watch_input(chr);
		break;
	}
	case CHR_FILE: {
		char err[512];

		/*
		 * Appended to, never truncated; or a character device (/dev/null,
		 * a terminal), kept non-blocking so a stalled reader never stalls
		 * the guest.  A FIFO, directory or socket is refused.
		 */
		ret = hostpath_open(cfg->id ? "-chardev file" : "-serial file", cfg->path,
				    O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK, 0644,
				    HOSTPATH_REG | HOSTPATH_CHR, NULL, err, sizeof(err));
		if (ret < 0)
			user_err("%s", err);
		else
			chr->out_fd = ret;
		ret = ret < 0 ? ret : 0;
		break;
	}
	case CHR_SOCKET:
		ret = open_socket(chr, cfg);
		break;
	default:
		break;
	}
	if (ret < 0) {
		chardev_close(chr);
		return ret;
	}
	*out = chr;
	return 0;
}

void chardev_close(struct chardev *chr)
{
	if (!chr)
		return;
	if (chr->reading)
		evloop_del(chr->loop, chr->in_fd);
	if (chr->kind == CHR_SOCKET) {
		if (chr->in_fd >= 0)
			close(chr->in_fd);
		if (chr->listen_fd >= 0) {
			evloop_del(chr->loop, chr->listen_fd);
			close(chr->listen_fd);
		}
	} else {
		if (chr->in_fd >= 0)
			close(chr->in_fd);
		if (chr->out_fd >= 0 && chr->out_fd != chr->in_fd)
			close(chr->out_fd);
		if (chr->listen_fd >= 0)
			close(chr->listen_fd);
	}
	sockpath_release(&chr->owned);
	if (chr->kind == CHR_STDIO)
		restore_terminal();
	pthread_mutex_destroy(&chr->out_lock);
	free(chr);
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len)
{
	if (!chr)
		return;
	/* Held across the write so a departing client's fd is never reused under us. */
	pthread_mutex_lock(&chr->out_lock);
	while (chr->out_fd >= 0 && len) {
		ssize_t n = write(chr->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a slow or absent reader never stalls the guest */
		buf += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&chr->out_lock);
}

void chardev_accept_input(struct chardev *chr, int enable)
{
	if (!chr || chr->in_fd < 0 || chr->reading == !!enable)
		return;
	if (enable)
		watch_input(chr);
	else if (evloop_del(chr->loop, chr->in_fd) == 0)
		chr->reading = false;
}
