// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer target for QMP as one client session sees it: framing
 * (src/qmp/framing.c), JSON, negotiation, the rate limit, fds sent with a
 * request, the dispatcher and every command handler, on the unit tests'
 * recording fakes of the machine and devices (tests/unit/qmp/stubs.c).
 *
 * Input: byte 0 picks how the rest is cut into reads (1..64 bytes each, or
 * one read) and byte 1 how often an fd (/dev/null) comes with a read; the
 * rest is what the client sends.  Every reply must be a JSON object; the
 * session must end with no fd left open.
 *
 * clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *   -Itests/unit/qmp tests/fuzz/fuzz_qmp.c tests/unit/qmp/stubs.c src/qmp/{framing,session,\
 *   dispatch,events,fdtable}.c src/machine/qmp_vm.c src/virtio/qmp_{device,blk,net,balloon}.c \
 *   src/util/{log,hostpath}.c -ljansson -o fuzz_qmp
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/vcpu.h"
#include "machine/vm.h"
#include "qmp/commands.h"
#include "qmp/fdtable.h"
#include "qmp/qmp.h"
#include "qmp/session.h"
#include "stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm_config cfg;
static struct vm vm;
static struct vcpu vcpus[2];
static uint64_t now_ms;

static uint64_t fake_clock(void)
{
	return now_ms;
}

static void check_msg(void *opaque, json_t *msg)
{
	(void)opaque;
	if (!json_is_object(msg))
		abort();
}

static int sent[64]; /* fds the client passed this input */
static unsigned nr_sent;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_session s;
	unsigned chunk, fd_every, reads = 0;

	if (size < 2)
		return 0;
	chunk = data[0] % 65;	/* 0: all at once */
	fd_every = data[1] % 8; /* 0: no fds */
	data += 2;
	size -= 2;
	memset(&cfg, 0, sizeof(cfg));
	memset(&vm, 0, sizeof(vm));
	memset(&fake, 0, sizeof(fake));
	cfg.threads = cfg.cores = cfg.dies = cfg.clusters = cfg.sockets = 1;
	cfg.name = "fuzz";
	cfg.mem_size = 256 << 20;
	vm.cfg = &cfg;
	vm.state = VM_RUNNING;
	vm.nr_vcpus = 2;
	vm.vcpus = vcpus;
	fake.balloon_ram = size & 1 ? 256 << 20 : 0;
	atomic_store(&vcpus[0].tid, 1001);
	atomic_store(&vcpus[1].tid, 1002);
	now_ms += 1000; /* a fresh rate-limit window each input */
	qmp_ratelimit_set(0, fake_clock);
	qmp_event_set_sink(check_msg, NULL);
	nr_sent = 0;
	qmp_session_init(&s, &vm, check_msg, NULL);
	while (size) {
		size_t n = chunk ? (chunk < size ? chunk : size) : size;

		if (fd_every && ++reads % fd_every == 0 && nr_sent < 64) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

			sent[nr_sent++] = fd;
			qmp_session_add_fd(&s, fd);
		}
		if (qmp_session_input(&s, (const char *)data, n) < 0)
			break; /* the server closes the connection */
		data += n;
		size -= n;
	}
	qmp_session_end(&s);
	qmp_event_set_sink(NULL, NULL);
	qmp_fd_clear();
	qmp_blk_cleanup();
	qmp_net_cleanup();
	for (int i = 0; i < 2; i++)
		if (fake.net_fd[i] > 0)
			close(fake.net_fd[i]);
	for (unsigned i = 0; i < nr_sent; i++)
		if (fcntl(sent[i], F_GETFD) >= 0)
			abort(); /* an fd the client sent leaked */
	return 0;
}
