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

/* What a hot-replace slot holds, as QMP names it (qmp_blk.c and qmp_net.c keep one per slot). */
struct qmp_plug {
	char *dev_id;  /* NULL: empty */
	char *backend; /* its block node or netdev id */
	int index;     /* into that file's nodes or netdevs; -1 for the command line's */
};

/* The slot whose device id (or, with by_backend, whose backend) is name; -1 when none. */
int qmp_plug_find(const struct qmp_plug *plugs, int n, const char *name, bool by_backend);
/*
 * device_add's slot among plugs[0..count): slot (from "addr") when it exists
 * and is empty, the first empty one when slot < 0.  -1 with r's error set,
 * naming kind's slots ("virtio-blk").
 */
int qmp_plug_pick(struct qmp_req *r, const struct qmp_plug *plugs, int count, int slot,
		  const char *kind);
/* Frees the names: the slot is empty. */
void qmp_plug_clear(struct qmp_plug *p);

/* The DEVICE_DELETED event. */
void qmp_device_deleted(const char *id);

#endif
