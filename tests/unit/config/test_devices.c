// SPDX-License-Identifier: MulanPSL-2.0
/* -drive, -netdev, -chardev, -object, -device and the joins between them. */
#include <errno.h>

#include "test_helpers.h"

static void test_drive_early(void **state)
{
	struct parsed p;
	struct drive_config *d;

	(void)state;
	assert_int_equal(parse_line(&p, "-iothread id=io0 -drive id=rootfs,file=/r.img,"
					"readonly=on,direct=off,serial=SN1,iothread=io0,iops=200 "
					"-drive id=data,file=/d.img"),
			 0);
	assert_int_equal(p.cfg.nr_drives, 2);
	d = &p.cfg.drives[0];
	assert_string_equal(d->id, "rootfs");
	assert_string_equal(d->path, "/r.img");
	assert_true(d->readonly);
	assert_false(d->direct);
	assert_string_equal(d->serial, "SN1");
	assert_string_equal(d->iothread, "io0");
	assert_int_equal(d->iops, 200);
	assert_true(d->has_device);
	assert_string_equal(d->device_id, "rootfs");
	d = &p.cfg.drives[1];
	assert_true(d->direct);
	assert_false(d->readonly);
	assert_true(d->has_device);
	config_free(&p.cfg);
}

static void test_drive_v2(void **state)
{
	struct parsed p;
	struct drive_config *d;

	(void)state;
	assert_int_equal(parse_line(&p, "-object iothread,id=io1 "
					"-device virtio-blk-device,drive=d0,id=blk0,iothread=io1,"
					"serial=abc "
					"-drive id=d0,file=/d0,if=none,format=raw,aio=io_uring,"
					"throttling.iops-total=1000 "
					"-drive id=spare,file=/s,if=none"),
			 0);
	d = &p.cfg.drives[0];
	assert_true(d->has_device);
	assert_string_equal(d->device_id, "blk0");
	assert_string_equal(d->iothread, "io1");
	assert_string_equal(d->serial, "abc");
	assert_string_equal(d->aio, "io_uring");
	assert_int_equal(d->iops, 1000);
	/* with a virtio-blk-device on the line, a drive nobody names is only a backend */
	assert_false(p.cfg.drives[1].has_device);
	assert_null(p.cfg.drives[1].device_id);
	config_free(&p.cfg);
}

static void test_drive_bad(void **state)
{
	(void)state;
	assert_parse_fails("-drive file=/a", "-drive needs id=");
	assert_parse_fails("-drive id=a", "-drive needs file=");
	assert_parse_fails("-drive id=a,file=/a,format=qcow2", "'qcow2'", "-drive format");
	assert_parse_fails("-drive id=a,file=/a,aio=threads", "'threads'", "-drive aio");
	assert_parse_fails("-drive id=a,file=/a,if=virtio", "'virtio'", "-drive if");
	assert_parse_fails("-drive id=a,file=/a,readonly=maybe", "'maybe'", "-drive readonly");
	assert_parse_fails("-drive id=a,file=/a,iops=abc", "'abc'", "-drive iops");
	assert_parse_fails("-drive id=a,file=/a,iops=1000001", "'1000001'", "-drive iops");
	assert_parse_fails("-drive id=a,file=/a,serial=123456789012345678901", "-drive serial",
			   "20");
	assert_parse_fails("-drive id=a,file=/a,cache=none", "unknown key 'cache'", "-drive");
	assert_parse_fails("-drive id=a,file=/a -drive id=a,file=/b", "duplicate id 'a'", "-drive");
	assert_parse_fails("-drive id=a,file=/a,iothread=nope", "-drive", "'nope'");
	assert_parse_fails("-drive id=a,file=", "missing value for -drive file");
}

static void test_blk_device_bad(void **state)
{
	(void)state;
	assert_parse_fails("-device virtio-blk-device,drive=nope,id=b0", "virtio-blk-device",
			   "'nope'");
	assert_parse_fails("-device virtio-blk-device,id=b0", "virtio-blk-device needs drive=");
	assert_parse_fails("-drive id=a,file=/a -device virtio-blk-device,drive=a,id=x "
			   "-device virtio-blk-device,drive=a,id=y",
			   "'a'", "two");
	assert_parse_fails("-drive id=a,file=/a -device virtio-blk-device,drive=a,id=x,bus=b",
			   "unknown key 'bus'", "-device virtio-blk-device");
	assert_parse_fails("-drive id=a,file=/a -drive id=b,file=/b "
			   "-device virtio-blk-device,drive=a,id=x "
			   "-device virtio-blk-device,drive=b,id=x",
			   "duplicate id 'x'");
}

