// SPDX-License-Identifier: MulanPSL-2.0
/* Object boundaries in the QMP byte stream (see framing.h). */
#include "qmp/framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { K_NONE, K_CONTAINER, K_STRING, K_BARE };

void qmp_scanner_init(struct qmp_scanner *s)
{
	memset(s, 0, sizeof(*s));
}

void qmp_scanner_free(struct qmp_scanner *s)
{
	free(s->buf);
	qmp_scanner_init(s);
}

/* Drops what was consumed, so the buffer holds at most one partial value. */
static void compact(struct qmp_scanner *s)
{
	size_t keep_from = s->kind == K_NONE ? s->pos : s->start;

	if (!keep_from)
		return;
	memmove(s->buf, s->buf + keep_from, s->len - keep_from);
	s->len -= keep_from;
	s->pos -= keep_from;
	s->start = 0;
}

int qmp_scanner_feed(struct qmp_scanner *s, const char *data, size_t len)
{
	compact(s);
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *p;

		while (cap < s->len + len)
			cap *= 2;
		/* not realloc(): a grown mmap()ed block would need mremap(2) */
		p = malloc(cap);
		if (!p)
			return -ENOMEM;
		if (s->len)
			memcpy(p, s->buf, s->len);
		free(s->buf);
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Inside a string: true when c closes it. */
static bool string_byte(struct qmp_scanner *s, char c)
{
	if (s->esc) {
		s->esc = false;
	} else if (c == '\\') {
		s->esc = true;
	} else if (c == '"') {
		s->in_str = false;
		return true;
	}
	return false;
}

static int done(struct qmp_scanner *s, size_t end, const char **val, size_t *len)
{
	*val = s->buf + s->start;
	*len = end - s->start;
	s->pos = end;
	s->kind = K_NONE;
	s->depth = 0;
	s->in_str = s->esc = false;
	return 1;
}

int qmp_scanner_next(struct qmp_scanner *s, const char **val, size_t *len)
{
	while (s->pos < s->len) {
		char c = s->buf[s->pos];

		if (s->kind != K_NONE && s->pos - s->start >= QMP_MAX_REQUEST)
			return -EMSGSIZE;
		switch (s->kind) {
		case K_NONE:
			if (is_space(c))
				break;
			s->start = s->pos;
			if (c == '{' || c == '[') {
				s->kind = K_CONTAINER;
				s->depth = 1;
			} else if (c == '"') {
				s->kind = K_STRING;
				s->in_str = true;
			} else {
				s->kind = K_BARE;
			}
			break;
		case K_CONTAINER:
			if (s->in_str) {
				string_byte(s, c);
			} else if (c == '"') {
				s->in_str = true;
			} else if (c == '{' || c == '[') {
				s->depth++;
			} else if ((c == '}' || c == ']') && --s->depth == 0) {
				return done(s, s->pos + 1, val, len);
			}
			break;
		case K_STRING:
			if (string_byte(s, c))
				return done(s, s->pos + 1, val, len);
			break;
		default: /* K_BARE: ends before the next separator, which is scanned again */
			if (is_space(c) || c == '{' || c == '[' || c == '"')
				return done(s, s->pos, val, len);
			break;
		}
		s->pos++;
	}
	if (s->kind != K_NONE && s->pos - s->start > QMP_MAX_REQUEST)
		return -EMSGSIZE;
	return 0;
}
