// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Stand-in for src/machine/seccomp_policy.c, whose allow-lists name x86-64
 * syscalls (poll, epoll_wait, unlink, time) and x86 KVM ioctls.  aarch64 has
 * no lists yet: installing a filter is refused, which arch_preflight() makes
 * unreachable anyway.
 */
#include "machine/seccomp_policy.h"

#include <errno.h>
#include <stdbool.h>

#include "util/log.h"

const struct sc_policy sc_policy_vcpu = {.kind = "vcpu"};
const struct sc_policy sc_policy_iothread = {.kind = "iothread"};
const struct sc_policy sc_policy_main = {.kind = "main"};
const struct sc_policy sc_policy_supervisor = {.kind = "supervisor"};
const struct sc_policy *const sc_policies[] = {&sc_policy_vcpu, &sc_policy_iothread,
					       &sc_policy_main, &sc_policy_supervisor, NULL};

static bool seccomp_on = true;

void seccomp_policy_enable(bool on)
{
	seccomp_on = on;
}

int seccomp_policy_install(const struct sc_policy *p, const char *thread_name)
{
	if (!seccomp_on)
		return 0;
	user_err("seccomp: no aarch64 allow-list for the %s filter (thread '%s'): not supported "
		 "yet",
		 p->kind, thread_name);
	return -ENOTSUP;
}

int seccomp_policy_iothread(const char *thread_name)
{
	return seccomp_policy_install(&sc_policy_iothread, thread_name);
}

void seccomp_policy_print(FILE *f)
{
	fprintf(f, "aarch64: no seccomp allow-lists yet (not supported yet)\n");
}
