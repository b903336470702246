// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Back ends (-drive, -netdev, -chardev, -object, -iothread, early -rng and
 * -balloon) and front ends (-device).  A front end only records the name of
 * its back end here; ctx_resolve() joins them once the whole line is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define ERR(ctx, ...) cfg_err((ctx)->err, (ctx)->errlen, __VA_ARGS__)

void ctx_free(struct parse_ctx *ctx)
{
	int i;

	for (i = 0; i < ctx->nr_blk; i++) {
		free(ctx->blk[i].drive);
		free(ctx->blk[i].id);
		free(ctx->blk[i].iothread);
		free(ctx->blk[i].serial);
	}
	for (i = 0; i < ctx->nr_net; i++) {
		free(ctx->net[i].netdev);
		free(ctx->net[i].id);
		free(ctx->net[i].iothread);
	}
	for (i = 0; i < ctx->nr_con; i++) {
		free(ctx->con[i].chardev);
		free(ctx->con[i].id);
	}
	for (i = 0; i < ctx->nr_rng_objs; i++) {
		free(ctx->rng_objs[i].id);
		free(ctx->rng_objs[i].filename);
	}
	free(ctx->rng_dev_rng);
	free(ctx->rng_dev_id);
	free(ctx->mon_chardev);
	free(ctx->serial_chardev);
	for (i = 0; i < ctx->nr_dev_ids; i++)
		free(ctx->dev_ids[i]);
	memset(ctx, 0, sizeof(*ctx));
}

int ctx_add_dev_id(struct parse_ctx *ctx, const char *opt, const char *id)
{
	int i;

	for (i = 0; i < ctx->nr_dev_ids; i++)
		if (!strcmp(ctx->dev_ids[i], id))
			return ERR(ctx, "duplicate id '%s' for %s", id, opt);
	if (ctx->nr_dev_ids >= CTX_MAX_DEV_IDS)
		return ERR(ctx, "too many devices at '%s' for %s", id, opt);
	ctx->dev_ids[ctx->nr_dev_ids] = strdup(id);
	if (!ctx->dev_ids[ctx->nr_dev_ids])
		return cfg_nomem(ctx->err, ctx->errlen);
	ctx->nr_dev_ids++;
	return 0;
}

static int check_serial(struct kvlist *kv, const char *key, const char *serial)
{
	char why[48];

	if (serial && strlen(serial) > CFG_SERIAL_MAX) {
		snprintf(why, sizeof(why), "at most %d characters", CFG_SERIAL_MAX);
		return kv_bad(kv, key, serial, why);
	}
	return 0;
}

int opt_drive(struct parse_ctx *ctx, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	struct drive_config d = {.direct = true};
	const char *opt = "-drive", *v;
	uint64_t iops = 0;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, opt, arg, NULL, ctx->err, ctx->errlen);
	if (ret)
		return ret;
	ret = kv_str(&kv, "id", &d.id, true);
	if (!ret)
		ret = kv_str(&kv, "file", &d.path, true);
	if (!ret)
		ret = kv_bool(&kv, "readonly", &d.readonly);
	if (!ret)
		ret = kv_bool(&kv, "direct", &d.direct);
	if (!ret)
		ret = kv_str(&kv, "serial", &d.serial, false);
	if (!ret)
		ret = check_serial(&kv, "serial", d.serial);
	if (!ret)
		ret = kv_str(&kv, "iothread", &d.iothread, false);
	if (!ret)
		ret = kv_u64(&kv, "iops", 0, CFG_MAX_IOPS, &iops);
	if (!ret)
		ret = kv_u64(&kv, "throttling.iops-total", 0, CFG_MAX_IOPS, &iops);
	if (!ret && (v = kv_get(&kv, "if")) && strcmp(v, "none"))
		ret = kv_bad(&kv, "if", v, "only none is supported");
	if (!ret && (v = kv_get(&kv, "format")) && strcmp(v, "raw"))
		ret = kv_bad(&kv, "format", v, "only raw is supported");
	if (!ret && (v = kv_get(&kv, "aio"))) {
		if (strcmp(v, "native") && strcmp(v, "io_uring") && strcmp(v, "off"))
			ret = kv_bad(&kv, "aio", v, "must be native, io_uring or off");
		else
			ret = kv_str(&kv, "aio", &d.aio, false);
	}
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret && cfg_find_drive(cfg, d.id) >= 0)
		ret = ERR(ctx, "duplicate id '%s' for %s", d.id, opt);
	if (!ret && cfg->nr_drives >= CFG_MAX_DRIVES)
		ret = ERR(ctx, "too many drives at '%s' for %s (at most %d)", d.id, opt,
			  CFG_MAX_DRIVES);
	kv_free(&kv);
	if (ret) {
		free(d.id);
		free(d.path);
		free(d.serial);
		free(d.iothread);
		free(d.aio);
		return ret;
	}
	d.iops = iops;
	cfg->drives[cfg->nr_drives++] = d;
	return 0;
}

