// SPDX-License-Identifier: MulanPSL-2.0
/* Machine, cpu, memory, boot, control and process options. */
#include <errno.h>

#include "arch/arch.h"
#include "test_helpers.h"

static void test_mem_forms(void **state)
{
	static const struct {
		const char *line;
		uint64_t bytes;
	} good[] = {
	    {"-m 256", 256ULL << 20},	    {"-m 268435456", 256ULL << 20},
	    {"-m size=256M", 256ULL << 20}, {"-m 1G", 1ULL << 30},
	    {"-m 2g", 2ULL << 30},	    {"-m 131072K", 128ULL << 20},
	    {"-m 512G", 512ULL << 30},	    {"--m 300m", 300ULL << 20},
	};
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_line(&p, good[i].line), 0);
		assert_int_equal(p.cfg.mem_size, good[i].bytes);
		config_free(&p.cfg);
	}
}

static void test_mem_bad(void **state)
{
	(void)state;
	assert_parse_fails("-m 100", "'100'", "-m size", "128M..512G");
	assert_parse_fails("-m 0", "'0'", "-m");
	assert_parse_fails("-m 1T", "'1T'", "-m");
	assert_parse_fails("-m abc", "'abc'", "-m");
	assert_parse_fails("-m 256X", "'256X'", "-m");
	assert_parse_fails("-m 99999999999999999999999", "-m");
	assert_parse_fails("-m size=256M,slots=2", "unknown key 'slots'", "-m");
	assert_parse_fails("-m", "missing value for -m");
}

static void test_smp_forms(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-smp 2"), 0);
	assert_int_equal(p.cfg.nr_cpus, 2);
	assert_int_equal(p.cfg.max_cpus, 2);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-smp cpus=2,sockets=1,cores=2,threads=1,maxcpus=2"), 0);
	assert_int_equal(p.cfg.nr_cpus, 2);
	assert_int_equal(p.cfg.max_cpus, 2);
	assert_int_equal(p.cfg.sockets, 1);
	assert_int_equal(p.cfg.cores, 2);
	assert_int_equal(p.cfg.threads, 1);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-smp 2,maxcpus=8,sockets=2,dies=1,clusters=2,threads=2"),
			 0);
	assert_int_equal(p.cfg.nr_cpus, 2);
	assert_int_equal(p.cfg.max_cpus, 8);
	assert_int_equal(p.cfg.cores, 1);
	assert_int_equal(p.cfg.clusters, 2);
	config_free(&p.cfg);

	/* missing sockets are derived */
	assert_int_equal(parse_line(&p, "-smp cpus=8,cores=2,threads=2"), 0);
	assert_int_equal(p.cfg.sockets, 2);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-smp 254"), 0);
	assert_int_equal(p.cfg.nr_cpus, 254);
	config_free(&p.cfg);
}

static void test_smp_bad(void **state)
{
	(void)state;
	assert_parse_fails("-smp 0", "invalid value '0' for -smp cpus: must be 1..254");
	assert_parse_fails("-smp 255", "'255'", "-smp cpus");
	assert_parse_fails("-smp two", "'two'", "-smp cpus");
	/* a negative number is a bad value, not a missing one */
	assert_parse_fails("-smp -1", "invalid value '-1' for -smp cpus: must be 1..254");
	assert_parse_fails("-smp cpus=4,maxcpus=2", "-smp maxcpus", "'2'");
	assert_parse_fails("-smp cpus=4,sockets=1,cores=3,threads=1", "topology", "-smp");
	assert_parse_fails("-smp cpus=2,cores=0", "'0'", "-smp cores");
	assert_parse_fails("-smp cpus=2,books=1", "unknown key 'books'", "-smp");
	assert_parse_fails("-smp cpus=2,cpus=3", "'cpus'", "twice");
}

static void test_machine(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-machine microvm"), 0);
	assert_true(p.cfg.dump_guest_core);
	assert_false(p.cfg.mem_share);
	assert_true(p.cfg.acpi);
	config_free(&p.cfg);

	assert_int_equal(
	    parse_line(&p, "-machine type=microvm,dump-guest-core=off,mem-share=on,acpi=off"), 0);
	assert_false(p.cfg.dump_guest_core);
	assert_true(p.cfg.mem_share);
	assert_false(p.cfg.acpi);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-machine MicroVm,accel=kvm,usb=off"), 0);
	config_free(&p.cfg);

	assert_parse_fails("-machine pc", "'pc'", "-machine type");
	assert_parse_fails("-machine microvm,foo=bar", "unknown key 'foo'", "-machine");
	assert_parse_fails("-machine microvm,mem-share=maybe", "'maybe'", "-machine mem-share");
	assert_parse_fails("-machine microvm,accel=tcg", "'tcg'", "accel");
}

