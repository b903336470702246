/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_BLK_H
#define SV_VIRTIO_BLK_H

/*
 * virtio-blk hot-replace slots.  BLK_NR_SLOTS transports exist from boot
 * (more when the command line names more disks); the disks given at start-up
 * fill them in order, so the first is vda.  An empty slot is a disk of
 * capacity 0.
 */

#include <stdbool.h>

struct vm;
struct drive_config;

#define BLK_NR_SLOTS 4

/*
 * Opens drive->path (checks, lock, io_uring) and puts it into slot; raises
 * the config-change interrupt so the guest re-reads the capacity.
 * -ENODEV: no such slot; -EBUSY: slot in use; other -errno: the image could
 * not be opened (message printed).
 */
int blk_slot_attach(struct vm *vm, int slot, const struct drive_config *drive);
/* Empties slot (in-flight requests complete first).  -ENODEV, -ENOENT (empty). */
int blk_slot_detach(struct vm *vm, int slot);
int blk_slot_count(void);
/* The slot holding drive id, or -ENOENT. */
int blk_slot_find(const char *drive_id);

#endif
