// SPDX-License-Identifier: MulanPSL-2.0
/*
 * How the order of the KVM set-up ioctls changes their cost (docs/benchmarks.md).
 * Not part of the build: gcc -O2 -static -o /tmp/kvm-order bench/kvm-order.c
 * Usage: kvm-order ORDER...   each ORDER a string of steps, done in that order
 * right after KVM_CREATE_VM:
 *   m  KVM_SET_USER_MEMORY_REGION, 128 MiB at 0      i  KVM_CREATE_IRQCHIP
 *   p  KVM_CREATE_PIT2 (needs i first)                e  4 x KVM_IOEVENTFD
 *   c  KVM_CREATE_VCPU
 * Prints the milliseconds of each step and the total from KVM_CREATE_VM.
 * StratoVirt's order is "ipmec"; "mipec" registers guest memory first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static int vm;
static char *m;
static double step_mem(void)
{
	double a = now();
	struct kvm_userspace_memory_region r = {
	    .slot = 0, .memory_size = 128 << 20, .userspace_addr = (unsigned long)m};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		perror("mem");
	return now() - a;
}
static double step_irq(void)
{
	double a = now();
	ioctl(vm, KVM_CREATE_IRQCHIP, 0);
	return now() - a;
}
static double step_pit(void)
{
	double a = now();
	struct kvm_pit_config pit = {0};
	ioctl(vm, KVM_CREATE_PIT2, &pit);
	return now() - a;
}
static double step_ioev(void)
{
	double a = now();
	for (int i = 0; i < 4; i++) {
		struct kvm_ioeventfd io = {
		    .addr = 0xf0100050 + 0x200 * i, .len = 4, .fd = eventfd(0, 0)};
		ioctl(vm, KVM_IOEVENTFD, &io);
	}
	return now() - a;
}
static double step_vcpu(void)
{
	double a = now();
	int c = ioctl(vm, KVM_CREATE_VCPU, 0);
	(void)c;
	return now() - a;
}
static void one(const char *order)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	double t0;

	if (kvm < 0) {
		perror("/dev/kvm");
		exit(1);
	}
	m = mmap(0, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	t0 = now();
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		exit(1);
	}
	printf("%-6s", order);
	for (const char *o = order; *o; o++) {
		double d = 0;
		switch (*o) {
		case 'm':
			d = step_mem();
			break;
		case 'i':
			d = step_irq();
			break;
		case 'p':
			d = step_pit();
			break;
		case 'e':
			d = step_ioev();
			break;
		case 'c':
			d = step_vcpu();
			break;
		}
		printf(" %c=%.3f", *o, d);
	}
	printf(" total=%.3f\n", now() - t0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		pid_t pid = fork(); /* a fresh process per VM, like a VMM */

		if (pid == 0) {
			one(argv[i]);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}
