// SPDX-License-Identifier: MulanPSL-2.0
/*
 * sockpath_listen(): the host-file rules (docs/command-line.md "Host files")
 * and that a socket is listening by the time its path exists.  listen() is
 * replaced here by a wrapper (an executable's definition wins over libc's) that
 * looks at the path the moment the helper calls it: a client connecting then
 * must find no file (ENOENT, "not there yet"), never a file that refuses it
 * (ECONNREFUSED) — what a client polling for the file saw before the fix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/sockpath.h"

static char dir[64];
static char path[100];

/* What the wrapper saw and does */
static const char *watch; /* the path to look at during listen() */
static int connect_errno; /* a client's connect() to watch during listen(): 0 or errno */
static int listen_calls;
static int fail_listen; /* errno listen() fails with, 0: the real listen */
static bool plant_file; /* create a regular file at watch during listen() */

static int try_connect(const char *p)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret;

	assert_true(fd >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
	ret = connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(fd);
	return ret;
}

int listen(int fd, int backlog)
{
	listen_calls++;
	if (watch)
		connect_errno = try_connect(watch);
	if (plant_file) {
		int f = open(watch, O_CREAT | O_EXCL | O_WRONLY, 0600);

		assert_true(f >= 0);
		assert_int_equal(write(f, "mine\n", 5), 5);
		close(f);
	}
	if (fail_listen) {
		errno = fail_listen;
		return -1;
	}
	return (int)syscall(SYS_listen, fd, backlog);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
	return on;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sockpath-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	watch = NULL;
	connect_errno = -1;
	listen_calls = 0;
	fail_listen = 0;
	plant_file = false;
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[320];

	(void)state;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void test_listening_before_the_path_exists(void **state)
{
	struct sockpath_owned owned;
	char err[256];
	struct stat st;
	int fd;

	(void)state;
	watch = path;
	fd = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(listen_calls, 1);
	/* during listen() the path was not there yet: ENOENT, not ECONNREFUSED */
	assert_int_equal(connect_errno, ENOENT);
	/* now it is, as the socket we listen on: a client gets in */
	assert_true(is_listening(fd));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_nlink, 1); /* the temporary name is gone */
	assert_int_equal(entries(), 1);
	assert_int_equal(try_connect(path), 0);
	assert_int_equal(st.st_ino, owned.ino);
	sockpath_release(&owned);
	assert_int_equal(entries(), 0);
	close(fd);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct sockpath_owned owned;
	char err[256];
	struct stat st;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	(void)state;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	close(s); /* stale: the file stays, nobody listens */
	assert_int_equal(lstat(path, &st), 0);
	watch = path;
	fd = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(connect_errno, ENOENT); /* the stale one was gone before */
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(try_connect(path), 0);
	assert_int_equal(entries(), 1);
	sockpath_release(&owned);
	close(fd);
}

static void test_not_a_socket_and_live_socket_untouched(void **state)
{
	struct sockpath_owned owned;
	char err[256];
	struct stat st;
	int f = open(path, O_CREAT | O_WRONLY, 0600), fd, live;

	(void)state;
	assert_true(f >= 0);
	close(f);
	assert_int_equal(sockpath_listen(path, 4, &owned, err, sizeof(err)), -ENOTSOCK);
	assert_null(owned.path);
	{
		char want[256];

		snprintf(want, sizeof(want), "socket path '%s' exists and is not a socket", path);
		assert_string_equal(err, want);
	}
	assert_int_equal(listen_calls, 0); /* nothing was created */
	assert_int_equal(entries(), 1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);

	live = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_true(live >= 0);
	listen_calls = 0;
	{
		struct sockpath_owned second;

		fd = sockpath_listen(path, 4, &second, err, sizeof(err));
		assert_int_equal(fd, -EADDRINUSE);
		assert_null(second.path);
	}
	assert_int_equal(listen_calls, 0);
	assert_int_equal(entries(), 1);
	assert_int_equal(try_connect(path), 0); /* still the first one's */
	sockpath_release(&owned);
	close(live);
}

/* A file that appears at the path while the socket is made is left alone. */
static void test_file_appearing_meanwhile_kept(void **state)
{
	struct sockpath_owned owned;
	char err[256], buf[8] = "";
	int fd, f;

	(void)state;
	watch = path;
	plant_file = true;
	fd = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_int_equal(fd, -EEXIST);
	assert_null(owned.path);
	assert_non_null(strstr(err, path));
	/* only the planted file: the temporary name was removed */
	assert_int_equal(entries(), 1);
	f = open(path, O_RDONLY);
	assert_true(f >= 0);
	assert_int_equal(read(f, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "mine\n", 5);
	close(f);
}

static void test_listen_failure_leaves_nothing(void **state)
{
	struct sockpath_owned owned;
	char err[256];

	(void)state;
	fail_listen = EOPNOTSUPP;
	assert_int_equal(sockpath_listen(path, 4, &owned, err, sizeof(err)), -EOPNOTSUPP);
	assert_null(owned.path);
	assert_int_equal(entries(), 0);
	assert_non_null(strstr(err, "cannot listen on socket"));
}

/* A file at the temporary name is not ours: kept, and the socket bound directly. */
static void test_existing_temp_name_kept(void **state)
{
	struct sockpath_owned owned;
	char err[256], tmp[192];
	struct stat st;
	int fd, f;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.%d~", path, (int)getpid());
	f = open(tmp, O_CREAT | O_WRONLY, 0600);
	assert_true(f >= 0);
	close(f);
	fd = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(is_listening(fd));
	assert_int_equal(lstat(tmp, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(entries(), 2);
	assert_int_equal(try_connect(path), 0);
	sockpath_release(&owned);
	assert_int_equal(entries(), 1);
	close(fd);
}

/* A path with no room for ".<pid>~" in sun_path still works (bound directly). */
static void test_longest_path_bound_directly(void **state)
{
	struct sockpath_owned owned;
	char err[256], longp[128];
	size_t n;
	int fd;

	(void)state;
	n = (size_t)snprintf(longp, sizeof(longp), "%s/", dir);
	while (n < 107)
		longp[n++] = 'x';
	longp[n] = '\0';
	fd = sockpath_listen(longp, 4, &owned, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(is_listening(fd));
	assert_int_equal(try_connect(longp), 0);
	assert_int_equal(entries(), 1);
	sockpath_release(&owned);
	assert_int_equal(entries(), 0);
	close(fd);
	longp[n++] = 'x';
	longp[n] = '\0';
	assert_int_equal(sockpath_listen(longp, 4, &owned, err, sizeof(err)), -ENAMETOOLONG);
	assert_int_equal(entries(), 0);
}

/* release removes only the socket that is still ours. */
static void test_release_only_ours(void **state)
{
	struct sockpath_owned owned;
	char err[256];
	int fd, f;

	(void)state;
	fd = sockpath_listen(path, 4, &owned, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(f >= 0);
	close(f);
	sockpath_release(&owned);
	assert_null(owned.path);
	assert_int_equal(entries(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_listening_before_the_path_exists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_socket_and_live_socket_untouched, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_file_appearing_meanwhile_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_failure_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_existing_temp_name_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_longest_path_bound_directly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_only_ours, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
