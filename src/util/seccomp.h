/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_UTIL_SECCOMP_H
#define SV_UTIL_SECCOMP_H

/*
 * Seccomp allow-lists, one per thread kind.  A policy is a table of rules;
 * a syscall is allowed when one of its rules matches (rules of the same
 * syscall are alternatives, the argument tests of one rule must all hold).
 * Anything else raises SIGSYS (SECCOMP_RET_TRAP): the handler writes one
 * line naming the thread, the syscall and its number to stderr and the -D
 * log, then ends the process with exit status SECCOMP_EXIT_STATUS.
 *
 * This file knows nothing of the VM: the tables are in
 * src/machine/seccomp_policy.c.
 */
#include <stdint.h>
#include <stdio.h>

#define SECCOMP_EXIT_STATUS 159 /* 128 + SIGSYS, as a shell reports a SIGSYS death */
#define SC_MAX_ARGS	    2

enum sc_cmp {
	SC_EQ,	   /* (arg & mask) == value */
	SC_NOTSET, /* (arg & mask) == 0: none of the bits in mask */
};

struct sc_arg {
	uint8_t arg; /* 0..5 */
	enum sc_cmp cmp;
	uint64_t mask;
	uint64_t value;
};

struct sc_rule {
	int nr;
	const char *name;
	const char *what; /* the argument test in words, "" when none */
	const char *why;
	uint8_t nr_args;
	struct sc_arg args[SC_MAX_ARGS];
};

/* A rule of a table shared by several policies: those whose kind_bit is in kinds. */
struct sc_kind_rule {
	uint8_t kinds;
	struct sc_rule rule;
};

struct sc_policy {
	const char *kind; /* "vcpu", "iothread", "main", ... */
	const struct sc_rule *rules;
	unsigned nr_rules;
	/*
	 * Then those of the architecture's rules whose kinds has kind_bit set:
	 * one table for every policy, ended by a rule with a NULL name (or NULL).
	 */
	const struct sc_kind_rule *arch_rules;
	uint8_t kind_bit;
};

/*
 * Install p in the calling thread (no_new_privs is set first); name is the
 * thread's name for the SIGSYS line (copied; at most 15 characters kept).
 * Returns 0 or -errno.
 */
int sc_install(const struct sc_policy *p, const char *name);
/* The fd of the -D log, also written by the SIGSYS handler (-1: none). */
void sc_set_log_fd(int fd);
/* Distinct syscalls of p, a line each: kind, name, argument tests, why (TAB-separated). */
void sc_print(FILE *f, const struct sc_policy *p);
/* Name of syscall nr, or NULL when unknown. */
const char *sc_syscall_name(long nr);

#endif
