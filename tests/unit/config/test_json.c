// SPDX-License-Identifier: MulanPSL-2.0
/* The early JSON configuration, alone and under command-line overrides. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "test_helpers.h"

static const char full_json[] =
    "{\n"
    " \"boot-source\": {\"kernel_image_path\": \"/vmlinux.bin\",\n"
    "                  \"boot_args\": \"console=ttyS0 reboot=k\",\n"
    "                  \"initrd_fs_path\": \"/initrd\"},\n"
    " \"machine-config\": {\"type\": \"MicroVm\", \"vcpu_count\": 2, \"mem_size\": 536870912,\n"
    "                     \"mem_path\": \"/dev/hugepages\", \"mem_share\": true,\n"
    "                     \"dump_guest_core\": false},\n"
    " \"drive\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/rootfs.ext4\",\n"
    "            \"read_only\": true, \"direct\": false, \"serial_num\": \"s1\",\n"
    "            \"iothread\": \"io1\", \"iops\": 200}],\n"
    " \"net\": [{\"iface_id\": \"net0\", \"host_dev_name\": \"tap0\",\n"
    "          \"mac\": \"12:34:56:78:9A:BC\", \"tap_fd\": 5, \"iothread\": \"io1\"}],\n"
    " \"console\": [{\"console_id\": \"charconsole0\", \"socket_path\": \"/tmp/con\"}],\n"
    " \"vsock\": {\"vsock_id\": \"vsock0\", \"guest_cid\": 3},\n"
    " \"serial\": {\"stdio\": true},\n"
    " \"iothread\": [{\"id\": \"io1\"}],\n"
    " \"balloon\": {\"deflate_on_oom\": true, \"free_page_reporting\": true},\n"
    " \"rng\": {\"random_file\": \"/dev/urandom\", \"bytes_per_sec\": 1000000}\n"
    "}\n";

static void test_json_full(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg, full_json, err, sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	assert_true(cfg.has_vsock); /* no uds_path: vhost-vsock */
	assert_null(cfg.vsock_uds);
	assert_int_equal(cfg.vsock_fd, -1);
	assert_string_equal(cfg.kernel, "/vmlinux.bin");
	assert_string_equal(cfg.cmdline, "console=ttyS0 reboot=k");
	assert_string_equal(cfg.initrd, "/initrd");
	assert_int_equal(cfg.nr_cpus, 2);
	assert_int_equal(cfg.max_cpus, 2);
	assert_int_equal(cfg.mem_size, 512ULL << 20);
	assert_string_equal(cfg.mem_path, "/dev/hugepages");
	assert_true(cfg.mem_share);
	assert_false(cfg.dump_guest_core);
	assert_int_equal(cfg.nr_drives, 1);
	assert_string_equal(cfg.drives[0].id, "rootfs");
	assert_true(cfg.drives[0].readonly);
	assert_false(cfg.drives[0].direct);
	assert_string_equal(cfg.drives[0].serial, "s1");
	assert_int_equal(cfg.drives[0].iops, 200);
	assert_true(cfg.drives[0].has_device);
	assert_int_equal(cfg.nr_nets, 1);
	assert_string_equal(cfg.nets[0].ifname, "tap0");
	assert_int_equal(cfg.nets[0].fds[0], 5);
	assert_int_equal(cfg.nets[0].mac[5], 0xbc);
	assert_true(cfg.nets[0].has_device);
	assert_int_equal(cfg.nr_consoles, 1);
	assert_int_equal(cfg.chardevs[0].kind, CHR_SOCKET);
	assert_string_equal(cfg.chardevs[0].path, "/tmp/con");
	assert_int_equal(cfg.vsock_cid, 3);
	assert_int_equal(cfg.serial.kind, CHR_STDIO);
	assert_int_equal(cfg.nr_iothreads, 1);
	assert_true(cfg.has_balloon);
	assert_true(cfg.balloon_deflate_on_oom);
	assert_true(cfg.balloon_free_page_reporting);
	assert_true(cfg.has_rng);
	assert_int_equal(cfg.rng_bytes_per_sec, 1000000);
	config_free(&cfg);
}

static int json_fails(const char *text, const char *frag)
{
	struct vm_config cfg;
	char err[256] = "";
	int ret;

	config_init(&cfg);
	ret = config_parse_json_text(&cfg, text, err, sizeof(err));
	if (ret == 0) {
		/* some mistakes only show when the whole config is checked */
		if (!cfg.kernel)
			cfg.kernel = strdup("/k");
		ret = config_validate(&cfg, err, sizeof(err));
	}
	config_free(&cfg);
	if (ret != -EINVAL)
		fail_msg("'%s' parsed (ret %d)", text, ret);
	if (!strstr(err, frag))
		fail_msg("error '%s' lacks '%s'", err, frag);
	return 0;
}

static void test_json_unknown_keys(void **state)
{
	(void)state;
	json_fails("{\"boot-sauce\": {}}", "'boot-sauce'");
	json_fails("{\"machine-config\": {\"vcpus\": 2}}", "'vcpus'");
	json_fails("{\"drive\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"ro\": 1}]}",
		   "'ro'");
	json_fails("{\"net\": [{\"iface_id\": \"n\", \"host_dev_name\": \"t\", \"x\": 1}]}", "'x'");
	json_fails("{\"vsock\": {\"vsock_id\": \"v\", \"guest_cid\": 3, \"port\": 1}}", "'port'");
	json_fails("{\"rng\": {\"random_file\": \"/u\", \"rate\": 1}}", "'rate'");
}

