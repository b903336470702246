// SPDX-License-Identifier: MulanPSL-2.0
/* QMP without a socket: framing, negotiation, argument checks, handlers on fakes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "arch/arch.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "qmp/commands.h"
#include "qmp/fdtable.h"
#include "qmp/framing.h"
#include "qmp/qmp.h"
#include "qmp/session.h"
#include "stubs.h"

static struct vm_config cfg;
static struct vm vm;
static struct vcpu vcpus[2];
static json_t *out; /* replies and events, in order */
static struct qmp_session sess;
static uint64_t now_ms;

static uint64_t fake_clock(void)
{
	return now_ms;
}

static void collect(void *opaque, json_t *msg)
{
	(void)opaque;
	json_array_append(out, msg);
}

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&vm, 0, sizeof(vm));
	memset(&fake, 0, sizeof(fake));
	cfg.threads = cfg.cores = cfg.dies = cfg.clusters = cfg.sockets = 1;
	cfg.name = "vm1";
	vm.cfg = &cfg;
	vm.state = VM_RUNNING;
	vm.nr_vcpus = 2;
	vm.vcpus = vcpus;
	atomic_store(&vcpus[0].tid, 1001);
	atomic_store(&vcpus[1].tid, 1002);
	out = json_array();
	qmp_ratelimit_set(0, NULL);
	qmp_session_init(&sess, &vm, collect, NULL);
	qmp_event_set_sink(collect, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qmp_session_end(&sess);
	qmp_event_set_sink(NULL, NULL);
	qmp_fd_clear();
	qmp_blk_cleanup();
	qmp_net_cleanup();
	json_decref(out);
	return 0;
}

static void feed(const char *text)
{
	json_array_clear(out);
	assert_int_equal(qmp_session_input(&sess, text, strlen(text)), 0);
}

static void negotiate(void)
{
	feed("{\"execute\":\"qmp_capabilities\"}");
	assert_int_equal(json_array_size(out), 1);
}

static json_t *msg(size_t i)
{
	assert_true(i < json_array_size(out));
	return json_array_get(out, i);
}

static const char *err_class(size_t i)
{
	return json_string_value(json_object_get(json_object_get(msg(i), "error"), "class"));
}

static const char *err_desc(size_t i)
{
	return json_string_value(json_object_get(json_object_get(msg(i), "error"), "desc"));
}

static bool is_ok(size_t i)
{
	return json_object_get(msg(i), "return") != NULL;
}

/* One command with arguments in JSON text; the session's messages land in out. */
static void run(const char *cmd, const char *args)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "{\"execute\":\"%s\"%s%s%s}", cmd, args ? ",\"arguments\":" : "",
		 args ? args : "", "");
	feed(buf);
}

/* ---- framing ---- */

static void test_scanner_boundaries(void **state)
{
	struct qmp_scanner s;
	const char *v;
	size_t len;
	const char *text = "{\"a\":\"}{\\\"\"} [1,[2]] \"s}\" 42\n{";

	(void)state;
	qmp_scanner_init(&s);
	assert_int_equal(qmp_scanner_feed(&s, text, strlen(text)), 0);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 1);
	assert_int_equal(len, strlen("{\"a\":\"}{\\\"\"}"));
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 1);
	assert_memory_equal(v, "[1,[2]]", len);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 1);
	assert_memory_equal(v, "\"s}\"", len);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 1);
	assert_memory_equal(v, "42", len);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 0); /* "{" waits */
	assert_int_equal(qmp_scanner_feed(&s, "}", 1), 0);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), 1);
	assert_memory_equal(v, "{}", len);
	qmp_scanner_free(&s);
}

static void test_scanner_limit(void **state)
{
	struct qmp_scanner s;
	char *big = malloc(QMP_MAX_REQUEST + 10);
	const char *v;
	size_t len;

	(void)state;
	memset(big, 'x', QMP_MAX_REQUEST + 10);
	big[0] = '"';
	qmp_scanner_init(&s);
	assert_int_equal(qmp_scanner_feed(&s, big, QMP_MAX_REQUEST + 10), 0);
	assert_int_equal(qmp_scanner_next(&s, &v, &len), -EMSGSIZE);
	qmp_scanner_free(&s);
	free(big);
}

