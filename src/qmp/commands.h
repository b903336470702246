/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_COMMANDS_H
#define SV_QMP_COMMANDS_H

/*
 * Every command handler, each defined beside the subsystem it drives; the
 * table that names them is in dispatch.c.
 */

#include "qmp/dispatch.h"

/* src/machine/qmp_vm.c: lifecycle and queries */
int qmp_cmd_stop(struct qmp_req *r);
int qmp_cmd_cont(struct qmp_req *r);
int qmp_cmd_query_status(struct qmp_req *r);
int qmp_cmd_quit(struct qmp_req *r);
int qmp_cmd_system_reset(struct qmp_req *r);
int qmp_cmd_system_powerdown(struct qmp_req *r);
int qmp_cmd_query_cpus(struct qmp_req *r);
int qmp_cmd_query_hotpluggable_cpus(struct qmp_req *r);
int qmp_cmd_query_version(struct qmp_req *r);
int qmp_cmd_query_name(struct qmp_req *r);
int qmp_cmd_query_uuid(struct qmp_req *r);
int qmp_cmd_query_kvm(struct qmp_req *r);
int qmp_cmd_query_target(struct qmp_req *r);

/* src/qmp/dispatch.c */
int qmp_cmd_query_commands(struct qmp_req *r);

/* src/qmp/fdtable.c: fds passed with SCM_RIGHTS */
int qmp_cmd_getfd(struct qmp_req *r);
int qmp_cmd_closefd(struct qmp_req *r);

/* src/virtio/qmp_blk.c: block nodes and virtio-blk slots */
int qmp_cmd_blockdev_add(struct qmp_req *r);
int qmp_cmd_blockdev_del(struct qmp_req *r);

/* src/virtio/qmp_net.c: tap back ends and virtio-net slots */
int qmp_cmd_netdev_add(struct qmp_req *r);
int qmp_cmd_netdev_del(struct qmp_req *r);

/* src/virtio/qmp_balloon.c: the balloon target and its size */
int qmp_cmd_balloon(struct qmp_req *r);
int qmp_cmd_query_balloon(struct qmp_req *r);

/* src/virtio/qmp_device.c: device_add/device_del, by driver */
int qmp_cmd_device_add(struct qmp_req *r);
int qmp_cmd_device_del(struct qmp_req *r);
/* What the hot-plug commands hold (nodes, netdevs, their fds), freed at exit. */
void qmp_blk_cleanup(void);
void qmp_net_cleanup(void);

#endif
