/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_HOSTPATH_H
#define SV_UTIL_HOSTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Opening a path the user named, never blocking on it and never using a file
 * of the wrong type: a FIFO given as a kernel would block open() forever, a
 * directory given as a log file would fail late and obscurely.
 */
enum hostpath_type {
	HOSTPATH_REG = 1, /* regular file */
	HOSTPATH_CHR = 2, /* character device (/dev/null, /dev/pts/N) */
	HOSTPATH_DIR = 4,
	HOSTPATH_BLK = 8,
};

/* "a regular file", "a regular file or a character device", ... */
const char *hostpath_types_name(unsigned types);

/*
 * Opens path with flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK (so a FIFO or a
 * device never blocks the open), checks with fstat() that it is one of types,
 * and clears O_NONBLOCK again unless flags asked for it.  what names the
 * option for the user ("-kernel").  Returns the fd, or a negative errno with
 * one line in err:
 *   "-kernel '/tmp/x' is not a regular file"
 *   "cannot open -kernel '/tmp/x': No such file or directory"
 * When flags has O_CREAT and *created is not NULL, *created tells whether
 * this call made the file (it is then removed again on a type error).
 */
int hostpath_open(const char *what, const char *path, int flags, mode_t mode, unsigned types,
		  bool *created, char *err, size_t errlen);

/*
 * stat()s path without opening it: 0 when it is one of types, or absent and
 * may_be_absent (then its directory must exist); else a negative errno with
 * err filled as hostpath_open() would.
 */
int hostpath_check(const char *what, const char *path, unsigned types, bool may_be_absent,
		   char *err, size_t errlen);

/* path made absolute against cwd (malloc'd copy); NULL when out of memory. */
char *hostpath_absolute(const char *cwd, const char *path);

#endif
