// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The command line: a table of options, each with a handler that fills
 * struct vm_config.  Both spellings upstream ever accepted are taken: the
 * early one (v0.x) and the QEMU-like one of v2 that Kata Containers uses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"
#include "config/jail_opts.h"
#include "arch/arch.h"

enum arg_kind {
	ARG_NONE,
	ARG_ONE,
	ARG_OPTIONAL, /* -D [file] */
	ARG_WORDS,    /* -append word word ... */
};

struct option_def {
	const char *name;
	enum arg_kind arg;
	int (*handle)(struct parse_ctx *ctx, const char *opt, const char *arg);
};

#define ERR(ctx, ...) cfg_err((ctx)->err, (ctx)->errlen, __VA_ARGS__)

static int set_str(struct parse_ctx *ctx, char **dst, const char *val)
{
	if (cfg_set_str(dst, val))
		return cfg_nomem(ctx->err, ctx->errlen);
	return 0;
}

static int opt_ignore(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)ctx;
	(void)opt;
	(void)arg;
	return 0;
}

static int opt_name(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	struct kvlist kv;
	char *name = NULL;
	bool dbg;
	int ret;

	if (!*arg)
		return ERR(ctx, "invalid value '' for %s: must not be empty", opt);
	/* libvirt writes "-name guest=NAME,debug-threads=on" */
	if (!strchr(arg, '='))
		return set_str(ctx, &ctx->cfg->name, arg);
	ret = kv_parse(&kv, opt, arg, "guest", ctx->err, ctx->errlen);
	if (!ret)
		ret = kv_str(&kv, "guest", &name, true);
	if (!ret)
		ret = kv_bool(&kv, "debug-threads", &dbg);
	if (!ret && kv_get(&kv, "process"))
		ret = 0;
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret) {
		free(ctx->cfg->name);
		ctx->cfg->name = name;
		name = NULL;
	}
	free(name);
	kv_free(&kv);
	return ret;
}

static int opt_uuid(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	if (cfg_check_uuid(arg))
		return ERR(ctx, "invalid value '%s' for %s: must be a UUID (8-4-4-4-12 hex digits)",
			   arg, opt);
	return set_str(ctx, &ctx->cfg->uuid, arg);
}

static int opt_path(struct parse_ctx *ctx, const char *opt, const char *arg, char **dst)
{
	if (!*arg)
		return ERR(ctx, "invalid value '' for %s: must be a path", opt);
	return set_str(ctx, dst, arg);
}

static int opt_kernel(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return opt_path(ctx, opt, arg, &ctx->cfg->kernel);
}

static int opt_initrd(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return opt_path(ctx, opt, arg, &ctx->cfg->initrd);
}

static int opt_mem_path(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return opt_path(ctx, opt, arg, &ctx->cfg->mem_path);
}

static int opt_pidfile(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return opt_path(ctx, opt, arg, &ctx->cfg->pidfile);
}

static int opt_incoming(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	if (strncmp(arg, "file:", 5) || !arg[5])
		return ERR(ctx, "invalid value '%s' for %s: must be file:DIR", arg, opt);
	return set_str(ctx, &ctx->cfg->incoming, arg);
}

static int opt_append(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return set_str(ctx, &ctx->cfg->cmdline, arg);
}

static int opt_flag(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;

	(void)arg;
	if (!strcmp(opt, "-mem-prealloc"))
		cfg->mem_prealloc = true;
	else if (!strcmp(opt, "-daemonize"))
		cfg->daemonize = true;
	else if (!strcmp(opt, "-disable-seccomp"))
		cfg->disable_seccomp = true;
	else if (!strcmp(opt, "-S"))
		cfg->start_paused = true;
	return 0;
}

static int opt_log(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	ctx->cfg->log_enabled = true;
	return set_str(ctx, &ctx->cfg->log_file, arg && *arg ? arg : NULL);
}