static void test_json_bad_values(void **state)
{
	(void)state;
	json_fails("{\"machine-config\": {\"vcpu_count\": 0}}", "vcpu_count");
	json_fails("{\"machine-config\": {\"vcpu_count\": \"2\"}}", "vcpu_count");
	json_fails("{\"machine-config\": {\"mem_size\": 1024}}", "mem_size");
	json_fails("{\"machine-config\": {\"mem_size\": \"lots\"}}", "mem_size");
	json_fails("{\"machine-config\": {\"type\": \"pc\"}}", "type");
	json_fails("{\"machine-config\": {\"mem_share\": 1}}", "mem_share");
	json_fails("{\"drive\": {\"drive_id\": \"a\"}}", "drive");
	json_fails("{\"drive\": [{\"drive_id\": \"a\"}]}", "path_on_host");
	json_fails("{\"drive\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\"},"
		   " {\"drive_id\": \"a\", \"path_on_host\": \"/b\"}]}",
		   "duplicate id 'a'");
	json_fails("{\"net\": [{\"iface_id\": \"n\"}]}", "host_dev_name");
	json_fails("{\"net\": [{\"iface_id\": \"n\", \"host_dev_name\": \"t\", \"mac\": \"x\"}]}",
		   "mac");
	json_fails("{\"vsock\": {\"vsock_id\": \"v\", \"guest_cid\": 2}}", "guest_cid");
	json_fails("{\"drive\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\","
		   " \"iothread\": \"nope\"}]}",
		   "'nope'");
	json_fails("{\"boot-source\": {\"kernel_image_path\": 5}}", "kernel_image_path");
	json_fails("[1, 2]", "object");
	json_fails("{\"machine-config\": {\"vcpu_count\": 1,}", "JSON");
	json_fails("{\"machine-config\": {}, \"machine-config\": {}}", "JSON");
}

static void test_json_mem_string(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg,
						"{\"machine-config\": {\"mem_size\": \"1G\"}}", err,
						sizeof(err)),
			 0);
	assert_int_equal(cfg.mem_size, 1ULL << 30);
	assert_int_equal(config_parse_json_text(&cfg,
						"{\"machine-config\": {\"mem_size\": \"512M\"}}",
						err, sizeof(err)),
			 0);
	assert_int_equal(cfg.mem_size, 512ULL << 20);
	assert_int_equal(
	    config_parse_json_text(&cfg, "{\"machine-config\": {\"mem_size\": \"268435456\"}}", err,
				   sizeof(err)),
	    0);
	assert_int_equal(cfg.mem_size, 256ULL << 20);
	config_free(&cfg);
}

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config_file_with_overrides(void **state)
{
	char path[] = "/tmp/sv-config-XXXXXX";
	char line[512];
	struct parsed p;
	char err[256];

	(void)state;
	write_file(path, full_json);
	snprintf(line, sizeof(line),
		 "-smp 1 -config %s -smp 4 -m 1G -append quiet "
		 "-drive id=extra,file=/e -serial pty",
		 path);
	assert_int_equal(parse_line(&p, line), 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), 0);
	assert_string_equal(p.cfg.config_file, path);
	assert_string_equal(p.cfg.kernel, "/vmlinux.bin");
	assert_int_equal(p.cfg.nr_cpus, 4);
	assert_int_equal(p.cfg.mem_size, 1ULL << 30);
	assert_string_equal(p.cfg.cmdline, "quiet");
	assert_int_equal(p.cfg.serial.kind, CHR_PTY);
	assert_int_equal(p.cfg.nr_drives, 2);
	assert_true(p.cfg.drives[0].has_device);
	assert_true(p.cfg.drives[1].has_device);
	config_free(&p.cfg);

	/* the file overrides what came before it */
	snprintf(line, sizeof(line), "-smp 4 -config %s", path);
	assert_int_equal(parse_line(&p, line), 0);
	assert_int_equal(p.cfg.nr_cpus, 2);
	config_free(&p.cfg);
	unlink(path);
}

static void test_config_file_errors(void **state)
{
	char path[] = "/tmp/sv-config-XXXXXX";
	char line[256];

	(void)state;
	assert_parse_fails("-config /nonexistent/sv.json", "-config", "/nonexistent/sv.json");
	write_file(path, "{\"machine-config\": {\"vcpu_count\": 1, \"bogus\": true}}");
	snprintf(line, sizeof(line), "-config %s", path);
	assert_parse_fails(line, "-config", path, "'bogus'");
	unlink(path);
	strcpy(path, "/tmp/sv-config-XXXXXX");
	write_file(path, "{ not json");
	snprintf(line, sizeof(line), "-config %s", path);
	assert_parse_fails(line, "-config", "line 1");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_full),
	    cmocka_unit_test(test_json_unknown_keys),
	    cmocka_unit_test(test_json_bad_values),
	    cmocka_unit_test(test_json_mem_string),
	    cmocka_unit_test(test_config_file_with_overrides),
	    cmocka_unit_test(test_config_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
