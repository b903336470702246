// SPDX-License-Identifier: MulanPSL-2.0
/* The machine and device functions the QMP handlers call, as recording fakes. */
#include <errno.h>
#include <string.h>

#include "machine/vm.h"
#include "stubs.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/tap.h"

struct fake_state fake;

int vm_pause(struct vm *vm)
{
	if (vm->state != VM_RUNNING)
		return -EINVAL;
	vm->state = VM_PAUSED;
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (vm->state != VM_PAUSED && vm->state != VM_CREATED)
		return -EINVAL;
	vm->state = VM_RUNNING;
	return 0;
}

enum vm_state vm_get_state(struct vm *vm)
{
	return vm->state;
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason, int status)
{
	vm->shutdown_reason = reason;
	vm->shutdown_status = status;
	fake.shutdowns++;
}

int blk_slot_count(void)
{
	return 4;
}

int blk_slot_attach(struct vm *vm, int slot, const struct drive_config *drive)
{
	(void)vm;
	if (fake.blk_attached[slot])
		return -EBUSY;
	if (fake.blk_fail) {
		user_err("drive '%s': image '%s' is locked by another process\n", drive->id,
			 drive->path);
		return -EBUSY;
	}
	fake.blk_attached[slot] = true;
	fake.blk_readonly[slot] = drive->readonly;
	return 0;
}

int blk_slot_detach(struct vm *vm, int slot)
{
	(void)vm;
	if (!fake.blk_attached[slot])
		return -ENOENT;
	fake.blk_attached[slot] = false;
	return 0;
}

int net_slot_count(void)
{
	return 2;
}

int net_slot_attach(struct vm *vm, int slot, const struct net_config *net)
{
	(void)vm;
	if (fake.net_fd[slot] || fake.net_ifname[slot][0])
		return -EBUSY;
	if (net->nr_fds)
		fake.net_fd[slot] = net->fds[0];
	else
		strncpy(fake.net_ifname[slot], net->ifname, sizeof(fake.net_ifname[slot]) - 1);
	if (net->has_mac)
		memcpy(fake.net_mac[slot], net->mac, 6);
	return 0;
}

int net_slot_detach(struct vm *vm, int slot)
{
	(void)vm;
	if (fake.net_fd[slot] > 0)
		close(fake.net_fd[slot]);
	fake.net_fd[slot] = 0;
	fake.net_ifname[slot][0] = '\0';
	return 0;
}

/* Any pipe or fd counts as a tap here: the real check needs a tun device. */
int tap_check_fd(int fd, char *name_out)
{
	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	strcpy(name_out, "faketap");
	return 0;
}

/* A balloon whose guest is always at the target. */
int balloon_set_target(uint64_t bytes)
{
	if (!fake.balloon_ram)
		return -ENODEV;
	if (!bytes || bytes > fake.balloon_ram)
		return -ERANGE;
	fake.balloon_target = bytes;
	return 0;
}

int balloon_get_actual(uint64_t *bytes)
{
	if (!fake.balloon_ram)
		return -ENODEV;
	*bytes = fake.balloon_target ? fake.balloon_target : fake.balloon_ram;
	return 0;
}

uint64_t balloon_ram_size(void)
{
	return fake.balloon_ram;
}
