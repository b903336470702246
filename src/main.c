// SPDX-License-Identifier: MulanPSL-2.0
/* parse -> build -> run -> exit status */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/boot.h"
#include "config/config.h"
#include "machine/machine.h"
#include "qmp/qmp.h"
#include "util/daemon.h"
#include "util/log.h"

static int build_and_run(const struct vm_config *cfg)
{
	struct boot_entry entry;
	struct vm vm;
	int status = 1;
	bool pidfile = false;

	if (vm_create(&vm, cfg) < 0)
		goto out;
	pr_debug("start-up: VM and memory ready at %.3f ms", vm_elapsed_ms());
	if (vm_create_devices(&vm) < 0)
		goto out;
	pr_debug("start-up: devices ready at %.3f ms", vm_elapsed_ms());
	if (vm_load_kernel(&vm, &entry) < 0)
		goto out;
	pr_debug("start-up: kernel loaded at %.3f ms", vm_elapsed_ms());
	if (vm_create_vcpus(&vm, &entry) < 0)
		goto out;
	pr_debug("start-up: vCPUs ready at %.3f ms", vm_elapsed_ms());
	if (cfg->pidfile) {
		if (pidfile_write(cfg->pidfile) < 0)
			goto out;
		pidfile = true;
	}
	/* the socket file appears only once every other start-up check passed */
	if (qmp_server_start(&vm, cfg->qmp_path) < 0)
		goto out;
	if (!cfg->start_paused)
		vm_resume(&vm);
	if (vm_start_vcpus(&vm) < 0)
		goto out;
	daemon_ready();
	status = vm_run(&vm);
out:
	qmp_server_stop();
	vm_destroy(&vm);
	if (pidfile)
		pidfile_remove(cfg->pidfile);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	enum config_action action = CONFIG_RUN;
	char err[512] = "";
	int status;

	vm_mark_process_start();
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
	if (log_init(cfg.log_file, cfg.log_enabled) < 0) {
		fprintf(stderr, "stratovirt: cannot open log file '%s'\n", cfg.log_file);
		config_free(&cfg);
		return 1;
	}
	if (cfg.daemonize && daemon_start() < 0) {
		fprintf(stderr, "stratovirt: cannot daemonize\n");
		config_free(&cfg);
		return 1;
	}
	status = build_and_run(&cfg);
	config_free(&cfg);
	return status;
}
