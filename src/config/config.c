// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The one description of the VM: defaults, release, and the checks that need
 * every option at once (whatever mix of command line and JSON produced it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"

void config_init(struct vm_config *cfg)
{
	int i, j;

	memset(cfg, 0, sizeof(*cfg));
	cfg->dump_guest_core = true;
	cfg->acpi = true;
	cfg->nr_cpus = 1;
	cfg->max_cpus = 1;
	cfg->sockets = cfg->dies = cfg->clusters = cfg->cores = cfg->threads = 1;
	cfg->mem_size = CFG_DEFAULT_MEM;
	cfg->vsock_fd = -1;
	for (i = 0; i < CFG_MAX_NETS; i++)
		for (j = 0; j < CFG_MAX_FDS; j++)
			cfg->nets[i].fds[j] = -1;
}

static void chardev_free(struct chardev_config *c)
{
	free(c->id);
	free(c->path);
}

void config_free(struct vm_config *cfg)
{
	int i;

	free(cfg->name);
	free(cfg->uuid);
	free(cfg->cpu_model);
	for (i = 0; i < cfg->nr_cpu_hide; i++)
		free(cfg->cpu_hide[i]);
	for (i = 0; i < cfg->nr_cpu_need; i++)
		free(cfg->cpu_need[i]);
	free(cfg->mem_path);
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	chardev_free(&cfg->serial);
	for (i = 0; i < cfg->nr_chardevs; i++)
		chardev_free(&cfg->chardevs[i]);
	for (i = 0; i < cfg->nr_drives; i++) {
		struct drive_config *d = &cfg->drives[i];

		free(d->id);
		free(d->path);
		free(d->serial);
		free(d->iothread);
		free(d->aio);
		free(d->device_id);
	}
	for (i = 0; i < cfg->nr_nets; i++) {
		free(cfg->nets[i].id);
		free(cfg->nets[i].ifname);
		free(cfg->nets[i].iothread);
		free(cfg->nets[i].device_id);
	}
	for (i = 0; i < cfg->nr_consoles; i++) {
		free(cfg->consoles[i].id);
		free(cfg->consoles[i].chardev);
	}
	for (i = 0; i < cfg->nr_fs; i++) {
		free(cfg->fs[i].id);
		free(cfg->fs[i].tag);
		free(cfg->fs[i].chardev);
	}
	free(cfg->rng_id);
	free(cfg->rng_file);
	free(cfg->vsock_id);
	free(cfg->vsock_uds);
	free(cfg->vsock_iothread);
	for (i = 0; i < cfg->nr_iothreads; i++)
		free(cfg->iothreads[i]);
	free(cfg->qmp_path);
	free(cfg->incoming);
	free(cfg->log_file);
	free(cfg->pidfile);
	free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
	cfg->vsock_fd = -1;
}

int cfg_find_chardev(const struct vm_config *cfg, const char *id)
{
	int i;

	for (i = 0; i < cfg->nr_chardevs; i++)
		if (cfg->chardevs[i].id && !strcmp(cfg->chardevs[i].id, id))
			return i;
	return -1;
}

int cfg_find_drive(const struct vm_config *cfg, const char *id)
{
	int i;

	for (i = 0; i < cfg->nr_drives; i++)
		if (cfg->drives[i].id && !strcmp(cfg->drives[i].id, id))
			return i;
	return -1;
}

int cfg_find_net(const struct vm_config *cfg, const char *id)
{
	int i;

	for (i = 0; i < cfg->nr_nets; i++)
		if (cfg->nets[i].id && !strcmp(cfg->nets[i].id, id))
			return i;
	return -1;
}

int cfg_find_iothread(const struct vm_config *cfg, const char *id)
{
	int i;

	for (i = 0; i < cfg->nr_iothreads; i++)
		if (!strcmp(cfg->iothreads[i], id))
			return i;
	return -1;
}

int cfg_add_iothread(struct vm_config *cfg, const char *opt, const char *id, char *err,
		     size_t errlen)
{
	if (!id || !*id)
		return cfg_err(err, errlen, "%s needs id=", opt);
	if (cfg_find_iothread(cfg, id) >= 0)
		return cfg_err(err, errlen, "duplicate id '%s' for %s", id, opt);
	if (cfg->nr_iothreads >= CFG_MAX_IOTHREADS)
		return cfg_err(err, errlen, "too many iothreads at '%s' for %s (at most %d)", id,
			       opt, CFG_MAX_IOTHREADS);
	cfg->iothreads[cfg->nr_iothreads] = strdup(id);
	if (!cfg->iothreads[cfg->nr_iothreads])
		return cfg_nomem(err, errlen);
	cfg->nr_iothreads++;
	return 0;
}

int cfg_check_topology(struct vm_config *cfg, const char *opt, char *err, size_t errlen)
{
	uint64_t prod;

	if (cfg->nr_cpus < 1 || cfg->nr_cpus > CFG_MAX_CPUS)
		return cfg_err(err, errlen, "invalid value '%u' for %s cpus: must be 1..%d",
			       cfg->nr_cpus, opt, CFG_MAX_CPUS);
	if (cfg->max_cpus == 0)
		cfg->max_cpus = cfg->nr_cpus;
	if (cfg->max_cpus > CFG_MAX_CPUS)
		return cfg_err(err, errlen, "invalid value '%u' for %s maxcpus: must be 1..%d",
			       cfg->max_cpus, opt, CFG_MAX_CPUS);
	if (cfg->max_cpus < cfg->nr_cpus)
		return cfg_err(err, errlen,
			       "invalid value '%u' for %s maxcpus: must be at least cpus (%u)",
			       cfg->max_cpus, opt, cfg->nr_cpus);
	if (!cfg->dies)
		cfg->dies = 1;
	if (!cfg->clusters)
		cfg->clusters = 1;
	if (!cfg->threads)
		cfg->threads = 1;
	if (!cfg->cores && !cfg->sockets)
		cfg->cores = 1;
	/* one missing count is derived from the others, as QEMU does */
	prod = (uint64_t)cfg->dies * cfg->clusters * cfg->threads;
	if (!cfg->sockets) {
		prod *= cfg->cores;
		cfg->sockets = prod && cfg->max_cpus % prod == 0 ? cfg->max_cpus / prod : 0;
		if (!cfg->sockets)
			cfg->sockets = 1;
	} else if (!cfg->cores) {
		prod *= cfg->sockets;
		cfg->cores = prod && cfg->max_cpus % prod == 0 ? cfg->max_cpus / prod : 0;
		if (!cfg->cores)
			cfg->cores = 1;
	}
	prod = (uint64_t)cfg->sockets * cfg->dies * cfg->clusters * cfg->cores * cfg->threads;
	if (prod != cfg->max_cpus)
		return cfg_err(err, errlen,
			       "invalid topology for %s: sockets (%u) * dies (%u) * clusters (%u) "
			       "* cores (%u) * threads (%u) = %llu, must equal maxcpus (%u)",
			       opt, cfg->sockets, cfg->dies, cfg->clusters, cfg->cores,
			       cfg->threads, (unsigned long long)prod, cfg->max_cpus);
	return 0;
}

static int validate_devices(struct vm_config *cfg, char *err, size_t errlen)
{
	int i, j;

	for (i = 0; i < cfg->nr_drives; i++) {
		struct drive_config *d = &cfg->drives[i];

		if (!d->id || !d->path)
			return cfg_err(err, errlen, "drive %d needs an id and a file", i);
		if (d->iothread && cfg_find_iothread(cfg, d->iothread) < 0)
			return cfg_err(err, errlen, "drive '%s' names unknown iothread '%s'", d->id,
				       d->iothread);
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->drives[j].id, d->id))
				return cfg_err(err, errlen, "duplicate drive id '%s'", d->id);
	}
	for (i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];

		if (!n->id)
			return cfg_err(err, errlen, "net %d needs an id", i);
		if (!n->ifname && n->nr_fds == 0)
			return cfg_err(err, errlen, "net '%s' needs a tap name or fds", n->id);
		if (n->iothread && cfg_find_iothread(cfg, n->iothread) < 0)
			return cfg_err(err, errlen, "net '%s' names unknown iothread '%s'", n->id,
				       n->iothread);
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->nets[j].id, n->id))
				return cfg_err(err, errlen, "duplicate net id '%s'", n->id);
	}
	for (i = 0; i < cfg->nr_consoles; i++) {
		struct console_config *c = &cfg->consoles[i];
		int k = c->chardev ? cfg_find_chardev(cfg, c->chardev) : -1;

		if (k < 0)
			return cfg_err(err, errlen, "console '%s' names unknown chardev '%s'",
				       c->id ? c->id : "", c->chardev ? c->chardev : "");
		if (cfg->chardevs[k].kind != CHR_SOCKET || !cfg->chardevs[k].path)
			return cfg_err(err, errlen, "console '%s': chardev '%s' must be a socket",
				       c->id ? c->id : "", c->chardev);
	}
	for (i = 0; i < cfg->nr_chardevs; i++)
		for (j = 0; j < i; j++)
			if (cfg->chardevs[i].id && cfg->chardevs[j].id &&
			    !strcmp(cfg->chardevs[i].id, cfg->chardevs[j].id))
				return cfg_err(err, errlen, "duplicate chardev id '%s'",
					       cfg->chardevs[i].id);
	if (cfg->has_vsock && (cfg->vsock_cid < CFG_MIN_CID || cfg->vsock_cid > CFG_MAX_CID))
		return cfg_err(err, errlen, "invalid vsock guest-cid '%llu': must be %llu..%llu",
			       (unsigned long long)cfg->vsock_cid, CFG_MIN_CID, CFG_MAX_CID);
	if (cfg->has_rng && cfg->rng_bytes_per_sec &&
	    (cfg->rng_bytes_per_sec < CFG_MIN_RNG_BPS || cfg->rng_bytes_per_sec > CFG_MAX_RNG_BPS))
		return cfg_err(err, errlen, "invalid rng rate '%llu' bytes/s: must be %llu..%llu",
			       (unsigned long long)cfg->rng_bytes_per_sec, CFG_MIN_RNG_BPS,
			       CFG_MAX_RNG_BPS);
	return 0;
}

