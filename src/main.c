// SPDX-License-Identifier: MulanPSL-2.0
/* parse -> build -> run -> exit status */
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arch/arch.h"
#include "config/config.h"
#include "config/paths.h"
#include "machine/machine.h"
#include "machine/jail.h"
#include "machine/preflight.h"
#include "machine/seccomp_policy.h"
#include "qmp/qmp.h"
#include "util/daemon.h"
#include "util/iothread.h"
#include "util/log.h"

/*
 * SIGTERM/SIGINT/SIGHUP are blocked from the start and taken by a signalfd
 * once the VM runs; until then each step checks for one, so that start-up
 * stops promptly and removes what it created (exit status 0, as when the
 * running VM is stopped by a signal).
 */
static bool interrupted(int *status)
{
	if (!stop_signal_pending())
		return false;
	pr_info("start-up interrupted by a signal, exiting");
	*status = 0;
	return true;
}

/* An I/O thread, before its loop: the jail, then its seccomp filter. */
static int iothread_enter(const char *name)
{
	int ret = jail_enter_thread();

	return ret ? ret : seccomp_policy_iothread(name);
}

static int build_and_run(const struct vm_config *cfg)
{
	struct boot_entry entry;
	struct vm vm;
	int status = 1;
	bool ran = false;

	if (vm_create(&vm, cfg) < 0 || interrupted(&status))
		goto out;
	pr_debug("start-up: VM and memory ready at %.3f ms", vm_elapsed_ms());
	if (vm_create_devices(&vm) < 0 || interrupted(&status))
		goto out;
	pr_debug("start-up: devices ready at %.3f ms", vm_elapsed_ms());
	if (vm_load_kernel(&vm, &entry) < 0 || interrupted(&status))
		goto out;
	pr_debug("start-up: kernel loaded at %.3f ms", vm_elapsed_ms());
	if (vm_create_vcpus(&vm, &entry) < 0 || interrupted(&status))
		goto out;
	pr_debug("start-up: vCPUs ready at %.3f ms", vm_elapsed_ms());
	/* the socket file appears only once every other start-up check passed */
	if (qmp_server_start(&vm, cfg->qmp_path) < 0 || interrupted(&status))
		goto out;
	/* everything is open: the jail, then each I/O thread's filter before its loop runs */
	if (jail_enter(&cfg->jail) < 0 || iothreads_release(&vm, iothread_enter) < 0 ||
	    jail_enter_thread() < 0)
		goto out;
	jail_done();
	if (!cfg->start_paused)
		vm_resume(&vm);
	/* from here a signal is read by vm_run()'s signalfd */
	if (vm_start_vcpus(&vm) < 0)
		goto out;
	daemon_ready();
	status = vm_run(&vm);
	ran = true;
out:
	if (!ran)
		interrupted(&status); /* a failure caused by the signal (-EINTR) is no error */
	qmp_server_stop();
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	enum config_action action = CONFIG_RUN;
	char err[512] = "";
	char cwd[4096];
	pid_t child = 0;
	bool vm_child;
	int status;

	vm_mark_process_start();
	/*
	 * One malloc arena for every thread, set before any thread exists:
	 * glibc grows a thread's own arena with mprotect, the main arena with
	 * brk, so no seccomp list needs mprotect (docs/security.md).
	 */
	mallopt(M_ARENA_MAX, 1);
	/* a lone option: the allow-lists as compiled (docs/security.md) */
	if (argc == 2 && !strcmp(argv[1], "-print-seccomp-policy")) {
		seccomp_policy_print(stdout);
		return 0;
	}
	/* Before any thread exists; see interrupted(). */
	stop_signals_block();
	config_init(&cfg);
	if (config_parse_cmdline(&cfg, argc, argv, &action, err, sizeof(err)) < 0 ||
	    (action == CONFIG_RUN && config_validate(&cfg, err, sizeof(err)) < 0)) {
		fprintf(stderr, "stratovirt: %s\n", err[0] ? err : "invalid command line");
		config_free(&cfg);
		return 1;
	}
	if (action == CONFIG_HELP) {
		config_print_help();
		config_free(&cfg);
		return 0;
	}
	if (action == CONFIG_VERSION) {
		printf("StratoVirt %s (C)\n", SV_VERSION);
		config_free(&cfg);
		return 0;
	}
	seccomp_policy_enable(!cfg.disable_seccomp);
	/*
	 * Read now, not later under a filter or in the jail: jansson's hash seed
	 * (/dev/urandom, else getpid()).  No time zone is read: the emulated
	 * clocks work in UTC with util/utc.c, not the C library's gmtime_r().
	 */
	json_object_seed(0);
	/* -daemonize changes to /: resolve paths against where the user started us */
	if (cfg.daemonize) {
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr,
				"stratovirt: cannot read the working directory for -daemonize\n");
			config_free(&cfg);
			return 1;
		}
		if (config_make_paths_absolute(&cfg, cwd, err, sizeof(err)) < 0) {
			fprintf(stderr, "stratovirt: %s\n", err);
			config_free(&cfg);
			return 1;
		}
	}
	/* Nothing is created or removed on the host before every check has passed. */
	if (vm_preflight(&cfg) < 0) {
		config_free(&cfg);
		return 1;
	}
	status = 1;
	if (interrupted(&status) || log_init(cfg.log_file, cfg.log_enabled) < 0) {
		config_free(&cfg);
		return status;
	}
	sc_set_log_fd(log_get_fd());
	if (cfg.daemonize && daemon_start() < 0) {
		fprintf(stderr, "stratovirt: cannot daemonize\n");
		config_free(&cfg);
		return 1;
	}
	/* -jail pidns=on: the VM runs in a child, pid 1 of a new pid namespace */
	if (jail_pidns_fork(&cfg.jail, &child) < 0) {
		config_free(&cfg);
		return 1;
	}
	/* In the process that stays: the pidfile's lock is not inherited by fork(). */
	vm_child = cfg.jail.dir[0] && cfg.jail.pidns && child == 0;
	if (cfg.pidfile && !vm_child && pidfile_write(cfg.pidfile, err, sizeof(err)) < 0) {
		user_err("%s", err);
		config_free(&cfg);
		if (child > 0)
			kill(child, SIGKILL);
		return 1;
	}
	status = 1;
	if (child > 0)
		status = jail_supervise(child);
	else if (!interrupted(&status))
		status = build_and_run(&cfg);
	pidfile_remove();
	config_free(&cfg);
	return status;
}