static void test_append(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /k -append console=ttyS0 pci=off reboot=k -smp 2"),
			 0);
	assert_string_equal(p.cfg.cmdline, "console=ttyS0 pci=off reboot=k");
	assert_string_equal(p.cfg.kernel, "/k");
	assert_int_equal(p.cfg.nr_cpus, 2);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-append 'console=ttyS0 quiet panic=1'"), 0);
	assert_string_equal(p.cfg.cmdline, "console=ttyS0 quiet panic=1");
	config_free(&p.cfg);

	/* a later -append replaces the earlier one */
	assert_int_equal(parse_line(&p, "-append a b -append c"), 0);
	assert_string_equal(p.cfg.cmdline, "c");
	config_free(&p.cfg);

	assert_parse_fails("-append", "missing value for -append");
	assert_parse_fails("-append -kernel /k", "missing value for -append");
}

static void test_paths_and_flags(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel /vmlinux.bin -initrd /initrd.img -name vm1 "
					"-mem-path /dev/hugepages -mem-prealloc -pidfile /run/p "
					"-daemonize -disable-seccomp -S -incoming file:/tmpl"),
			 0);
	assert_string_equal(p.cfg.kernel, "/vmlinux.bin");
	assert_string_equal(p.cfg.initrd, "/initrd.img");
	assert_string_equal(p.cfg.name, "vm1");
	assert_string_equal(p.cfg.mem_path, "/dev/hugepages");
	assert_true(p.cfg.mem_prealloc);
	assert_string_equal(p.cfg.pidfile, "/run/p");
	assert_true(p.cfg.daemonize);
	assert_true(p.cfg.disable_seccomp);
	assert_true(p.cfg.start_paused);
	assert_string_equal(p.cfg.incoming, "file:/tmpl");
	assert_int_equal(p.action, CONFIG_RUN);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-name guest=vm2,debug-threads=on"), 0);
	assert_string_equal(p.cfg.name, "vm2");
	config_free(&p.cfg);

	assert_parse_fails("-kernel", "missing value for -kernel");
	assert_parse_fails("-kernel -initrd /i", "missing value for -kernel");
	assert_parse_fails("-incoming tcp:0:4444", "'tcp:0:4444'", "-incoming");
	assert_parse_fails("-pidfile ''", "-pidfile");
}

static void test_double_dash_and_actions(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "--kernel /k --smp 3"), 0);
	assert_string_equal(p.cfg.kernel, "/k");
	assert_int_equal(p.cfg.nr_cpus, 3);
	config_free(&p.cfg);

	static const char *const help[] = {"--help", "-h", "-help", "-kernel /k --help"};
	static const char *const ver[] = {"--version", "-version", "-V"};
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		assert_int_equal(parse_line(&p, help[i]), 0);
		assert_int_equal(p.action, CONFIG_HELP);
		config_free(&p.cfg);
	}
	for (size_t i = 0; i < sizeof(ver) / sizeof(ver[0]); i++) {
		assert_int_equal(parse_line(&p, ver[i]), 0);
		assert_int_equal(p.action, CONFIG_VERSION);
		config_free(&p.cfg);
	}
}

static void test_unknown_option(void **state)
{
	(void)state;
	assert_parse_fails("-foo", "unknown option '-foo'");
	assert_parse_fails("-kernel /k --bar 1", "unknown option '--bar'");
	assert_parse_fails("-kernel /k stray", "unexpected argument 'stray'");
	assert_parse_fails("-", "unexpected argument '-'");
}

static void test_log_option(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-D"), 0);
	assert_true(p.cfg.log_enabled);
	assert_null(p.cfg.log_file);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-D -kernel /k"), 0);
	assert_true(p.cfg.log_enabled);
	assert_null(p.cfg.log_file);
	assert_string_equal(p.cfg.kernel, "/k");
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-D /tmp/sv.log -S"), 0);
	assert_string_equal(p.cfg.log_file, "/tmp/sv.log");
	assert_true(p.cfg.start_paused);
	config_free(&p.cfg);
}

