/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_QMP_FRAMING_H
#define SV_QMP_FRAMING_H

/*
 * Finds where one JSON value ends in a byte stream, without parsing it:
 * brackets outside strings are counted, strings and escapes are tracked, and
 * the state survives across reads, so each byte is looked at once however the
 * client splits its writes.  The complete value is then handed to jansson.
 *
 * A value is an object or array (ends at its matching bracket), a string, or
 * a bare token (a number, a literal or garbage) that ends at white space or
 * at the start of another value.  White space between values is skipped.
 */

#include <stdbool.h>
#include <stddef.h>

#define QMP_MAX_REQUEST (64 * 1024)

struct qmp_scanner {
	char *buf;
	size_t len, cap;
	size_t pos;   /* next byte to scan */
	size_t start; /* first byte of the value being scanned */
	int kind;     /* 0: between values, 1: container, 2: string, 3: bare token */
	unsigned depth;
	bool in_str, esc;
};

void qmp_scanner_init(struct qmp_scanner *s);
void qmp_scanner_free(struct qmp_scanner *s);
/* Appends received bytes.  -ENOMEM. */
int qmp_scanner_feed(struct qmp_scanner *s, const char *data, size_t len);
/*
 * The next complete value: 1 with val and len pointing into the buffer (valid
 * until the next feed), 0 when more bytes are needed, -EMSGSIZE when the value
 * being received is longer than QMP_MAX_REQUEST.
 */
int qmp_scanner_next(struct qmp_scanner *s, const char **val, size_t *len);

#endif
