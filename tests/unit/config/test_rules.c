// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The rules that keep every accepted option real: refused options, id name
 * spaces, the virtio-mmio slot limit, the rng file, -m in bytes, negative
 * numbers, isa-debug-exit, and how values are echoed in messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_helpers.h"
#include "config/config_internal.h"

/* Parses line (which must parse) and expects config_validate() to give msg. */
static void validate_says(const char *line, const char *msg)
{
	struct parsed p;

	if (parse_line(&p, line))
		fail_msg("'%s' did not parse: %s", line, p.err);
	p.err[0] = '\0';
	if (config_validate(&p.cfg, p.err, sizeof(p.err)) != -EINVAL)
		fail_msg("'%s' was accepted", line);
	if (strcmp(p.err, msg))
		fail_msg("'%s': error '%s', expected '%s'", line, p.err, msg);
	config_free(&p.cfg);
}

static void validate_ok(const char *line)
{
	struct parsed p;

	if (parse_line(&p, line))
		fail_msg("'%s' did not parse: %s", line, p.err);
	if (config_validate(&p.cfg, p.err, sizeof(p.err)))
		fail_msg("'%s' refused: %s", line, p.err);
	config_free(&p.cfg);
}

static void json_validate_says(const char *text, const char *msg)
{
	struct vm_config cfg;
	char err[256] = "";

	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
	config_free(&cfg);
}

static void test_refused_options(void **state)
{
	(void)state;
	validate_says("-kernel /k -incoming file:/tmpl", "-incoming is not supported yet");
	/* vhost-vsock is implemented now: these pass validation */
	validate_ok("-kernel /k -device vhost-vsock-device,id=v,guest-cid=3");
	validate_ok("-kernel /k -device vsock,id=v,guest-cid=3,vhostfd=9");
	/* their syntax is still checked first, with the usual messages */
	assert_parse_fails("-incoming tcp:0:1", "invalid value 'tcp:0:1' for -incoming");
	assert_parse_fails("-device vsock,id=v,guest-cid=2", "'2'", "guest-cid");
	assert_parse_fails("-balloon deflate-on-oom=maybe", "'maybe'", "-balloon");
	/* another error on the line is reported instead */
	validate_says("-kernel /k -incoming file:/t -serial stdio -daemonize",
		      "-serial stdio cannot be used with -daemonize");
}

static void test_machine_usb(void **state)
{
	(void)state;
	validate_ok("-kernel /k -machine microvm,usb=off,accel=kvm");
	assert_parse_fails("-machine microvm,usb=on",
			   "invalid value 'on' for -machine usb: only off is supported");
	assert_parse_fails("-machine microvm,usb", "-machine usb");
}