static void test_split_and_batched(void **state)
{
	const char *text =
	    "{\"execute\":\"qmp_capabilities\",\"id\":1}{\"execute\":\"query-kvm\"}\r\n";

	(void)state;
	json_array_clear(out);
	for (size_t i = 0; i < strlen(text); i++) /* one byte per write */
		assert_int_equal(qmp_session_input(&sess, text + i, 1), 0);
	assert_int_equal(json_array_size(out), 2);
	assert_int_equal(json_integer_value(json_object_get(msg(0), "id")), 1);
	assert_true(is_ok(1));
}

static void test_oversize_is_answered_then_closed(void **state)
{
	char *big = malloc(QMP_MAX_REQUEST + 100);

	(void)state;
	memset(big, ' ', QMP_MAX_REQUEST + 100);
	big[0] = '{';
	json_array_clear(out);
	assert_int_equal(qmp_session_input(&sess, big, QMP_MAX_REQUEST + 100), -EMSGSIZE);
	assert_string_equal(err_class(0), "GenericError");
	assert_non_null(strstr(err_desc(0), "65536"));
	free(big);
}

static void test_malformed(void **state)
{
	(void)state;
	feed("{bad}");
	assert_string_equal(err_class(0), "GenericError");
	assert_non_null(strstr(err_desc(0), "Invalid JSON"));
	feed("[1]");
	assert_string_equal(err_desc(0), "QMP input must be a JSON object");
	feed("{\"execute\":\"x\",\"execute\":\"y\"}");
	assert_string_equal(err_class(0), "GenericError");
	feed("{\"execute\":\"x\\u0000\"}");
	assert_string_equal(err_class(0), "GenericError");
	feed("{\"id\":3}");
	assert_string_equal(err_desc(0), "QMP input lacks member 'execute'");
	assert_int_equal(json_integer_value(json_object_get(msg(0), "id")), 3);
	feed("{\"execute\":\"q\",\"foo\":1}");
	assert_string_equal(err_desc(0), "QMP input member 'foo' is unexpected");
	feed("{\"execute\":\"q\",\"arguments\":[]}");
	assert_string_equal(err_desc(0), "QMP input member 'arguments' must be an object");
}

/* ---- negotiation ---- */

