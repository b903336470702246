/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_QMP_H
#define SV_QMP_QMP_H

/*
 * The QMP server: one unix socket on the main event loop, one client at a
 * time (docs/qmp.md).  Everything here runs on the main loop's thread.
 */

#include <jansson.h>

struct vm;

/*
 * Binds the socket at path (an existing non-socket file or a live listener
 * there is an error, printed) and starts serving on vm->loop.  Call once every
 * other start-up check has passed.  0 or -errno.
 */
int qmp_server_start(struct vm *vm, const char *path);
/* Closes the client and the socket, removes the socket file, frees QMP state. */
void qmp_server_stop(void);

/*
 * Sends {"event":name,"data":data,"timestamp":...} to the connected client;
 * dropped when no client is connected.  Takes the reference to data (NULL
 * sends {}).
 */
void qmp_event(const char *name, json_t *data);

/* Where events go: the server sets this; unit tests set their own. */
typedef void (*qmp_event_sink_fn)(void *opaque, json_t *event);
void qmp_event_set_sink(qmp_event_sink_fn fn, void *opaque);

#endif