static void test_device_ids(void **state)
{
	(void)state;
	/* -device ids: one space across every kind of device */
	assert_parse_fails("-device virtio-rng-device,rng=r,id=x "
			   "-device virtio-blk-device,drive=d,id=x",
			   "duplicate id 'x' for -device virtio-blk-device");
	assert_parse_fails("-device isa-debug-exit,id=x -device virtio-serial-device,id=x",
			   "duplicate id 'x' for -device virtio-serial-device");
	/* an id left out is the back end's, and still must not clash */
	validate_says("-kernel /k -drive id=a,file=/a -netdev tap,id=a,ifname=t0 "
		      "-device virtio-blk-device,drive=a -device virtio-net-device,netdev=a",
		      "duplicate device id 'a': a virtio-blk-device and a virtio-net-device "
		      "have it (an id= left out is the back end's id)");
	validate_says("-kernel /k -drive id=rootfs,file=/a -chardev id=rootfs,path=/s",
		      "duplicate device id 'rootfs': a virtio-blk-device and a virtconsole "
		      "have it (an id= left out is the back end's id)");
	validate_says("-kernel /k -object rng-random,id=r,filename=/dev/urandom "
		      "-device virtio-rng-device,rng=r -drive id=d,file=/d "
		      "-device virtio-blk-device,drive=d,id=r",
		      "duplicate device id 'r': a virtio-blk-device and a virtio-rng-device "
		      "have it (an id= left out is the back end's id)");
	/* back ends have their own spaces, apart from -device ids */
	validate_ok(
	    "-kernel /k -drive id=a,file=/a -netdev tap,id=a,ifname=t0 "
	    "-chardev socket,id=a,path=/s,server -iothread id=a "
	    "-device virtio-blk-device,drive=a,id=blk -device virtio-net-device,netdev=a,id=net "
	    "-device virtconsole,chardev=a,id=con");
	assert_parse_fails("-drive id=a,file=/a -drive id=a,file=/b",
			   "duplicate id 'a' for -drive");
	assert_parse_fails("-netdev tap,id=n,ifname=a -netdev tap,id=n,ifname=b",
			   "duplicate id 'n' for -netdev");
	assert_parse_fails("-chardev pty,id=c -chardev socket,id=c,path=/s,server",
			   "duplicate id 'c' for -chardev");
	/* -object ids are one space: iothreads and rng-random objects */
	assert_parse_fails("-object iothread,id=o -object rng-random,id=o,filename=/dev/urandom",
			   "duplicate id 'o' for -object rng-random: an iothread has it");
	assert_parse_fails("-object rng-random,id=o,filename=/dev/urandom -iothread id=o",
			   "duplicate id 'o' for -object rng-random: an iothread has it");
	assert_parse_fails(
	    "-object rng-random,id=o,filename=/a -object rng-random,id=o,filename=/b",
	    "duplicate id 'o' for -object rng-random");
}

static void add_drives(char *line, size_t len, int n)
{
	for (int i = 0; i < n; i++)
		snprintf(line + strlen(line), len - strlen(line), " -drive id=d%d,file=/d%d", i, i);
}

static void test_virtio_slots(void **state)
{
	char line[2048];

	(void)state;
	/* disks alone: 16 slots less the 2 NIC slots that always exist */
	snprintf(line, sizeof(line), "-kernel /k");
	add_drives(line, sizeof(line), 14);
	validate_ok(line);
	snprintf(line, sizeof(line), "-kernel /k");
	add_drives(line, sizeof(line), 15);
	validate_says(line,
		      "too many virtio devices: 15 disks, 0 NICs, 0 consoles and 0 rng need "
		      "17 virtio-mmio slots (disks take at least 4, NICs at least 2), at most "
		      "16");
	/* a drive no -device names is a back end and takes no slot */
	snprintf(line, sizeof(line), "-kernel /k -device virtio-blk-device,drive=d0");
	add_drives(line, sizeof(line), 16);
	validate_ok(line);
	/* consoles and the rng take one each; NICs beyond 2 take more */
	snprintf(line, sizeof(line),
		 "-kernel /k -netdev tap,id=n0,ifname=a -netdev tap,id=n1,ifname=b "
		 "-netdev tap,id=n2,ifname=c -chardev id=c0,path=/c0 -chardev id=c1,path=/c1 "
		 "-rng random_file=/dev/urandom");
	add_drives(line, sizeof(line), 10);
	validate_ok(line);
	strcat(line, " -drive id=d10,file=/d10");
	validate_says(line,
		      "too many virtio devices: 11 disks, 3 NICs, 2 consoles and 1 rng need "
		      "17 virtio-mmio slots (disks take at least 4, NICs at least 2), at most "
		      "16");
	/* so does the balloon */
	snprintf(line, sizeof(line), "-kernel /k -device virtio-balloon-device");
	add_drives(line, sizeof(line), 13);
	validate_ok(line);
	strcat(line, " -drive id=d13,file=/d13");
	validate_says(line,
		      "too many virtio devices: 14 disks, 0 NICs, 0 consoles and 0 rng plus a "
		      "balloon need 17 virtio-mmio slots (disks take at least 4, NICs at least 2), "
		      "at most 16");
}

