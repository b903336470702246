// SPDX-License-Identifier: MulanPSL-2.0
/* -jail dir=D[,uid=U][,gid=G][,netns=on][,pidns=on][,mountns=on] and -rlimit. */
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/jail_opts.h"

#define ID_MAX 0xfffffffeULL /* (uid_t)-1 means "unchanged" to setresuid */

int cfg_parse_jail(struct vm_config *cfg, const char *opt, const char *arg, char *err,
		   size_t errlen)
{
	struct jail_config *j = &cfg->jail;
	struct kvlist kv;
	uint64_t v;
	const char *dir;
	int ret;

	ret = kv_parse(&kv, opt, arg, "dir", err, errlen);
	if (ret)
		return ret;
	dir = kv_get(&kv, "dir");
	if (!dir || !*dir)
		ret = cfg_err(err, errlen, "%s needs dir=DIR (the directory that becomes /)", opt);
	else if (dir[0] != '/')
		ret = kv_bad(&kv, "dir", dir, "must be an absolute path");
	else if (strlen(dir) >= sizeof(j->dir))
		ret = kv_bad(&kv, "dir", dir, "too long");
	else
		snprintf(j->dir, sizeof(j->dir), "%s", dir);
	if (!ret && kv_has(&kv, "uid")) {
		ret = kv_u64(&kv, "uid", 0, ID_MAX, &v);
		j->has_uid = !ret;
		j->uid = (uint32_t)v;
	}
	if (!ret && kv_has(&kv, "gid")) {
		ret = kv_u64(&kv, "gid", 0, ID_MAX, &v);
		j->has_gid = !ret;
		j->gid = (uint32_t)v;
	}
	if (!ret)
		ret = kv_bool(&kv, "netns", &j->netns);
	if (!ret)
		ret = kv_bool(&kv, "pidns", &j->pidns);
	if (!ret)
		ret = kv_bool(&kv, "mountns", &j->mountns);
	if (!ret)
		ret = kv_check_unused(&kv);
	kv_free(&kv);
	if (ret)
		memset(j->dir, 0, sizeof(j->dir));
	return ret;
}

int cfg_parse_rlimit(struct vm_config *cfg, const char *opt, const char *arg, char *err,
		     size_t errlen)
{
	struct jail_config *j = &cfg->jail;
	struct kvlist kv;
	const char *mem;
	int ret;

	ret = kv_parse(&kv, opt, arg, NULL, err, errlen);
	if (ret)
		return ret;
	if (kv_has(&kv, "nofile")) {
		/* the VMM needs a few dozen fds of its own at start-up */
		ret = kv_u64(&kv, "nofile", 64, 1048576, &j->nofile);
		j->has_nofile = !ret;
	}
	mem = kv_get(&kv, "memlock");
	if (!ret && mem) {
		if (config_parse_size(mem, 0, &j->memlock) < 0)
			ret = kv_bad(&kv, "memlock", mem, "must be a size (bytes, or with K/M/G)");
		else
			j->has_memlock = true;
	}
	if (!ret)
		ret = kv_check_unused(&kv);
	if (!ret && !j->has_nofile && !j->has_memlock)
		ret = cfg_err(err, errlen, "%s needs nofile=N and/or memlock=SIZE", opt);
	kv_free(&kv);
	return ret;
}