static void test_netdev_v2(void **state)
{
	struct parsed p;
	struct net_config *n;

	(void)state;
	assert_int_equal(parse_line(&p,
				    "-netdev tap,id=n0,ifname=tap0 "
				    "-device virtio-net-device,netdev=n0,id=net0,"
				    "mac=52:54:00:12:34:56 "
				    "-netdev tap,id=n1,fd=7 -device virtio-net-device,netdev=n1"),
			 0);
	assert_int_equal(p.cfg.nr_nets, 2);
	n = &p.cfg.nets[0];
	assert_string_equal(n->ifname, "tap0");
	assert_int_equal(n->nr_fds, 0);
	assert_true(n->has_mac);
	assert_memory_equal(n->mac, ((uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}), 6);
	assert_true(n->has_device);
	assert_string_equal(n->device_id, "net0");
	n = &p.cfg.nets[1];
	assert_null(n->ifname);
	assert_int_equal(n->nr_fds, 1);
	assert_int_equal(n->fds[0], 7);
	assert_int_equal(n->fds[1], -1);
	assert_false(n->has_mac);
	assert_string_equal(n->device_id, "n1");
	config_free(&p.cfg);
}

static void test_netdev_early(void **state)
{
	struct parsed p;
	struct net_config *n;

	(void)state;
	assert_int_equal(parse_line(&p, "-iothread id=io0 -netdev id=net0,netdev=tap0,"
					"mac=AA:BB:CC:DD:EE:F0,iothread=io0"),
			 0);
	n = &p.cfg.nets[0];
	assert_string_equal(n->id, "net0");
	assert_string_equal(n->ifname, "tap0");
	assert_true(n->has_mac);
	assert_int_equal(n->mac[0], 0xaa);
	assert_int_equal(n->mac[5], 0xf0);
	assert_string_equal(n->iothread, "io0");
	assert_true(n->has_device);
	config_free(&p.cfg);
}

static void test_netdev_bad(void **state)
{
	(void)state;
	assert_parse_fails("-netdev user,id=n0", "'user'", "-netdev type");
	assert_parse_fails("-netdev tap,id=n0", "-netdev", "'n0'", "ifname");
	assert_parse_fails("-netdev tap,ifname=tap0", "-netdev needs id=");
	assert_parse_fails("-netdev tap,id=n0,fds=3:x", "'3:x'", "-netdev fds");
	assert_parse_fails("-netdev tap,id=n0,fd=3,fds=4", "fd=", "fds=");
	assert_parse_fails("-netdev tap,id=n0,ifname=t,mac=52:54:00:12:34", "'52:54:00:12:34'",
			   "mac");
	assert_parse_fails("-netdev tap,id=n0,ifname=t -device virtio-net-device,netdev=n0,"
			   "mac=01:00:00:00:00:01",
			   "'01:00:00:00:00:01'", "mac");
	assert_parse_fails("-netdev tap,id=n0,ifname=t,mac=zz:54:00:12:34:56", "'zz:54", "mac");
	assert_parse_fails("-device virtio-net-device,netdev=none,id=x", "virtio-net-device",
			   "'none'");
	assert_parse_fails("-netdev tap,id=n0,ifname=a -netdev tap,id=n0,ifname=b",
			   "duplicate id 'n0'");
}

