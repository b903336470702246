// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The allow-lists, one per thread kind (docs/security.md lists each entry
 * with its reason; tests/integration/test_seccomp.py checks the two agree).
 * The tables are shared by every architecture; what exists on one only (an
 * x86-64 syscall arm64's generic table lacks, a register ioctl) is in
 * src/arch/<arch>/seccomp_arch.c, appended to the table of its thread kind.
 *
 * Threads are never created once a filter is in place (vCPUs and I/O threads
 * start before the main thread installs its own), so clone3, rseq and
 * set_robust_list, which glibc issues only while a thread starts, are on no
 * list; nor are exit and rt_sigprocmask, since no thread ever ends (a done
 * thread parks in FUTEX_WAIT, util/park.h).  The binary is static by
 * default: the libc variants it issues are fixed at build time (glibc on
 * x86-64: newfstatat for every stat call, epoll_wait, TCGETS/TCSETS;
 * TCGETS2/TCSETS2 of newer libcs are allowed too).
 *
 * The code keeps to one call per job so the lists stay short: clock_gettime
 * for every clock, sendmsg/recvmsg for every socket (util/sockpath.h), preadv2/
 * pwritev2 for every vectored read or write (offset -1: the file position),
 * epoll for every wait (no poll), no realloc() of large blocks (no mremap).
 * Timers are deadlines of the event loops' epoll waits (no timerfd), and
 * malloc keeps to one arena (main(): M_ARENA_MAX, no mprotect).
 */
#include "machine/seccomp_policy.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "machine/seccomp_rules.h"
#include "util/log.h"
#include "util/seccomp.h"

#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif
#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

/* What every thread does: memory, locks, eventfds, its own end. */
#define COMMON_RULES                                                                               \
	RULE(read, "eventfds, signalfd, sockets, files"),                                          \
	    RULE(write, "eventfds (kicks, irqfds, loop wake-ups), serial output, the -D log"),     \
	    RULE(close, "fds a device or a connection no longer needs"), FUTEX(FUTEX_WAIT),        \
	    FUTEX(FUTEX_WAKE), FUTEX(FUTEX_WAIT_BITSET),                                           \
	    RULE_NOTSET(mmap, 2, PROT_EXEC, "prot without PROT_EXEC", "malloc, io_uring rings"),   \
	    RULE(munmap, "free(), io_uring rings"), RULE(brk, "malloc"),                           \
	    MADVISE(MADV_DONTNEED, "free() trimming"),                                             \
	    RULE(exit_group, "end of the process (threads never exit: util/park.h)"),              \
	    RULE(clock_gettime, "the vDSO's fallback where the clocksource has no vDSO "           \
				"(measured in the nested machine): timeouts, logs, the CMOS RTC, " \
				"QMP event timestamps (no time(2), no gettimeofday(2))")

/* fstat() only: stdio sizes a stream's buffer at its first write (the -D log) */
#define FSTAT_ONLY                                                                                 \
	RULE_EQ_TXT(newfstatat, 3, AT_EMPTY_PATH, "AT_EMPTY_PATH",                                 \
		    "fstat of the -D log by stdio at its first write")

/* Devices run on every kind of thread: register writes on vCPUs, queues on loops. */
#define DEVICE_IOCTLS                                                                              \
	IOCTL(KVM_IRQ_LINE, "legacy device interrupts"),                                           \
	    IOCTL(KVM_IOEVENTFD, "virtqueue notify eventfds, (de)assigned at activation/reset"),   \
	    IOCTL(KVM_IRQFD, "virtqueue interrupt eventfds"),                                      \
	    IOCTL(TUNSETOFFLOAD, "virtio-net offloads the driver accepted"),                       \
	    IOCTL(TUNSETVNETHDRSZ, "virtio-net header size"),                                      \
	    IOCTL(TUNSETQUEUE, "multiqueue tap"), IOCTL(VHOST_GET_FEATURES, "vhost backends"),     \
	    IOCTL(VHOST_SET_FEATURES, "vhost"), IOCTL(VHOST_SET_OWNER, "vhost"),                   \
	    IOCTL(VHOST_RESET_OWNER, "vhost"), IOCTL(VHOST_SET_MEM_TABLE, "vhost"),                \
	    IOCTL(VHOST_SET_VRING_NUM, "vhost"), IOCTL(VHOST_SET_VRING_ADDR, "vhost"),             \
	    IOCTL(VHOST_SET_VRING_BASE, "vhost"), IOCTL(VHOST_GET_VRING_BASE, "vhost"),            \
	    IOCTL(VHOST_SET_VRING_KICK, "vhost"), IOCTL(VHOST_SET_VRING_CALL, "vhost"),            \
	    IOCTL(VHOST_NET_SET_BACKEND, "vhost-net"),                                             \
	    IOCTL(VHOST_VSOCK_SET_GUEST_CID, "vhost-vsock"),                                       \
	    IOCTL(VHOST_VSOCK_SET_RUNNING, "vhost-vsock")

/* Event loops: epoll, block I/O, taps, sockets. */
#define LOOP_RULES                                                                                 \
	RULE(epoll_ctl, "fds added and removed by devices"),                                       \
	    RULE(io_uring_enter, "virtio-blk requests"),                                           \
	    RULE(preadv2, "tap receive, virtio-rng's source, virtio-blk without io_uring "         \
			  "(aio=off); offset -1 stands for readv(2)"),                             \
	    RULE(pwritev2, "tap transmit, virtio-blk without io_uring; offset -1 for writev(2)"),  \
	    RULE(fallocate, "virtio-blk discard and write-zeroes"),                                \
	    RULE(fdatasync, "virtio-blk flush without io_uring"),                                  \
	    MADVISE(MADV_REMOVE, "virtio-balloon on shared memory"),                               \
	    RULE(sendmsg, "vhost-user (fds with SCM_RIGHTS), vsock connections, QMP replies "      \
			  "(for send(2), which is sendto)"),                                       \
	    RULE(recvmsg, "vhost-user replies, vsock connections and their CONNECT line (for "     \
			  "recv(2), which is recvfrom)"),                                          \
	    RULE(shutdown, "vsock: a guest SHUTDOWN passed to the host socket")

static const struct sc_rule vcpu_rules[] = {
    COMMON_RULES,
    FSTAT_ONLY,
    IOCTL(KVM_RUN, "run the vCPU"),
    DEVICE_IOCTLS,
    RULE(epoll_ctl, "a device's fds added to its loop at activation"),
    MADVISE(MADV_REMOVE, "virtio-balloon on shared memory"),
    RULE(sendmsg, "vhost-user messages at device activation"),
    RULE(recvmsg, "vhost-user replies at device activation"),
    RULE(eventfd2, "vhost call eventfds, made at the first DRIVER_OK"),
    RULE(io_uring_enter, "a reset (the guest writes Status 0) waits for the disk's "
			 "in-flight requests (found by the storm test)"),
    RULE(preadv2, "that wait finishes a short read synchronously"),
    RULE(pwritev2, "and a short write"),
};

static const struct sc_rule iothread_rules[] = {
    COMMON_RULES,
    FSTAT_ONLY,
    DEVICE_IOCTLS,
    LOOP_RULES,
    RULE(accept4, "vsock listening socket (iothread=)"),
    RULE_EQ_TXT(socket, 0, AF_UNIX, "AF_UNIX",
		"vsock connections to host unix sockets (iothread=)"),
    RULE(connect, "the socket above"),
};

static const struct sc_rule main_rules[] = {
    COMMON_RULES,
    DEVICE_IOCTLS,
    IOCTL(TUNSETIFF, "netdev_add of a tap by name"),
    IOCTL(TUNGETIFF, "netdev_add of a tap passed by getfd"),
    IOCTL(BLKGETSIZE64, "blockdev-add of a host block device"),
    IOCTL(TCGETS, "-serial stdio: terminal mode restored at exit"),
    IOCTL(TCSETS, "terminal"),
    IOCTL(TCSETSW, "terminal"),
    IOCTL(TCSETSF, "terminal"),
    IOCTL(TCGETS2, "terminal (newer libcs)"),
    IOCTL(TCSETS2, "terminal (newer libcs)"),
    IOCTL(TCSETSW2, "terminal (newer libcs)"),
    IOCTL(TCSETSF2, "terminal (newer libcs)"),
    LOOP_RULES,
    RULE_NOTSET(openat, 2, O_CREAT | __O_TMPFILE, "flags without O_CREAT and O_TMPFILE",
		"blockdev-add, netdev_add (/dev/net/tun) at run time; never creates a file"),
    RULE(newfstatat, "fstat of hot-plugged files; lstat before removing the pidfile"),
    FCNTL(F_GETFD, "fd flags of fds passed by getfd"),
    FCNTL(F_SETFD, "FD_CLOEXEC"),
    FCNTL(F_GETFL, "O_NONBLOCK"),
    FCNTL(F_SETFL, "O_NONBLOCK"),
    FCNTL(F_DUPFD_CLOEXEC, "a duplicate of a passed fd"),
    FCNTL(F_OFD_GETLK, "image locks of hot-plugged drives"),
    FCNTL(F_OFD_SETLK, "image locks"),
    RULE(eventfd2, "vhost call eventfds of a NIC hot-plugged with vhost=on (netdev_add)"),
    RULE(accept4, "QMP and vsock listening sockets"),
    RULE_EQ_TXT(socket, 0, AF_UNIX, "AF_UNIX",
		"vsock connections to host unix sockets, vhost-user"),
    RULE(connect, "the socket above"),
    RULE(tgkill, "the vCPU kick (SIGUSR1) on pause and at exit"),
};

/* -jail pidns=on: the parent outside the namespace, waiting for the VM's process. */
static const struct sc_rule supervisor_rules[] = {
    RULE(read, "SIGTERM/SIGINT/SIGHUP/SIGCHLD from its signalfd (SIGCHLD carries the VM's "
	       "exit status: no wait4)"),
    RULE(tgkill, "pass a stop signal on to the VM's first thread"),
    RULE(write, "messages on stderr and the -D log"),
    RULE(close, "the pidfile at exit"),
    RULE(newfstatat, "lstat before removing the pidfile"),
    RULE(munmap, "free() at exit"),
    RULE(brk, "free() at exit"),
    MADVISE(MADV_DONTNEED, "free() trimming"),
    RULE(exit_group, "end of the process"),
};

#define POLICY(k, r, bit)                                                                          \
	{                                                                                          \
		.kind = k, .rules = r, .nr_rules = sizeof(r) / sizeof((r)[0]),                     \
		.arch_rules = sc_arch_rules, .kind_bit = bit                                       \
	}

const struct sc_policy sc_policy_vcpu = POLICY("vcpu", vcpu_rules, SC_VCPU);
const struct sc_policy sc_policy_iothread = POLICY("iothread", iothread_rules, SC_IOTHREAD);
const struct sc_policy sc_policy_main = POLICY("main", main_rules, SC_MAIN);
const struct sc_policy sc_policy_supervisor = POLICY("supervisor", supervisor_rules, SC_SUPERVISOR);

const struct sc_policy *const sc_policies[] = {&sc_policy_main, &sc_policy_vcpu,
					       &sc_policy_iothread, &sc_policy_supervisor, NULL};

static bool seccomp_on = true;

void seccomp_policy_enable(bool on)
{
	seccomp_on = on;
}

int seccomp_policy_install(const struct sc_policy *p, const char *thread_name)
{
	int ret;

	if (!seccomp_on)
		return 0;
	ret = sc_install(p, thread_name);
	if (ret < 0)
		user_err("seccomp: cannot install the %s filter in thread '%s': %s", p->kind,
			 thread_name, strerror(-ret));
	return ret;
}

int seccomp_policy_iothread(const char *thread_name)
{
	return seccomp_policy_install(&sc_policy_iothread, thread_name);
}

void seccomp_policy_print(FILE *f)
{
	for (int i = 0; sc_policies[i]; i++)
		sc_print(f, sc_policies[i]);
}