static void test_greeting(void **state)
{
	size_t len;
	const char *text = qmp_greeting_text(&len);
	json_error_t err;
	json_t *g = json_loadb(text, len, 0, &err);
	char *again;

	(void)state;
	assert_string_equal(text, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":1,\"minor\":0,"
				  "\"major\":5},\"package\":\"StratoVirt-" SV_VERSION
				  "\"},\"capabilities\":[]}}");
	assert_int_equal(len, strlen(text));
	assert_ptr_equal(qmp_greeting_text(&len), text); /* built once */
	/* valid JSON that jansson writes back byte for byte (compact, same order) */
	assert_non_null(g);
	again = json_dumps(g, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(again, text);
	free(again);
	json_decref(g);
}

static void test_negotiation(void **state)
{
	(void)state;
	run("query-status", NULL);
	assert_string_equal(err_class(0), "CommandNotFound");
	run("qmp_capabilities", "{\"enable\":[\"oob\"]}");
	assert_string_equal(err_desc(0), "Capability 'oob' not available");
	run("qmp_capabilities", "{\"enable\":[]}");
	assert_true(is_ok(0));
	run("qmp_capabilities", NULL);
	assert_string_equal(err_class(0), "CommandNotFound");
	run("no-such", NULL);
	assert_string_equal(err_desc(0), "The command no-such has not been found");
}

/* Every command: an unknown argument, and each required one left out, name the argument. */
static void test_every_command_checks_arguments(void **state)
{
	int count;
	const struct qmp_command *cmds = qmp_commands(&count);

	(void)state;
	negotiate();
	for (int i = 0; i < count; i++) {
		const char *p = cmds[i].spec;
		char name[64];

		if (!strcmp(cmds[i].name, "qmp_capabilities"))
			continue;
		run(cmds[i].name, "{\"no-such-arg\":1}");
		assert_string_equal(err_desc(0), "Invalid parameter 'no-such-arg'");
		while (*p) { /* each required argument missing: the first missing is named */
			const char *colon = strchr(p, ':'), *end = colon + 2;

			memcpy(name, p, (size_t)(colon - p));
			name[colon - p] = '\0';
			if (*end != '?') {
				char want[128];

				run(cmds[i].name, NULL);
				snprintf(want, sizeof(want), "Parameter '%s' is missing", name);
				assert_string_equal(err_desc(0), want);
				break;
			}
			while (*end && *end != ',')
				end++;
			p = *end ? end + 1 : end;
		}
	}
	run("getfd", "{\"fdname\":1}");
	assert_string_equal(err_desc(0), "Invalid parameter type for 'fdname', expected: string");
	run("blockdev-add", "{\"node-name\":\"n\",\"file\":[]}");
	assert_string_equal(err_desc(0), "Invalid parameter type for 'file', expected: object");
	run("balloon", "{\"value\":true}");
	assert_string_equal(err_desc(0), "Invalid parameter type for 'value', expected: integer");
}

/* ---- lifecycle ---- */

static void test_stop_cont_events(void **state)
{
	(void)state;
	negotiate();
	run("stop", NULL);
	assert_int_equal(json_array_size(out), 2);
	assert_string_equal(json_string_value(json_object_get(msg(0), "event")), "STOP");
	assert_non_null(json_object_get(json_object_get(msg(0), "timestamp"), "microseconds"));
	assert_true(is_ok(1));
	run("stop", NULL);
	assert_int_equal(json_array_size(out), 1); /* no event */
	assert_string_equal(err_class(0), "GenericError");
	run("query-status", NULL);
	assert_false(json_is_true(json_object_get(json_object_get(msg(0), "return"), "running")));
	run("cont", NULL);
	assert_string_equal(json_string_value(json_object_get(msg(0), "event")), "RESUME");
	run("cont", NULL);
	assert_int_equal(json_array_size(out), 1);
	assert_string_equal(err_class(0), "GenericError");
}

static void test_quit_event_then_reply(void **state)
{
	(void)state;
	negotiate();
	feed("{\"execute\":\"quit\",\"id\":\"q\"}");
	assert_int_equal(json_array_size(out), 2);
	assert_string_equal(json_string_value(json_object_get(msg(0), "event")), "SHUTDOWN");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(msg(0), "data"), "reason")),
	    "host-qmp-quit");
	assert_string_equal(json_string_value(json_object_get(msg(1), "id")), "q");
	assert_int_equal(fake.shutdowns, 1);
	assert_int_equal(vm.shutdown_reason, SHUTDOWN_HOST_QMP);
}

static unsigned presses;
static int press_ret;

static int fake_power_button(struct vm *v)
{
	assert_ptr_equal(v, &vm);
	presses++;
	return press_ret;
}

/* system_powerdown: POWERDOWN then the reply with a button, errors without. */
static void test_system_powerdown(void **state)
{
	(void)state;
	negotiate();
	presses = 0;
	press_ret = 0;
	run("system_powerdown", NULL);
	assert_int_equal(json_array_size(out), 1);
	assert_string_equal(err_class(0), "GenericError");
	if (strcmp(arch_info.target, "x86_64"))
		assert_string_equal(err_desc(0),
				    "system_powerdown is not supported yet on aarch64: "
				    "the machine has no power button");
	else
		assert_string_equal(err_desc(0),
				    "system_powerdown: the machine has no power button "
				    "(-machine acpi=off leaves out the ACPI tables and their GED)");
	vm.power_button = fake_power_button;
	run("system_powerdown", NULL);
	assert_int_equal(presses, 1);
	assert_int_equal(json_array_size(out), 2);
	assert_string_equal(json_string_value(json_object_get(msg(0), "event")), "POWERDOWN");
	assert_true(is_ok(1));
	press_ret = -EIO;
	run("system_powerdown", NULL);
	assert_int_equal(presses, 2);
	assert_int_equal(json_array_size(out), 1);
	assert_string_equal(err_desc(0), "system_powerdown: cannot press the power button: "
					 "Input/output error");
	assert_int_equal(fake.shutdowns, 0);
	vm.power_button = NULL;
}

