/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_CMDLINE_H
#define SVGUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX 4096

/* Keeps a private copy: the original may lie where the guest writes later. */
void cmdline_init(const char *src);
const char *cmdline(void);

/* Value of the first `key=value` token; false if absent (or a bare `key`: "" given). */
bool cmdline_get(const char *key, char *val, size_t len);
bool cmdline_has_token(const char *token);
/* True if `key=value` is present with exactly that value. */
bool cmdline_is(const char *key, const char *value);
bool cmdline_get_u64(const char *key, uint64_t *out);
/* True if `item` is one of the comma-separated values of key. */
bool cmdline_list_has(const char *key, const char *item);

#endif
