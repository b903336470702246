// SPDX-License-Identifier: MulanPSL-2.0
/*
 * kvm-ok for the arm64 L1 of scripts/hwvirt-arm64.sh: proves that /dev/kvm
 * can run a vCPU.  Opens /dev/kvm, checks KVM_GET_API_VERSION (12), creates a
 * VM (KVM_CREATE_VM), one vCPU, asks KVM_ARM_PREFERRED_TARGET and initialises
 * the vCPU with KVM_ARM_VCPU_INIT (PSCI 0.2), reads the IPA size limit, then
 * runs two instructions: "hvc #0" with x0 = PSCI SYSTEM_OFF must come back
 * as KVM_EXIT_SYSTEM_EVENT (SHUTDOWN).  Prints one line; exit 0 when all
 * of it worked, 1 otherwise (with the step that failed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_BASE    0x40000000ULL
#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))

static int fail(const char *what)
{
	printf("kvm-ok: FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(void)
{
	/* x0 = 0x84000008 (PSCI SYSTEM_OFF) takes a movz and a movk */
	static const uint32_t code[] = {
	    0xd2b08000, /* movz x0, #0x8400, lsl #16 */
	    0xf2800100, /* movk x0, #0x0008 */
	    0xd4000002, /* hvc #0 */
	    0x14000000, /* b . */
	};
	struct kvm_vcpu_init init;
	struct kvm_one_reg reg;
	struct kvm_run *run;
	uint64_t pc = RAM_BASE, x0;
	double t0 = now_us();
	int kvm, vm, vcpu, api, ipa, mmap_size;
	void *ram;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		printf("kvm-ok: FAIL KVM_GET_API_VERSION = %d\n", api);
		return 1;
	}
	ipa = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("mmap");
	memcpy(ram, code, sizeof(code));
	struct kvm_userspace_memory_region mr = {
	    .slot = 0,
	    .guest_phys_addr = RAM_BASE,
	    .memory_size = 0x10000,
	    .userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	memset(&init, 0, sizeof(init));
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return fail("KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
		return fail("KVM_ARM_VCPU_INIT");
	reg.id = CORE_REG(regs.pc);
	reg.addr = (uintptr_t)&pc;
	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0)
		return fail("KVM_SET_ONE_REG pc");
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_SYSTEM_EVENT ||
	    run->system_event.type != KVM_SYSTEM_EVENT_SHUTDOWN) {
		reg.id = CORE_REG(regs.regs[0]);
		reg.addr = (uintptr_t)&x0;
		ioctl(vcpu, KVM_GET_ONE_REG, &reg);
		printf("kvm-ok: FAIL KVM_RUN exit %u (system event %u, x0 %#llx), "
		       "wanted SYSTEM_EVENT SHUTDOWN\n",
		       run->exit_reason, run->system_event.type, (unsigned long long)x0);
		return 1;
	}
	printf("kvm-ok: OK api %d, ipa %d bits, target %u, PSCI SYSTEM_OFF "
	       "exit in %.0f us from open\n",
	       api, ipa, init.target, now_us() - t0);
	return 0;
}
