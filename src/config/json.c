// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The early JSON configuration (-config FILE).  Every object is checked
 * against the keys upstream knew, so a typo is an error that names the key
 * instead of a setting silently left at its default.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config_internal.h"
#include "util/hostpath.h"

struct jctx {
	struct vm_config *cfg;
	char *err;
	size_t errlen;
};

#define JERR(j, ...) cfg_err((j)->err, (j)->errlen, __VA_ARGS__)

static int check_keys(struct jctx *j, json_t *obj, const char *where, const char *const *keys)
{
	const char *key;
	json_t *val;
	int i;

	if (!json_is_object(obj))
		return JERR(j, "JSON %s: expected an object", where);
	json_object_foreach(obj, key, val)
	{
		(void)val;
		for (i = 0; keys[i]; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (!keys[i])
			return JERR(j, "JSON %s: unknown key '%s'", where, key);
	}
	return 0;
}

static int get_str(struct jctx *j, json_t *obj, const char *where, const char *key, char **dst,
		   bool required)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			return JERR(j, "JSON %s: missing key '%s'", where, key);
		return 0;
	}
	if (!json_is_string(v) || !*json_string_value(v))
		return JERR(j, "JSON %s.%s: expected a non-empty string", where, key);
	if (cfg_set_str(dst, json_string_value(v)))
		return cfg_nomem(j->err, j->errlen);
	return 0;
}

static int get_bool(struct jctx *j, json_t *obj, const char *where, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return JERR(j, "JSON %s.%s: expected true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int get_u64(struct jctx *j, json_t *obj, const char *where, const char *key, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return JERR(j, "JSON %s.%s: expected an integer", where, key);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return JERR(j, "invalid value '%lld' for JSON %s.%s: must be %llu..%llu",
			    (long long)n, where, key, (unsigned long long)min,
			    (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int parse_boot(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"kernel_image_path", "boot_args", "initrd_fs_path",
					   NULL};
	const char *w = "boot-source";
	json_t *args;
	int ret;

	ret = check_keys(j, o, w, keys);
	if (!ret)
		ret = get_str(j, o, w, "kernel_image_path", &j->cfg->kernel, false);
	if (!ret)
		ret = get_str(j, o, w, "initrd_fs_path", &j->cfg->initrd, false);
	args = json_object_get(o, "boot_args");
	if (!ret && args) {
		/* an empty command line is legitimate */
		if (!json_is_string(args))
			return JERR(j, "JSON %s.boot_args: expected a string", w);
		if (cfg_set_str(&j->cfg->cmdline, json_string_value(args)))
			return cfg_nomem(j->err, j->errlen);
	}
	return ret;
}

static int parse_machine(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"type",	"vcpu_count",	   "mem_size", "mem_path",
					   "mem_share", "dump_guest_core", NULL};
	const char *w = "machine-config";
	struct vm_config *cfg = j->cfg;
	uint64_t cpus = 0, mem;
	json_t *v;
	int ret;

	ret = check_keys(j, o, w, keys);
	if (ret)
		return ret;
	v = json_object_get(o, "type");
	if (v && (!json_is_string(v) || strcasecmp(json_string_value(v), "microvm")))
		return JERR(j, "JSON %s.type: must be \"MicroVm\"", w);
	ret = get_u64(j, o, w, "vcpu_count", 1, CFG_MAX_CPUS, &cpus);
	if (ret)
		return ret;
	if (cpus) {
		cfg->nr_cpus = (unsigned)cpus;
		cfg->max_cpus = 0;
		cfg->sockets = cfg->dies = cfg->clusters = cfg->cores = cfg->threads = 0;
		ret = cfg_check_topology(cfg, "machine-config.vcpu_count", j->err, j->errlen);
		if (ret)
			return ret;
	}
	v = json_object_get(o, "mem_size");
	if (v) {
		/* a number is bytes; a string may carry a K/M/G suffix */
		if (json_is_integer(v) && json_integer_value(v) <= 0)
			return JERR(j,
				    "invalid value '%lld' for JSON %s.mem_size: must be 128M..512G",
				    (long long)json_integer_value(v), w);
		if (json_is_integer(v))
			mem = (uint64_t)json_integer_value(v);
		else if (!json_is_string(v) || config_parse_size(json_string_value(v), 0, &mem))
			return JERR(j, "JSON %s.mem_size: expected bytes or a string like \"256M\"",
				    w);
		if (mem < CFG_MIN_MEM || mem > CFG_MAX_MEM)
			return JERR(j,
				    "invalid value '%llu' for JSON %s.mem_size: must be 128M..512G",
				    (unsigned long long)mem, w);
		cfg->mem_size = mem;
	}
	ret = get_str(j, o, w, "mem_path", &cfg->mem_path, false);
	if (!ret)
		ret = get_bool(j, o, w, "mem_share", &cfg->mem_share);
	if (!ret)
		ret = get_bool(j, o, w, "dump_guest_core", &cfg->dump_guest_core);
	return ret;
}

static int parse_drive(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"drive_id",	 "path_on_host", "read_only", "direct",
					   "serial_num", "iothread",	 "iops",      NULL};
	struct vm_config *cfg = j->cfg;
	struct drive_config *d;
	const char *w = "drive";
	int ret;

	ret = check_keys(j, o, w, keys);
	if (ret)
		return ret;
	if (cfg->nr_drives >= CFG_MAX_DRIVES)
		return JERR(j, "JSON drive: too many drives (at most %d)", CFG_MAX_DRIVES);
	d = &cfg->drives[cfg->nr_drives++];
	memset(d, 0, sizeof(*d));
	d->direct = true;
	d->has_device = true;
	ret = get_str(j, o, w, "drive_id", &d->id, true);
	if (!ret)
		ret = get_str(j, o, w, "path_on_host", &d->path, true);
	if (!ret)
		ret = get_bool(j, o, w, "read_only", &d->readonly);
	if (!ret)
		ret = get_bool(j, o, w, "direct", &d->direct);
	if (!ret)
		ret = get_str(j, o, w, "serial_num", &d->serial, false);
	if (!ret && d->serial && strlen(d->serial) > CFG_SERIAL_MAX)
		ret = JERR(j, "invalid value '%s' for JSON drive.serial_num: at most %d characters",
			   d->serial, CFG_SERIAL_MAX);
	if (!ret)
		ret = get_str(j, o, w, "iothread", &d->iothread, false);
	if (!ret)
		ret = get_u64(j, o, w, "iops", 0, CFG_MAX_IOPS, &d->iops);
	if (!ret && cfg_find_drive(cfg, d->id) != cfg->nr_drives - 1)
		ret = JERR(j, "duplicate id '%s' for JSON drive", d->id);
	if (!ret && cfg_set_str(&d->device_id, d->id))
		ret = cfg_nomem(j->err, j->errlen);
	return ret;
}

