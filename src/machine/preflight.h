/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_PREFLIGHT_H
#define SV_MACHINE_PREFLIGHT_H

#include "config/config.h"

/*
 * Every check of the host paths in cfg that can be made without creating or
 * removing anything: the kernel and initrd are regular files, -D and the
 * serial file are absent or a regular file or character device, the pidfile
 * is usable and not in use, each listening socket path is absent or a stale
 * socket, -mem-path fits, drive files are regular files or block devices, and
 * no path is given for two uses.  Run after config_validate() and before
 * anything is created, so that a bad later option leaves the host untouched.
 * Returns 0, or a negative errno after printing one line on stderr.
 */
int vm_preflight(const struct vm_config *cfg);

#endif
