// SPDX-License-Identifier: MulanPSL-2.0
/*
 * -device: the guest-visible half of each device, and the join of every
 * front end with the back end it names (order on the line does not matter).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"

#define ERR(ctx, ...) cfg_err((ctx)->err, (ctx)->errlen, __VA_ARGS__)

static int dev_id(struct parse_ctx *ctx, struct kvlist *kv, char **id, bool required)
{
	int ret = kv_str(kv, "id", id, required);

	if (!ret && *id)
		ret = ctx_add_dev_id(ctx, kv->opt, *id);
	return ret;
}

static int dev_blk(struct parse_ctx *ctx, struct kvlist *kv)
{
	struct blk_dev b = {0};
	int ret;

	ret = kv_str(kv, "drive", &b.drive, true);
	if (!ret)
		ret = dev_id(ctx, kv, &b.id, false);
	if (!ret)
		ret = kv_str(kv, "iothread", &b.iothread, false);
	if (!ret)
		ret = kv_str(kv, "serial", &b.serial, false);
	if (!ret && b.serial && strlen(b.serial) > CFG_SERIAL_MAX)
		ret = kv_bad(kv, "serial", b.serial, "at most 20 characters");
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret && ctx->nr_blk >= CFG_MAX_DRIVES)
		ret = ERR(ctx, "too many %s at '%s'", kv->opt, b.drive);
	if (ret) {
		free(b.drive);
		free(b.id);
		free(b.iothread);
		free(b.serial);
		return ret;
	}
	ctx->blk[ctx->nr_blk++] = b;
	return 0;
}

static int dev_net(struct parse_ctx *ctx, struct kvlist *kv)
{
	struct net_dev n = {0};
	const char *mac;
	int ret;

	ret = kv_str(kv, "netdev", &n.netdev, true);
	if (!ret)
		ret = dev_id(ctx, kv, &n.id, false);
	if (!ret)
		ret = kv_str(kv, "iothread", &n.iothread, false);
	if (!ret && (mac = kv_get(kv, "mac"))) {
		n.has_mac = true;
		if (cfg_parse_mac(mac, n.mac))
			ret = kv_bad(kv, "mac", mac,
				     "must be a unicast address like 52:54:00:12:34:56");
	}
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret && ctx->nr_net >= CFG_MAX_NETS)
		ret = ERR(ctx, "too many %s at '%s'", kv->opt, n.netdev);
	if (ret) {
		free(n.netdev);
		free(n.id);
		free(n.iothread);
		return ret;
	}
	ctx->net[ctx->nr_net++] = n;
	return 0;
}

static int dev_console(struct parse_ctx *ctx, struct kvlist *kv)
{
	struct con_dev c = {0};
	uint64_t nr;
	int ret;

	ret = kv_str(kv, "chardev", &c.chardev, true);
	if (!ret)
		ret = dev_id(ctx, kv, &c.id, false);
	if (!ret)
		ret = kv_u64(kv, "nr", 0, 30, &nr);
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret && ctx->nr_con >= CFG_MAX_CONSOLES)
		ret = ERR(ctx, "too many %s at '%s' (at most %d)", kv->opt, c.chardev,
			  CFG_MAX_CONSOLES);
	if (ret) {
		free(c.chardev);
		free(c.id);
		return ret;
	}
	ctx->con[ctx->nr_con++] = c;
	return 0;
}

static int dev_virtio_serial(struct parse_ctx *ctx, struct kvlist *kv)
{
	char *id = NULL;
	int ret;

	if (ctx->cfg->has_virtio_serial)
		return ERR(ctx, "%s given twice", kv->opt);
	ret = dev_id(ctx, kv, &id, false);
	free(id);
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret)
		ctx->cfg->has_virtio_serial = true;
	return ret;
}

static int dev_vsock(struct parse_ctx *ctx, struct kvlist *kv)
{
	struct vm_config *cfg = ctx->cfg;
	uint64_t cid = 0, fd = UINT64_MAX;
	bool user = !strcmp(kv->opt, "-device virtio-vsock-device");
	char *id = NULL, *uds = NULL, *iothread = NULL;
	int ret;

	if (!kv_has(kv, "guest-cid"))
		return ERR(ctx, "%s needs guest-cid= (in '%s')", kv->opt, kv->text);
	ret = dev_id(ctx, kv, &id, true);
	if (!ret)
		ret = kv_u64(kv, "guest-cid", CFG_MIN_CID, CFG_MAX_CID, &cid);
	if (!ret && user) {
		ret = kv_str(kv, "uds-path", &uds, true);
		if (!ret && !*uds)
			ret = kv_bad(kv, "uds-path", uds, "must not be empty");
		if (!ret)
			ret = kv_str(kv, "iothread", &iothread, false);
	} else if (!ret) {
		ret = kv_u64(kv, "vhostfd", 0, 0x7fffffff, &fd);
	}
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret && cfg->has_vsock)
		ret = ERR(ctx, "%s: only one vsock device is supported", kv->opt);
	if (ret) {
		free(id);
		free(uds);
		free(iothread);
		return ret;
	}
	free(cfg->vsock_id);
	free(cfg->vsock_uds);
	free(cfg->vsock_iothread);
	cfg->vsock_id = id;
	cfg->vsock_cid = cid;
	cfg->vsock_fd = fd == UINT64_MAX ? -1 : (int)fd;
	cfg->vsock_uds = uds;
	cfg->vsock_iothread = iothread;
	cfg->has_vsock = true;
	cfg->vsock_opt = user				    ? "-device virtio-vsock-device"
			 : strcmp(kv->opt, "-device vsock") ? "-device vhost-vsock-device"
							    : "-device vsock";
	return 0;
}

static int dev_vhost_user_fs(struct parse_ctx *ctx, struct kvlist *kv)
{
	struct vm_config *cfg = ctx->cfg;
	struct fs_config f = {0};
	uint64_t qsize = 1024;
	int ret;

	ret = dev_id(ctx, kv, &f.id, true);
	if (!ret)
		ret = kv_str(kv, "chardev", &f.chardev, true);
	if (!ret)
		ret = kv_str(kv, "tag", &f.tag, true);
	if (!ret && (!*f.tag || strlen(f.tag) > CFG_FS_TAG_MAX))
		ret = kv_bad(kv, "tag", f.tag, "must be 1..36 bytes");
	if (!ret)
		ret = kv_u64(kv, "queue-size", 2, 1024, &qsize);
	if (!ret && (qsize & (qsize - 1)))
		ret = ERR(ctx, "invalid value '%llu' for %s queue-size: must be a power of two",
			  (unsigned long long)qsize, kv->opt);
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret && cfg->nr_fs >= CFG_MAX_FS)
		ret = ERR(ctx, "too many %s at '%s' (at most %d)", kv->opt, f.id, CFG_MAX_FS);
	if (ret) {
		free(f.id);
		free(f.chardev);
		free(f.tag);
		return ret;
	}
	f.queue_size = (unsigned)qsize;
	cfg->fs[cfg->nr_fs++] = f;
	return 0;
}

static int dev_balloon(struct parse_ctx *ctx, struct kvlist *kv)
{
	bool deflate = false, report = false;
	char *id = NULL;
	int ret;

	ret = dev_id(ctx, kv, &id, false);
	free(id);
	if (!ret)
		ret = kv_bool(kv, "deflate-on-oom", &deflate);
	if (!ret)
		ret = kv_bool(kv, "free-page-reporting", &report);
	if (!ret)
		ret = kv_check_unused(kv);
	if (ret)
		return ret;
	ctx->cfg->has_balloon = true;
	ctx->cfg->balloon_deflate_on_oom = deflate;
	ctx->cfg->balloon_free_page_reporting = report;
	ctx->cfg->balloon_opt = "-device virtio-balloon-device";
	return 0;
}

/* Parses "0xf4" or "244". */
static int parse_port(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !isxdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, !strncasecmp(s, "0x", 2) ? 16 : 10);
	return errno || *end || end == s ? -EINVAL : 0;
}