static int parse_net(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"iface_id", "host_dev_name", "mac",	    "tap_fd",
					   "iothread", "vhost_type",	"vhost_fd", NULL};
	struct vm_config *cfg = j->cfg;
	struct net_config *n;
	const char *w = "net";
	char *mac = NULL, *vhost = NULL;
	uint64_t fd = UINT64_MAX, vfd = UINT64_MAX;
	int ret, i;

	ret = check_keys(j, o, w, keys);
	if (ret)
		return ret;
	if (cfg->nr_nets >= CFG_MAX_NETS)
		return JERR(j, "JSON net: too many interfaces (at most %d)", CFG_MAX_NETS);
	n = &cfg->nets[cfg->nr_nets++];
	memset(n, 0, sizeof(*n));
	for (i = 0; i < CFG_MAX_FDS; i++)
		n->fds[i] = n->vhostfds[i] = -1;
	n->has_device = true;
	ret = get_str(j, o, w, "iface_id", &n->id, true);
	if (!ret)
		ret = get_str(j, o, w, "host_dev_name", &n->ifname, false);
	if (!ret)
		ret = get_u64(j, o, w, "tap_fd", 0, 0x7fffffff, &fd);
	if (!ret && fd != UINT64_MAX) {
		n->fds[0] = (int)fd;
		n->nr_fds = 1;
	}
	if (!ret && !n->ifname && !n->nr_fds)
		ret = JERR(j, "JSON net '%s': needs host_dev_name or tap_fd", n->id);
	if (!ret)
		ret = get_str(j, o, w, "mac", &mac, false);
	if (!ret && mac) {
		n->has_mac = true;
		if (cfg_parse_mac(mac, n->mac))
			ret = JERR(j,
				   "invalid value '%s' for JSON net.mac: must be a unicast "
				   "address like 52:54:00:12:34:56",
				   mac);
	}
	free(mac);
	if (!ret)
		ret = get_str(j, o, w, "iothread", &n->iothread, false);
	/* StratoVirt's spelling of vhost-net: "vhost_type": "vhost-kernel" */
	if (!ret)
		ret = get_str(j, o, w, "vhost_type", &vhost, false);
	if (!ret && vhost && strcmp(vhost, "vhost-kernel"))
		ret =
		    JERR(j, "invalid value '%s' for JSON net.vhost_type: only vhost-kernel", vhost);
	n->vhost = vhost != NULL;
	free(vhost);
	if (!ret)
		ret = get_u64(j, o, w, "vhost_fd", 0, 0x7fffffff, &vfd);
	if (!ret && vfd != UINT64_MAX) {
		if (!n->vhost)
			ret = JERR(j,
				   "JSON net '%s': vhost_fd needs \"vhost_type\": \"vhost-kernel\"",
				   n->id);
		n->vhostfds[0] = (int)vfd;
		n->nr_vhostfds = 1;
	}
	if (!ret && cfg_find_net(cfg, n->id) != cfg->nr_nets - 1)
		ret = JERR(j, "duplicate id '%s' for JSON net", n->id);
	if (!ret && cfg_set_str(&n->device_id, n->id))
		ret = cfg_nomem(j->err, j->errlen);
	return ret;
}

