// SPDX-License-Identifier: MulanPSL-2.0
/*
 * netdev_add/netdev_del and device_add/device_del of virtio-net.  A netdev
 * is a tap: by name (opened at device_add) or an fd (a getfd name or an
 * inherited fd number).  device_add hands the NIC slot a duplicate of that
 * fd, so device_del closes the slot's copy and netdev_del the netdev's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "machine/vm.h"
#include "qmp/commands.h"
#include "qmp/fdtable.h"
#include "util/log.h"
#include "virtio/net.h"
#include "virtio/qmp_devices.h"
#include "virtio/tap.h"

#define MAX_NETDEVS  8
#define MAX_PLUGS    (CFG_MAX_NETS + NET_NR_SLOTS)
#define MAX_FDS_LIST 8

struct netdev {
	char *id; /* NULL: free entry */
	char *ifname;
	int fd;	     /* owned; -1 with ifname */
	int slot_fd; /* the duplicate a slot holds, -1 */
	int slot;
	bool vhost;  /* "vhost":true or a vhost fd: vhost-net where the host has it */
	int vhostfd; /* owned; -1: /dev/vhost-net is opened at device_add */
};

static struct netdev netdevs[MAX_NETDEVS];
static struct qmp_plug plugs[MAX_PLUGS]; /* backend: the netdev, index: into netdevs[] */
static bool ready;

static void netdev_clear(struct netdev *n)
{
	free(n->id);
	free(n->ifname);
	if (n->fd >= 0)
		close(n->fd);
	if (n->vhostfd >= 0)
		close(n->vhostfd);
	memset(n, 0, sizeof(*n));
	n->fd = n->slot_fd = n->slot = n->vhostfd = -1;
}

static void init(struct vm *vm)
{
	const struct vm_config *cfg = vm ? vm->cfg : NULL;
	int k = 0;

	if (ready)
		return;
	ready = true;
	for (int i = 0; i < MAX_NETDEVS; i++) {
		memset(&netdevs[i], 0, sizeof(netdevs[i]));
		netdevs[i].fd = netdevs[i].slot_fd = netdevs[i].slot = netdevs[i].vhostfd = -1;
	}
	for (int i = 0; i < MAX_PLUGS; i++)
		plugs[i].index = -1;
	for (int i = 0; cfg && i < cfg->nr_nets && k < MAX_PLUGS; i++) {
		const struct net_config *nc = &cfg->nets[i];

		if (!nc->has_device)
			continue;
		plugs[k].dev_id = strdup(nc->device_id ? nc->device_id : nc->id);
		plugs[k].backend = strdup(nc->id);
		k++;
	}
}

void qmp_net_cleanup(void)
{
	if (!ready)
		return;
	for (int i = 0; i < MAX_NETDEVS; i++)
		netdev_clear(&netdevs[i]);
	for (int i = 0; i < MAX_PLUGS; i++)
		qmp_plug_clear(&plugs[i]);
	ready = false;
}

static int netdev_find(const char *id)
{
	for (int i = 0; i < MAX_NETDEVS; i++)
		if (netdevs[i].id && !strcmp(netdevs[i].id, id))
			return i;
	return -1;
}

static int plug_find_device(const char *id)
{
	return qmp_plug_find(plugs, MAX_PLUGS, id, false);
}

static int plug_find_netdev(const char *id)
{
	return qmp_plug_find(plugs, MAX_PLUGS, id, true);
}

bool qmp_net_has_device(struct vm *vm, const char *id)
{
	init(vm);
	return plug_find_device(id) >= 0;
}

/* An fd number somebody here already owns: never handed over twice. */
static bool fd_in_use(struct vm *vm, int fd)
{
	const struct vm_config *cfg = vm ? vm->cfg : NULL;

	for (int i = 0; cfg && i < cfg->nr_nets; i++)
		for (int j = 0; j < cfg->nets[i].nr_fds; j++)
			if (cfg->nets[i].fds[j] == fd)
				return true;
	for (int i = 0; i < MAX_NETDEVS; i++)
		if (netdevs[i].id && (netdevs[i].fd == fd || netdevs[i].slot_fd == fd))
			return true;
	return false;
}