/* Every device the guest sees has its own id, whether given or defaulted. */
struct dev_name {
	const char *id;
	const char *kind;
};

static int validate_device_ids(const struct vm_config *cfg, char *err, size_t errlen)
{
	struct dev_name names[CFG_MAX_DRIVES + CFG_MAX_NETS + CFG_MAX_CONSOLES + CFG_MAX_FS + 2];
	int n = 0, i, j;

	for (i = 0; i < cfg->nr_drives; i++)
		if (cfg->drives[i].has_device && cfg->drives[i].device_id)
			names[n++] =
			    (struct dev_name){cfg->drives[i].device_id, "virtio-blk-device"};
	for (i = 0; i < cfg->nr_nets; i++)
		if (cfg->nets[i].has_device && cfg->nets[i].device_id)
			names[n++] = (struct dev_name){cfg->nets[i].device_id, "virtio-net-device"};
	for (i = 0; i < cfg->nr_consoles; i++)
		if (cfg->consoles[i].id)
			names[n++] = (struct dev_name){cfg->consoles[i].id, "virtconsole"};
	if (cfg->has_rng && cfg->rng_id)
		names[n++] = (struct dev_name){cfg->rng_id, "virtio-rng-device"};
	if (cfg->has_vsock && cfg->vsock_id)
		names[n++] = (struct dev_name){cfg->vsock_id, "vsock"};
	for (i = 0; i < cfg->nr_fs; i++)
		names[n++] = (struct dev_name){cfg->fs[i].id, "vhost-user-fs-device"};
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(names[i].id, names[j].id))
				return cfg_err(
				    err, errlen,
				    "duplicate device id '%s': a %s and a %s have it (an "
				    "id= left out is the back end's id)",
				    names[i].id, names[j].kind, names[i].kind);
	return 0;
}