/*
 * QEMU's isa-debug-exit, at the one place our test guest and benchmarks use:
 * a write to port 0xf4 ends the VM with the written value as exit status.
 */
static int dev_debug_exit(struct parse_ctx *ctx, struct kvlist *kv)
{
	const char *base = kv_get(kv, "iobase"), *size = kv_get(kv, "iosize");
	char *id = NULL;
	uint64_t v;
	int ret;

	if (ctx->cfg->debug_exit)
		return ERR(ctx, "%s given twice", kv->opt);
	if (base && (parse_port(base, &v) || v != CFG_DEBUG_EXIT_IOBASE))
		return kv_bad(kv, "iobase", base, "only 0xf4 is supported");
	if (size && (parse_port(size, &v) || v != CFG_DEBUG_EXIT_IOSIZE))
		return kv_bad(kv, "iosize", size, "only 4 is supported");
	ret = dev_id(ctx, kv, &id, false);
	free(id);
	if (!ret)
		ret = kv_check_unused(kv);
	if (!ret)
		ctx->cfg->debug_exit = true;
	return ret;
}

static int dev_rng(struct parse_ctx *ctx, struct kvlist *kv)
{
	uint64_t max_bytes = 0, period = 0;
	int ret;

	if (ctx->has_rng_dev)
		return ERR(ctx, "%s: only one rng device is supported", kv->opt);
	ret = kv_str(kv, "rng", &ctx->rng_dev_rng, true);
	if (!ret)
		ret = dev_id(ctx, kv, &ctx->rng_dev_id, false);
	if (!ret)
		ret = kv_u64(kv, "max-bytes", 1, UINT64_MAX / 1000, &max_bytes);
	if (!ret)
		ret = kv_u64(kv, "period", 1, UINT32_MAX, &period);
	if (!ret)
		ret = kv_check_unused(kv);
	if (ret)
		return ret;
	if (period && !max_bytes)
		return ERR(ctx, "%s: period= needs max-bytes=", kv->opt);
	if (max_bytes) {
		if (!period)
			period = 1000;
		ctx->rng_dev_bps = max_bytes * 1000 / period;
		if (ctx->rng_dev_bps < CFG_MIN_RNG_BPS || ctx->rng_dev_bps > CFG_MAX_RNG_BPS)
			return ERR(ctx,
				   "invalid value '%llu' for %s max-bytes: %llu bytes/s, must be "
				   "%llu..%llu",
				   (unsigned long long)max_bytes, kv->opt,
				   (unsigned long long)ctx->rng_dev_bps, CFG_MIN_RNG_BPS,
				   CFG_MAX_RNG_BPS);
	}
	ctx->has_rng_dev = true;
	return 0;
}

