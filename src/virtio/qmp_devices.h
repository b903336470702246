/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_QMP_DEVICES_H
#define SV_VIRTIO_QMP_DEVICES_H

/* Between qmp_device.c (device_add/device_del) and the per-driver files. */

#include <stdbool.h>

#include "qmp/dispatch.h"

/* device_add of each driver, after the common checks; slot from "addr" (-1: none given). */
int qmp_blk_device_add(struct qmp_req *r, const char *id, int slot);
int qmp_net_device_add(struct qmp_req *r, const char *id, int slot);
/* device_del: 0 done (event sent), -1 error set, 1 no such device here. */
int qmp_blk_device_del(struct qmp_req *r, const char *id);
int qmp_net_device_del(struct qmp_req *r, const char *id);
bool qmp_blk_has_device(struct vm *vm, const char *id);
bool qmp_net_has_device(struct vm *vm, const char *id);
/* Frees the nodes/netdevs QMP added (at exit, and between unit tests). */
void qmp_blk_cleanup(void);
void qmp_net_cleanup(void);

/* Longest id or node name a hot-plug command takes. */
#define QMP_ID_MAX 64
/* 1..QMP_ID_MAX characters of [A-Za-z0-9-._]. */
bool qmp_id_ok(const char *s);

/* The DEVICE_DELETED event. */
void qmp_device_deleted(const char *id);

#endif
