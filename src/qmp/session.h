/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_SESSION_H
#define SV_QMP_SESSION_H

/*
 * One client's conversation, without the socket: bytes in, replies out.
 * Framing (framing.h), JSON, capabilities negotiation, the rate limit, fds
 * that came with a request, and the reply with the request's "id".
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "qmp/dispatch.h"
#include "qmp/framing.h"

struct vm;

/* Sends one message (borrowed).  */
typedef void (*qmp_send_fn)(void *opaque, json_t *msg);

struct qmp_session {
	struct vm *vm;
	struct qmp_scanner scan;
	bool negotiated;
	int fds[QMP_MAX_PENDING_FDS];
	int nr_fds;
	qmp_send_fn send;
	void *opaque;
};

/* Requests per second over all clients, then OperationThrottled. */
#define QMP_RATE_LIMIT 10000

void qmp_session_init(struct qmp_session *s, struct vm *vm, qmp_send_fn send, void *opaque);
/* Closes pending fds, frees the buffer. */
void qmp_session_end(struct qmp_session *s);
/*
 * Processes received bytes: every complete request is answered through send.
 * 0, or -EMSGSIZE after answering a request longer than QMP_MAX_REQUEST (the
 * caller closes the connection), -ENOMEM.
 */
int qmp_session_input(struct qmp_session *s, const char *data, size_t len);
/* An fd received with the bytes that follow; closed when no room is left. */
void qmp_session_add_fd(struct qmp_session *s, int fd);
/*
 * The greeting sent when a client connects (compact JSON, without the CRLF),
 * built on the first call and kept; NULL when out of memory.
 */
const char *qmp_greeting_text(size_t *len);
/* An {"error":{...}} message. */
json_t *qmp_error_msg(enum qmp_error_class c, const char *desc);
/* For tests: the limit and the clock the rate limit uses (0: the real one). */
void qmp_ratelimit_set(unsigned per_second, uint64_t (*now_ms)(void));

#endif
