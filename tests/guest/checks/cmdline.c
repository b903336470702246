// SPDX-License-Identifier: MulanPSL-2.0
/* The VMM passed our command line through unchanged: the harness marks it. */
#include "check.h"
#include "lib/cmdline.h"

static enum check_result check_cmdline(struct check_ctx *ctx)
{
	if (!cmdline()[0])
		return check_fail(ctx, "empty command line");
	if (!cmdline_has_token("svtest=1"))
		return check_fail(ctx, "marker svtest=1 missing from \"%s\"", cmdline());
	return CHECK_PASS;
}

DEFINE_CHECK(cmdline, check_cmdline, true);
