// SPDX-License-Identifier: MulanPSL-2.0
/* QMP balloon and query-balloon (the BALLOON_CHANGED event is sent by balloon.c). */
#include <errno.h>

#include "qmp/commands.h"
#include "virtio/balloon.h"

#define NOT_ACTIVE "No balloon device has been activated"

int qmp_cmd_balloon(struct qmp_req *r)
{
	json_int_t value = json_integer_value(json_object_get(r->args, "value"));
	int ret;

	if (value <= 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'value': must be a positive number of bytes");
	ret = balloon_set_target((uint64_t)value);
	if (ret == -ENODEV)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_ACTIVE, NOT_ACTIVE);
	if (ret < 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'value': must be at most the guest memory size "
				"(%llu bytes)",
				(unsigned long long)balloon_ram_size());
	return 0;
}

int qmp_cmd_query_balloon(struct qmp_req *r)
{
	uint64_t actual;

	if (balloon_get_actual(&actual) < 0)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_ACTIVE, NOT_ACTIVE);
	r->ret = json_pack("{s:I}", "actual", (json_int_t)actual);
	return 0;
}
