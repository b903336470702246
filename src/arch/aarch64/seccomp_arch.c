// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The aarch64 rules of the seccomp allow-lists (the shared tables and their
 * reasons: src/machine/seccomp_policy.c, docs/security.md).  arm64 has only
 * the generic syscall table: glibc's epoll_wait() is epoll_pwait and
 * unlink() is unlinkat; the vCPU's register dump reads KVM_GET_ONE_REG.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "machine/seccomp_rules.h"

const struct sc_kind_rule sc_arch_rules[] = {
    FOR(SC_MAIN | SC_IOTHREAD,
	RULE(epoll_pwait, "the event loop, until its next timer's deadline (glibc's epoll_wait)")),
    FOR(SC_MAIN, RULE(unlinkat, "the QMP socket, the pidfile and a created -mem-path file at "
				"exit (glibc's unlink)")),
    FOR(SC_SUPERVISOR, RULE(unlinkat, "the pidfile at exit (glibc's unlink)")),
    FOR(SC_VCPU, IOCTL(KVM_GET_ONE_REG, "register dump on a fatal exit")),
    RULES_END,
};