static void test_rng_file(void **state)
{
	char dir[] = "/tmp/sv-rng-XXXXXX", fifo[64], file[64], line[256];
	struct parsed p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(file, sizeof(file), "%s/seed", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	close(open(file, O_CREAT | O_WRONLY, 0600));

	snprintf(line, sizeof(line), "-kernel /k -rng random_file=%s", dir);
	snprintf(p.err, sizeof(p.err),
		 "invalid value '%s' for -rng random_file: not a character device or regular file",
		 dir);
	validate_says(line, p.err);
	snprintf(line, sizeof(line),
		 "-kernel /k -object rng-random,id=r,filename=%s -device virtio-rng-device,rng=r",
		 fifo);
	snprintf(p.err, sizeof(p.err),
		 "invalid value '%s' for -object rng-random filename: not a character device or "
		 "regular file",
		 fifo);
	validate_says(line, p.err);
	snprintf(line, sizeof(line), "-kernel /k -rng random_file=%s/none", dir);
	snprintf(p.err, sizeof(p.err),
		 "invalid value '%s/none' for -rng random_file: No such file or directory", dir);
	validate_says(line, p.err);
	snprintf(line, sizeof(line),
		 "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, "
		 "\"rng\": {\"random_file\": \"%s\"}}",
		 dir);
	snprintf(p.err, sizeof(p.err),
		 "invalid value '%s' for JSON rng.random_file: not a character device or regular "
		 "file",
		 dir);
	json_validate_says(line, p.err);

	/* a character device and a regular file are good sources */
	validate_ok("-kernel /k -rng random_file=/dev/urandom");
	snprintf(line, sizeof(line), "-kernel /k -rng random_file=%s", file);
	validate_ok(line);
	/* root reads any file: the mode check only shows for other users */
	if (geteuid()) {
		chmod(file, 0);
		snprintf(p.err, sizeof(p.err),
			 "invalid value '%s' for -rng random_file: not readable: Permission denied",
			 file);
		validate_says(line, p.err);
	}
	unlink(file);
	unlink(fifo);
	rmdir(dir);
}

static void test_mem_bytes(void **state)
{
	struct parsed p;

	(void)state;
	assert_parse_fails("-m 1048576", "invalid value '1048576' for -m size: read as bytes "
					 "(1 MiB), below the 128 MiB minimum");
	assert_parse_fails("-m 134217727", "read as bytes (127 MiB), below the 128 MiB minimum");
	/* just below the threshold it is MiB, and far too much */
	assert_parse_fails("-m 1048575", "invalid value '1048575' for -m size: must be 128M..512G");
	assert_parse_fails("-m 100", "invalid value '100' for -m size: must be 128M..512G");
	assert_int_equal(parse_line(&p, "-m 134217728"), 0);
	assert_int_equal(p.cfg.mem_size, 128ULL << 20);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-m 512"), 0);
	assert_int_equal(p.cfg.mem_size, 512ULL << 20);
	config_free(&p.cfg);
}

static void test_negative_numbers(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_parse_fails("-smp -1", "invalid value '-1' for -smp cpus: must be 1..254");
	assert_parse_fails("-m -256", "invalid value '-256' for -m size: must be 128M..512G");
	assert_parse_fails("-smp cpus=-2", "invalid value '-2' for -smp cpus: must be 1..254");
	assert_parse_fails("-drive id=a,file=/a,iops=-5", "invalid value '-5' for -drive iops");
	/* a word that is not a number still is an option */
	assert_parse_fails("-smp -kernel /k", "missing value for -smp");
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg, "{\"machine-config\": {\"mem_size\": -1}}",
						err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
	    err, "invalid value '-1' for JSON machine-config.mem_size: must be 128M..512G");
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_parse_json_text(&cfg, "{\"machine-config\": {\"vcpu_count\": -3}}",
						err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
	    err, "invalid value '-3' for JSON machine-config.vcpu_count: must be 1..254");
	config_free(&cfg);
}

