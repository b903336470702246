// SPDX-License-Identifier: MulanPSL-2.0
/*
 * The jail (-jail, -rlimit; docs/security.md), applied once everything the
 * VMM needs at start-up is open:
 *
 *   jail_enter()         main thread: rlimits, new network/mount namespaces,
 *                        the new root (pivot_root with mountns=on, else chroot)
 *   jail_enter_thread()  every thread that exists by then (the main thread,
 *                        each I/O thread before its filter): the namespaces
 *                        and root of the main thread, no supplementary
 *                        groups, gid, uid, no capabilities, no_new_privs
 *
 * Credentials, capabilities and no_new_privs are per thread in the kernel:
 * they are changed with raw syscalls in each thread (glibc's setresuid()
 * would signal every thread, including ones already under seccomp).  vCPU
 * threads start afterwards and inherit all of it.
 *
 * pidns=on needs a fork, done by jail_pidns_fork() before any thread exists:
 * the parent stays outside (it holds the pidfile, passes SIGTERM/SIGINT/
 * SIGHUP on and exits with the child's status); the child is pid 1 of the
 * new namespace and is killed if the parent dies.
 */
#include "machine/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine/seccomp_policy.h"
#include "util/log.h"

static const struct jail_config *jail;
static int ns_net_fd = -1, ns_mnt_fd = -1;
static pid_t main_tid;

bool jail_wanted(const struct jail_config *j)
{
	return j->dir[0] || j->has_nofile || j->has_memlock;
}

static int fail(const char *what, int err)
{
	user_err("-jail: %s: %s", what, strerror(err));
	return -err;
}

/* The highest open fd, -1 if it cannot be read. */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int top = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd > top)
			top = fd;
	}
	closedir(d);
	return top;
}

static int rlimit_fail(const char *what, uint64_t v, int err)
{
	user_err("-rlimit %s=%llu: %s%s", what, (unsigned long long)v, strerror(err),
		 err == EPERM ? " (above the hard limit, which only CAP_SYS_RESOURCE may raise)"
			      : "");
	return -err;
}

static int apply_rlimits(const struct jail_config *j)
{
	struct rlimit rl;

	if (j->has_nofile) {
		int top = highest_fd();

		if (top >= 0 && (uint64_t)top >= j->nofile) {
			user_err("-rlimit nofile=%llu: the VMM already holds fd %d; nofile must be "
				 "above it",
				 (unsigned long long)j->nofile, top);
			return -EINVAL;
		}
		rl.rlim_cur = rl.rlim_max = j->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return rlimit_fail("nofile", j->nofile, errno);
	}
	if (j->has_memlock) {
		rl.rlim_cur = rl.rlim_max = j->memlock;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			return rlimit_fail("memlock", j->memlock, errno);
	}
	return 0;
}