static int opt_config(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	int ret = opt_path(ctx, opt, arg, &ctx->cfg->config_file);

	if (ret)
		return ret;
	return config_parse_json_file(ctx->cfg, arg, ctx->err, ctx->errlen);
}

static int opt_machine(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	bool dump = cfg->dump_guest_core, share = cfg->mem_share, acpi = cfg->acpi, usb = false;
	const char *type, *accel;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, opt, arg, "type", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	type = kv_get(&kv, "type");
	accel = kv_get(&kv, "accel");
	if (type && strcasecmp(type, "microvm"))
		ret = kv_bad(&kv, "type", type, "only microvm is supported");
	else if (accel && strcmp(accel, "kvm"))
		ret = kv_bad(&kv, "accel", accel, "only kvm is supported");
	if (!ret)
		ret = kv_bool(&kv, "dump-guest-core", &dump);
	if (!ret)
		ret = kv_bool(&kv, "usb", &usb);
	if (!ret && usb)
		ret = kv_bad(&kv, "usb", "on", "only off is supported (no USB)");
	if (!ret)
		ret = kv_bool(&kv, "mem-share", &share);
	if (!ret)
		ret = kv_bool(&kv, "acpi", &acpi);
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret) {
		cfg->dump_guest_core = dump;
		cfg->mem_share = share;
		cfg->acpi = acpi;
	}
	kv_free(&kv);
	return ret;
}

static int opt_smp(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	static const char *const keys[] = {"cpus",     "maxcpus", "sockets", "dies",
					   "clusters", "cores",	  "threads"};
	uint64_t v[7] = {0};
	struct vm_config *cfg = ctx->cfg;
	struct kvlist kv;
	uint64_t prod = 1;
	int ret, i;

	ret = kv_parse(&kv, opt, arg, "cpus", ctx->err, ctx->errlen);
	for (i = 0; !ret && i < 7; i++)
		ret = kv_u64(&kv, keys[i], 1, CFG_MAX_CPUS, &v[i]);
	if (!ret)
		ret = kv_check_unused(&kv);
	kv_free(&kv);
	if (ret)
		return ret;
	if (!v[0]) {
		/* QEMU derives cpus from maxcpus or from the topology */
		for (i = 2; i < 7; i++)
			prod *= v[i] ? v[i] : 1;
		v[0] = v[1] ? v[1] : prod;
		if (v[0] > CFG_MAX_CPUS)
			return ERR(ctx, "invalid value '%s' for %s: %llu cpus, must be 1..%d", arg,
				   opt, (unsigned long long)v[0], CFG_MAX_CPUS);
	}
	cfg->nr_cpus = (unsigned)v[0];
	cfg->max_cpus = (unsigned)v[1];
	cfg->sockets = (unsigned)v[2];
	cfg->dies = (unsigned)v[3];
	cfg->clusters = (unsigned)v[4];
	cfg->cores = (unsigned)v[5];
	cfg->threads = (unsigned)v[6];
	return cfg_check_topology(cfg, opt, ctx->err, ctx->errlen);
}

static int opt_mem(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	bool as_bytes = false;
	const char *size;
	struct kvlist kv;
	uint64_t bytes = 0;
	int ret;

	ret = kv_parse(&kv, opt, arg, "size", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	size = kv_get(&kv, "size");
	if (!size)
		ret = ERR(ctx, "%s needs a size", opt);
	else if (cfg_parse_mem(size, &bytes, &as_bytes))
		ret = ERR(ctx, "invalid value '%s' for %s size: must be 128M..512G", size, opt);
	else if (as_bytes && bytes < CFG_MIN_MEM)
		ret = ERR(ctx,
			  "invalid value '%s' for %s size: read as bytes (%llu MiB), below the "
			  "128 MiB minimum",
			  size, opt, (unsigned long long)(bytes >> 20));
	else if (bytes < CFG_MIN_MEM || bytes > CFG_MAX_MEM)
		ret = ERR(ctx, "invalid value '%s' for %s size: must be 128M..512G", size, opt);
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret && as_bytes) {
		char q[CFG_ECHO_MAX + 8];

		/* a bare number this large is bytes: say so, as it is not what -m 256 means */
		cfg_quote(q, sizeof(q), size);
		fprintf(stderr, "stratovirt: note: %s %s read as bytes (%llu MiB)\n", opt, q,
			(unsigned long long)(bytes >> 20));
	}
	if (!ret)
		ctx->cfg->mem_size = bytes;
	kv_free(&kv);
	return ret;
}

