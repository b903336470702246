/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_VIRTIO_BALLOON_H
#define SV_VIRTIO_BALLOON_H

/*
 * virtio-balloon (virtio 1.2, 5.5): the host asks the guest to give back
 * memory (num_pages), the guest hands 4 KiB page frames over on the inflate
 * queue and the VMM releases them to the host; deflated frames simply fault
 * back in.  The guest reports how many pages it holds in `actual`; each
 * change is announced as the QMP event BALLOON_CHANGED {"actual": bytes of
 * guest RAM minus the balloon}.  Free page reporting (when configured) hands
 * free ranges over the same way, without them leaving the guest.
 *
 * These functions run on the main loop's thread (QMP).
 */

#include <stdint.h>

#define BALLOON_PAGE_SHIFT 12
#define BALLOON_PAGE_SIZE  (1ULL << BALLOON_PAGE_SHIFT)

/*
 * Sets the guest's target to `bytes` of RAM: num_pages = (RAM - bytes) / 4 KiB,
 * then raises the config-change interrupt.  -ENODEV without a balloon,
 * -ERANGE when bytes is 0 or above the RAM size.
 */
int balloon_set_target(uint64_t bytes);
/* Guest RAM minus the balloon's `actual`, in bytes.  -ENODEV without a balloon. */
int balloon_get_actual(uint64_t *bytes);
/* The guest RAM size the two above work with (0 without a balloon). */
uint64_t balloon_ram_size(void);

#endif
