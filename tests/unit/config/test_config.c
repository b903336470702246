// SPDX-License-Identifier: MulanPSL-2.0
/* Sizes, defaults and the whole-config checks of config_validate(). */
#include <errno.h>

#include "config/paths.h"
#include "test_helpers.h"

static void test_size_suffixes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("4096", 0, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("2k", 0, &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(config_parse_size("256M", 0, &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(config_parse_size("3g", 0, &v), 0);
	assert_int_equal(v, 3ULL << 30);
	assert_int_equal(config_parse_size("1T", 0, &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(config_parse_size("512MiB", 0, &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(config_parse_size("2GB", 0, &v), 0);
	assert_int_equal(v, 2ULL << 30);
}

static void test_size_default_shift(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("256", 20, &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(config_parse_size("1G", 20, &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(config_parse_size("0", 20, &v), 0);
	assert_int_equal(v, 0);
}

static void test_size_bad(void **state)
{
	uint64_t v = 77;

	(void)state;
	assert_int_equal(config_parse_size("", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size(NULL, 0, &v), -EINVAL);
	assert_int_equal(config_parse_size("M", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size("-1", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size(" 1", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size("12X", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size("12MM", 0, &v), -EINVAL);
	assert_int_equal(config_parse_size("1.5G", 0, &v), -EINVAL);
	assert_int_equal(v, 77);
}

static void test_size_overflow(void **state)
{
	uint64_t v = 77;

	(void)state;
	assert_true(config_parse_size("18446744073709551616", 0, &v) < 0);
	assert_true(config_parse_size("16777216T", 0, &v) < 0);
	assert_true(config_parse_size("17179869184G", 0, &v) < 0);
	assert_true(config_parse_size("17592186044416", 20, &v) < 0);
	assert_int_equal(v, 77);
	assert_int_equal(config_parse_size("18446744073709551615", 0, &v), 0);
	assert_int_equal(v, UINT64_MAX);
}

static void test_defaults(void **state)
{
	struct vm_config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.mem_size, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_cpus, 1);
	assert_int_equal(cfg.max_cpus, 1);
	assert_true(cfg.acpi);
	assert_true(cfg.dump_guest_core);
	assert_false(cfg.mem_share);
	assert_int_equal(cfg.vsock_fd, -1);
	assert_int_equal(cfg.nets[0].fds[0], -1);
	assert_int_equal(cfg.serial.kind, CHR_NONE);
	assert_null(cfg.qmp_path);
	config_free(&cfg);
}

static void test_validate_needs_kernel(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-smp 2"), 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-kernel"));
	config_free(&p.cfg);
}

static void test_validate_ok(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k -smp 4 -m 512 -serial stdio"), 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), 0);
	assert_int_equal(p.cfg.sockets * p.cfg.cores * p.cfg.threads, 4);
	config_free(&p.cfg);
}

static void test_validate_stdio_daemonize(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k -serial stdio -daemonize -pidfile /tmp/p"), 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-serial stdio"));
	assert_non_null(strstr(err, "-daemonize"));
	config_free(&p.cfg);
}

static void test_validate_topology(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	config_init(&cfg);
	cfg.kernel = strdup("/k");
	cfg.nr_cpus = 4;
	cfg.max_cpus = 4;
	cfg.sockets = 1;
	cfg.cores = 3;
	cfg.threads = 1;
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "maxcpus"));
	cfg.cores = 4;
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	cfg.nr_cpus = 255;
	cfg.max_cpus = 255;
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "255"));
	config_free(&cfg);
}

static void test_validate_memory(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	config_init(&cfg);
	cfg.kernel = strdup("/k");
	cfg.mem_size = CFG_MIN_MEM - 1;
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "memory"));
	cfg.mem_size = CFG_MAX_MEM;
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
}

static void test_free_twice_is_safe(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k -name vm -drive id=a,file=/a"), 0);
	config_free(&p.cfg);
	config_free(&p.cfg);
}

static void test_validate_one_socket_path_per_device(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k -serial socket,path=/s,server,nowait "
					"-device virtio-serial-device "
					"-chardev socket,id=c0,path=/s,server,nowait "
					"-device virtconsole,chardev=c0,id=con0"),
			 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "socket path '/s' is used by both -serial and virtconsole 'con0'");
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-kernel /k -serial socket,path=/s,server,nowait "
					"-device virtio-serial-device "
					"-chardev socket,id=c0,path=/t,server,nowait "
					"-device virtconsole,chardev=c0,id=con0"),
			 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), 0);
	config_free(&p.cfg);
}

static void test_paths_made_absolute(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel k.bin -initrd ./i.img -pidfile /run/p -D log "
					"-serial file,path=out/serial.log -mem-path . "
					"-drive id=d0,file=disk.img -incoming file:tmpl"),
			 0);
	assert_int_equal(config_make_paths_absolute(&p.cfg, "/home/u", err, sizeof(err)), 0);
	assert_string_equal(p.cfg.kernel, "/home/u/k.bin");
	assert_string_equal(p.cfg.initrd, "/home/u/i.img");
	assert_string_equal(p.cfg.pidfile, "/run/p");
	assert_string_equal(p.cfg.log_file, "/home/u/log");
	assert_string_equal(p.cfg.serial.path, "/home/u/out/serial.log");
	assert_string_equal(p.cfg.mem_path, "/home/u");
	assert_string_equal(p.cfg.drives[0].path, "/home/u/disk.img");
	assert_string_equal(p.cfg.incoming, "file:/home/u/tmpl");
	config_free(&p.cfg);
}

static void test_paths_socket_too_long_once_absolute(void **state)
{
	char cwd[128], err[256];
	struct parsed p;

	(void)state;
	memset(cwd, 'd', sizeof(cwd) - 1);
	cwd[0] = '/';
	cwd[sizeof(cwd) - 1] = '\0';
	assert_int_equal(parse_line(&p, "-kernel /k -serial socket,path=s.sock,server,nowait"), 0);
	assert_int_equal(config_make_paths_absolute(&p.cfg, cwd, err, sizeof(err)), -ENAMETOOLONG);
	assert_string_equal(err, "socket path 's.sock' is too long once made absolute for "
				 "-daemonize (134 bytes, at most 107): give a shorter or absolute "
				 "path");
	assert_string_equal(p.cfg.serial.path, "s.sock");
	config_free(&p.cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_suffixes),
	    cmocka_unit_test(test_size_default_shift),
	    cmocka_unit_test(test_size_bad),
	    cmocka_unit_test(test_size_overflow),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_validate_needs_kernel),
	    cmocka_unit_test(test_validate_ok),
	    cmocka_unit_test(test_validate_stdio_daemonize),
	    cmocka_unit_test(test_validate_topology),
	    cmocka_unit_test(test_validate_memory),
	    cmocka_unit_test(test_free_twice_is_safe),
	    cmocka_unit_test(test_validate_one_socket_path_per_device),
	    cmocka_unit_test(test_paths_made_absolute),
	    cmocka_unit_test(test_paths_socket_too_long_once_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