static void test_qmp(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-qmp unix:/tmp/q.sock,server,nowait"), 0);
	assert_string_equal(p.cfg.qmp_path, "/tmp/q.sock");
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-api-channel unix:/tmp/a.sock"), 0);
	assert_string_equal(p.cfg.qmp_path, "/tmp/a.sock");
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-qmp unix:/tmp/q,server=on,wait=off"), 0);
	assert_string_equal(p.cfg.qmp_path, "/tmp/q");
	config_free(&p.cfg);

	assert_parse_fails("-qmp tcp:127.0.0.1:4444,server,nowait", "'tcp:127.0.0.1:4444", "-qmp");
	assert_parse_fails("-qmp unix:", "-qmp", "unix:PATH");
	assert_parse_fails("-qmp unix:/q,server=off", "-qmp server");
	assert_parse_fails("-qmp unix:/q,server,nowait,bogus", "unknown key 'bogus'", "-qmp");
	assert_parse_fails("-api-channel /tmp/x", "'/tmp/x'", "-api-channel");
}

static void test_mon(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-chardev socket,id=qmp,path=/tmp/m.sock,server,nowait "
					"-mon chardev=qmp,id=monitor,mode=control"),
			 0);
	assert_string_equal(p.cfg.qmp_path, "/tmp/m.sock");
	assert_int_equal(p.cfg.nr_consoles, 0);
	config_free(&p.cfg);

	/* the chardev may come after the monitor */
	assert_int_equal(parse_line(&p, "-mon chardev=c1 -chardev socket,id=c1,path=/m,server"), 0);
	assert_string_equal(p.cfg.qmp_path, "/m");
	config_free(&p.cfg);

	assert_parse_fails("-mon chardev=nope,id=m,mode=control", "-mon", "'nope'");
	assert_parse_fails("-chardev socket,id=q,path=/m,server -mon chardev=q,mode=readline",
			   "'readline'", "-mon mode");
	assert_parse_fails("-chardev pty,id=q -mon chardev=q", "-mon", "socket");
}

static void test_serial(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-serial stdio"), 0);
	assert_int_equal(p.cfg.serial.kind, CHR_STDIO);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-serial pty"), 0);
	assert_int_equal(p.cfg.serial.kind, CHR_PTY);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-serial file,path=/tmp/s.log"), 0);
	assert_int_equal(p.cfg.serial.kind, CHR_FILE);
	assert_string_equal(p.cfg.serial.path, "/tmp/s.log");
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-serial socket,path=/tmp/s.sock,server,nowait"), 0);
	assert_int_equal(p.cfg.serial.kind, CHR_SOCKET);
	assert_string_equal(p.cfg.serial.path, "/tmp/s.sock");
	assert_true(p.cfg.serial.server);
	assert_true(p.cfg.serial.nowait);
	config_free(&p.cfg);

	assert_int_equal(parse_line(&p, "-serial chardev:c0 -chardev socket,id=c0,path=/c,server"),
			 0);
	assert_int_equal(p.cfg.serial.kind, CHR_SOCKET);
	assert_string_equal(p.cfg.serial.id, "c0");
	assert_string_equal(p.cfg.serial.path, "/c");
	config_free(&p.cfg);

	assert_parse_fails("-serial vc", "'vc'", "-serial");
	assert_parse_fails("-serial chardev:none", "-serial", "'none'");
	assert_parse_fails("-serial file", "-serial file", "path");
	assert_parse_fails("-serial stdio,foo=1", "unknown key 'foo'", "-serial");
}

