// SPDX-License-Identifier: MulanPSL-2.0
/*
 * svpwrbtn: the demo/test guest's power-button watcher (docs/guest.md), what
 * acpid or systemd-logind do on a distribution.  guest/init starts it in the
 * background; on a press of the ACPI power button it prints one line on
 * stdout and powers the guest off (sync, reboot(RB_POWER_OFF): the kernel's
 * ACPI S5, which ends the VMM with status 0).
 *
 * Linux's ACPI button driver reports a press of PNP0C0C twice: as KEY_POWER
 * on the button's input device and as an "acpi_event" generic-netlink
 * multicast (device class "button/power").  The guest kernel has no
 * CONFIG_INPUT_EVDEV, so the input event cannot be read from user space
 * there; svpwrbtn listens to the netlink event, and also to KEY_POWER on
 * every /dev/input/event* that exists (a kernel with evdev).
 *
 *   svpwrbtn            ready: "svpwrbtn ready netlink=GROUP evdev=N", then
 *                       on a press "svpwrbtn press source=... ged_irqs=N
 *                       poweroff" and the power-off
 *   svpwrbtn -n         the same without powering off (exits 0 after a press)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/input.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 16
/* drivers/acpi/event.c: the family, its group, its one command and attribute */
#define ACPI_FAMILY    "acpi_event"
#define ACPI_GROUP     "acpi_mc_group"
#define ACPI_CMD_EVENT 1
#define ACPI_ATTR_EVT  1

struct acpi_genl_event {
	char device_class[20];
	char bus_id[15];
	unsigned int type;
	unsigned int data;
};

#define NLA_OK(nla, len)                                                                           \
	((len) >= (int)sizeof(struct nlattr) && (nla)->nla_len >= sizeof(struct nlattr) &&         \
	 (nla)->nla_len <= (len))
#define NLA_NEXT(nla, len)                                                                         \
	((len) -= NLA_ALIGN((nla)->nla_len),                                                       \
	 (struct nlattr *)((char *)(nla) + NLA_ALIGN((nla)->nla_len)))
#define NLA_DATA(nla) ((void *)((char *)(nla) + NLA_HDRLEN))

static int genl_send_getfamily(int fd, const char *name)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		char buf[64];
	} req;
	struct nlattr *a;
	size_t nlen = strlen(name) + 1;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_type = GENL_ID_CTRL;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.n.nlmsg_seq = 1;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	a = (struct nlattr *)req.buf;
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = (unsigned short)(NLA_HDRLEN + nlen);
	memcpy(NLA_DATA(a), name, nlen);
	req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(a->nla_len));
	return send(fd, &req, req.n.nlmsg_len, 0) < 0 ? -errno : 0;
}

/* The multicast group id of ACPI_GROUP in a CTRL_CMD_NEWFAMILY reply, or -1. */
static long find_group(struct nlattr *a, int len)
{
	for (; NLA_OK(a, len); a = NLA_NEXT(a, len)) {
		struct nlattr *grp;
		int glen;

		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		grp = NLA_DATA(a);
		glen = a->nla_len - NLA_HDRLEN;
		for (; NLA_OK(grp, glen); grp = NLA_NEXT(grp, glen)) {
			struct nlattr *f = NLA_DATA(grp);
			int flen = grp->nla_len - NLA_HDRLEN;
			const char *gname = NULL;
			long id = -1;

			for (; NLA_OK(f, flen); f = NLA_NEXT(f, flen)) {
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					gname = NLA_DATA(f);
				else if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID &&
					 f->nla_len >= NLA_HDRLEN + 4)
					id = *(unsigned int *)NLA_DATA(f);
			}
			if (gname && id >= 0 && !strcmp(gname, ACPI_GROUP))
				return id;
		}
	}
	return -1;
}

/* A netlink socket joined to the ACPI event group; -errno when there is none. */
static int open_acpi_netlink(long *group, int *family)
{
	char buf[4096];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	int fd, ret;
	ssize_t got;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	ret = genl_send_getfamily(fd, ACPI_FAMILY);
	if (ret)
		goto fail;
	got = recv(fd, buf, sizeof(buf), 0);
	if (got < 0) {
		ret = -errno;
		goto fail;
	}
	ret = -ENOENT;
	if (!NLMSG_OK(n, (size_t)got) || n->nlmsg_type == NLMSG_ERROR)
		goto fail;
	{
		struct genlmsghdr *g = NLMSG_DATA(n);
		struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);
		int len = (int)n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		int alen = len;

		*family = -1;
		for (struct nlattr *f = a; NLA_OK(f, alen); f = NLA_NEXT(f, alen))
			if (f->nla_type == CTRL_ATTR_FAMILY_ID && f->nla_len >= NLA_HDRLEN + 2)
				*family = *(unsigned short *)NLA_DATA(f);
		*group = find_group(a, len);
	}
	if (*group < 0 || *family < 0)
		goto fail;
	{
		int g = (int)*group;

		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return ret;
}