static void test_queries(void **state)
{
	json_t *cpus;

	(void)state;
	negotiate();
	run("query-cpus", NULL);
	cpus = json_object_get(msg(0), "return");
	assert_int_equal(json_array_size(cpus), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(cpus, 1), "thread_id")),
			 1002);
	run("query-name", NULL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(msg(0), "return"), "name")), "vm1");
	run("query-balloon", NULL);
	assert_string_equal(err_class(0), "DeviceNotActive");
	assert_string_equal(err_desc(0), "No balloon device has been activated");
	run("balloon", "{\"value\":1024}");
	assert_string_equal(err_class(0), "DeviceNotActive");
}

static void test_balloon(void **state)
{
	json_t *ret;

	(void)state;
	fake.balloon_ram = 256ULL << 20;
	negotiate();
	run("query-balloon", NULL);
	ret = json_object_get(msg(0), "return");
	assert_int_equal(json_integer_value(json_object_get(ret, "actual")), 256LL << 20);
	run("balloon", "{\"value\":201326592}");
	assert_true(is_ok(0));
	assert_int_equal(fake.balloon_target, 192ULL << 20);
	run("query-balloon", NULL);
	ret = json_object_get(msg(0), "return");
	assert_int_equal(json_integer_value(json_object_get(ret, "actual")), 192LL << 20);
	run("balloon", "{\"value\":268435457}");
	assert_string_equal(err_class(0), "GenericError");
	assert_string_equal(err_desc(0), "Invalid parameter 'value': must be at most the guest "
					 "memory size (268435456 bytes)");
	run("balloon", "{\"value\":-4096}");
	assert_string_equal(err_desc(0),
			    "Invalid parameter 'value': must be a positive number of bytes");
	run("balloon", "{\"value\":0}");
	assert_string_equal(err_class(0), "GenericError");
	run("balloon", "{\"value\":\"1G\"}");
	assert_string_equal(err_desc(0), "Invalid parameter type for 'value', expected: integer");
	run("balloon", "{\"value\":1024,\"x\":1}");
	assert_string_equal(err_class(0), "GenericError");
	assert_int_equal(fake.balloon_target, 192ULL << 20); /* none of those changed it */
	run("balloon", "{\"value\":268435456}");
	assert_true(is_ok(0));
}

/* ---- hot-plug ---- */

static char img[64];

static void make_image(void)
{
	int fd;

	strcpy(img, "/tmp/qmp-unit-XXXXXX");
	fd = mkstemp(img);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

static void test_blk_hotplug(void **state)
{
	char args[512], hd[512];

	(void)state;
	make_image();
	negotiate();
	snprintf(args, sizeof(args),
		 "{\"driver\":\"raw\",\"read-only\":true,\"node-name\":\"d1\",\"file\":{\"driver\":"
		 "\"file\",\"filename\":\"%s\",\"aio\":\"native\"},\"cache\":{\"direct\":false}}",
		 img);
	run("blockdev-add", args);
	assert_true(is_ok(0));
	run("blockdev-add", args);
	assert_string_equal(err_desc(0), "Duplicate node-name 'd1'");
	/* Kata's other file.driver: a block device only */
	snprintf(hd, sizeof(hd),
		 "{\"driver\":\"raw\",\"node-name\":\"hd\",\"file\":{\"driver\":"
		 "\"host_device\",\"filename\":\"%s\",\"aio\":\"native\"}}",
		 img);
	run("blockdev-add", hd);
	assert_non_null(strstr(err_desc(0), "is not a block device (file.driver host_device)"));
	run("device_add", "{\"id\":\"b1\",\"driver\":\"virtio-blk-mmio\",\"drive\":\"d1\","
			  "\"addr\":\"9\"}");
	assert_non_null(strstr(err_desc(0), "'addr': slot 9 is out of range"));
	run("device_add", "{\"id\":\"b1\",\"driver\":\"virtio-blk-mmio\",\"drive\":\"nope\"}");
	assert_string_equal(err_class(0), "DeviceNotFound");
	run("device_add", "{\"id\":\"b1\",\"driver\":\"virtio-scsi\",\"drive\":\"d1\"}");
	assert_non_null(strstr(err_desc(0), "'driver'"));
	run("device_add", "{\"id\":\"b1\",\"driver\":\"virtio-blk-mmio\",\"drive\":\"d1\","
			  "\"addr\":\"0x2\",\"romfile\":\"\"}");
	assert_true(is_ok(0));
	assert_true(fake.blk_attached[2] && fake.blk_readonly[2]);
	run("blockdev-del", "{\"node-name\":\"d1\"}");
	assert_non_null(strstr(err_desc(0), "in use by device 'b1'"));
	run("device_del", "{\"id\":\"b1\"}");
	assert_int_equal(json_array_size(out), 2);
	assert_string_equal(json_string_value(json_object_get(msg(0), "event")), "DEVICE_DELETED");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(msg(0), "data"), "path")), "b1");
	assert_true(is_ok(1));
	assert_false(fake.blk_attached[2]);
	run("blockdev-del", "{\"node-name\":\"d1\"}"); /* went with the device */
	assert_string_equal(err_class(0), "DeviceNotFound");
	/* a failed attach reports the device's own message */
	run("blockdev-add", args);
	fake.blk_fail = true;
	run("device_add", "{\"id\":\"b2\",\"driver\":\"virtio-blk-mmio\",\"drive\":\"d1\"}");
	assert_non_null(strstr(err_desc(0), "is locked by another process"));
	unlink(img);
}