static const struct {
	const char *driver;
	int (*parse)(struct parse_ctx *ctx, struct kvlist *kv);
} drivers[] = {
    {"virtio-blk-device", dev_blk},
    {"virtio-net-device", dev_net},
    {"virtio-serial-device", dev_virtio_serial},
    {"virtconsole", dev_console},
    {"vhost-vsock-device", dev_vsock},
    {"vsock", dev_vsock},
    {"virtio-vsock-device", dev_vsock},
    {"virtio-balloon-device", dev_balloon},
    {"virtio-rng-device", dev_rng},
    {"vhost-user-fs-device", dev_vhost_user_fs},
    {"isa-debug-exit", dev_debug_exit},
};

int opt_device(struct parse_ctx *ctx, const char *arg)
{
	const char *driver;
	struct kvlist kv;
	char label[64];
	size_t i;
	int ret;

	ret = kv_parse(&kv, "-device", arg, "driver", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	driver = kv_get(&kv, "driver");
	if (!driver || !*driver) {
		kv_free(&kv);
		return ERR(ctx, "invalid value '%s' for -device: must start with a driver name",
			   arg);
	}
	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (strcmp(drivers[i].driver, driver))
			continue;
		snprintf(label, sizeof(label), "-device %s", driver);
		kv.opt = label;
		ret = drivers[i].parse(ctx, &kv);
		kv_free(&kv);
		return ret;
	}
	ret = ERR(ctx, "unknown device '%s' for -device", driver);
	kv_free(&kv);
	return ret;
}

static int check_iothread(struct parse_ctx *ctx, const char *what, const char *id,
			  const char *iothread)
{
	if (iothread && cfg_find_iothread(ctx->cfg, iothread) < 0)
		return ERR(ctx, "%s '%s' names unknown iothread '%s'", what, id, iothread);
	return 0;
}