static int parse_console(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"console_id", "socket_path", NULL};
	struct vm_config *cfg = j->cfg;
	struct chardev_config *c;
	const char *w = "console";
	int ret;

	ret = check_keys(j, o, w, keys);
	if (ret)
		return ret;
	if (cfg->nr_chardevs >= CFG_MAX_CHARDEVS || cfg->nr_consoles >= CFG_MAX_CONSOLES)
		return JERR(j, "JSON console: too many consoles (at most %d)", CFG_MAX_CONSOLES);
	c = &cfg->chardevs[cfg->nr_chardevs++];
	memset(c, 0, sizeof(*c));
	c->kind = CHR_SOCKET;
	c->server = c->nowait = true;
	ret = get_str(j, o, w, "console_id", &c->id, true);
	if (!ret)
		ret = get_str(j, o, w, "socket_path", &c->path, true);
	if (!ret && cfg_find_chardev(cfg, c->id) != cfg->nr_chardevs - 1)
		return JERR(j, "duplicate id '%s' for JSON console", c->id);
	if (ret)
		return ret;
	cfg->consoles[cfg->nr_consoles].id = strdup(c->id);
	cfg->consoles[cfg->nr_consoles].chardev = strdup(c->id);
	cfg->nr_consoles++;
	if (!cfg->consoles[cfg->nr_consoles - 1].id || !cfg->consoles[cfg->nr_consoles - 1].chardev)
		return cfg_nomem(j->err, j->errlen);
	return 0;
}

typedef int (*item_fn)(struct jctx *j, json_t *o);

static int parse_array(struct jctx *j, json_t *arr, const char *where, item_fn fn)
{
	size_t i;
	json_t *o;
	int ret;

	if (!json_is_array(arr))
		return JERR(j, "JSON %s: expected an array", where);
	json_array_foreach(arr, i, o)
	{
		ret = fn(j, o);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_iothread(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"id", NULL};
	char *id = NULL;
	int ret;

	ret = check_keys(j, o, "iothread", keys);
	if (!ret)
		ret = get_str(j, o, "iothread", "id", &id, true);
	if (!ret)
		ret = cfg_add_iothread(j->cfg, "JSON iothread", id, j->err, j->errlen);
	free(id);
	return ret;
}

static int parse_vsock(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"vsock_id", "guest_cid", "uds_path", NULL};
	struct vm_config *cfg = j->cfg;
	int ret;

	ret = check_keys(j, o, "vsock", keys);
	if (!ret)
		ret = get_str(j, o, "vsock", "vsock_id", &cfg->vsock_id, true);
	if (!ret && !json_object_get(o, "guest_cid"))
		ret = JERR(j, "JSON vsock: missing key 'guest_cid'");
	if (!ret)
		ret =
		    get_u64(j, o, "vsock", "guest_cid", CFG_MIN_CID, CFG_MAX_CID, &cfg->vsock_cid);
	/* Firecracker's form: uds_path selects the user-space (unix-socket) vsock */
	if (!ret)
		ret = get_str(j, o, "vsock", "uds_path", &cfg->vsock_uds, false);
	if (!ret && cfg->vsock_uds && !*cfg->vsock_uds)
		ret = JERR(j, "JSON vsock: 'uds_path' must not be empty");
	if (!ret) {
		cfg->has_vsock = true;
		cfg->vsock_opt = "JSON vsock";
	}
	return ret;
}

static int parse_serial(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"stdio", NULL};
	bool stdio = false;
	int ret;

	ret = check_keys(j, o, "serial", keys);
	if (!ret)
		ret = get_bool(j, o, "serial", "stdio", &stdio);
	if (!ret)
		j->cfg->serial.kind = stdio ? CHR_STDIO : CHR_NONE;
	return ret;
}

