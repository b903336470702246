/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_SECCOMP_RULES_H
#define SV_MACHINE_SECCOMP_RULES_H

/*
 * How the allow-lists are written: src/machine/seccomp_policy.c holds the
 * tables every architecture shares, src/arch/<arch>/seccomp_arch.c the few
 * rules whose syscall or ioctl exists on that architecture only (the build
 * links the one it is for).
 */
#include <sys/syscall.h>

#include "util/seccomp.h"

#define LOW32 0xffffffffULL
/* futex op without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define FUTEX_CMD 0x7fULL

#define RULE(n, w)                                                                                 \
	{                                                                                          \
		.nr = __NR_##n, .name = #n, .what = "", .why = w                                   \
	}
#define RULE_EQ(n, a, v, w) RULE_EQ_TXT(n, a, v, #v, w)
#define RULE_EQ_TXT(n, a, v, txt, w)                                                               \
	{                                                                                          \
		.nr = __NR_##n, .name = #n, .what = txt, .why = w, .nr_args = 1, .args = {         \
			{(a), SC_EQ, LOW32, (uint64_t)(v)}                                         \
		}                                                                                  \
	}
#define RULE_MASK_EQ(n, a, m, v, wt, w)                                                            \
	{                                                                                          \
		.nr = __NR_##n, .name = #n, .what = wt, .why = w, .nr_args = 1, .args = {          \
			{(a), SC_EQ, (m), (uint64_t)(v)}                                           \
		}                                                                                  \
	}
#define RULE_NOTSET(n, a, m, wt, w)                                                                \
	{                                                                                          \
		.nr = __NR_##n, .name = #n, .what = wt, .why = w, .nr_args = 1, .args = {          \
			{(a), SC_NOTSET, (m), 0}                                                   \
		}                                                                                  \
	}

#define IOCTL(req, w)	RULE_EQ_TXT(ioctl, 1, req, #req, w)
#define FCNTL(cmd, w)	RULE_EQ_TXT(fcntl, 1, cmd, #cmd, w)
#define FUTEX(op)	RULE_MASK_EQ(futex, 1, FUTEX_CMD, op, #op, "mutexes, condition variables, join")
#define MADVISE(adv, w) RULE_EQ_TXT(madvise, 2, adv, #adv, w)

/* The thread kinds, for sc_policy.kind_bit and an arch rule's kinds. */
#define SC_MAIN	      0x1
#define SC_VCPU	      0x2
#define SC_IOTHREAD   0x4
#define SC_SUPERVISOR 0x8
/* An arch rule: r (a RULE() or IOCTL() above) in the thread kinds k. */
#define FOR(k, r)                                                                                  \
	{                                                                                          \
		.kinds = (k), .rule = r                                                            \
	}
#define RULES_END                                                                                  \
	{                                                                                          \
		.rule = {.name = NULL }                                                            \
	}

/* Supplied by src/arch/<arch>/seccomp_arch.c, ended by RULES_END. */
extern const struct sc_kind_rule sc_arch_rules[];

#endif