static int resolve_blk(struct parse_ctx *ctx)
{
	struct vm_config *cfg = ctx->cfg;
	int i, k, ret;

	for (i = 0; i < cfg->nr_drives; i++) {
		ret = check_iothread(ctx, "-drive", cfg->drives[i].id, cfg->drives[i].iothread);
		if (ret)
			return ret;
	}
	for (i = 0; i < ctx->nr_blk; i++) {
		struct blk_dev *b = &ctx->blk[i];
		struct drive_config *d;

		k = cfg_find_drive(cfg, b->drive);
		if (k < 0)
			return ERR(ctx, "-device virtio-blk-device names unknown drive '%s'",
				   b->drive);
		d = &cfg->drives[k];
		if (d->device_id && d->has_device)
			return ERR(ctx, "drive '%s' is used by two -device virtio-blk-device",
				   b->drive);
		ret = check_iothread(ctx, "-device virtio-blk-device", b->drive, b->iothread);
		if (ret)
			return ret;
		d->has_device = true;
		free(d->device_id);
		d->device_id = b->id ? b->id : strdup(b->drive);
		b->id = NULL;
		if (b->iothread) {
			free(d->iothread);
			d->iothread = b->iothread;
			b->iothread = NULL;
		}
		if (b->serial) {
			free(d->serial);
			d->serial = b->serial;
			b->serial = NULL;
		}
		if (!d->device_id)
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	/* early form: with no virtio-blk-device anywhere, each -drive is a disk */
	for (i = 0; !ctx->nr_blk && i < cfg->nr_drives; i++) {
		struct drive_config *d = &cfg->drives[i];

		d->has_device = true;
		if (!d->device_id && cfg_set_str(&d->device_id, d->id))
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	return 0;
}

static int resolve_net(struct parse_ctx *ctx)
{
	struct vm_config *cfg = ctx->cfg;
	int i, k, ret;

	for (i = 0; i < cfg->nr_nets; i++) {
		ret = check_iothread(ctx, "-netdev", cfg->nets[i].id, cfg->nets[i].iothread);
		if (ret)
			return ret;
	}
	for (i = 0; i < ctx->nr_net; i++) {
		struct net_dev *n = &ctx->net[i];
		struct net_config *c;

		k = cfg_find_net(cfg, n->netdev);
		if (k < 0)
			return ERR(ctx, "-device virtio-net-device names unknown netdev '%s'",
				   n->netdev);
		c = &cfg->nets[k];
		if (c->device_id && c->has_device)
			return ERR(ctx, "netdev '%s' is used by two -device virtio-net-device",
				   n->netdev);
		ret = check_iothread(ctx, "-device virtio-net-device", n->netdev, n->iothread);
		if (ret)
			return ret;
		c->has_device = true;
		free(c->device_id);
		c->device_id = n->id ? n->id : strdup(n->netdev);
		n->id = NULL;
		if (n->has_mac) {
			c->has_mac = true;
			memcpy(c->mac, n->mac, 6);
		}
		if (n->iothread) {
			free(c->iothread);
			c->iothread = n->iothread;
			n->iothread = NULL;
		}
		if (!c->device_id)
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	for (i = 0; !ctx->nr_net && i < cfg->nr_nets; i++) {
		struct net_config *c = &cfg->nets[i];

		c->has_device = true;
		if (!c->device_id && cfg_set_str(&c->device_id, c->id))
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	return 0;
}

static int socket_chardev(struct parse_ctx *ctx, const char *user, const char *id, bool *used)
{
	int k = cfg_find_chardev(ctx->cfg, id);

	if (k < 0)
		return ERR(ctx, "%s names unknown chardev '%s'", user, id);
	if (ctx->cfg->chardevs[k].kind != CHR_SOCKET)
		return ERR(ctx, "%s: chardev '%s' must be a socket", user, id);
	used[k] = true;
	return k;
}

static int add_console(struct parse_ctx *ctx, const char *id, const char *chardev)
{
	struct vm_config *cfg = ctx->cfg;
	struct console_config *c;

	if (cfg->nr_consoles >= CFG_MAX_CONSOLES)
		return ERR(ctx, "too many consoles at '%s' (at most %d)", chardev,
			   CFG_MAX_CONSOLES);
	c = &cfg->consoles[cfg->nr_consoles];
	c->id = strdup(id ? id : chardev);
	c->chardev = strdup(chardev);
	cfg->nr_consoles++;
	if (!c->id || !c->chardev)
		return cfg_nomem(ctx->err, ctx->errlen);
	return 0;
}

static int resolve_chardevs(struct parse_ctx *ctx)
{
	bool used[CFG_MAX_CHARDEVS] = {false};
	struct vm_config *cfg = ctx->cfg;
	int i, k, ret;

	for (i = 0; i < ctx->nr_con; i++) {
		k = socket_chardev(ctx, "-device virtconsole", ctx->con[i].chardev, used);
		if (k < 0)
			return k;
		ret = add_console(ctx, ctx->con[i].id, ctx->con[i].chardev);
		if (ret)
			return ret;
	}
	if (ctx->mon_chardev) {
		k = socket_chardev(ctx, "-mon", ctx->mon_chardev, used);
		if (k < 0)
			return k;
		if (cfg_set_str(&cfg->qmp_path, cfg->chardevs[k].path))
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	for (i = 0; i < cfg->nr_fs; i++) {
		k = socket_chardev(ctx, "-device vhost-user-fs-device", cfg->fs[i].chardev, used);
		if (k < 0)
			return k;
		if (cfg->chardevs[k].server)
			return ERR(ctx,
				   "-device vhost-user-fs-device '%s': chardev '%s' must be a "
				   "client socket (virtiofsd listens; no server=on)",
				   cfg->fs[i].id, cfg->fs[i].chardev);
	}
	if (ctx->serial_chardev) {
		k = cfg_find_chardev(cfg, ctx->serial_chardev);
		if (k < 0)
			return ERR(ctx, "-serial names unknown chardev '%s'", ctx->serial_chardev);
		used[k] = true;
		cfg->serial.kind = cfg->chardevs[k].kind;
		cfg->serial.server = cfg->chardevs[k].server;
		cfg->serial.nowait = cfg->chardevs[k].nowait;
		if (cfg_set_str(&cfg->serial.id, cfg->chardevs[k].id) ||
		    cfg_set_str(&cfg->serial.path, cfg->chardevs[k].path))
			return cfg_nomem(ctx->err, ctx->errlen);
	}
	for (i = 0; i < cfg->nr_chardevs; i++) {
		if (!ctx->chardev_early[i] || used[i])
			continue;
		ret = add_console(ctx, cfg->chardevs[i].id, cfg->chardevs[i].id);
		if (ret)
			return ret;
	}
	return 0;
}

static int resolve_rng(struct parse_ctx *ctx)
{
	struct vm_config *cfg = ctx->cfg;
	int i;

	/* -object ids are one name space, as in QEMU: iothreads and rng-random */
	for (i = 0; i < ctx->nr_rng_objs; i++)
		if (cfg_find_iothread(cfg, ctx->rng_objs[i].id) >= 0)
			return ERR(ctx,
				   "duplicate id '%s' for -object rng-random: an iothread has it",
				   ctx->rng_objs[i].id);
	if (!ctx->has_rng_dev)
		return 0;
	for (i = 0; i < ctx->nr_rng_objs; i++) {
		struct rng_obj *r = &ctx->rng_objs[i];

		if (strcmp(r->id, ctx->rng_dev_rng))
			continue;
		free(cfg->rng_file);
		cfg->rng_file = r->filename;
		r->filename = NULL;
		if (cfg_set_str(&cfg->rng_id, ctx->rng_dev_id ? ctx->rng_dev_id : r->id))
			return cfg_nomem(ctx->err, ctx->errlen);
		cfg->rng_bytes_per_sec = ctx->rng_dev_bps;
		cfg->has_rng = true;
		cfg->rng_opt = "-object rng-random filename";
		return 0;
	}
	return ERR(ctx, "-device virtio-rng-device names unknown rng '%s'", ctx->rng_dev_rng);
}

int ctx_resolve(struct parse_ctx *ctx)
{
	int ret;

	ret = resolve_blk(ctx);
	if (!ret)
		ret = resolve_net(ctx);
	if (!ret)
		ret = resolve_chardevs(ctx);
	if (!ret)
		ret = resolve_rng(ctx);
	if (!ret && ctx->cfg->vsock_iothread)
		ret = check_iothread(ctx, "-device virtio-vsock-device", ctx->cfg->vsock_id,
				     ctx->cfg->vsock_iothread);
	return ret;
}
