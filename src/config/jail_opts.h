/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_CONFIG_JAIL_OPTS_H
#define SV_CONFIG_JAIL_OPTS_H

#include <stddef.h>

#include "config/config.h"

/* -jail dir=D[,uid=U][,gid=G][,netns=on][,pidns=on][,mountns=on]; 0 or -1 (err set) */
int cfg_parse_jail(struct vm_config *cfg, const char *opt, const char *arg, char *err,
		   size_t errlen);
/* -rlimit nofile=N,memlock=SIZE */
int cfg_parse_rlimit(struct vm_config *cfg, const char *opt, const char *arg, char *err,
		     size_t errlen);

#endif