static void test_cpu(void **state)
{
	struct parsed p;

	(void)state;
	if (!arch_cpu_feature_name("avx2")) {
		/* aarch64 knows no -cpu feature names yet (src/arch/aarch64/cpu_features.c) */
		assert_parse_fails("-cpu host,+avx2",
				   "invalid value '+avx2' for -cpu: unknown CPU feature 'avx2'");
		skip();
	}
	assert_int_equal(parse_line(&p, "-cpu host,-avx2,+x2apic,-smap,vmx=off,svm=on"), 0);
	assert_string_equal(p.cfg.cpu_model, "host");
	assert_int_equal(p.cfg.nr_cpu_hide, 3);
	assert_string_equal(p.cfg.cpu_hide[0], "avx2");
	assert_string_equal(p.cfg.cpu_hide[1], "smap");
	assert_string_equal(p.cfg.cpu_hide[2], "vmx");
	assert_int_equal(p.cfg.nr_cpu_need, 2);
	assert_string_equal(p.cfg.cpu_need[0], "x2apic");
	assert_string_equal(p.cfg.cpu_need[1], "svm");
	config_free(&p.cfg);

	/* the later setting of one feature wins; two spellings are one feature */
	assert_int_equal(parse_line(&p, "-cpu host,+avx2,avx2=off,-sse4_1,+sse4.1,pcid=on,-pcid"),
			 0);
	assert_int_equal(p.cfg.nr_cpu_hide, 2);
	assert_string_equal(p.cfg.cpu_hide[0], "avx2");
	assert_string_equal(p.cfg.cpu_hide[1], "pcid");
	assert_int_equal(p.cfg.nr_cpu_need, 1);
	assert_string_equal(p.cfg.cpu_need[0], "sse4.1");
	config_free(&p.cfg);

	/* a second -cpu replaces the first */
	assert_int_equal(parse_line(&p, "-cpu host,-avx2 -cpu host,+smep"), 0);
	assert_int_equal(p.cfg.nr_cpu_hide, 0);
	assert_int_equal(p.cfg.nr_cpu_need, 1);
	config_free(&p.cfg);

	assert_parse_fails("-cpu qemu64", "'qemu64'", "-cpu");
	assert_parse_fails("-cpu host,avx2", "invalid value 'avx2' for -cpu: features are +name");
	assert_parse_fails("-cpu host,-", "-cpu", "empty");
	assert_parse_fails("-cpu host,+", "-cpu", "empty");
	assert_parse_fails("-cpu host,avx2=maybe", "'maybe'", "-cpu avx2");
	/* an unknown name is refused in every form */
	assert_parse_fails("-cpu host,+bogus",
			   "invalid value '+bogus' for -cpu: unknown CPU feature 'bogus'");
	assert_parse_fails("-cpu host,-bogus",
			   "invalid value '-bogus' for -cpu: unknown CPU feature 'bogus'");
	assert_parse_fails("-cpu host,bogus=on",
			   "invalid value 'bogus=on' for -cpu: unknown CPU feature 'bogus'");
	assert_parse_fails("-cpu host,bogus=off",
			   "invalid value 'bogus=off' for -cpu: unknown CPU feature 'bogus'");
	assert_parse_fails("-cpu host,pmu=off", "unknown CPU feature 'pmu'");
}

static void test_ignored_options(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-uuid 2f0b1c3d-4e5f-6071-8293-a4b5c6d7e8f9 "
					"-overcommit mem-lock=off -no-user-config -nodefaults "
					"-sandbox on -msg timestamp=on -rtc base=utc -no-shutdown "
					"-boot strict=on -nographic -realtime mlock=off "
					"-display none -usb -kernel /k"),
			 0);
	assert_string_equal(p.cfg.uuid, "2f0b1c3d-4e5f-6071-8293-a4b5c6d7e8f9");
	assert_string_equal(p.cfg.kernel, "/k");
	config_free(&p.cfg);

	assert_parse_fails("-uuid not-a-uuid", "'not-a-uuid'", "-uuid");
	assert_parse_fails("-overcommit", "missing value for -overcommit");
}

static void test_kv_syntax(void **state)
{
	(void)state;
	assert_parse_fails("-drive id=a,file=/a,", "empty item", "-drive");
	assert_parse_fails("-drive =x,id=a,file=/a", "empty key", "-drive");
	assert_parse_fails("-smp ''", "-smp");
}

static void test_comma_escape(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_line(&p, "-drive id=d0,file=/a,,b.img"), 0);
	assert_string_equal(p.cfg.drives[0].path, "/a,b.img");
	config_free(&p.cfg);
}

