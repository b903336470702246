/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_CHARDEV_H
#define SV_UTIL_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "util/evloop.h"

/*
 * A character back end: stdio (raw terminal, restored on exit), pty, file,
 * or a unix socket (server: accepts one client at a time).  Input is
 * delivered to on_input from the event loop; output is best effort and never
 * blocks the guest.
 */
struct chardev;
typedef void (*chardev_input_fn)(void *opaque, const uint8_t *buf, size_t len);

int chardev_open(struct chardev **out, const struct chardev_config *cfg, struct evloop *loop,
		 chardev_input_fn on_input, void *opaque);
void chardev_close(struct chardev *chr);
void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len);
/* Stop/start reading input (back-pressure when the device buffer is full). */
void chardev_accept_input(struct chardev *chr, int enable);

#endif