/* The virtio-mmio windows are few: say at start-up what does not fit. */
static int validate_transports(const struct vm_config *cfg, char *err, size_t errlen)
{
	int disks = 0, nics = 0, blk, net, total, i;

	for (i = 0; i < cfg->nr_drives; i++)
		disks += cfg->drives[i].has_device;
	for (i = 0; i < cfg->nr_nets; i++)
		nics += cfg->nets[i].has_device;
	blk = disks > CFG_BLK_SLOTS ? disks : CFG_BLK_SLOTS;
	net = nics > CFG_NET_SLOTS ? nics : CFG_NET_SLOTS;
	total = blk + net + cfg->nr_consoles + (cfg->has_rng ? 1 : 0) + (cfg->has_balloon ? 1 : 0);
	total += cfg->nr_fs;
	if (total > CFG_MAX_VIRTIO_DEVS)
		return cfg_err(
		    err, errlen,
		    "too many virtio devices: %d disks, %d NICs, %d consoles and %d rng%s "
		    "need %d virtio-mmio slots (disks take at least %d, NICs at least "
		    "%d), at most %d",
		    disks, nics, cfg->nr_consoles, cfg->has_rng ? 1 : 0,
		    cfg->has_balloon ? " plus a balloon" : "", total, CFG_BLK_SLOTS, CFG_NET_SLOTS,
		    CFG_MAX_VIRTIO_DEVS);
	return 0;
}

