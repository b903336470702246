/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_PRINTF_H
#define SVGUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formats %s %c %d %i %u %x %X %p %% with optional '-', '0', width, a
 * precision for %s (.N or .*) and the length modifiers l, ll, z. Output is always NUL-terminated.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats to the serial port. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