/* "unix:PATH[,server][,nowait]" for -qmp and -api-channel */
static int opt_qmp(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	bool server = true, nowait = true, wait = false;
	const char *addr;
	struct kvlist kv;
	int ret;

	ret = kv_parse(&kv, opt, arg, "addr", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	addr = kv_get(&kv, "addr");
	if (!addr || strncmp(addr, "unix:", 5) || !addr[5])
		ret = ERR(ctx, "invalid value '%s' for %s: must be unix:PATH", arg, opt);
	if (!ret)
		ret = kv_bool(&kv, "server", &server);
	if (!ret)
		ret = kv_bool(&kv, "nowait", &nowait);
	if (!ret)
		ret = kv_bool(&kv, "wait", &wait);
	if (!ret && !server)
		ret = kv_bad(&kv, "server", "off", "only a listening socket is supported");
	if (!ret && (wait || !nowait))
		ret = ERR(ctx, "invalid value '%s' for %s: waiting for a client is not supported",
			  arg, opt);
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret)
		ret = set_str(ctx, &ctx->cfg->qmp_path, addr + 5);
	kv_free(&kv);
	return ret;
}

static int opt_mon(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	const char *mode;
	char *id = NULL;
	struct kvlist kv;
	bool pretty;
	int ret;

	ret = kv_parse(&kv, opt, arg, "chardev", ctx->err, ctx->errlen);
	if (!ret)
		ret = kv_str(&kv, "chardev", &ctx->mon_chardev, true);
	if (!ret)
		ret = kv_str(&kv, "id", &id, false);
	mode = ret ? NULL : kv_get(&kv, "mode");
	if (mode && strcmp(mode, "control"))
		ret = kv_bad(&kv, "mode", mode, "only control is supported");
	if (!ret)
		ret = kv_bool(&kv, "pretty", &pretty);
	if (!ret)
		ret = kv_check_unused(&kv);
	free(id);
	kv_free(&kv);
	return ret;
}

static int set_serial(struct parse_ctx *ctx, enum chardev_kind kind, const char *path, bool server,
		      bool nowait)
{
	struct chardev_config *s = &ctx->cfg->serial;

	free(ctx->serial_chardev);
	ctx->serial_chardev = NULL;
	free(s->id);
	s->id = NULL;
	s->kind = kind;
	s->server = server;
	s->nowait = nowait;
	return set_str(ctx, &s->path, path);
}

