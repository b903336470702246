// SPDX-License-Identifier: MulanPSL-2.0
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/hostpath.h"

static FILE *log_file;
static enum log_level log_level = LOG_ERROR;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Longest message before it is cut (control characters escaped after that). */
#define LOG_LINE_MAX 1024

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error"};

int log_init(const char *path, int enabled)
{
	const char *env = getenv("STRATOVIRT_LOG_LEVEL");

	if (env) {
		for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (!strcasecmp(env, level_names[i]))
				log_level = (enum log_level)i;
	}
	if (enabled && path) {
		char err[512];
		/* appended to (never truncated), or a character device; never a FIFO */
		int fd = hostpath_open("-D", path, O_WRONLY | O_CREAT | O_APPEND, 0644,
				       HOSTPATH_REG | HOSTPATH_CHR, NULL, err, sizeof(err));

		if (fd < 0) {
			fprintf(stderr, "stratovirt: %s\n", err);
			return -1;
		}
		log_file = fdopen(fd, "a");
		if (!log_file) {
			fprintf(stderr, "stratovirt: cannot open -D '%s': %s\n", path,
				strerror(errno));
			close(fd);
			return -1;
		}
		setvbuf(log_file, NULL, _IOLBF, 0);
	}
	return 0;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_get_fd(void)
{
	return log_file ? fileno(log_file) : -1;
}

/*
 * One message as one line: a trailing newline is dropped, other control
 * characters (from a path, a tap name, a guest) become \xNN, and a message
 * longer than LOG_LINE_MAX ends in "...".
 */
static void format_line(char *line, size_t len, const char *fmt, va_list ap)
{
	static const char hex[] = "0123456789abcdef";
	char raw[LOG_LINE_MAX];
	size_t n, o = 0;
	int ret;

	ret = vsnprintf(raw, sizeof(raw), fmt, ap);
	n = ret < 0 ? 0 : strlen(raw);
	if (n && raw[n - 1] == '\n' && (size_t)ret == n)
		n--;
	for (size_t i = 0; i < n && o + 5 < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f) {
			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 0xf];
		} else {
			line[o++] = (char)c;
		}
	}
	if ((size_t)ret >= sizeof(raw) && o + 4 <= len) {
		memcpy(line + o, "...", 3);
		o += 3;
	}
	line[o] = '\0';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX * 4 + 8];
	struct timespec ts;
	const char *name;
	FILE *out;
	va_list ap;

	if (level < log_level)
		return;
	name = (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level]
									      : "log";
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	out = log_file ? log_file : stderr;
	fprintf(out, "%lld.%06ld %s: %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000, name, line);
	/* an error that goes to the -D file is one the user must see on stderr too */
	if (level >= LOG_ERROR && log_file)
		fprintf(stderr, "stratovirt: %s\n", line);
	pthread_mutex_unlock(&log_lock);
}

static __thread char *capture_buf;
static __thread size_t capture_len;

void user_err_capture(char *buf, size_t len)
{
	capture_buf = len ? buf : NULL;
	capture_len = len;
	if (capture_buf)
		capture_buf[0] = '\0';
}

void user_err(const char *fmt, ...)
{
	char line[LOG_LINE_MAX * 4 + 8];
	va_list ap;

	if (capture_buf) { /* the first message, for a QMP error's desc */
		if (!capture_buf[0]) {
			size_t n;

			va_start(ap, fmt);
			vsnprintf(capture_buf, capture_len, fmt, ap);
			va_end(ap);
			n = strlen(capture_buf);
			if (n && capture_buf[n - 1] == '\n')
				capture_buf[n - 1] = '\0';
		}
		return;
	}
	va_start(ap, fmt);
	format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "stratovirt: %s\n", line);
	if (log_file)
		fprintf(log_file, "error: %s\n", line);
	pthread_mutex_unlock(&log_lock);
}
