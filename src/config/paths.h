/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_CONFIG_PATHS_H
#define SV_CONFIG_PATHS_H

#include <stddef.h>

#include "config/config.h"

/*
 * Makes every host path in cfg absolute against cwd (kernel, initrd,
 * -mem-path, serial and chardev paths, drive files, the rng file, the QMP
 * socket, -incoming file:DIR, -D, -pidfile, -config), for -daemonize, which
 * changes to / before it opens them.  A socket path that no longer fits in
 * sun_path (107 bytes) once absolute is an error, never cut.  Returns 0 or a
 * negative errno with one line in err.
 */
int config_make_paths_absolute(struct vm_config *cfg, const char *cwd, char *err, size_t errlen);

#endif
