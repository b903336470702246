// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The x86-64 rules of the seccomp allow-lists (the shared tables and their
 * reasons: src/machine/seccomp_policy.c, docs/security.md): the syscalls
 * x86-64 has beside the generic ones arm64 keeps to, and the vCPU's
 * register ioctls.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "machine/seccomp_rules.h"

const struct sc_kind_rule sc_arch_rules[] = {
    FOR(SC_MAIN | SC_IOTHREAD, RULE(epoll_wait, "the event loop, until its next timer's deadline")),
    FOR(SC_MAIN, RULE(unlink, "the QMP socket, the pidfile and a created -mem-path file at exit")),
    FOR(SC_SUPERVISOR, RULE(unlink, "the pidfile at exit")),
    FOR(SC_VCPU, IOCTL(KVM_GET_REGS, "register dump on a fatal exit")),
    FOR(SC_VCPU, IOCTL(KVM_GET_SREGS, "register dump on a fatal exit")),
    FOR(SC_VCPU, IOCTL(KVM_TRANSLATE, "the failing instruction's bytes in that dump")),
    RULES_END,
};