/* An entropy source that is a directory or a FIFO would feed the guest nothing. */
static int validate_rng_file(const struct vm_config *cfg, char *err, size_t errlen)
{
	const char *opt = cfg->rng_opt ? cfg->rng_opt : "rng";
	struct stat st;

	if (!cfg->has_rng)
		return 0;
	if (!cfg->rng_file)
		return cfg_err(err, errlen, "the rng device needs a random file");
	if (stat(cfg->rng_file, &st))
		return cfg_err(err, errlen, "invalid value '%s' for %s: %s", cfg->rng_file, opt,
			       strerror(errno));
	if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
		return cfg_err(err, errlen,
			       "invalid value '%s' for %s: not a character device or regular file",
			       cfg->rng_file, opt);
	if (access(cfg->rng_file, R_OK))
		return cfg_err(err, errlen, "invalid value '%s' for %s: not readable: %s",
			       cfg->rng_file, opt, strerror(errno));
	return 0;
}

int config_refuse_unsupported(const struct vm_config *cfg, char *err, size_t errlen)
{
	/* parsed and checked, not implemented: one line each until it lands */
	if (cfg->incoming)
		return cfg_err(err, errlen, "-incoming is not supported yet");
	return 0;
}

/* Two devices never share one socket path: the second could never bind it. */
static int validate_socket_paths(const struct vm_config *cfg, char *err, size_t errlen)
{
	struct {
		const char *path;
		char who[96];
	} s[CFG_MAX_CONSOLES + 3];
	int n = 0, i, j;

	if (cfg->serial.kind == CHR_SOCKET && cfg->serial.path) {
		s[n].path = cfg->serial.path;
		snprintf(s[n++].who, sizeof(s[0].who), "-serial");
	}
	for (i = 0; i < cfg->nr_consoles; i++) {
		int k =
		    cfg->consoles[i].chardev ? cfg_find_chardev(cfg, cfg->consoles[i].chardev) : -1;

		if (k < 0 || cfg->chardevs[k].kind != CHR_SOCKET || !cfg->chardevs[k].path)
			continue;
		s[n].path = cfg->chardevs[k].path;
		snprintf(s[n++].who, sizeof(s[0].who), "virtconsole '%.64s'",
			 cfg->consoles[i].id ? cfg->consoles[i].id : cfg->consoles[i].chardev);
	}
	if (cfg->qmp_path) {
		s[n].path = cfg->qmp_path;
		snprintf(s[n++].who, sizeof(s[0].who), "the QMP socket");
	}
	if (cfg->vsock_uds) {
		s[n].path = cfg->vsock_uds;
		snprintf(s[n++].who, sizeof(s[0].who), "the vsock uds-path");
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(s[i].path, s[j].path))
				return cfg_err(err, errlen,
					       "socket path '%s' is used by both %s and %s",
					       s[i].path, s[j].who, s[i].who);
	return 0;
}

int config_validate(struct vm_config *cfg, char *err, size_t errlen)
{
	int ret;

	if (!cfg->kernel || !*cfg->kernel)
		return cfg_err(err, errlen, "no kernel given: use -kernel PATH");
	ret = cfg_check_topology(cfg, "-smp", err, errlen);
	if (ret)
		return ret;
	if (cfg->mem_size < CFG_MIN_MEM || cfg->mem_size > CFG_MAX_MEM)
		return cfg_err(err, errlen, "invalid memory size '%llu' bytes: must be 128M..512G",
			       (unsigned long long)cfg->mem_size);
	if (cfg->daemonize && cfg->serial.kind == CHR_STDIO)
		return cfg_err(err, errlen, "-serial stdio cannot be used with -daemonize");
	if ((cfg->serial.kind == CHR_FILE || cfg->serial.kind == CHR_SOCKET) && !cfg->serial.path)
		return cfg_err(err, errlen, "-serial needs a path");
	ret = validate_socket_paths(cfg, err, errlen);
	if (ret)
		return ret;
	if (cfg->qmp_path && !*cfg->qmp_path)
		return cfg_err(err, errlen, "empty QMP socket path");
	ret = validate_devices(cfg, err, errlen);
	if (!ret && cfg->nr_fs && !cfg->mem_share)
		ret =
		    cfg_err(err, errlen,
			    "-device vhost-user-fs-device '%s' needs -machine mem-share=on (guest "
			    "memory virtiofsd can map; with or without -mem-path)",
			    cfg->fs[0].id);
	if (!ret)
		ret = validate_device_ids(cfg, err, errlen);
	if (!ret)
		ret = validate_transports(cfg, err, errlen);
	if (!ret)
		ret = validate_rng_file(cfg, err, errlen);
	if (!ret)
		ret = config_refuse_unsupported(cfg, err, errlen);
	return ret;
}