static void test_consoles(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-device virtio-serial-device,id=vs0 "
					"-chardev socket,id=cc0,path=/tmp/con.sock,server,nowait "
					"-device virtconsole,chardev=cc0,id=con0,nr=0"),
			 0);
	assert_true(p.cfg.has_virtio_serial);
	assert_int_equal(p.cfg.nr_chardevs, 1);
	assert_int_equal(p.cfg.chardevs[0].kind, CHR_SOCKET);
	assert_true(p.cfg.chardevs[0].server);
	assert_int_equal(p.cfg.nr_consoles, 1);
	assert_string_equal(p.cfg.consoles[0].id, "con0");
	assert_string_equal(p.cfg.consoles[0].chardev, "cc0");
	config_free(&p.cfg);

	/* early form: a bare -chardev is a console by itself */
	assert_int_equal(parse_line(&p, "-chardev id=charconsole0,path=/tmp/c0"), 0);
	assert_int_equal(p.cfg.nr_consoles, 1);
	assert_string_equal(p.cfg.consoles[0].chardev, "charconsole0");
	assert_string_equal(p.cfg.chardevs[0].path, "/tmp/c0");
	assert_true(p.cfg.chardevs[0].server);
	config_free(&p.cfg);

	/* a v2 chardev nothing uses is not a console */
	assert_int_equal(parse_line(&p, "-chardev socket,id=c,path=/c,server"), 0);
	assert_int_equal(p.cfg.nr_consoles, 0);
	config_free(&p.cfg);

	assert_parse_fails("-device virtconsole,chardev=missing,id=c", "virtconsole", "'missing'");
	assert_parse_fails("-chardev socket,id=c", "-chardev needs path=");
	assert_parse_fails("-chardev vc,id=c", "'vc'", "-chardev backend");
	assert_parse_fails("-chardev socket,id=c,path=/a -chardev socket,id=c,path=/b",
			   "duplicate id 'c'", "-chardev");
	assert_parse_fails("-device virtio-serial-device -device virtio-serial-device", "twice");
}

static void test_vsock(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-device vhost-vsock-device,id=v0,guest-cid=3,vhostfd=9"),
			 0);
	assert_true(p.cfg.has_vsock);
	assert_string_equal(p.cfg.vsock_id, "v0");
	assert_int_equal(p.cfg.vsock_cid, 3);
	assert_int_equal(p.cfg.vsock_fd, 9);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-device vsock,id=vsock1,guest-cid=4294967294"), 0);
	assert_int_equal(p.cfg.vsock_cid, 4294967294ULL);
	assert_int_equal(p.cfg.vsock_fd, -1);
	config_free(&p.cfg);

	assert_parse_fails("-device vhost-vsock-device,id=v0,guest-cid=2", "'2'", "guest-cid");
	assert_parse_fails("-device vsock,id=v0,guest-cid=4294967295", "'4294967295'", "guest-cid");
	assert_parse_fails("-device vsock,id=v0", "guest-cid");
	assert_parse_fails("-device vsock,guest-cid=3", "needs id=");
	assert_parse_fails("-device vsock,id=a,guest-cid=3 -device vsock,id=b,guest-cid=4",
			   "only one");

	/* the user-space vsock: uds-path required, no vhostfd */
	assert_int_equal(
	    parse_line(&p, "-device virtio-vsock-device,id=v1,guest-cid=5,uds-path=/run/v.sock"),
	    0);
	assert_string_equal(p.cfg.vsock_uds, "/run/v.sock");
	assert_int_equal(p.cfg.vsock_cid, 5);
	assert_null(p.cfg.vsock_iothread);
	assert_string_equal(p.cfg.vsock_opt, "-device virtio-vsock-device");
	config_free(&p.cfg);
	assert_parse_fails("-device virtio-vsock-device,id=v1,guest-cid=5", "uds-path");
	assert_parse_fails("-device virtio-vsock-device,id=v1,guest-cid=5,uds-path=", "uds-path");
	assert_parse_fails("-device virtio-vsock-device,id=v1,guest-cid=5,uds-path=/a,vhostfd=3",
			   "vhostfd");
	assert_parse_fails("-device virtio-vsock-device,id=v1,guest-cid=5,uds-path=/a,iothread=t",
			   "unknown iothread 't'");
	assert_parse_fails("-device virtio-vsock-device,id=v1,guest-cid=5,uds-path=/a "
			   "-device vsock,id=v2,guest-cid=6",
			   "only one");
}

