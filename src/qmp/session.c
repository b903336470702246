// SPDX-License-Identifier: MulanPSL-2.0
/* A QMP conversation: requests in, replies out (see session.h). */
#include "qmp/session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static unsigned rate_limit = QMP_RATE_LIMIT;
static uint64_t (*rate_clock)(void);
static uint64_t window_start_ms;
static unsigned window_count;

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void qmp_ratelimit_set(unsigned per_second, uint64_t (*now_ms)(void))
{
	rate_limit = per_second ? per_second : QMP_RATE_LIMIT;
	rate_clock = now_ms;
	window_start_ms = 0;
	window_count = 0;
}

/* A fixed one-second window shared by all clients: reconnecting does not reset it. */
static bool throttled(void)
{
	uint64_t now = rate_clock ? rate_clock() : monotonic_ms();

	if (!window_count || now - window_start_ms >= 1000) {
		window_start_ms = now;
		window_count = 0;
	}
	return ++window_count > rate_limit;
}

void qmp_session_init(struct qmp_session *s, struct vm *vm, qmp_send_fn send, void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->send = send;
	s->opaque = opaque;
	qmp_scanner_init(&s->scan);
}

static void close_pending(struct qmp_session *s)
{
	for (int i = 0; i < s->nr_fds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	s->nr_fds = 0;
}

void qmp_session_end(struct qmp_session *s)
{
	close_pending(s);
	qmp_scanner_free(&s->scan);
}

void qmp_session_add_fd(struct qmp_session *s, int fd)
{
	if (s->nr_fds == QMP_MAX_PENDING_FDS) {
		pr_warn("qmp: more than %d fds pending; closing fd %d", QMP_MAX_PENDING_FDS, fd);
		close(fd);
		return;
	}
	s->fds[s->nr_fds++] = fd;
}

/* Fixed for the life of the binary: written by jansson once, not per connection. */
const char *qmp_greeting_text(size_t *len)
{
	static char *text;
	static size_t text_len;

	if (!text) {
		json_t *g = json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[]}}", "QMP", "version",
				      "qemu", "micro", 1, "minor", 0, "major", 5, "package",
				      "StratoVirt-" SV_VERSION, "capabilities");

		text = g ? json_dumps(g, JSON_COMPACT) : NULL;
		text_len = text ? strlen(text) : 0;
		json_decref(g);
	}
	*len = text_len;
	return text;
}

json_t *qmp_error_msg(enum qmp_error_class c, const char *desc)
{
	return json_pack("{s:{s:s,s:s}}", "error", "class", qmp_error_class_name(c), "desc", desc);
}

static void reply(struct qmp_session *s, json_t *msg, json_t *id)
{
	if (!msg)
		return;
	if (id)
		json_object_set(msg, "id", id);
	s->send(s->opaque, msg);
	json_decref(msg);
}