static int opt_serial(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	bool server = false, nowait = false, wait = true;
	const char *backend, *path;
	struct kvlist kv;
	int ret;

	if (!strncmp(arg, "chardev:", 8)) {
		if (!arg[8])
			return ERR(ctx, "invalid value '%s' for %s: needs a chardev id", arg, opt);
		ret = set_serial(ctx, CHR_NONE, NULL, false, false);
		return ret ? ret : set_str(ctx, &ctx->serial_chardev, arg + 8);
	}
	if (!strncmp(arg, "file:", 5)) {
		if (!arg[5])
			return ERR(ctx, "invalid value '%s' for %s: needs a path", arg, opt);
		return set_serial(ctx, CHR_FILE, arg + 5, false, false);
	}
	ret = kv_parse(&kv, opt, arg, "backend", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	backend = kv_get(&kv, "backend");
	path = kv_get(&kv, "path");
	if (!backend) {
		ret = ERR(ctx, "invalid value '%s' for %s: must start with a backend", arg, opt);
	} else if (!strcmp(backend, "stdio") || !strcmp(backend, "pty") ||
		   !strcmp(backend, "none")) {
		if (!kv_check_unused(&kv))
			ret = set_serial(ctx,
					 !strcmp(backend, "stdio") ? CHR_STDIO
					 : !strcmp(backend, "pty") ? CHR_PTY
								   : CHR_NONE,
					 NULL, false, false);
		else
			ret = -EINVAL;
	} else if (!strcmp(backend, "file") || !strcmp(backend, "socket")) {
		bool sock = backend[0] == 's';

		if (!path || !*path)
			ret = ERR(ctx, "%s %s needs path= (in '%s')", opt, backend, arg);
		if (!ret && sock)
			ret = kv_bool(&kv, "server", &server);
		if (!ret && sock)
			ret = kv_bool(&kv, "nowait", &nowait);
		if (!ret && sock && kv_has(&kv, "wait")) {
			ret = kv_bool(&kv, "wait", &wait);
			nowait = !wait;
		}
		if (!ret)
			ret = kv_check_unused(&kv);
		if (!ret && sock && !server)
			ret = ERR(ctx, "invalid value '%s' for %s: socket needs server", arg, opt);
		if (!ret)
			ret = set_serial(ctx, sock ? CHR_SOCKET : CHR_FILE, path, server, nowait);
	} else {
		ret = kv_bad(&kv, "backend", backend,
			     "must be stdio, pty, none, file, socket or chardev:ID");
	}
	kv_free(&kv);
	return ret;
}

static void drop_cpu_flag(char **list, int *nr, const char *feat)
{
	for (int i = 0; i < *nr; i++) {
		if (strcmp(list[i], feat))
			continue;
		free(list[i]);
		memmove(&list[i], &list[i + 1], (size_t)(*nr - i - 1) * sizeof(list[0]));
		(*nr)--;
		return;
	}
}

/*
 * item is the feature as written (+feat, -feat, feat=on|off): on, the host
 * must offer it (checked when the vCPUs are made); off, the guest does not see
 * it.  The later of two settings for one feature wins.
 */
static int set_cpu_flag(struct parse_ctx *ctx, const char *opt, const char *item, const char *feat,
			bool on)
{
	struct vm_config *cfg = ctx->cfg;
	char **list = on ? cfg->cpu_need : cfg->cpu_hide;
	int *nr = on ? &cfg->nr_cpu_need : &cfg->nr_cpu_hide;
	const char *name;

	if (!*feat)
		return ERR(ctx, "invalid value '%s' for %s: empty feature name", item, opt);
	name = arch_cpu_feature_name(feat);
	if (!name)
		return ERR(ctx, "invalid value '%s' for %s: unknown CPU feature '%s'", item, opt,
			   feat);
	drop_cpu_flag(on ? cfg->cpu_hide : cfg->cpu_need,
		      on ? &cfg->nr_cpu_hide : &cfg->nr_cpu_need, name);
	for (int i = 0; i < *nr; i++)
		if (!strcmp(list[i], name))
			return 0;
	if (*nr >= CFG_MAX_CPU_FLAGS)
		return ERR(ctx, "too many features at '%s' for %s (at most %d)", item, opt,
			   CFG_MAX_CPU_FLAGS);
	list[*nr] = strdup(name);
	if (!list[*nr])
		return cfg_nomem(ctx->err, ctx->errlen);
	(*nr)++;
	return 0;
}

static int opt_cpu(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	struct vm_config *cfg = ctx->cfg;
	char item[CFG_ECHO_MAX + 8];
	struct kvlist kv;
	int ret, i;
	bool on;

	ret = kv_parse(&kv, opt, arg, "model", ctx->err, ctx->errlen);
	if (ret)
		return ret;
	if (kv.n && strcmp(kv.items[0].key, "model"))
		ret = ERR(ctx, "invalid value '%s' for %s: must start with a model", arg, opt);
	else if (strcmp(kv.items[0].val, "host"))
		ret = kv_bad(&kv, "model", kv.items[0].val, "only host is supported");
	for (i = 0; i < cfg->nr_cpu_hide; i++)
		free(cfg->cpu_hide[i]);
	cfg->nr_cpu_hide = 0;
	for (i = 0; i < cfg->nr_cpu_need; i++)
		free(cfg->cpu_need[i]);
	cfg->nr_cpu_need = 0;
	for (i = 1; !ret && i < kv.n; i++) {
		struct kv_item *it = &kv.items[i];

		if ((it->key[0] == '-' || it->key[0] == '+') && !it->val) {
			ret = set_cpu_flag(ctx, opt, it->key, it->key + 1, it->key[0] == '+');
		} else if (it->val) {
			/* "feat=on|off" is QEMU's spelling of "+feat" / "-feat" */
			snprintf(item, sizeof(item), "%s=%s", it->key, it->val);
			if (cfg_parse_bool(it->val, &on))
				ret = kv_bad(&kv, it->key, it->val, "must be on or off");
			else
				ret = set_cpu_flag(ctx, opt, item, it->key, on);
		} else {
			ret = ERR(ctx,
				  "invalid value '%s' for %s: features are +name, -name or "
				  "name=on|off",
				  it->key, opt);
		}
	}
	if (!ret)
		ret = set_str(ctx, &cfg->cpu_model, "host");
	kv_free(&kv);
	return ret;
}

static int opt_jail(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return cfg_parse_jail(ctx->cfg, opt, arg, ctx->err, ctx->errlen);
}

static int opt_rlimit(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	return cfg_parse_rlimit(ctx->cfg, opt, arg, ctx->err, ctx->errlen);
}

static int opt_drive_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_drive(ctx, arg);
}

