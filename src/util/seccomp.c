// SPDX-License-Identifier: MulanPSL-2.0
/* Seccomp mechanism: build a thread's filter from a rule table, SIGSYS report. */
#include "util/seccomp.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef SV_SECCOMP_TEST_TRIGGER
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/socket.h>
#endif

#include "arch/arch.h"
#include "syscall_names.h"

static __thread char thread_name[16] = "?";
static __thread const char *thread_kind = "?";
static atomic_int log_fd = -1;

const char *sc_syscall_name(long nr)
{
	if (nr < 0 || nr >= SV_SYSCALL_NAMES_MAX)
		return NULL;
	return sv_syscall_names[nr];
}

void sc_set_log_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

/* async-signal-safe helpers for the SIGSYS line */
static size_t put_str(char *buf, size_t o, size_t cap, const char *s)
{
	while (*s && o + 1 < cap)
		buf[o++] = *s++;
	return o;
}

static size_t put_num(char *buf, size_t o, size_t cap, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

	if (v < 0 && o + 1 < cap)
		buf[o++] = '-';
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < (int)sizeof(digits));
	while (n && o + 1 < cap)
		buf[o++] = digits[--n];
	return o;
}

static size_t put_hex(char *buf, size_t o, size_t cap, unsigned long long v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 60;

	o = put_str(buf, o, cap, "0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0 && o + 1 < cap; shift -= 4)
		buf[o++] = hex[(v >> shift) & 0xf];
	return o;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	const char *name = sc_syscall_name(si->si_syscall);
	uint64_t args[3];
	char line[256];
	size_t o = 0;
	int fd = atomic_load(&log_fd);

	(void)sig;
	arch_syscall_args(uctx, args);
	o = put_str(line, o, sizeof(line), "stratovirt: seccomp: thread '");
	o = put_str(line, o, sizeof(line), thread_name);
	o = put_str(line, o, sizeof(line), "' (");
	o = put_str(line, o, sizeof(line), thread_kind);
	o = put_str(line, o, sizeof(line), " filter) made syscall ");
	o = put_str(line, o, sizeof(line), name ? name : "unknown");
	o = put_str(line, o, sizeof(line), " (");
	o = put_num(line, o, sizeof(line), si->si_syscall);
	o = put_str(line, o, sizeof(line), ", arguments ");
	o = put_hex(line, o, sizeof(line), (unsigned long long)args[0]);
	o = put_str(line, o, sizeof(line), " ");
	o = put_hex(line, o, sizeof(line), (unsigned long long)args[1]);
	o = put_str(line, o, sizeof(line), " ");
	o = put_hex(line, o, sizeof(line), (unsigned long long)args[2]);
	o = put_str(line, o, sizeof(line), "), which is not allowed: exiting\n");
	if (write(STDERR_FILENO, line, o) < 0) {
		/* nothing more can be done */
	}
	if (fd >= 0 && write(fd, line, o) < 0) {
		/* idem */
	}
	_exit(SECCOMP_EXIT_STATUS);
}

static int install_handler(void)
{
	static atomic_bool done;
	struct sigaction sa;

	if (atomic_load(&done))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	atomic_store(&done, true);
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r)
{
	struct scmp_arg_cmp cmp[SC_MAX_ARGS];

	for (unsigned i = 0; i < r->nr_args && i < SC_MAX_ARGS; i++) {
		const struct sc_arg *a = &r->args[i];

		cmp[i] = (struct scmp_arg_cmp){
		    .arg = a->arg,
		    .op = SCMP_CMP_MASKED_EQ,
		    .datum_a = a->mask,
		    .datum_b = a->cmp == SC_NOTSET ? 0 : a->value,
		};
	}
	return seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, r->nr, r->nr_args, cmp);
}

/* The rules of p: its table, then the architecture's rules for its kind. */
static unsigned rule_count(const struct sc_policy *p)
{
	unsigned n = p->nr_rules;

	for (const struct sc_kind_rule *r = p->arch_rules; r && r->rule.name; r++)
		if (r->kinds & p->kind_bit)
			n++;
	return n;
}

/* i below rule_count(p) */
static const struct sc_rule *rule_at(const struct sc_policy *p, unsigned i)
{
	const struct sc_kind_rule *r = p->arch_rules;

	if (i < p->nr_rules)
		return &p->rules[i];
	for (i -= p->nr_rules;; r++)
		if ((r->kinds & p->kind_bit) && !i--)
			return &r->rule;
}

#ifdef SV_SECCOMP_TEST_TRIGGER
/*
 * Test build only (meson -Dseccomp_test_trigger, binary stratovirt-sectest):
 * STRATOVIRT_SECCOMP_TRIGGER=<kind>[:<what>] makes each thread of that kind,
 * right after its filter is in place, make a call no filter allows:
 * getppid() (the default), or one whose arguments are refused: mmap-exec
 * (PROT_EXEC), ioctl (KVM_CREATE_VM), socket-inet (AF_INET), open-creat
 * (O_CREAT), madvise-free (MADV_FREE).
 */
static void test_trigger(const struct sc_policy *p)
{
	const char *want = getenv("STRATOVIRT_SECCOMP_TRIGGER");
	size_t n = strlen(p->kind);
	const char *what;

	if (!want || strncmp(want, p->kind, n) || (want[n] && want[n] != ':'))
		return;
	what = want[n] ? want + n + 1 : "getppid";
	if (!strcmp(what, "mmap-exec"))
		syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	else if (!strcmp(what, "ioctl"))
		syscall(SYS_ioctl, -1, KVM_CREATE_VM, 0);
	else if (!strcmp(what, "socket-inet"))
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(what, "open-creat"))
		syscall(SYS_openat, AT_FDCWD, "/nonexistent-seccomp-test", O_CREAT | O_WRONLY,
			0600);
	else if (!strcmp(what, "madvise-free"))
		syscall(SYS_madvise, 0, 4096, MADV_FREE);
	else
		syscall(SYS_getppid);
}
#endif

int sc_install(const struct sc_policy *p, const char *name)
{
	scmp_filter_ctx ctx;
	sigset_t sys;
	int ret;

	snprintf(thread_name, sizeof(thread_name), "%s", name);
	thread_kind = p->kind;
	ret = install_handler();
	if (ret < 0)
		return ret;
	/* a blocked SIGSYS would kill without the line: the kernel resets the handler */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	/* another ABI (i386 int 0x80, x32) ends the process at once */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (unsigned i = 0, n = rule_count(p); i < n && !ret; i++)
		ret = add_rule(ctx, rule_at(p, i));
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ret = -errno;
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
#ifdef SV_SECCOMP_TEST_TRIGGER
	if (!ret)
		test_trigger(p);
#endif
	return ret;
}

void sc_print(FILE *f, const struct sc_policy *p)
{
	unsigned n = rule_count(p);

	for (unsigned i = 0; i < n; i++) {
		const struct sc_rule *r = rule_at(p, i);
		bool first = true, any = false;

		for (unsigned j = 0; j < i; j++)
			if (rule_at(p, j)->nr == r->nr)
				first = false;
		if (!first)
			continue;
		fprintf(f, "%s\t%s\t", p->kind, r->name);
		/* the argument tests of every rule of this syscall */
		for (unsigned j = i; j < n; j++) {
			const struct sc_rule *o = rule_at(p, j);

			if (o->nr != r->nr || !o->what[0])
				continue;
			fprintf(f, "%s%s", any ? ", " : "", o->what);
			any = true;
		}
		fprintf(f, "\t%s\n", r->why);
	}
}