static void reply_error(struct qmp_session *s, json_t *id, enum qmp_error_class c, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

static void reply_error(struct qmp_session *s, json_t *id, enum qmp_error_class c, const char *fmt,
			...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	reply(s, qmp_error_msg(c, desc), id);
}

/* qmp_capabilities: "enable" may only list capabilities we offer (none). */
static void negotiate(struct qmp_session *s, json_t *args, json_t *id)
{
	struct qmp_req r = {.vm = s->vm, .name = "qmp_capabilities"};
	json_t *enable;

	if (qmp_check_args(&r, "enable:a?", args) < 0) {
		reply_error(s, id, r.err_class, "%s", r.err);
		return;
	}
	enable = args ? json_object_get(args, "enable") : NULL;
	if (enable && json_array_size(enable)) {
		json_t *cap = json_array_get(enable, 0);

		reply_error(s, id, QMP_ERR_GENERIC, "Capability '%s' not available",
			    json_is_string(cap) ? json_string_value(cap) : "?");
		return;
	}
	s->negotiated = true;
	reply(s, json_pack("{s:{}}", "return"), id);
}

static void run_command(struct qmp_session *s, const char *name, json_t *args, json_t *id)
{
	const struct qmp_command *cmd = qmp_command_find(name);
	struct qmp_req r = {.vm = s->vm, .name = name, .fds = s->fds, .nr_fds = s->nr_fds};
	json_t *empty = NULL;

	if (!cmd) {
		reply_error(s, id, QMP_ERR_COMMAND_NOT_FOUND, "The command %s has not been found",
			    name);
		return;
	}
	if (qmp_check_args(&r, cmd->spec, args) < 0) {
		reply_error(s, id, r.err_class, "%s", r.err);
		return;
	}
	if (!args)
		args = empty = json_object();
	r.args = args;
	if (cmd->fn(&r) < 0) {
		json_decref(r.ret);
		reply_error(s, id, r.err_class, "%s", r.err[0] ? r.err : "command failed");
	} else {
		reply(s, json_pack("{s:o}", "return", r.ret ? r.ret : json_object()), id);
	}
	json_decref(empty);
}

static void handle_request(struct qmp_session *s, json_t *req)
{
	json_t *id = json_object_get(req, "id");
	json_t *exec = json_object_get(req, "execute");
	json_t *args = json_object_get(req, "arguments");
	const char *key;
	json_t *val;

	json_object_foreach(req, key, val)
	{
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
			reply_error(s, id, QMP_ERR_GENERIC, "QMP input member '%s' is unexpected",
				    key);
			return;
		}
	}
	if (!exec) {
		reply_error(s, id, QMP_ERR_GENERIC, "QMP input lacks member 'execute'");
		return;
	}
	if (!json_is_string(exec)) {
		reply_error(s, id, QMP_ERR_GENERIC, "QMP input member 'execute' must be a string");
		return;
	}
	if (args && !json_is_object(args)) {
		reply_error(s, id, QMP_ERR_GENERIC,
			    "QMP input member 'arguments' must be an object");
		return;
	}
	if (throttled()) {
		reply_error(s, id, QMP_ERR_THROTTLED,
			    "More than %u requests received during 1 second", rate_limit);
		return;
	}
	if (!strcmp(json_string_value(exec), "qmp_capabilities")) {
		if (s->negotiated)
			reply_error(s, id, QMP_ERR_COMMAND_NOT_FOUND,
				    "Capabilities negotiation is already complete, command "
				    "ignored");
		else
			negotiate(s, args, id);
		return;
	}
	if (!s->negotiated) {
		reply_error(s, id, QMP_ERR_COMMAND_NOT_FOUND,
			    "Expecting capabilities negotiation with 'qmp_capabilities'");
		return;
	}
	run_command(s, json_string_value(exec), args, id);
}

static void handle_value(struct qmp_session *s, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *req;

	req = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		reply_error(s, NULL, QMP_ERR_GENERIC, "Invalid JSON at byte %d: %s", jerr.position,
			    jerr.text);
	} else if (!json_is_object(req)) {
		reply_error(s, NULL, QMP_ERR_GENERIC, "QMP input must be a JSON object");
	} else {
		handle_request(s, req);
	}
	json_decref(req);
	/* fds belong to the request they came with: unclaimed ones are closed */
	close_pending(s);
}

int qmp_session_input(struct qmp_session *s, const char *data, size_t len)
{
	const char *val;
	size_t vlen;
	int ret;

	ret = qmp_scanner_feed(&s->scan, data, len);
	if (ret < 0)
		return ret;
	while ((ret = qmp_scanner_next(&s->scan, &val, &vlen)) > 0)
		handle_value(s, val, vlen);
	if (ret == -EMSGSIZE) {
		reply_error(s, NULL, QMP_ERR_GENERIC,
			    "Request longer than %d bytes; closing the connection",
			    QMP_MAX_REQUEST);
		close_pending(s);
	}
	return ret;
}