static int opt_netdev_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_netdev(ctx, arg);
}

static int opt_device_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_device(ctx, arg);
}

static int opt_object_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_object(ctx, arg);
}

static int opt_iothread_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_iothread(ctx, arg);
}

static int opt_rng_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_rng(ctx, arg);
}

static int opt_balloon_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_balloon(ctx, arg);
}

static int opt_chardev_h(struct parse_ctx *ctx, const char *opt, const char *arg)
{
	(void)opt;
	return opt_chardev(ctx, arg);
}

static const struct option_def options[] = {
    {"-name", ARG_ONE, opt_name},
    {"-uuid", ARG_ONE, opt_uuid},
    {"-machine", ARG_ONE, opt_machine},
    {"-smp", ARG_ONE, opt_smp},
    {"-m", ARG_ONE, opt_mem},
    {"-cpu", ARG_ONE, opt_cpu},
    {"-mem-path", ARG_ONE, opt_mem_path},
    {"-mem-prealloc", ARG_NONE, opt_flag},
    {"-kernel", ARG_ONE, opt_kernel},
    {"-initrd", ARG_ONE, opt_initrd},
    {"-append", ARG_WORDS, opt_append},
    {"-config", ARG_ONE, opt_config},
    {"-api-channel", ARG_ONE, opt_qmp},
    {"-qmp", ARG_ONE, opt_qmp},
    {"-mon", ARG_ONE, opt_mon},
    {"-chardev", ARG_ONE, opt_chardev_h},
    {"-serial", ARG_ONE, opt_serial},
    {"-drive", ARG_ONE, opt_drive_h},
    {"-netdev", ARG_ONE, opt_netdev_h},
    {"-device", ARG_ONE, opt_device_h},
    {"-object", ARG_ONE, opt_object_h},
    {"-iothread", ARG_ONE, opt_iothread_h},
    {"-rng", ARG_ONE, opt_rng_h},
    {"-balloon", ARG_ONE, opt_balloon_h},
    {"-incoming", ARG_ONE, opt_incoming},
    {"-D", ARG_OPTIONAL, opt_log},
    {"-pidfile", ARG_ONE, opt_pidfile},
    {"-daemonize", ARG_NONE, opt_flag},
    {"-disable-seccomp", ARG_NONE, opt_flag},
    {"-jail", ARG_ONE, opt_jail},
    {"-rlimit", ARG_ONE, opt_rlimit},
    {"-S", ARG_NONE, opt_flag},
    /* accepted for libvirt and Kata Containers, without effect */
    {"-overcommit", ARG_ONE, opt_ignore},
    {"-sandbox", ARG_ONE, opt_ignore},
    {"-msg", ARG_ONE, opt_ignore},
    {"-rtc", ARG_ONE, opt_ignore},
    {"-boot", ARG_ONE, opt_ignore},
    {"-display", ARG_ONE, opt_ignore},
    {"-realtime", ARG_ONE, opt_ignore},
    {"-no-user-config", ARG_NONE, opt_ignore},
    {"-nodefaults", ARG_NONE, opt_ignore},
    {"-no-shutdown", ARG_NONE, opt_ignore},
    {"-nographic", ARG_NONE, opt_ignore},
    {"-usb", ARG_NONE, opt_ignore},
};

