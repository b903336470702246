// SPDX-License-Identifier: MulanPSL-2.0
/* Host paths made independent of the working directory (for -daemonize). */
#include "config/paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config/config_internal.h"
#include "util/hostpath.h"

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static int absolute(char **p, const char *cwd, const char *prefix, bool socket, char *err,
		    size_t errlen)
{
	size_t lp = prefix ? strlen(prefix) : 0;
	char *abs, *full;

	if (!*p || !**p)
		return 0;
	if (lp && strncmp(*p, prefix, lp))
		return 0;
	if ((*p)[lp] == '/')
		return 0;
	abs = hostpath_absolute(cwd, *p + lp);
	if (!abs)
		return cfg_nomem(err, errlen);
	if (socket && strlen(abs) > SUN_PATH_MAX) {
		int ret = cfg_err(err, errlen,
				  "socket path '%s' is too long once made absolute for -daemonize "
				  "(%zu bytes, at most %zu): give a shorter or absolute path",
				  *p, strlen(abs), SUN_PATH_MAX);

		free(abs);
		return ret == -EINVAL ? -ENAMETOOLONG : ret;
	}
	if (lp) {
		full = malloc(lp + strlen(abs) + 1);
		if (!full) {
			free(abs);
			return cfg_nomem(err, errlen);
		}
		memcpy(full, prefix, lp);
		strcpy(full + lp, abs);
		free(abs);
		abs = full;
	}
	free(*p);
	*p = abs;
	return 0;
}

int config_make_paths_absolute(struct vm_config *cfg, const char *cwd, char *err, size_t errlen)
{
	int ret = 0, i;

#define ABS(field, sock)                                                                           \
	do {                                                                                       \
		if (!ret)                                                                          \
			ret = absolute(&(field), cwd, NULL, (sock), err, errlen);                  \
	} while (0)

	ABS(cfg->kernel, false);
	ABS(cfg->initrd, false);
	ABS(cfg->mem_path, false);
	ABS(cfg->serial.path, cfg->serial.kind == CHR_SOCKET);
	for (i = 0; i < cfg->nr_chardevs; i++)
		ABS(cfg->chardevs[i].path, cfg->chardevs[i].kind == CHR_SOCKET);
	for (i = 0; i < cfg->nr_drives; i++)
		ABS(cfg->drives[i].path, false);
	ABS(cfg->rng_file, false);
	ABS(cfg->qmp_path, true);
	ABS(cfg->vsock_uds, true);
	if (!ret)
		ret = absolute(&cfg->incoming, cwd, "file:", false, err, errlen);
	ABS(cfg->log_file, false);
	ABS(cfg->pidfile, false);
	ABS(cfg->config_file, false);
#undef ABS
	return ret;
}
