/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_STRING_H
#define SVGUEST_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

/* Sum of n bytes modulo 256, as ACPI and MP tables use. */
uint8_t byte_sum(const void *p, size_t n);

/* Parses a decimal or 0x-prefixed unsigned number; *end gets the first unused char. */
uint64_t parse_u64(const char *s, const char **end);

#endif
