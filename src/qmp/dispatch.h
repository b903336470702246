/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_DISPATCH_H
#define SV_QMP_DISPATCH_H

/*
 * What a command handler sees.  The dispatcher has already checked the
 * arguments against the command's spec (names, types, required ones), so a
 * handler reads them without checking types again; it checks values.
 */

#include <jansson.h>
#include <stdbool.h>

struct vm;

enum qmp_error_class {
	QMP_ERR_GENERIC,
	QMP_ERR_COMMAND_NOT_FOUND,
	QMP_ERR_DEVICE_NOT_FOUND,
	QMP_ERR_DEVICE_NOT_ACTIVE,
	QMP_ERR_KVM_MISSING_CAP,
	QMP_ERR_THROTTLED,
};

#define QMP_MAX_PENDING_FDS 16

struct qmp_req {
	struct vm *vm;
	const char *name;
	json_t *args; /* an object, never NULL */
	json_t *ret;  /* set by the handler; NULL replies {} */
	enum qmp_error_class err_class;
	char err[512];
	/* fds that arrived (SCM_RIGHTS) with this request; a handler takes one by
	 * setting its slot to -1; the rest are closed after the reply */
	int *fds;
	int nr_fds;
};

/* Fills r's error and returns -1, so a handler can `return qmp_fail(...)`. */
int qmp_fail(struct qmp_req *r, enum qmp_error_class c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Argument accessors (types already checked); NULL/def when absent. */
const char *qmp_arg_str(struct qmp_req *r, const char *key);
bool qmp_arg_bool(struct qmp_req *r, const char *key, bool def);

typedef int (*qmp_handler_fn)(struct qmp_req *r);

/*
 * spec: comma-separated "name:T" with T one of s (string), b (bool),
 * i (integer), o (object), a (array), * (any JSON); a trailing '?' makes the
 * argument optional.  Names not in the spec are refused.
 */
struct qmp_command {
	const char *name;
	const char *spec;
	qmp_handler_fn fn;
};

const struct qmp_command *qmp_command_find(const char *name);
/* For query-commands: the table and its size. */
const struct qmp_command *qmp_commands(int *count);
/*
 * Checks args (NULL: none given) against spec; 0, or -1 with r's error set
 * naming the argument.
 */
int qmp_check_args(struct qmp_req *r, const char *spec, json_t *args);

const char *qmp_error_class_name(enum qmp_error_class c);

#endif
