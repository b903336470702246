/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_MACHINE_SECCOMP_POLICY_H
#define SV_MACHINE_SECCOMP_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "util/seccomp.h"

extern const struct sc_policy sc_policy_vcpu;
extern const struct sc_policy sc_policy_iothread;
extern const struct sc_policy sc_policy_main;
extern const struct sc_policy sc_policy_supervisor; /* -jail pidns=on: the parent */
/* Every policy, NULL-terminated (-print-seccomp-policy). */
extern const struct sc_policy *const sc_policies[];

/* -disable-seccomp: seccomp_policy_enable(false) before any thread starts. */
void seccomp_policy_enable(bool on);
/* Install p in the calling thread unless disabled; 0 or -errno (error printed). */
int seccomp_policy_install(const struct sc_policy *p, const char *thread_name);

/* The I/O threads' hook for iothreads_release(). */
int seccomp_policy_iothread(const char *thread_name);
/* -print-seccomp-policy: "kind<TAB>syscall<TAB>argument tests" lines. */
void seccomp_policy_print(FILE *f);

#endif
