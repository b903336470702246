/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_LOG_H
#define SV_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * Messages at or above the level from STRATOVIRT_LOG_LEVEL (default error) go to
 * the log file given with -D, or stderr; an error that goes to the file is
 * also printed on stderr.  Each message is one line: control characters are
 * written as \xNN and a message over 1024 bytes is cut.  Errors for the user
 * (bad options) are printed by the caller directly, not through the log.
 */
int log_init(const char *path, int enabled);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The -D file's descriptor, -1 when none (the seccomp SIGSYS line goes there too). */
int log_get_fd(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * An error the user must see (a bad file, a busy tap, ...): one line
 * "stratovirt: <msg>" on stderr, and in the -D log file when there is one.
 */
void user_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * While buf is set (this thread only), user_err() writes its first message
 * there instead of stderr (a QMP command reports it to its client); NULL
 * stops capturing.
 */
void user_err_capture(char *buf, size_t len);

#define pr_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)

#endif