static int parse_balloon(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"deflate_on_oom", "free_page_reporting", NULL};
	int ret;

	ret = check_keys(j, o, "balloon", keys);
	if (!ret)
		ret = get_bool(j, o, "balloon", "deflate_on_oom", &j->cfg->balloon_deflate_on_oom);
	if (!ret)
		ret = get_bool(j, o, "balloon", "free_page_reporting",
			       &j->cfg->balloon_free_page_reporting);
	if (!ret) {
		j->cfg->has_balloon = true;
		j->cfg->balloon_opt = "JSON balloon";
	}
	return ret;
}

static int parse_rng(struct jctx *j, json_t *o)
{
	static const char *const keys[] = {"random_file", "bytes_per_sec", NULL};
	int ret;

	ret = check_keys(j, o, "rng", keys);
	if (!ret)
		ret = get_str(j, o, "rng", "random_file", &j->cfg->rng_file, true);
	if (!ret)
		ret = get_u64(j, o, "rng", "bytes_per_sec", CFG_MIN_RNG_BPS, CFG_MAX_RNG_BPS,
			      &j->cfg->rng_bytes_per_sec);
	if (!ret) {
		j->cfg->has_rng = true;
		j->cfg->rng_opt = "JSON rng.random_file";
	}
	return ret;
}

static int parse_root(struct jctx *j, json_t *root)
{
	static const char *const keys[] = {
	    "boot-source", "machine-config", "drive",	"net", "console", "vsock",
	    "serial",	   "iothread",	     "balloon", "rng", NULL};
	json_t *v;
	int ret;

	ret = check_keys(j, root, "top level", keys);
	if (ret)
		return ret;
	/* iothreads first: drives and nets refer to them */
	if ((v = json_object_get(root, "iothread")) &&
	    (ret = parse_array(j, v, "iothread", parse_iothread)))
		return ret;
	if ((v = json_object_get(root, "boot-source")) && (ret = parse_boot(j, v)))
		return ret;
	if ((v = json_object_get(root, "machine-config")) && (ret = parse_machine(j, v)))
		return ret;
	if ((v = json_object_get(root, "drive")) && (ret = parse_array(j, v, "drive", parse_drive)))
		return ret;
	if ((v = json_object_get(root, "net")) && (ret = parse_array(j, v, "net", parse_net)))
		return ret;
	if ((v = json_object_get(root, "console")) &&
	    (ret = parse_array(j, v, "console", parse_console)))
		return ret;
	if ((v = json_object_get(root, "vsock")) && (ret = parse_vsock(j, v)))
		return ret;
	if ((v = json_object_get(root, "serial")) && (ret = parse_serial(j, v)))
		return ret;
	if ((v = json_object_get(root, "balloon")) && (ret = parse_balloon(j, v)))
		return ret;
	if ((v = json_object_get(root, "rng")) && (ret = parse_rng(j, v)))
		return ret;
	return 0;
}

static int parse_doc(struct vm_config *cfg, json_t *root, char *err, size_t errlen)
{
	struct jctx j = {.cfg = cfg, .err = err, .errlen = errlen};
	int ret = parse_root(&j, root);

	json_decref(root);
	return ret;
}

int config_parse_json_text(struct vm_config *cfg, const char *text, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return cfg_err(err, errlen, "JSON: line %d column %d: %s", jerr.line, jerr.column,
			       jerr.text);
	return parse_doc(cfg, root, err, errlen);
}

int config_parse_json_file(struct vm_config *cfg, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char sub[256], qpath[CFG_ECHO_MAX + 8];
	int fd, ret;

	/* a FIFO or device would block or never end: only a regular file */
	fd = hostpath_open("-config", path, O_RDONLY, 0, HOSTPATH_REG, NULL, sub, sizeof(sub));
	if (fd == -EINVAL)
		return cfg_err(err, errlen, "-config '%s' is not a regular file", path);
	if (fd < 0)
		return cfg_err(err, errlen, "cannot open -config '%s': %s", path, strerror(-fd));
	root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (!root)
		return cfg_err(err, errlen, "invalid value '%s' for -config: line %d column %d: %s",
			       path, jerr.line, jerr.column, jerr.text);
	ret = parse_doc(cfg, root, sub, sizeof(sub));
	if (ret && err && errlen) {
		/* sub is a finished message (its values already quoted): not cut again */
		cfg_quote(qpath, sizeof(qpath), path);
		snprintf(err, errlen, "-config %s: %s", qpath, sub);
	}
	return ret;
}