static void test_getfd_netdev_nic(void **state)
{
	int p[2];

	(void)state;
	negotiate();
	assert_int_equal(pipe(p), 0);
	json_array_clear(out);
	qmp_session_add_fd(&sess, p[0]);
	assert_int_equal(qmp_session_input(&sess,
					   "{\"execute\":\"getfd\",\"arguments\":"
					   "{\"fdname\":\"fd0\"}}",
					   strlen("{\"execute\":\"getfd\",\"arguments\":"
						  "{\"fdname\":\"fd0\"}}")),
			 0);
	assert_true(is_ok(0));
	run("getfd", "{\"fdname\":\"fd1\"}"); /* no fd came with it */
	assert_non_null(strstr(err_desc(0), "no file descriptor"));
	run("netdev_add", "{\"id\":\"n0\",\"fds\":\"fd9\"}");
	assert_non_null(strstr(err_desc(0), "no fd named 'fd9'"));
	run("netdev_add", "{\"id\":\"n0\",\"fds\":\"1\"}");
	assert_non_null(strstr(err_desc(0), "'fds'"));
	run("netdev_add", "{\"id\":\"n0\",\"ifname\":\"t\",\"fds\":\"fd0\"}");
	assert_non_null(strstr(err_desc(0), "not both"));
	run("netdev_add", "{\"type\":\"tap\",\"id\":\"n0\",\"fds\":\"fd0\",\"vhost\":true}");
	assert_true(is_ok(0));
	assert_false(qmp_fd_exists("fd0"));
	/* the command line's MAC syntax: six hex pairs, unicast, nothing else */
	static const char *const bad_mac[] = {"52:54:00:00:00:0g",  "53:54:00:00:00:01",
					      " 2:54:00:00:00:01",  "52:54:00:00:00:1",
					      "52:54:00:00:00:011", "52-54-00-00-00-01"};
	for (size_t i = 0; i < sizeof(bad_mac) / sizeof(bad_mac[0]); i++) {
		char args[160];

		snprintf(args, sizeof(args),
			 "{\"id\":\"nic0\",\"driver\":\"virtio-net-mmio\",\"netdev\":\"n0\","
			 "\"addr\":\"0x1\",\"mac\":\"%s\"}",
			 bad_mac[i]);
		run("device_add", args);
		assert_non_null(strstr(err_desc(0), "Invalid parameter 'mac'"));
	}
	run("device_add", "{\"id\":\"nic0\",\"driver\":\"virtio-net-mmio\",\"netdev\":\"n0\","
			  "\"addr\":\"0x1\",\"mac\":\"52:54:00:00:00:01\"}");
	assert_true(is_ok(0));
	assert_true(fake.net_fd[1] > 2 && fake.net_fd[1] != p[0]); /* a duplicate */
	assert_int_equal(fake.net_mac[1][5], 1);
	run("netdev_del", "{\"id\":\"n0\"}");
	assert_non_null(strstr(err_desc(0), "in use by device 'nic0'"));
	run("device_del", "{\"id\":\"nic0\"}");
	assert_true(is_ok(1));
	run("netdev_del", "{\"id\":\"n0\"}");
	assert_true(is_ok(0));
	assert_true(fcntl(p[0], F_GETFD) < 0); /* closed with the netdev */
	close(p[1]);
}