/* 1 and the event's text when a message is a power-button press. */
static int netlink_press(int fd, int family, char *what, size_t wlen)
{
	char buf[4096];
	ssize_t got = recv(fd, buf, sizeof(buf), 0);
	size_t left = got > 0 ? (size_t)got : 0;

	for (struct nlmsghdr *n = (struct nlmsghdr *)buf; NLMSG_OK(n, left);
	     n = NLMSG_NEXT(n, left)) {
		struct genlmsghdr *g = NLMSG_DATA(n);
		struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);
		int len = (int)n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

		if (n->nlmsg_type != family || g->cmd != ACPI_CMD_EVENT)
			continue;
		for (; NLA_OK(a, len); a = NLA_NEXT(a, len)) {
			struct acpi_genl_event ev;

			if (a->nla_type != ACPI_ATTR_EVT || a->nla_len < NLA_HDRLEN + sizeof(ev))
				continue;
			memcpy(&ev, NLA_DATA(a), sizeof(ev));
			ev.device_class[sizeof(ev.device_class) - 1] = '\0';
			ev.bus_id[sizeof(ev.bus_id) - 1] = '\0';
			printf("svpwrbtn event class=%s bus=%s type=0x%x data=%u\n",
			       ev.device_class, ev.bus_id, ev.type, ev.data);
			if (!strcmp(ev.device_class, "button/power")) {
				snprintf(what, wlen, "netlink:%s:%s:0x%x", ev.device_class,
					 ev.bus_id, ev.type);
				return 1;
			}
		}
	}
	return 0;
}

static int evdev_press(int fd, char *what, size_t wlen)
{
	struct input_event ev[16];
	ssize_t got = read(fd, ev, sizeof(ev));

	for (ssize_t i = 0; got > 0 && i < got / (ssize_t)sizeof(ev[0]); i++) {
		if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1) {
			snprintf(what, wlen, "evdev:KEY_POWER");
			return 1;
		}
	}
	return 0;
}

/* The count of the "ACPI:Ged" line of /proc/interrupts (summed over CPUs), -1 if none. */
static long ged_irqs(void)
{
	char line[512];
	long total = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, "ACPI:Ged"))
			continue;
		total = 0;
		for (p++;;) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			total += v;
			p = end;
		}
	}
	fclose(f);
	return total;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_FDS];
	bool dry = argc > 1 && !strcmp(argv[1], "-n"), have_nl = false;
	int nfds = 0, family = -1, nevdev = 0;
	long group = -1;
	char what[96] = "";
	DIR *d;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open_acpi_netlink(&group, &family);
	if (fd >= 0) {
		pfd[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
		have_nl = true;
	} else {
		group = -1;
		printf("svpwrbtn netlink=none error=%s\n", strerror(-fd));
	}
	d = opendir("/dev/input");
	for (struct dirent *e; d && (e = readdir(d)) && nfds < MAX_FDS;) {
		char path[300];

		if (strncmp(e->d_name, "event", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		pfd[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
		nevdev++;
	}
	if (d)
		closedir(d);
	if (!nfds) {
		printf("svpwrbtn error=no-acpi-netlink-and-no-evdev\n");
		return 1;
	}
	printf("svpwrbtn ready netlink=%ld evdev=%d\n", group, nevdev);
	while (!what[0]) {
		if (poll(pfd, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			printf("svpwrbtn error=poll:%s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < nfds && !what[0]; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (i == 0 && have_nl)
				netlink_press(pfd[i].fd, family, what, sizeof(what));
			else
				evdev_press(pfd[i].fd, what, sizeof(what));
		}
	}
	printf("svpwrbtn press source=%s ged_irqs=%ld %s\n", what, ged_irqs(),
	       dry ? "dry-run" : "poweroff");
	if (dry)
		return 0;
	sync();
	reboot(RB_POWER_OFF);
	printf("svpwrbtn error=reboot:%s\n", strerror(errno));
	return 1;
}