struct fd_ref {
	int fd;
	const char *name; /* getfd name, or NULL for a number */
};

/*
 * "fd0", "3", "fd0:fd1", 3: every entry is checked before any is taken.
 * Named fds come out of the getfd table; numbers must be open, ours to take
 * and not owned by anything else.
 */
static int parse_fds(struct qmp_req *r, const char *arg, json_t *v, struct fd_ref *refs, int *nr,
		     char *text, size_t textlen)
{
	char *save = NULL, *tok;

	*nr = 0;
	if (json_is_integer(v))
		snprintf(text, textlen, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(text, textlen, "%s", json_string_value(v));
	else
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter type for '%s', expected: string", arg);
	if (!text[0] || text[0] == ':' || text[strlen(text) - 1] == ':' || strstr(text, "::"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter '%s': an fd name or number, or a ':' list", arg);
	for (tok = strtok_r(text, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		size_t digits = strspn(tok, "0123456789");

		if (*nr == MAX_FDS_LIST)
			return qmp_fail(r, QMP_ERR_GENERIC,
					"Invalid parameter '%s': more than %d fds", arg,
					MAX_FDS_LIST);
		if (digits == strlen(tok)) {
			long n = digits <= 9 ? strtol(tok, NULL, 10) : -1;

			if (n < 3 || n > INT_MAX || fcntl((int)n, F_GETFD) < 0)
				return qmp_fail(r, QMP_ERR_GENERIC,
						"Invalid parameter '%s': fd %s is not an open file "
						"descriptor of this process (3 or more)",
						arg, tok);
			if (fd_in_use(r->vm, (int)n) || qmp_fd_held((int)n))
				return qmp_fail(r, QMP_ERR_GENERIC,
						"Invalid parameter '%s': fd %s is already in use",
						arg, tok);
			refs[*nr] = (struct fd_ref){.fd = (int)n, .name = NULL};
		} else {
			int fd = qmp_fd_get(tok);

			if (fd < 0)
				return qmp_fail(r, QMP_ERR_GENERIC,
						"Invalid parameter '%s': no fd named '%s' (send it "
						"with getfd first)",
						arg, tok);
			refs[*nr] = (struct fd_ref){.fd = fd, .name = tok};
		}
		for (int i = 0; i < *nr; i++)
			if (refs[i].fd == refs[*nr].fd)
				return qmp_fail(r, QMP_ERR_GENERIC,
						"Invalid parameter '%s': fd '%s' is listed twice",
						arg, tok);
		(*nr)++;
	}
	return 0;
}

/* Takes the fds out of the getfd table (numbers are ours already). */
static void take_fds(const struct fd_ref *refs, int nr)
{
	for (int i = 0; i < nr; i++)
		if (refs[i].name)
			qmp_fd_take(refs[i].name);
}

static int check_no(struct qmp_req *r, const char *key)
{
	const char *v = qmp_arg_str(r, key);

	if (v && strcmp(v, "no") && *v)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter '%s': only \"no\" is supported", key);
	return 0;
}

int qmp_cmd_netdev_add(struct qmp_req *r)
{
	const char *id = qmp_arg_str(r, "id"), *type = qmp_arg_str(r, "type");
	const char *ifname = qmp_arg_str(r, "ifname");
	json_t *fds = json_object_get(r->args, "fds");
	json_t *vfds = json_object_get(r->args, "vhostfds");
	json_t *queues = json_object_get(r->args, "queues");
	const char *fds_arg = "fds", *vfds_arg = "vhostfds";
	struct fd_ref refs[MAX_FDS_LIST], vrefs[MAX_FDS_LIST];
	char text[256], vtext[256];
	int nr = 0, vnr = 0, tapret;
	struct netdev *n = NULL;
	char tapname[IFNAMSIZ];

	if (!fds) {
		fds = json_object_get(r->args, "fd");
		fds_arg = "fd";
	}
	if (!vfds) {
		vfds = json_object_get(r->args, "vhostfd");
		vfds_arg = "vhostfd";
	}
	if (!qmp_id_ok(id))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'id': '%s' must be 1..%d letters, digits, '-', "
				"'.' or '_'",
				id, QMP_ID_MAX);
	if (type && strcmp(type, "tap"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'type': '%s' is not supported (tap)", type);
	if (check_no(r, "script") < 0 || check_no(r, "downscript") < 0)
		return -1;
	if (queues && (json_integer_value(queues) < 1 || json_integer_value(queues) > 8))
		return qmp_fail(r, QMP_ERR_GENERIC, "Invalid parameter 'queues': must be 1..8");
	if (ifname && fds)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter '%s': give either 'ifname' or 'fds', not both",
				fds_arg);
	if (!ifname && !fds)
		return qmp_fail(r, QMP_ERR_GENERIC, "Parameter 'ifname' or 'fds' is missing");
	if (ifname && (!*ifname || strlen(ifname) >= IFNAMSIZ))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'ifname': '%s' must be 1..%d characters", ifname,
				IFNAMSIZ - 1);
	init(r->vm);
	if (netdev_find(id) >= 0 || plug_find_netdev(id) >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "Duplicate netdev id '%s'", id);
	for (int i = 0; i < MAX_NETDEVS && !n; i++)
		if (!netdevs[i].id)
			n = &netdevs[i];
	if (!n)
		return qmp_fail(r, QMP_ERR_GENERIC, "netdev_add: more than %d netdevs",
				MAX_NETDEVS);
	if (fds && parse_fds(r, fds_arg, fds, refs, &nr, text, sizeof(text)) < 0)
		return -1;
	if (vfds && parse_fds(r, vfds_arg, vfds, vrefs, &vnr, vtext, sizeof(vtext)) < 0)
		return -1;
	if (nr) {
		/* one queue pair is served: the last fd of the list, as StratoVirt */
		tapret = tap_check_fd(refs[nr - 1].fd, tapname);
		if (tapret < 0)
			return qmp_fail(r, QMP_ERR_GENERIC,
					"Invalid parameter '%s': fd %d is not a usable tap (%s)",
					fds_arg, refs[nr - 1].fd,
					tapret == -ENOTTY	  ? "not a tap device"
					: tapret == -EPROTOTYPE	  ? "a tun, not a tap"
					: tapret == -EPFNOSUPPORT ? "opened without IFF_VNET_HDR"
								  : strerror(-tapret));
	}
	n->id = strdup(id);
	n->ifname = ifname ? strdup(ifname) : NULL;
	if (!n->id || (ifname && !n->ifname)) {
		netdev_clear(n);
		return qmp_fail(r, QMP_ERR_GENERIC, "netdev_add: out of memory");
	}
	take_fds(refs, nr);
	for (int i = 0; i < nr - 1; i++)
		close(refs[i].fd);
	n->fd = nr ? refs[nr - 1].fd : -1;
	/* one queue pair: the last vhost fd is kept (as the tap's), named others closed */
	take_fds(vrefs, vnr);
	for (int i = 0; i < vnr - 1; i++)
		if (vrefs[i].name)
			close(vrefs[i].fd);
	n->vhostfd = vnr ? vrefs[vnr - 1].fd : -1;
	n->vhost = qmp_arg_bool(r, "vhost", false) || vnr > 0;
	return 0;
}

int qmp_cmd_netdev_del(struct qmp_req *r)
{
	const char *id = qmp_arg_str(r, "id");
	int i, p;

	init(r->vm);
	p = plug_find_netdev(id);
	if (p >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"netdev '%s' is in use by device '%s'; device_del it first", id,
				plugs[p].dev_id);
	i = netdev_find(id);
	if (i < 0)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_FOUND, "netdev '%s' not found", id);
	netdev_clear(&netdevs[i]);
	return 0;
}

int qmp_net_device_add(struct qmp_req *r, const char *id, int slot)
{
	const char *netdev = qmp_arg_str(r, "netdev");
	const char *mac = qmp_arg_str(r, "mac");
	int count = net_slot_count(), i, ret;
	struct net_config nc;
	char why[512];

	init(r->vm);
	if (!netdev)
		netdev = id; /* StratoVirt's docs: the netdev id may be the device id */
	memset(&nc, 0, sizeof(nc));
	if (mac && cfg_parse_mac(mac, nc.mac) < 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'mac': '%s' is not a unicast aa:bb:cc:dd:ee:ff",
				mac);
	if (plug_find_netdev(netdev) >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'netdev': '%s' is already in use by device '%s'",
				netdev, plugs[plug_find_netdev(netdev)].dev_id);
	i = netdev_find(netdev);
	if (i < 0)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_FOUND,
				"Invalid parameter 'netdev': netdev '%s' not found (netdev_add it "
				"first)",
				netdev);
	slot = qmp_plug_pick(r, plugs, count < MAX_PLUGS ? count : MAX_PLUGS, slot, "virtio-net");
	if (slot < 0)
		return -1;
	nc.id = netdevs[i].id;
	nc.device_id = (char *)id;
	nc.has_mac = mac != NULL;
	if (netdevs[i].fd >= 0) {
		nc.fds[0] = fcntl(netdevs[i].fd, F_DUPFD_CLOEXEC, 3);
		if (nc.fds[0] < 0)
			return qmp_fail(r, QMP_ERR_GENERIC, "device_add '%s': %s", id,
					strerror(errno));
		nc.nr_fds = 1;
	} else {
		nc.ifname = netdevs[i].ifname;
	}
	nc.vhost = netdevs[i].vhost;
	if (netdevs[i].vhostfd >= 0) {
		nc.vhostfds[0] = fcntl(netdevs[i].vhostfd, F_DUPFD_CLOEXEC, 3);
		nc.nr_vhostfds = nc.vhostfds[0] >= 0;
	}
	user_err_capture(why, sizeof(why));
	ret = net_slot_attach(r->vm, slot, &nc);
	user_err_capture(NULL, 0);
	if (ret < 0) {
		if (nc.nr_vhostfds)
			close(nc.vhostfds[0]);
		if (nc.nr_fds)
			close(nc.fds[0]); /* a failed attach leaves the caller's fd open */
		return qmp_fail(r, QMP_ERR_GENERIC, "device_add '%s': %s", id,
				why[0] ? why : strerror(-ret));
	}
	netdevs[i].slot = slot;
	netdevs[i].slot_fd = nc.nr_fds ? nc.fds[0] : -1;
	plugs[slot].dev_id = strdup(id);
	plugs[slot].backend = strdup(netdev);
	plugs[slot].index = i;
	return 0;
}

int qmp_net_device_del(struct qmp_req *r, const char *id)
{
	int slot, ret, i;

	init(r->vm);
	slot = plug_find_device(id);
	if (slot < 0)
		return 1;
	ret = net_slot_detach(r->vm, slot);
	if (ret < 0 && ret != -ENOENT)
		return qmp_fail(r, QMP_ERR_GENERIC, "device_del '%s': %s", id, strerror(-ret));
	i = plugs[slot].index;
	if (i >= 0) {
		netdevs[i].slot = -1;
		netdevs[i].slot_fd = -1; /* closed by the slot */
	}
	qmp_plug_clear(&plugs[slot]);
	qmp_device_deleted(id);
	return 0;
}