static void test_kata_command_line(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse_line(&p, "-name sandbox-abc -uuid 11111111-2222-3333-4444-555555555555 -smp 1 "
			   "-m 2048 -kernel /k -append 'reboot=k panic=1 pci=off acpi=off quiet' "
			   "-qmp unix:/run/vc/qmp.socket,server,nowait -D -disable-seccomp "
			   "-machine type=microvm,dump-guest-core=off,mem-share=on -initrd /i "
			   "-object rng-random,id=objrng0,filename=/dev/urandom "
			   "-device virtio-rng-device,rng=objrng0,id=virtio-rng0 "
			   "-drive id=rootfs,file=/img,readonly=on,direct=off "
			   "-device virtio-blk-device,drive=rootfs,id=virtio-blk0 "
			   "-device vhost-vsock-device,id=vsock-id,guest-cid=5,vhostfd=3 "
			   "-netdev tap,id=eth0,fds=3:4 "
			   "-device virtio-net-device,netdev=eth0,id=eth0,mac=02:42:ac:11:00:02"),
	    0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), 0);
	assert_true(p.cfg.has_vsock);
	assert_null(p.cfg.vsock_uds); /* the kernel's vhost-vsock */
	assert_string_equal(p.cfg.vsock_id, "vsock-id");
	assert_int_equal(p.cfg.vsock_cid, 5);
	assert_int_equal(p.cfg.vsock_fd, 3);
	assert_string_equal(p.cfg.name, "sandbox-abc");
	assert_int_equal(p.cfg.mem_size, 2048ULL << 20);
	assert_string_equal(p.cfg.cmdline, "reboot=k panic=1 pci=off acpi=off quiet");
	assert_string_equal(p.cfg.qmp_path, "/run/vc/qmp.socket");
	assert_true(p.cfg.log_enabled);
	assert_true(p.cfg.mem_share);
	assert_false(p.cfg.dump_guest_core);
	assert_true(p.cfg.has_rng);
	assert_string_equal(p.cfg.rng_file, "/dev/urandom");
	assert_int_equal(p.cfg.nr_drives, 1);
	assert_true(p.cfg.drives[0].readonly);
	assert_false(p.cfg.drives[0].direct);
	assert_true(p.cfg.drives[0].has_device);
	assert_string_equal(p.cfg.drives[0].device_id, "virtio-blk0");
	assert_int_equal(p.cfg.vsock_cid, 5);
	assert_int_equal(p.cfg.vsock_fd, 3);
	assert_int_equal(p.cfg.nr_nets, 1);
	assert_int_equal(p.cfg.nets[0].nr_fds, 2);
	assert_int_equal(p.cfg.nets[0].fds[0], 3);
	assert_int_equal(p.cfg.nets[0].fds[1], 4);
	assert_true(p.cfg.nets[0].has_mac);
	assert_int_equal(p.cfg.nets[0].mac[5], 2);
	assert_true(p.cfg.nets[0].has_device);
	config_free(&p.cfg);
}

static void test_early_command_line(void **state)
{
	struct parsed p;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&p, "-kernel vmlinux.bin -append console=ttyS0 pci=off "
					"reboot=k panic=1 root=/dev/vda -drive "
					"file=rootfs.ext4,id=rootfs,readonly=off -api-channel "
					"unix:/tmp/sv.sock -serial stdio -m 268435456 -smp cpus=2"),
			 0);
	assert_int_equal(config_validate(&p.cfg, err, sizeof(err)), 0);
	assert_string_equal(p.cfg.cmdline, "console=ttyS0 pci=off reboot=k panic=1 root=/dev/vda");
	assert_int_equal(p.cfg.nr_drives, 1);
	assert_true(p.cfg.drives[0].has_device);
	assert_string_equal(p.cfg.drives[0].device_id, "rootfs");
	assert_true(p.cfg.drives[0].direct);
	assert_false(p.cfg.drives[0].readonly);
	assert_string_equal(p.cfg.qmp_path, "/tmp/sv.sock");
	assert_int_equal(p.cfg.serial.kind, CHR_STDIO);
	assert_int_equal(p.cfg.mem_size, 256ULL << 20);
	config_free(&p.cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mem_forms),
	    cmocka_unit_test(test_mem_bad),
	    cmocka_unit_test(test_smp_forms),
	    cmocka_unit_test(test_smp_bad),
	    cmocka_unit_test(test_machine),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_paths_and_flags),
	    cmocka_unit_test(test_double_dash_and_actions),
	    cmocka_unit_test(test_unknown_option),
	    cmocka_unit_test(test_log_option),
	    cmocka_unit_test(test_qmp),
	    cmocka_unit_test(test_mon),
	    cmocka_unit_test(test_serial),
	    cmocka_unit_test(test_cpu),
	    cmocka_unit_test(test_ignored_options),
	    cmocka_unit_test(test_kv_syntax),
	    cmocka_unit_test(test_comma_escape),
	    cmocka_unit_test(test_kata_command_line),
	    cmocka_unit_test(test_early_command_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
