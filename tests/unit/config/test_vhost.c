// SPDX-License-Identifier: MulanPSL-2.0
/* -device vhost-user-fs-device and -netdev tap,vhost=,vhostfd(s)= */
#include <errno.h>

#include "test_helpers.h"

#define FS_BASE "-kernel k -machine microvm,mem-share=on -chardev socket,id=c0,path=/tmp/vfs.sock "

static int validate(struct parsed *p)
{
	return config_validate(&p->cfg, p->err, sizeof(p->err));
}

static void test_fs_good(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(
	    parse_line(&p, FS_BASE "-device vhost-user-fs-device,id=fs0,chardev=c0,tag=myfs"), 0);
	assert_int_equal(validate(&p), 0);
	assert_int_equal(p.cfg.nr_fs, 1);
	assert_string_equal(p.cfg.fs[0].id, "fs0");
	assert_string_equal(p.cfg.fs[0].tag, "myfs");
	assert_string_equal(p.cfg.fs[0].chardev, "c0");
	assert_int_equal(p.cfg.fs[0].queue_size, 1024);
	/* the chardev is the device's, not an early console */
	assert_int_equal(p.cfg.nr_consoles, 0);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, FS_BASE "-device vhost-user-fs-device,id=fs0,chardev=c0,"
						"tag=123456789012345678901234567890123456,"
						"queue-size=128"),
			 0);
	assert_int_equal(p.cfg.fs[0].queue_size, 128);
	assert_int_equal(strlen(p.cfg.fs[0].tag), 36);
	config_free(&p.cfg);
}

static void test_fs_bad(void **state)
{
	struct parsed p;

	(void)state;
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,chardev=c0,tag=t",
			   "vhost-user-fs-device", "id");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,tag=t", "chardev");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=c0", "tag");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=c0,"
				   "tag=1234567890123456789012345678901234567",
			   "1..36 bytes");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=c0,tag=t,"
				   "queue-size=100",
			   "queue-size", "power of two");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=c0,tag=t,"
				   "queue-size=2048",
			   "'2048'");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=nope,tag=t",
			   "unknown chardev 'nope'");
	assert_parse_fails("-kernel k -chardev socket,id=c0,path=/tmp/s,server=on,wait=off "
			   "-device vhost-user-fs-device,id=f,chardev=c0,tag=t",
			   "must be a client socket");
	assert_parse_fails(FS_BASE "-device vhost-user-fs-device,id=f,chardev=c0,tag=t,cache=none",
			   "unknown key 'cache'");
	/* without shared memory: refused at validation, naming the device */
	assert_int_equal(parse_line(&p, "-kernel k -chardev socket,id=c0,path=/tmp/s "
					"-device vhost-user-fs-device,id=fs0,chardev=c0,tag=t"),
			 0);
	assert_int_equal(validate(&p), -EINVAL);
	assert_non_null(strstr(p.err, "'fs0' needs -machine mem-share=on"));
	config_free(&p.cfg);
	/* its id is a -device id like any other */
	assert_int_equal(parse_line(&p,
				    FS_BASE "-device vhost-user-fs-device,id=x,chardev=c0,tag=t "
					    "-device virtio-rng-device,rng=r,id=x "
					    "-object rng-random,id=r,filename=/dev/urandom"),
			 -EINVAL);
	config_free(&p.cfg);
}

static void test_netdev_vhost(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-netdev tap,id=n0,ifname=t0,vhost=on"), 0);
	assert_true(p.cfg.nets[0].vhost);
	assert_int_equal(p.cfg.nets[0].nr_vhostfds, 0);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-netdev tap,id=n0,ifname=t0"), 0);
	assert_false(p.cfg.nets[0].vhost);
	assert_int_equal(p.cfg.nets[0].vhostfds[0], -1);
	config_free(&p.cfg);
	/* an inherited vhost fd means vhost on */
	assert_int_equal(parse_line(&p, "-netdev tap,id=n0,fd=3,vhostfd=4"), 0);
	assert_true(p.cfg.nets[0].vhost);
	assert_int_equal(p.cfg.nets[0].nr_vhostfds, 1);
	assert_int_equal(p.cfg.nets[0].vhostfds[0], 4);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-netdev tap,id=n0,fds=3:5,vhostfds=4:6,vhost=on"), 0);
	assert_int_equal(p.cfg.nets[0].nr_vhostfds, 2);
	assert_int_equal(p.cfg.nets[0].vhostfds[1], 6);
	config_free(&p.cfg);

	assert_parse_fails("-netdev tap,id=n0,ifname=t0,vhost=maybe", "'maybe'", "vhost");
	assert_parse_fails("-netdev tap,id=n0,ifname=t0,vhostfd=4,vhost=off",
			   "vhostfd= needs vhost=on");
	assert_parse_fails("-netdev tap,id=n0,ifname=t0,vhostfd=4,vhostfds=5",
			   "either vhostfd= or vhostfds=");
	assert_parse_fails("-netdev tap,id=n0,ifname=t0,vhostfds=4:x", "'4:x'", "vhostfds");
	assert_parse_fails("-netdev tap,id=n0,ifname=t0,vhostfd=-1", "vhostfd");
}

static void test_json_vhost(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	config_init(&cfg);
	assert_int_equal(
	    config_parse_json_text(&cfg,
				   "{\"net\": [{\"iface_id\": \"n0\", "
				   "\"host_dev_name\": \"t0\", "
				   "\"vhost_type\": \"vhost-kernel\", \"vhost_fd\": 7}]}",
				   err, sizeof(err)),
	    0);
	assert_true(cfg.nets[0].vhost);
	assert_int_equal(cfg.nets[0].nr_vhostfds, 1);
	assert_int_equal(cfg.nets[0].vhostfds[0], 7);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg,
						"{\"net\": [{\"iface_id\": \"n0\", "
						"\"host_dev_name\": \"t0\", "
						"\"vhost_type\": \"vhost-user\"}]}",
						err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "only vhost-kernel"));
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(
	    config_parse_json_text(&cfg,
				   "{\"net\": [{\"iface_id\": \"n0\", \"host_dev_name\": \"t0\", "
				   "\"vhost_fd\": 7}]}",
				   err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "vhost_fd needs"));
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg,
						"{\"net\": [{\"iface_id\": \"n0\", "
						"\"host_dev_name\": \"t0\"}]}",
						err, sizeof(err)),
			 0);
	assert_false(cfg.nets[0].vhost);
	assert_int_equal(cfg.nets[0].vhostfds[0], -1);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fs_good),
	    cmocka_unit_test(test_fs_bad),
	    cmocka_unit_test(test_netdev_vhost),
	    cmocka_unit_test(test_json_vhost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