static void test_balloon(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-device virtio-balloon-device,deflate-on-oom=true"), 0);
	assert_true(p.cfg.has_balloon);
	assert_true(p.cfg.balloon_deflate_on_oom);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-balloon deflate-on-oom=false"), 0);
	assert_true(p.cfg.has_balloon);
	assert_false(p.cfg.balloon_deflate_on_oom);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-device virtio-balloon-device"), 0);
	assert_true(p.cfg.has_balloon);
	assert_false(p.cfg.balloon_deflate_on_oom);
	assert_false(p.cfg.balloon_free_page_reporting);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p,
				    "-device virtio-balloon-device,id=b0,free-page-reporting=on,"
				    "deflate-on-oom=off"),
			 0);
	assert_true(p.cfg.balloon_free_page_reporting);
	assert_false(p.cfg.balloon_deflate_on_oom);
	config_free(&p.cfg);

	assert_parse_fails("-device virtio-balloon-device,free-page-reporting=maybe", "'maybe'");
	assert_parse_fails("-balloon free-page-reporting=on", "unknown key 'free-page-reporting'");

	assert_parse_fails("-balloon deflate-on-oom=sometimes", "'sometimes'", "-balloon");
	assert_parse_fails("-device virtio-balloon-device,free-page-hinting=on",
			   "unknown key 'free-page-hinting'");
}

static void test_rng(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-device virtio-rng-device,rng=r0,id=rng0,max-bytes=1234,"
					"period=500 -object rng-random,id=r0,filename=/dev/random"),
			 0);
	assert_true(p.cfg.has_rng);
	assert_string_equal(p.cfg.rng_file, "/dev/random");
	assert_string_equal(p.cfg.rng_id, "rng0");
	assert_int_equal(p.cfg.rng_bytes_per_sec, 2468);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-rng random_file=/dev/urandom,bytes_per_sec=1000000"), 0);
	assert_true(p.cfg.has_rng);
	assert_string_equal(p.cfg.rng_file, "/dev/urandom");
	assert_int_equal(p.cfg.rng_bytes_per_sec, 1000000);
	config_free(&p.cfg);

	/* an object alone is no device */
	assert_int_equal(parse_line(&p, "-object rng-random,id=r0,filename=/dev/urandom"), 0);
	assert_false(p.cfg.has_rng);
	config_free(&p.cfg);

	assert_parse_fails("-device virtio-rng-device,rng=r9", "virtio-rng-device", "'r9'");
	assert_parse_fails("-object rng-egd,id=r0", "'rng-egd'", "-object");
	assert_parse_fails("-object rng-random,id=r0", "needs filename=");
	assert_parse_fails("-rng random_file=/dev/urandom,bytes_per_sec=10", "'10'",
			   "bytes_per_sec");
	assert_parse_fails("-object rng-random,id=r,filename=/u -device virtio-rng-device,rng=r,"
			   "max-bytes=1,period=1000",
			   "max-bytes");
}

static void test_iothreads(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-iothread id=a -object iothread,id=b"), 0);
	assert_int_equal(p.cfg.nr_iothreads, 2);
	assert_string_equal(p.cfg.iothreads[0], "a");
	assert_string_equal(p.cfg.iothreads[1], "b");
	config_free(&p.cfg);

	assert_parse_fails("-iothread id=a -object iothread,id=a", "duplicate id 'a'");
	assert_parse_fails("-object iothread", "needs id=");
	assert_parse_fails("-iothread id=a,poll-max-ns=10", "unknown key 'poll-max-ns'");
}

static void test_device_bad(void **state)
{
	(void)state;
	assert_parse_fails("-device virtio-blk-pci,drive=a", "unknown device 'virtio-blk-pci'");
	assert_parse_fails("-device id=x", "-device", "driver");
	assert_parse_fails("-device virtio-balloon-device,id=x -device virtio-serial-device,id=x",
			   "duplicate id 'x'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drive_early), cmocka_unit_test(test_drive_v2),
	    cmocka_unit_test(test_drive_bad),	cmocka_unit_test(test_blk_device_bad),
	    cmocka_unit_test(test_netdev_v2),	cmocka_unit_test(test_netdev_early),
	    cmocka_unit_test(test_netdev_bad),	cmocka_unit_test(test_consoles),
	    cmocka_unit_test(test_vsock),	cmocka_unit_test(test_balloon),
	    cmocka_unit_test(test_rng),		cmocka_unit_test(test_iothreads),
	    cmocka_unit_test(test_device_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