static void net_clear(struct net_config *n)
{
	int i;

	free(n->id);
	free(n->ifname);
	free(n->iothread);
	free(n->device_id);
	memset(n, 0, sizeof(*n));
	for (i = 0; i < CFG_MAX_FDS; i++)
		n->fds[i] = n->vhostfds[i] = -1;
}

int opt_netdev(struct parse_ctx *ctx, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	const char *opt = "-netdev", *type, *v;
	struct net_config n;
	struct kvlist kv;
	uint64_t fd;
	bool vhost = false;
	int ret;

	memset(&n, 0, sizeof(n));
	net_clear(&n);
	ret = kv_parse(&kv, opt, arg, "type", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	type = kv_get(&kv, "type");
	if (type && strcmp(type, "tap"))
		ret = kv_bad(&kv, "type", type, "only tap is supported");
	if (!ret)
		ret = kv_str(&kv, "id", &n.id, true);
	if (!ret)
		ret = kv_str(&kv, "ifname", &n.ifname, false);
	/* early releases named the tap "netdev=" */
	if (!ret && kv_has(&kv, "netdev")) {
		if (n.ifname)
			ret = ERR(ctx, "%s: give either ifname= or netdev=, not both", opt);
		else
			ret = kv_str(&kv, "netdev", &n.ifname, false);
	}
	if (!ret && kv_has(&kv, "fd")) {
		ret = kv_u64(&kv, "fd", 0, 0x7fffffff, &fd);
		n.fds[0] = (int)fd;
		n.nr_fds = 1;
	}
	if (!ret && (v = kv_get(&kv, "fds"))) {
		if (n.nr_fds)
			ret = ERR(ctx, "%s: give either fd= or fds=, not both", opt);
		else if (cfg_parse_fd_list(v, n.fds, CFG_MAX_FDS, &n.nr_fds))
			ret = kv_bad(&kv, "fds", v, "must be FD[:FD...] (at most 8)");
	}
	if (!ret && (v = kv_get(&kv, "mac"))) {
		if (cfg_parse_mac(v, n.mac))
			ret = kv_bad(&kv, "mac", v,
				     "must be a unicast address like 52:54:00:12:34:56");
		n.has_mac = true;
	}
	if (!ret)
		ret = kv_str(&kv, "iothread", &n.iothread, false);
	if (!ret)
		ret = kv_bool(&kv, "vhost", &vhost);
	n.vhost = vhost;
	if (!ret && kv_has(&kv, "vhostfd")) {
		ret = kv_u64(&kv, "vhostfd", 0, 0x7fffffff, &fd);
		n.vhostfds[0] = (int)fd;
		n.nr_vhostfds = 1;
	}
	if (!ret && (v = kv_get(&kv, "vhostfds"))) {
		if (n.nr_vhostfds)
			ret = ERR(ctx, "%s: give either vhostfd= or vhostfds=, not both", opt);
		else if (cfg_parse_fd_list(v, n.vhostfds, CFG_MAX_FDS, &n.nr_vhostfds))
			ret = kv_bad(&kv, "vhostfds", v, "must be FD[:FD...] (at most 8)");
	}
	if (!ret && n.nr_vhostfds && kv_has(&kv, "vhost") && !vhost)
		ret = ERR(ctx, "%s '%s': vhostfd= needs vhost=on", opt, n.id);
	if (n.nr_vhostfds)
		n.vhost = true;
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret && !n.ifname && !n.nr_fds)
		ret = ERR(ctx, "%s '%s' needs ifname=, fd= or fds=", opt, n.id);
	if (!ret && cfg_find_net(cfg, n.id) >= 0)
		ret = ERR(ctx, "duplicate id '%s' for %s", n.id, opt);
	if (!ret && cfg->nr_nets >= CFG_MAX_NETS)
		ret = ERR(ctx, "too many netdevs at '%s' for %s (at most %d)", n.id, opt,
			  CFG_MAX_NETS);
	kv_free(&kv);
	if (ret) {
		net_clear(&n);
		return ret;
	}
	cfg->nets[cfg->nr_nets++] = n;
	return 0;
}

