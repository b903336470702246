// SPDX-License-Identifier: MulanPSL-2.0
/*
 * QMP commands of the machine: pause/resume, quit, reset and power-down,
 * status, vCPUs and identity queries, and the SHUTDOWN event when the VM
 * ends for any other reason.
 */
#include <stdio.h>
#include <string.h>

#include "machine/qmp_vm.h"

#include "arch/arch.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "qmp/commands.h"
#include "qmp/qmp.h"

static json_t *shutdown_data(bool guest, const char *reason)
{
	return json_pack("{s:b,s:s}", "guest", guest, "reason", reason);
}

int qmp_cmd_stop(struct qmp_req *r)
{
	if (vm_pause(r->vm) < 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "VM is already paused or not running");
	qmp_event("STOP", NULL);
	return 0;
}

int qmp_cmd_cont(struct qmp_req *r)
{
	if (vm_resume(r->vm) < 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "VM is already running");
	qmp_event("RESUME", NULL);
	return 0;
}

int qmp_cmd_query_status(struct qmp_req *r)
{
	bool running = vm_get_state(r->vm) == VM_RUNNING;

	r->ret = json_pack("{s:b,s:b,s:s}", "running", running, "singlestep", 0, "status",
			   running ? "running" : "paused");
	return 0;
}

int qmp_cmd_quit(struct qmp_req *r)
{
	qmp_event("SHUTDOWN", shutdown_data(false, "host-qmp-quit"));
	vm_request_shutdown(r->vm, SHUTDOWN_HOST_QMP, 0);
	return 0;
}

/*
 * A microVM has no reset path of its own: a guest reboot ends the process
 * (status 0) and the supervisor starts a new VM.  system_reset does the same,
 * announced as RESET then SHUTDOWN (docs/qmp.md).
 */
int qmp_cmd_system_reset(struct qmp_req *r)
{
	qmp_event("RESET", shutdown_data(false, "host-qmp-system-reset"));
	qmp_event("SHUTDOWN", shutdown_data(false, "host-qmp-system-reset"));
	vm_request_shutdown(r->vm, SHUTDOWN_HOST_QMP, 0);
	return 0;
}

/*
 * A press of the guest's power button (x86: the ACPI GED notifies \_SB.PWRB);
 * the guest decides what to do with it.  Without a button it is an error
 * that says why, not a silent success (docs/qmp.md).
 */
int qmp_cmd_system_powerdown(struct qmp_req *r)
{
	int ret;

	if (!r->vm->power_button) {
		if (strcmp(arch_info.target, "x86_64"))
			return qmp_fail(r, QMP_ERR_GENERIC,
					"system_powerdown is not supported yet on %s: the machine "
					"has no power button",
					arch_info.target);
		return qmp_fail(r, QMP_ERR_GENERIC,
				"system_powerdown: the machine has no power button "
				"(-machine acpi=off leaves out the ACPI tables and their GED)");
	}
	ret = r->vm->power_button(r->vm);
	if (ret < 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"system_powerdown: cannot press the power "
				"button: %s",
				strerror(-ret));
	qmp_event("POWERDOWN", NULL);
	return 0;
}

void qmp_vm_shutdown_event(struct vm *vm)
{
	enum vm_shutdown_reason reason;

	pthread_mutex_lock(&vm->lock);
	reason = vm->shutdown_reason;
	pthread_mutex_unlock(&vm->lock);
	switch (reason) {
	case SHUTDOWN_GUEST_RESET:
	case SHUTDOWN_GUEST_POWEROFF:
		qmp_event("SHUTDOWN", shutdown_data(true, "guest-shutdown"));
		break;
	case SHUTDOWN_HOST_SIGNAL:
		qmp_event("SHUTDOWN", shutdown_data(false, "host-signal"));
		break;
	case SHUTDOWN_ERROR:
		qmp_event("SHUTDOWN", shutdown_data(false, "host-error"));
		break;
	default: /* SHUTDOWN_HOST_QMP: its command sent the event before its reply */
		break;
	}
}

static unsigned at_least_1(unsigned v)
{
	return v ? v : 1;
}

static json_t *cpu_props(const struct vm_config *cfg, unsigned i)
{
	unsigned threads = at_least_1(cfg->threads), cores = at_least_1(cfg->cores);
	unsigned per_socket = threads * cores * at_least_1(cfg->dies) * at_least_1(cfg->clusters);

	return json_pack("{s:i,s:i,s:i}", "socket-id", (int)(i / per_socket), "core-id",
			 (int)((i / threads) % cores), "thread-id", (int)(i % threads));
}

static void qom_path(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "/machine/unattached/device[%u]", i);
}

int qmp_cmd_query_cpus(struct qmp_req *r)
{
	json_t *list = json_array();
	char path[64];

	for (unsigned i = 0; i < r->vm->nr_vcpus; i++) {
		qom_path(path, sizeof(path), i);
		json_array_append_new(
		    list, json_pack("{s:i,s:b,s:b,s:s,s:i,s:s,s:o}", "CPU", (int)i, "current",
				    i == 0, "halted", 0, "qom_path", path, "thread_id",
				    (int)atomic_load(&r->vm->vcpus[i].tid), "arch",
				    arch_info.cpu_arch, "props", cpu_props(r->vm->cfg, i)));
	}
	r->ret = list;
	return 0;
}

int qmp_cmd_query_hotpluggable_cpus(struct qmp_req *r)
{
	unsigned max =
	    r->vm->cfg->max_cpus > r->vm->nr_vcpus ? r->vm->cfg->max_cpus : r->vm->nr_vcpus;
	json_t *list = json_array();
	char path[64];

	for (unsigned i = 0; i < max; i++) {
		json_t *cpu = json_pack("{s:s,s:i,s:o}", "type", arch_info.cpu_type, "vcpus-count",
					1, "props", cpu_props(r->vm->cfg, i));

		if (i < r->vm->nr_vcpus) {
			qom_path(path, sizeof(path), i);
			json_object_set_new(cpu, "qom-path", json_string(path));
		}
		json_array_append_new(list, cpu);
	}
	r->ret = list;
	return 0;
}

int qmp_cmd_query_version(struct qmp_req *r)
{
	r->ret = json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", 1, "minor", 0, "major", 5,
			   "package", "StratoVirt-" SV_VERSION);
	return 0;
}

int qmp_cmd_query_name(struct qmp_req *r)
{
	const char *name = r->vm->cfg->name;

	r->ret = name ? json_pack("{s:s}", "name", name) : json_object();
	return 0;
}

int qmp_cmd_query_uuid(struct qmp_req *r)
{
	const char *uuid = r->vm->cfg->uuid;

	r->ret = json_pack("{s:s}", "UUID", uuid ? uuid : "00000000-0000-0000-0000-000000000000");
	return 0;
}

int qmp_cmd_query_kvm(struct qmp_req *r)
{
	r->ret = json_pack("{s:b,s:b}", "enabled", 1, "present", 1);
	return 0;
}

int qmp_cmd_query_target(struct qmp_req *r)
{
	r->ret = json_pack("{s:s}", "arch", arch_info.target);
	return 0;
}