static void test_debug_exit(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k"), 0);
	assert_false(p.cfg.debug_exit);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-device isa-debug-exit,iobase=0xf4,iosize=4"), 0);
	assert_true(p.cfg.debug_exit);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-device isa-debug-exit,iobase=244,iosize=0x4,id=dbg"), 0);
	assert_true(p.cfg.debug_exit);
	config_free(&p.cfg);
	assert_int_equal(parse_line(&p, "-device isa-debug-exit"), 0);
	assert_true(p.cfg.debug_exit);
	config_free(&p.cfg);

	assert_parse_fails("-device isa-debug-exit,iobase=0x501,iosize=2",
			   "invalid value '0x501' for -device isa-debug-exit iobase: only 0xf4 is "
			   "supported");
	assert_parse_fails(
	    "-device isa-debug-exit,iobase=0xf4,iosize=2",
	    "invalid value '2' for -device isa-debug-exit iosize: only 4 is supported");
	assert_parse_fails("-device isa-debug-exit,iobase=0xfz",
			   "invalid value '0xfz' for -device isa-debug-exit iobase");
	assert_parse_fails("-device isa-debug-exit,iobase=", "-device isa-debug-exit iobase");
	assert_parse_fails("-device isa-debug-exit,size=4",
			   "unknown key 'size' for -device isa-debug-exit");
	assert_parse_fails("-device isa-debug-exit -device isa-debug-exit",
			   "-device isa-debug-exit given twice");
}

static void test_echoed_values(void **state)
{
	char err[512], line[400], want[300];
	struct parsed p;

	(void)state;
	/* control characters are escaped: the message stays one harmless line */
	assert_int_equal(parse_line(&p, "-smp \x01\x1b[2J\n\x7f"), -EINVAL);
	assert_string_equal(p.err, "invalid value '\\x01\\x1b[2J\\x0a\\x7f' for -smp cpus: must "
				   "be 1..254");
	config_free(&p.cfg);
	/* a long value is cut after 128 bytes and ends in "..." */
	memset(want, 'a', 200);
	want[200] = '\0';
	snprintf(line, sizeof(line), "-smp %s", want);
	assert_int_equal(parse_line(&p, line), -EINVAL);
	memcpy(want, "invalid value '", 15);
	memset(want + 15, 'a', CFG_ECHO_MAX);
	strcpy(want + 15 + CFG_ECHO_MAX, "...' for -smp cpus: must be 1..254");
	assert_string_equal(p.err, want);
	config_free(&p.cfg);

	/* the formatter itself: numbers, %%, a value cut before a UTF-8 sequence */
	cfg_err(err, sizeof(err), "%d %u %lld %llu %zu %x %c%% %s", -3, 4u, -5LL, 6ULL, (size_t)7,
		255u, 'q', "v\tw");
	assert_string_equal(err, "-3 4 -5 6 7 ff q% v\\x09w");
	memset(line, 'b', CFG_ECHO_MAX - 1);
	strcpy(line + CFG_ECHO_MAX - 1, "\xc3\xa9tail");
	cfg_err(err, sizeof(err), "'%s'", line);
	assert_int_equal(strlen(err), 2 + CFG_ECHO_MAX - 1 + 3);
	assert_string_equal(err + 1 + CFG_ECHO_MAX - 1, "...'");
	/* a short buffer is still a terminated string */
	cfg_err(err, 8, "value '%s'", "abcdefgh");
	assert_string_equal(err, "value '");
	assert_int_equal(cfg_quote(err, sizeof(err), "a\nb"), 6);
	assert_string_equal(err, "a\\x0ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_options),  cmocka_unit_test(test_machine_usb),
	    cmocka_unit_test(test_device_ids),	     cmocka_unit_test(test_virtio_slots),
	    cmocka_unit_test(test_rng_file),	     cmocka_unit_test(test_mem_bytes),
	    cmocka_unit_test(test_negative_numbers), cmocka_unit_test(test_debug_exit),
	    cmocka_unit_test(test_echoed_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