int opt_chardev(struct parse_ctx *ctx, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	struct chardev_config c = {0};
	const char *opt = "-chardev", *backend;
	bool early, wait = true;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, opt, arg, "backend", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	backend = kv_get(&kv, "backend");
	early = !backend;
	ret = kv_str(&kv, "id", &c.id, true);
	if (!ret && (early || !strcmp(backend, "socket"))) {
		c.kind = CHR_SOCKET;
		ret = kv_str(&kv, "path", &c.path, true);
		/* an early console socket always listened */
		c.server = c.nowait = early;
		if (!ret)
			ret = kv_bool(&kv, "server", &c.server);
		if (!ret)
			ret = kv_bool(&kv, "nowait", &c.nowait);
		if (!ret && kv_has(&kv, "wait")) {
			ret = kv_bool(&kv, "wait", &wait);
			c.nowait = !wait;
		}
	} else if (!ret && !strcmp(backend, "file")) {
		c.kind = CHR_FILE;
		ret = kv_str(&kv, "path", &c.path, true);
	} else if (!ret && !strcmp(backend, "pty")) {
		c.kind = CHR_PTY;
	} else if (!ret && !strcmp(backend, "stdio")) {
		c.kind = CHR_STDIO;
	} else if (!ret) {
		ret = kv_bad(&kv, "backend", backend, "must be socket, file, pty or stdio");
	}
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret && cfg_find_chardev(cfg, c.id) >= 0)
		ret = ERR(ctx, "duplicate id '%s' for %s", c.id, opt);
	if (!ret && cfg->nr_chardevs >= CFG_MAX_CHARDEVS)
		ret = ERR(ctx, "too many chardevs at '%s' for %s (at most %d)", c.id, opt,
			  CFG_MAX_CHARDEVS);
	kv_free(&kv);
	if (ret) {
		free(c.id);
		free(c.path);
		return ret;
	}
	ctx->chardev_early[cfg->nr_chardevs] = early;
	cfg->chardevs[cfg->nr_chardevs++] = c;
	return 0;
}

int opt_iothread(struct parse_ctx *ctx, const char *arg)
{
	const char *opt = "-iothread";
	char *id = NULL;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, opt, arg, "id", ctx->err, ctx->errlen);
	if (!ret)
		ret = kv_str(&kv, "id", &id, true);
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret)
		ret = cfg_add_iothread(ctx->cfg, opt, id, ctx->err, ctx->errlen);
	free(id);
	kv_free(&kv);
	return ret;
}

int opt_object(struct parse_ctx *ctx, const char *arg)
{
	const char *opt = "-object", *type;
	struct rng_obj r = {0};
	struct kvlist kv;
	int ret, i;

	ret = kv_parse(&kv, opt, arg, "qom-type", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	type = kv_get(&kv, "qom-type");
	if (!type) {
		ret = ERR(ctx, "invalid value '%s' for %s: must start with a type", arg, opt);
	} else if (!strcmp(type, "iothread")) {
		ret = kv_str(&kv, "id", &r.id, true);
		if (!ret)
			ret = kv_check_unused(&kv);
		if (!ret)
			ret = cfg_add_iothread(ctx->cfg, "-object iothread", r.id, ctx->err,
					       ctx->errlen);
	} else if (!strcmp(type, "rng-random")) {
		ret = kv_str(&kv, "id", &r.id, true);
		if (!ret)
			ret = kv_str(&kv, "filename", &r.filename, true);
		if (!ret)
			ret = kv_check_unused(&kv);
		for (i = 0; !ret && i < ctx->nr_rng_objs; i++)
			if (!strcmp(ctx->rng_objs[i].id, r.id))
				ret = ERR(ctx, "duplicate id '%s' for -object rng-random", r.id);
		if (!ret && ctx->nr_rng_objs >= CTX_MAX_RNG_OBJS)
			ret = ERR(ctx, "too many rng-random objects at '%s'", r.id);
		if (!ret) {
			ctx->rng_objs[ctx->nr_rng_objs++] = r;
			kv_free(&kv);
			return 0;
		}
	} else {
		ret = kv_bad(&kv, "qom-type", type, "must be iothread or rng-random");
	}
	free(r.id);
	free(r.filename);
	kv_free(&kv);
	return ret;
}

/* Early "-rng random_file=P[,bytes_per_sec=N]": one rng device on its own. */
int opt_rng(struct parse_ctx *ctx, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	char *file = NULL;
	uint64_t bps = 0;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, "-rng", arg, NULL, ctx->err, ctx->errlen);
	if (!ret)
		ret = kv_str(&kv, "random_file", &file, true);
	if (!ret)
		ret = kv_u64(&kv, "bytes_per_sec", CFG_MIN_RNG_BPS, CFG_MAX_RNG_BPS, &bps);
	if (!ret)
		ret = kv_check_unused(&kv);
	kv_free(&kv);
	if (ret) {
		free(file);
		return ret;
	}
	free(cfg->rng_file);
	cfg->rng_file = file;
	cfg->rng_bytes_per_sec = bps;
	cfg->has_rng = true;
	cfg->rng_opt = "-rng random_file";
	return 0;
}

/* Early "-balloon deflate-on-oom=true|false" */
int opt_balloon(struct parse_ctx *ctx, const char *arg)
{
	bool deflate = false;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, "-balloon", arg, NULL, ctx->err, ctx->errlen);
	if (!ret)
		ret = kv_bool(&kv, "deflate-on-oom", &deflate);
	if (!ret)
		ret = kv_check_unused(&kv);
	kv_free(&kv);
	if (ret)
		return ret;
	ctx->cfg->has_balloon = true;
	ctx->cfg->balloon_deflate_on_oom = deflate;
	ctx->cfg->balloon_opt = "-balloon";
	return 0;
}