static const struct option_def *find_option(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (!strcmp(options[i].name, name))
			return &options[i];
	return NULL;
}

/* "-1" is a (negative, so invalid) value, not an option: no option starts with a digit */
static bool is_option(const char *s)
{
	return s[0] == '-' && s[1] && !isdigit((unsigned char)s[1]);
}

/* Joins argv[*i+1 ..] up to the next option; *i is left on the last word. */
static char *join_words(int argc, char **argv, int *i)
{
	size_t len = 1;
	char *out;
	int j;

	for (j = *i + 1; j < argc && !is_option(argv[j]); j++)
		len += strlen(argv[j]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (j = *i + 1; j < argc && !is_option(argv[j]); j++) {
		if (j > *i + 1)
			strcat(out, " ");
		strcat(out, argv[j]);
	}
	*i = j - 1;
	return out;
}

static int parse_args(struct parse_ctx *ctx, int argc, char **argv, enum config_action *action)
{
	const struct option_def *def;
	const char *arg, *name;
	char *words;
	int i, ret;

	for (i = 1; i < argc; i++) {
		name = argv[i];
		if (!is_option(name))
			return ERR(ctx, "unexpected argument '%s'", name);
		/* "--kernel" is the same as "-kernel" */
		if (name[1] == '-' && name[2])
			name++;
		if (!strcmp(name, "-h") || !strcmp(name, "-help")) {
			*action = CONFIG_HELP;
			return 0;
		}
		if (!strcmp(name, "-version") || !strcmp(name, "-V")) {
			*action = CONFIG_VERSION;
			return 0;
		}
		def = find_option(name);
		if (!def)
			return ERR(ctx, "unknown option '%s'", argv[i]);
		arg = NULL;
		switch (def->arg) {
		case ARG_NONE:
			break;
		case ARG_ONE:
			if (i + 1 >= argc || is_option(argv[i + 1]))
				return ERR(ctx, "missing value for %s", argv[i]);
			arg = argv[++i];
			break;
		case ARG_OPTIONAL:
			if (i + 1 < argc && !is_option(argv[i + 1]))
				arg = argv[++i];
			break;
		case ARG_WORDS:
			if (i + 1 >= argc || is_option(argv[i + 1]))
				return ERR(ctx, "missing value for %s", argv[i]);
			words = join_words(argc, argv, &i);
			if (!words)
				return cfg_nomem(ctx->err, ctx->errlen);
			ret = def->handle(ctx, def->name, words);
			free(words);
			if (ret)
				return ret;
			continue;
		}
		ret = def->handle(ctx, def->name, arg);
		if (ret)
			return ret;
	}
	return ctx_resolve(ctx);
}

int config_parse_cmdline(struct vm_config *cfg, int argc, char **argv, enum config_action *action,
			 char *err, size_t errlen)
{
	struct parse_ctx ctx;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.err = err;
	ctx.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	*action = CONFIG_RUN;
	ret = parse_args(&ctx, argc, argv, action);
	ctx_free(&ctx);
	return ret;
}
