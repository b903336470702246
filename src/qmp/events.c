// SPDX-License-Identifier: MulanPSL-2.0
/* Events with their timestamps, to whoever listens now (nobody: dropped). */
#include <time.h>

#include "qmp/qmp.h"

static qmp_event_sink_fn sink;
static void *sink_opaque;

void qmp_event_set_sink(qmp_event_sink_fn fn, void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
}

void qmp_event(const char *name, json_t *data)
{
	struct timespec ts;
	json_t *ev;

	if (!data)
		data = json_object();
	if (!sink) {
		json_decref(data);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts); /* not gettimeofday(2): one clock syscall */
	ev = json_pack("{s:s,s:o,s:{s:I,s:I}}", "event", name, "data", data, "timestamp", "seconds",
		       (json_int_t)ts.tv_sec, "microseconds", (json_int_t)(ts.tv_nsec / 1000));
	if (ev)
		sink(sink_opaque, ev);
	json_decref(ev);
}
