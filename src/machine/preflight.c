// SPDX-License-Identifier: MulanPSL-2.0
/* Host checks of the whole configuration, before the VMM creates anything. */
#include "machine/preflight.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arch.h"
#include "machine/memory.h"
#include "util/daemon.h"
#include "util/hostpath.h"
#include "util/sockpath.h"
#include "virtio/vhost_vsock.h"

#define MAX_USES (10 + CFG_MAX_DRIVES + CFG_MAX_CHARDEVS)

struct use {
	const char *path;
	char who[96];
	bool output; /* created or written by the VMM */
};

static const struct chardev_config *console_chardev(const struct vm_config *cfg, int i)
{
	const char *id = cfg->consoles[i].chardev;

	for (int k = 0; id && k < cfg->nr_chardevs; k++)
		if (cfg->chardevs[k].id && !strcmp(cfg->chardevs[k].id, id))
			return &cfg->chardevs[k];
	return NULL;
}

static int fail(const char *err, int ret)
{
	fprintf(stderr, "stratovirt: %s\n", err);
	return ret;
}

static void add_use(struct use *u, int *n, const char *path, bool output, const char *fmt,
		    const char *arg)
{
	if (!path || *n >= MAX_USES)
		return;
	u[*n].path = path;
	u[*n].output = output;
	snprintf(u[*n].who, sizeof(u[0].who), fmt, arg);
	(*n)++;
}

/* A file the VMM writes must not be any other file it was given. */
static int check_distinct(const struct vm_config *cfg)
{
	struct use u[MAX_USES];
	char cwd[4096], err[512];
	int n = 0, i, j;

	if (cfg->log_enabled)
		add_use(u, &n, cfg->log_file, true, "-D%s", "");
	add_use(u, &n, cfg->pidfile, true, "-pidfile%s", "");
	if (cfg->serial.kind == CHR_FILE || cfg->serial.kind == CHR_SOCKET)
		add_use(u, &n, cfg->serial.path, true, "-serial%s", "");
	for (i = 0; i < cfg->nr_consoles; i++) {
		const struct chardev_config *c = console_chardev(cfg, i);

		if (c)
			add_use(u, &n, c->path, true, "virtconsole '%.64s'",
				cfg->consoles[i].id ? cfg->consoles[i].id : "");
	}
	add_use(u, &n, cfg->qmp_path, true, "the QMP socket%s", "");
	add_use(u, &n, cfg->vsock_uds, true, "the vsock uds-path%s", "");
	add_use(u, &n, cfg->mem_path, true, "-mem-path%s", "");
	add_use(u, &n, cfg->kernel, false, "-kernel%s", "");
	add_use(u, &n, cfg->initrd, false, "-initrd%s", "");
	add_use(u, &n, cfg->config_file, false, "-config%s", "");
	add_use(u, &n, cfg->rng_file, false, "the rng file%s", "");
	for (i = 0; i < cfg->nr_drives; i++)
		add_use(u, &n, cfg->drives[i].path, false, "drive '%.64s'",
			cfg->drives[i].id ? cfg->drives[i].id : "");

	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	for (i = 0; i < n; i++) {
		struct stat st;
		char *a;

		/* a character device (/dev/null, a terminal) may take several outputs */
		if (stat(u[i].path, &st) == 0 && S_ISCHR(st.st_mode))
			continue;
		a = hostpath_absolute(cwd[0] ? cwd : NULL, u[i].path);

		for (j = 0; a && j < i; j++) {
			char *b;
			bool same;

			if (!u[i].output && !u[j].output)
				continue; /* two readers may share a file */
			b = hostpath_absolute(cwd[0] ? cwd : NULL, u[j].path);
			same = b && !strcmp(a, b);
			free(b);
			if (same) {
				snprintf(err, sizeof(err), "'%s' is given both as %s and as %s",
					 u[i].path, u[j].who, u[i].who);
				free(a);
				return fail(err, -EINVAL);
			}
		}
		free(a);
	}
	return 0;
}

static int check_socket(const char *path)
{
	char err[512];
	int ret = sockpath_check(path, err, sizeof(err));

	return ret < 0 ? fail(err, ret) : 0;
}

int vm_preflight(const struct vm_config *cfg)
{
	char err[512], what[128];
	int ret, i;

	ret = arch_preflight();
	if (!ret)
		ret = check_distinct(cfg);
	if (ret)
		return ret;
	ret = hostpath_check("-kernel", cfg->kernel, HOSTPATH_REG, false, err, sizeof(err));
	if (!ret && cfg->initrd)
		ret = hostpath_check("-initrd", cfg->initrd, HOSTPATH_REG, false, err, sizeof(err));
	if (!ret && cfg->log_enabled && cfg->log_file)
		ret = hostpath_check("-D", cfg->log_file, HOSTPATH_REG | HOSTPATH_CHR, true, err,
				     sizeof(err));
	if (!ret && cfg->pidfile)
		ret = pidfile_check(cfg->pidfile, err, sizeof(err));
	if (!ret && cfg->serial.kind == CHR_FILE)
		ret = hostpath_check(cfg->serial.id ? "-chardev file" : "-serial file",
				     cfg->serial.path, HOSTPATH_REG | HOSTPATH_CHR, true, err,
				     sizeof(err));
	if (!ret)
		ret = gmem_check_backing(cfg, err, sizeof(err));
	if (!ret)
		ret = vhost_vsock_preflight(cfg, err, sizeof(err));
	for (i = 0; !ret && i < cfg->nr_drives; i++) {
		snprintf(what, sizeof(what), "drive '%.64s' file",
			 cfg->drives[i].id ? cfg->drives[i].id : "");
		ret = hostpath_check(what, cfg->drives[i].path, HOSTPATH_REG | HOSTPATH_BLK, false,
				     err, sizeof(err));
	}
	if (ret)
		return fail(err, ret);

	/* listening sockets: absent or stale, never a file or a live listener */
	if (cfg->serial.kind == CHR_SOCKET && cfg->serial.server)
		ret = check_socket(cfg->serial.path);
	for (i = 0; !ret && i < cfg->nr_consoles; i++) {
		const struct chardev_config *c = console_chardev(cfg, i);

		if (c && c->kind == CHR_SOCKET && c->server)
			ret = check_socket(c->path);
	}
	if (!ret && cfg->qmp_path)
		ret = check_socket(cfg->qmp_path);
	if (!ret && cfg->vsock_uds)
		ret = check_socket(cfg->vsock_uds);
	return ret;
}
