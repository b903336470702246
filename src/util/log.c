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

void log_msg(enum log_level level, const char *fmt, ...)
{
	struct timespec ts;
	FILE *out;
	va_list ap;

	size_t flen = strlen(fmt);
	const char *name;

	if (level < log_level)
		return;
	name = (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level]
									      : "log";
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&log_lock);
	out = log_file ? log_file : stderr;
	fprintf(out, "%lld.%06ld %s: ", (long long)ts.tv_sec, ts.tv_nsec / 1000, name);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	if (!flen || fmt[flen - 1] != '\n')
		fputc('\n', out);
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
	size_t flen = strlen(fmt);
	bool nl = !flen || fmt[flen - 1] != '\n';
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
	pthread_mutex_lock(&log_lock);
	fputs("stratovirt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (nl)
		fputc('\n', stderr);
	if (log_file) {
		fputs("error: ", log_file);
		va_start(ap, fmt);
		vfprintf(log_file, fmt, ap);
		va_end(ap);
		if (nl)
			fputc('\n', log_file);
	}
	pthread_mutex_unlock(&log_lock);
}