/* getfd with one fd: the fd travels with the request (SCM_RIGHTS in the server). */
static void getfd(const char *name, int fd)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"%s\"}}",
		 name);
	json_array_clear(out);
	qmp_session_add_fd(&sess, fd);
	assert_int_equal(qmp_session_input(&sess, buf, strlen(buf)), 0);
	assert_true(is_ok(0));
}

/* "fds" as a number, as JSON integer and as a ':' list of names and numbers. */
static void test_netdev_fds_numbers_and_lists(void **state)
{
	int a[2], b[2], c[2];
	char args[160];

	(void)state;
	negotiate();
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(pipe(c), 0);
	getfd("fa", a[0]);
	/* every entry is checked before any is taken: fa stays in the table */
	run("netdev_add", "{\"id\":\"n0\",\"fds\":\"fa:nope\"}");
	assert_non_null(strstr(err_desc(0), "no fd named 'nope'"));
	assert_true(qmp_fd_exists("fa"));
	snprintf(args, sizeof(args), "{\"id\":\"n0\",\"fds\":\"fa:fa\"}");
	run("netdev_add", args);
	assert_non_null(strstr(err_desc(0), "listed twice"));
	/* a name then a number: the last is served, the others are closed */
	snprintf(args, sizeof(args), "{\"id\":\"n0\",\"fds\":\"fa:%d\"}", b[0]);
	run("netdev_add", args);
	assert_true(is_ok(0));
	assert_false(qmp_fd_exists("fa"));
	assert_true(fcntl(a[0], F_GETFD) < 0);
	assert_true(fcntl(b[0], F_GETFD) >= 0);
	/* the netdev owns that number now */
	snprintf(args, sizeof(args), "{\"id\":\"n1\",\"fds\":\"%d\"}", b[0]);
	run("netdev_add", args);
	assert_non_null(strstr(err_desc(0), "is already in use"));
	snprintf(args, sizeof(args), "{\"id\":\"n1\",\"fds\":%d}", c[0]); /* integer */
	run("netdev_add", args);
	assert_true(is_ok(0));
	run("netdev_add", "{\"id\":\"n2\",\"fds\":\"2\"}"); /* stdio is not ours to take */
	assert_non_null(strstr(err_desc(0), "fd 2 is not an open file descriptor"));
	run("netdev_add", "{\"id\":\"n2\",\"fds\":\"fa:\"}");
	assert_non_null(strstr(err_desc(0), "a ':' list"));
	run("netdev_del", "{\"id\":\"n0\"}");
	assert_true(is_ok(0));
	assert_true(fcntl(b[0], F_GETFD) < 0);
	run("netdev_del", "{\"id\":\"n1\"}");
	assert_true(is_ok(0));
	assert_true(fcntl(c[0], F_GETFD) < 0);
	close(a[1]);
	close(b[1]);
	close(c[1]);
}

static void test_unclaimed_fds_are_closed(void **state)
{
	int p[2];

	(void)state;
	negotiate();
	assert_int_equal(pipe(p), 0);
	qmp_session_add_fd(&sess, p[0]);
	run("query-status", NULL);
	assert_true(fcntl(p[0], F_GETFD) < 0);
	close(p[1]);
}

static void test_rate_limit(void **state)
{
	(void)state;
	negotiate();
	qmp_ratelimit_set(3, fake_clock);
	now_ms = 5000;
	for (int i = 0; i < 3; i++) {
		run("query-kvm", NULL);
		assert_true(is_ok(0));
	}
	run("query-kvm", NULL);
	assert_string_equal(err_class(0), "OperationThrottled");
	assert_string_equal(err_desc(0), "More than 3 requests received during 1 second");
	now_ms += 1000;
	run("query-kvm", NULL);
	assert_true(is_ok(0));
	qmp_ratelimit_set(0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scanner_boundaries),
	    cmocka_unit_test(test_scanner_limit),
	    cmocka_unit_test_setup_teardown(test_split_and_batched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_is_answered_then_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_command_checks_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_cont_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quit_event_then_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_system_powerdown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_balloon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blk_hotplug, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_getfd_netdev_nic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_netdev_fds_numbers_and_lists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unclaimed_fds_are_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
