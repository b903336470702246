// SPDX-License-Identifier: MulanPSL-2.0
/* device_add / device_del: the checks every driver shares, then the driver's file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp/commands.h"
#include "qmp/qmp.h"
#include "virtio/qmp_devices.h"

#define ID_MAX 64

/* "addr": "0x1", "1" or 1; -1 when absent, -2 when not a slot number. */
static int parse_addr(json_t *v)
{
	const char *s;
	char *end;
	long n;

	if (!v)
		return -1;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		return i >= 0 && i < 256 ? (int)i : -2;
	}
	s = json_string_value(v);
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -2;
	errno = 0;
	n = strtol(s, &end, 0);
	if (errno || *end || n < 0 || n > 255)
		return -2;
	return (int)n;
}

void qmp_device_deleted(const char *id)
{
	qmp_event("DEVICE_DELETED", json_pack("{s:s,s:s}", "device", id, "path", id));
}

int qmp_cmd_device_add(struct qmp_req *r)
{
	const char *driver = qmp_arg_str(r, "driver");
	const char *id = qmp_arg_str(r, "id");
	json_t *addr = json_object_get(r->args, "addr");
	const char *romfile = qmp_arg_str(r, "romfile");
	int slot = parse_addr(addr);

	if (!*id || strlen(id) > ID_MAX)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'id': must be 1..%d characters", ID_MAX);
	if (addr && !json_is_string(addr) && !json_is_integer(addr))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter type for 'addr', expected: string");
	if (slot == -2)
		return qmp_fail(
		    r, QMP_ERR_GENERIC,
		    "Invalid parameter 'addr': '%s' is not a slot number (e.g. \"0x1\")",
		    json_is_string(addr) ? json_string_value(addr) : "?");
	if (romfile && *romfile)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'romfile': virtio-mmio devices have no ROM");
	if (qmp_blk_has_device(r->vm, id) || qmp_net_has_device(r->vm, id))
		return qmp_fail(r, QMP_ERR_GENERIC, "Duplicate device id '%s'", id);
	if (!strcmp(driver, "virtio-blk-mmio") || !strcmp(driver, "virtio-blk-device")) {
		if (json_object_get(r->args, "netdev") || json_object_get(r->args, "mac"))
			return qmp_fail(
			    r, QMP_ERR_GENERIC, "Invalid parameter '%s' for driver '%s'",
			    json_object_get(r->args, "netdev") ? "netdev" : "mac", driver);
		return qmp_blk_device_add(r, id, slot);
	}
	if (!strcmp(driver, "virtio-net-mmio") || !strcmp(driver, "virtio-net-device")) {
		if (json_object_get(r->args, "drive") || json_object_get(r->args, "serial"))
			return qmp_fail(
			    r, QMP_ERR_GENERIC, "Invalid parameter '%s' for driver '%s'",
			    json_object_get(r->args, "drive") ? "drive" : "serial", driver);
		return qmp_net_device_add(r, id, slot);
	}
	return qmp_fail(r, QMP_ERR_GENERIC,
			"Invalid parameter 'driver': '%s' is not supported (virtio-blk-mmio, "
			"virtio-net-mmio)",
			driver);
}

int qmp_cmd_device_del(struct qmp_req *r)
{
	const char *id = qmp_arg_str(r, "id");
	int ret = qmp_blk_device_del(r, id);

	if (ret == 1)
		ret = qmp_net_device_del(r, id);
	if (ret == 1)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
	return ret;
}

bool qmp_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n <= QMP_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

int qmp_plug_find(const struct qmp_plug *plugs, int n, const char *name, bool by_backend)
{
	for (int i = 0; i < n; i++) {
		const char *s = by_backend ? plugs[i].backend : plugs[i].dev_id;

		if (s && !strcmp(s, name))
			return i;
	}
	return -1;
}

int qmp_plug_pick(struct qmp_req *r, const struct qmp_plug *plugs, int count, int slot,
		  const char *kind)
{
	for (int s = 0; slot < 0 && s < count; s++)
		if (!plugs[s].dev_id)
			slot = s;
	if (slot < 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "device_add: every %s slot is in use", kind);
	if (slot >= count)
		return qmp_fail(
		    r, QMP_ERR_GENERIC,
		    "Invalid parameter 'addr': slot %d is out of range (%s slots 0..%d)", slot,
		    kind, count - 1);
	if (plugs[slot].dev_id)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'addr': slot %d is in use by device '%s'", slot,
				plugs[slot].dev_id);
	return slot;
}

void qmp_plug_clear(struct qmp_plug *p)
{
	free(p->dev_id);
	free(p->backend);
	p->dev_id = p->backend = NULL;
	p->index = -1;
}
