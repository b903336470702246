// SPDX-License-Identifier: MulanPSL-2.0
/* The command table and the argument checks every command goes through. */
#include "qmp/dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qmp/commands.h"

#define DEVICE_ADD_SPEC                                                                            \
	"id:s,driver:s,drive:s?,netdev:s?,addr:*?,mac:s?,romfile:s?,serial:s?,bus:s?"

static const struct qmp_command commands[] = {
    {"qmp_capabilities", "enable:a?", NULL}, /* handled by the session */
    {"quit", "", qmp_cmd_quit},
    {"stop", "", qmp_cmd_stop},
    {"cont", "", qmp_cmd_cont},
    {"system_reset", "", qmp_cmd_system_reset},
    {"system_powerdown", "", qmp_cmd_system_powerdown},
    {"query-status", "", qmp_cmd_query_status},
    {"query-cpus", "", qmp_cmd_query_cpus},
    {"query-hotpluggable-cpus", "", qmp_cmd_query_hotpluggable_cpus},
    {"query-version", "", qmp_cmd_query_version},
    {"query-commands", "", qmp_cmd_query_commands},
    {"query-name", "", qmp_cmd_query_name},
    {"query-uuid", "", qmp_cmd_query_uuid},
    {"query-kvm", "", qmp_cmd_query_kvm},
    {"query-target", "", qmp_cmd_query_target},
    {"getfd", "fdname:s", qmp_cmd_getfd},
    {"closefd", "fdname:s", qmp_cmd_closefd},
    {"blockdev-add", "node-name:s,driver:s?,read-only:b?,file:o,cache:o?,discard:s?",
     qmp_cmd_blockdev_add},
    {"blockdev-del", "node-name:s", qmp_cmd_blockdev_del},
    {"netdev_add",
     "id:s,type:s?,ifname:s?,fds:*?,fd:*?,vhost:b?,vhostfds:*?,vhostfd:*?,script:s?,"
     "downscript:s?,queues:i?",
     qmp_cmd_netdev_add},
    {"netdev_del", "id:s", qmp_cmd_netdev_del},
    {"device_add", DEVICE_ADD_SPEC, qmp_cmd_device_add},
    {"device_del", "id:s", qmp_cmd_device_del},
    {"balloon", "value:i", qmp_cmd_balloon},
    {"query-balloon", "", qmp_cmd_query_balloon},
};

#define NR_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

const struct qmp_command *qmp_commands(int *count)
{
	*count = NR_COMMANDS;
	return commands;
}

const struct qmp_command *qmp_command_find(const char *name)
{
	for (int i = 0; i < NR_COMMANDS; i++)
		if (commands[i].fn && !strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int qmp_cmd_query_commands(struct qmp_req *r)
{
	json_t *list = json_array();

	for (int i = 0; i < NR_COMMANDS; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", commands[i].name));
	r->ret = list;
	return 0;
}

const char *qmp_error_class_name(enum qmp_error_class c)
{
	switch (c) {
	case QMP_ERR_COMMAND_NOT_FOUND:
		return "CommandNotFound";
	case QMP_ERR_DEVICE_NOT_FOUND:
		return "DeviceNotFound";
	case QMP_ERR_DEVICE_NOT_ACTIVE:
		return "DeviceNotActive";
	case QMP_ERR_KVM_MISSING_CAP:
		return "KVMMissingCap";
	case QMP_ERR_THROTTLED:
		return "OperationThrottled";
	default:
		return "GenericError";
	}
}

int qmp_fail(struct qmp_req *r, enum qmp_error_class c, const char *fmt, ...)
{
	va_list ap;

	r->err_class = c;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *qmp_arg_str(struct qmp_req *r, const char *key)
{
	return json_string_value(json_object_get(r->args, key));
}

bool qmp_arg_bool(struct qmp_req *r, const char *key, bool def)
{
	json_t *v = json_object_get(r->args, key);

	return v ? json_is_true(v) : def;
}

/* The spec entry for key: its type letter and whether it is optional. */
static bool spec_lookup(const char *spec, const char *key, char *type, bool *optional)
{
	size_t klen = strlen(key);
	const char *p = spec;

	while (*p) {
		const char *colon = strchr(p, ':');
		const char *end;

		if (!colon)
			return false;
		end = colon + 2;
		if ((size_t)(colon - p) == klen && !strncmp(p, key, klen)) {
			*type = colon[1];
			*optional = *end == '?';
			return true;
		}
		while (*end && *end != ',')
			end++;
		p = *end ? end + 1 : end;
	}
	return false;
}

static const char *type_name(char t)
{
	switch (t) {
	case 's':
		return "string";
	case 'b':
		return "bool";
	case 'i':
		return "integer";
	case 'o':
		return "object";
	case 'a':
		return "array";
	default:
		return "any";
	}
}

static bool type_ok(char t, json_t *v)
{
	switch (t) {
	case 's':
		return json_is_string(v);
	case 'b':
		return json_is_boolean(v);
	case 'i':
		return json_is_integer(v);
	case 'o':
		return json_is_object(v);
	case 'a':
		return json_is_array(v);
	default:
		return true;
	}
}

int qmp_check_args(struct qmp_req *r, const char *spec, json_t *args)
{
	const char *key, *p = spec;
	bool optional;
	json_t *val;
	char type;

	if (args) {
		json_object_foreach(args, key, val)
		{
			if (!spec_lookup(spec, key, &type, &optional))
				return qmp_fail(r, QMP_ERR_GENERIC, "Invalid parameter '%s'", key);
			if (!type_ok(type, val))
				return qmp_fail(r, QMP_ERR_GENERIC,
						"Invalid parameter type for '%s', expected: %s",
						key, type_name(type));
		}
	}
	/* then every required argument must be there */
	while (*p) {
		const char *colon = strchr(p, ':');
		const char *end = colon ? colon + 2 : p + strlen(p);
		char name[64];
		size_t n;

		if (!colon)
			break;
		n = (size_t)(colon - p) < sizeof(name) - 1 ? (size_t)(colon - p) : sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		if (*end != '?' && !(args && json_object_get(args, name)))
			return qmp_fail(r, QMP_ERR_GENERIC, "Parameter '%s' is missing", name);
		while (*end && *end != ',')
			end++;
		p = *end ? end + 1 : end;
	}
	return 0;
}