static int new_root(const struct jail_config *j)
{
	struct stat st;

	if (lstat(j->dir, &st) < 0)
		return fail(j->dir, errno);
	if (!S_ISDIR(st.st_mode)) {
		user_err("invalid value '%s' for -jail dir: not a directory", j->dir);
		return -ENOTDIR;
	}
	if (!j->mountns) {
		if (chroot(j->dir) < 0)
			return fail("chroot", errno);
		return chdir("/") < 0 ? fail("chdir /", errno) : 0;
	}
	/* nothing done here propagates back to the host's mounts */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("making mounts private", errno);
	/* pivot_root needs a mount point: the directory bound onto itself */
	if (mount(j->dir, j->dir, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail("bind-mounting the jail directory", errno);
	if (chdir(j->dir) < 0)
		return fail("chdir", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot_root", errno);
	/* the old root is stacked on "."; detach it: the host's tree is gone */
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detaching the old root", errno);
	return chdir("/") < 0 ? fail("chdir /", errno) : 0;
}

int jail_enter(const struct jail_config *j)
{
	int flags = 0, ret;

	jail = j;
	main_tid = (pid_t)syscall(SYS_gettid);
	ret = apply_rlimits(j);
	if (ret || !j->dir[0])
		return ret;
	if (j->netns)
		flags |= CLONE_NEWNET;
	if (j->mountns)
		flags |= CLONE_NEWNS;
	if (flags && unshare(flags) < 0)
		return fail(j->netns && j->mountns ? "new network and mount namespaces"
			    : j->netns		   ? "new network namespace"
						   : "new mount namespace",
			    errno);
	/* for the threads that already run (I/O threads): they join these */
	if (j->netns && (ns_net_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		return fail("/proc/thread-self/ns/net", errno);
	if (j->mountns && (ns_mnt_fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0)
		return fail("/proc/thread-self/ns/mnt", errno);
	return new_root(j);
}

/* Before the ids change: dropping from the bounding set needs CAP_SETPCAP. */
static int drop_bounding_set(void)
{
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break; /* past the last capability this kernel knows */
		return fail("dropping the capability bounding set", errno);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail("clearing ambient capabilities", errno);
	return 0;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail("dropping capabilities", errno);
	return 0;
}

int jail_enter_thread(void)
{
	const struct jail_config *j = jail;
	bool other = (pid_t)syscall(SYS_gettid) != main_tid;

	if (!j || !j->dir[0])
		return 0;
	if (other && (ns_net_fd >= 0 || ns_mnt_fd >= 0)) {
		/* setns(CLONE_NEWNS) needs a filesystem context of its own */
		if (unshare(CLONE_FS) < 0)
			return fail("unshare(CLONE_FS) in an I/O thread", errno);
		if (ns_net_fd >= 0 && setns(ns_net_fd, CLONE_NEWNET) < 0)
			return fail("joining the network namespace", errno);
		/* joining the mount namespace also moves root and cwd to its root: the jail */
		if (ns_mnt_fd >= 0 && setns(ns_mnt_fd, CLONE_NEWNS) < 0)
			return fail("joining the mount namespace", errno);
	}
	/* plain chroot: the threads share the main thread's root already */
	if (drop_bounding_set() < 0)
		return -EPERM;
	if (j->has_gid || j->has_uid) {
		if (syscall(SYS_setgroups, 0, NULL) < 0)
			return fail("dropping supplementary groups", errno);
	}
	if (j->has_gid && syscall(SYS_setresgid, j->gid, j->gid, j->gid) < 0)
		return fail("setting the gid", errno);
	if (j->has_uid && syscall(SYS_setresuid, j->uid, j->uid, j->uid) < 0)
		return fail("setting the uid", errno);
	if (drop_capabilities() < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("no_new_privs", errno);
	return 0;
}

void jail_done(void)
{
	if (ns_net_fd >= 0)
		close(ns_net_fd);
	if (ns_mnt_fd >= 0)
		close(ns_mnt_fd);
	ns_net_fd = ns_mnt_fd = -1;
}

/*
 * The supervisor reads the stop signals and SIGCHLD from a signalfd made
 * before its filter and passes a stop signal on to the VM's first thread
 * (which reads it from its own signalfd) with tgkill: read and tgkill, no
 * sigwaitinfo, kill or signal handler.  The VM's exit status comes with its
 * SIGCHLD (ssi_code, ssi_status), so no wait4 is needed under the filter:
 * SA_NOCLDSTOP keeps a stop of the child from taking the one pending SIGCHLD
 * slot, and the zombie is reaped by whoever reaps the supervisor's orphans
 * once it exits, right after.
 */
static int supervise(pid_t child)
{
	struct sigaction nocldstop = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDSTOP};
	struct signalfd_siginfo si;
	sigset_t set;
	int status = 0, sfd;
	pid_t r;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sfd = -1;
	if (sigaction(SIGCHLD, &nocldstop, NULL) == 0 && sigprocmask(SIG_BLOCK, &set, NULL) == 0)
		sfd = signalfd(-1, &set, SFD_CLOEXEC);
	/* the child may have ended before SIGCHLD was blocked: look first */
	do
		r = sfd < 0 ? 0 : waitpid(child, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == child)
		goto done;
	if (r < 0 || sfd < 0 || seccomp_policy_install(&sc_policy_supervisor, "supervisor") < 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		return 1;
	}
	for (;;) {
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP)
			syscall(SYS_tgkill, child, child, (int)si.ssi_signo);
		if (si.ssi_signo != SIGCHLD || (pid_t)si.ssi_pid != child)
			continue;
		if (si.ssi_code == CLD_EXITED) {
			close(sfd);
			return si.ssi_status & 0xff;
		}
		if (si.ssi_code == CLD_KILLED || si.ssi_code == CLD_DUMPED) {
			close(sfd);
			return 128 + si.ssi_status;
		}
	}
done:
	close(sfd);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int jail_pidns_fork(const struct jail_config *j, pid_t *child)
{
	int alive[2];
	pid_t pid;

	*child = 0;
	if (!j->dir[0] || !j->pidns)
		return 0;
	if (pipe2(alive, O_CLOEXEC) < 0)
		return fail("pipe", errno);
	if (unshare(CLONE_NEWPID) < 0) {
		close(alive[0]);
		close(alive[1]);
		return fail("new pid namespace", errno);
	}
	pid = fork();
	if (pid < 0) {
		close(alive[0]);
		close(alive[1]);
		return fail("fork into the pid namespace", errno);
	}
	if (pid > 0) {
		close(alive[0]);
		*child = pid; /* alive[1] stays open in the parent until it exits */
		return 0;
	}
	/* the child: pid 1 of the new namespace, ended if the parent goes */
	close(alive[1]);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	{
		struct pollfd p = {.fd = alive[0], .events = POLLIN};

		if (poll(&p, 1, 0) > 0)
			_exit(1); /* the parent is already gone */
	}
	close(alive[0]);
	return 0;
}

int jail_supervise(pid_t child)
{
	return supervise(child);
}
