// SPDX-License-Identifier: MulanPSL-2.0
#include <stdbool.h>
#include <stdint.h>

#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left) {
		/* a zero pad goes after the sign */
		if (pad == '0' && n && *s == '-') {
			out_char(o, *s++);
			n--;
		}
		while (fill--)
			out_char(o, pad);
		fill = 0;
	}
	while (n--)
		out_char(o, *s++);
	while (fill-- > 0)
		out_char(o, ' ');
}

static size_t format_number(char *tmp, uint64_t v, unsigned base, bool upper, bool negative)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i = 0;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[i++] = '-';
	while (n)
		tmp[i++] = rev[--n];
	return i;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	char tmp[32];

	for (; *fmt; fmt++) {
		bool left = false, negative = false;
		char pad = ' ';
		int width = 0, lng = 0, prec = -1;
		uint64_t v;
		size_t n;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			out_padded(&o, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s), width,
				   left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			out_padded(&o, tmp, 1, width, left, ' ');
			break;
		case 'd':
		case 'i': {
			int64_t s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			negative = s < 0;
			v = negative ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
			n = format_number(tmp, v, 10, false, negative);
			out_padded(&o, tmp, n, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			n = format_number(tmp, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false);
			out_padded(&o, tmp, n, width, left, pad);
			break;
		case 'p':
			v = (uint64_t)(uintptr_t)va_arg(ap, void *);
			tmp[0] = '0';
			tmp[1] = 'x';
			n = 2 + format_number(tmp + 2, v, 16, false, false);
			out_padded(&o, tmp, n, width, left, ' ');
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf);
	return n;
}
