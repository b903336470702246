/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_TEST_QMP_STUBS_H
#define SV_TEST_QMP_STUBS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "util/log.h"

struct fake_state {
	int shutdowns;
	bool blk_attached[4];
	bool blk_readonly[4];
	bool blk_fail;
	int net_fd[2];
	char net_ifname[2][16];
	uint8_t net_mac[2][6];
	uint64_t balloon_ram;	 /* 0: no balloon */
	uint64_t balloon_target; /* last balloon_set_target() */
};

extern struct fake_state fake;

#endif
