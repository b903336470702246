# SPDX-License-Identifier: MulanPSL-2.0
"""The test guest's clock_gap check driven from the host (docs/test-guest.md).

The guest's vCPU spins reading the TSC and keeps the largest gap between two
reads; each byte 'r' sent to its serial port ends a window with a report
line. GapVm.window(action) runs action() inside one window and returns the
report: so the host can compare windows in which it did nothing, did QMP
hot-plug cycles, or paused the VM. Used by tests/integration/test_qmp.py
and bench/qmp.py --clock-gap.
"""
import re
import time

from qmpclient import Qmp, QmpVm

REPORT = re.compile(r"CLOCKGAP n=(\d+) ms=(\d+) reads=(\d+) gap_us=(\d+) exit_us=(\d+) "
                    r"over100us=(\d+) over1ms=(\d+)$")
FIELDS = ("n", "ms", "reads", "gap_us", "exit_us", "over100us", "over1ms")


def argv(vmm, guest, cold_disk):
    """One vCPU, a cold disk in slot 0 (the guest's bystander), slots 1-3 free."""
    return [str(vmm), "-machine", "microvm", "-smp", "1", "-m", "128", "-kernel", str(guest),
            "-append", "svtest=1 exit=debug tests=clock_gap clock_gap=1",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-drive", f"id=cold,file={cold_disk},if=none,format=raw",
            "-device", "virtio-blk-device,drive=cold,id=blk0"]


class GapVm(QmpVm):
    def __init__(self, argv, sock, timeout=120, wrap=None):
        super().__init__(argv, sock, wrap=wrap)
        k = self.wait_line(lambda ln: ln.startswith("SVTEST CLOCKGAP-READY"), timeout)
        if k is None:
            self.kill()
            raise AssertionError(f"no CLOCKGAP-READY: {self.lines[-5:]} {self.stderr[-500:]}")
        self.ready = self.lines[k]
        self.tsc_khz = int(re.search(r"tsc_khz=(\d+)", self.ready).group(1))

    def _report(self, byte, timeout=30):
        start = len(self.lines)
        self.proc.stdin.write(byte)
        self.proc.stdin.flush()
        k = self.wait_line(lambda ln: REPORT.match(ln) is not None, timeout, start)
        if k is None:
            raise AssertionError(f"no CLOCKGAP report: {self.lines[-5:]}")
        return dict(zip(FIELDS, map(int, REPORT.match(self.lines[k]).groups())))

    def window(self, action):
        """action() inside one window; its report, with the host's seconds."""
        self._report(b"r")  # ends the previous window: the new one starts now
        t = time.monotonic()
        action()
        host_s = time.monotonic() - t
        rep = self._report(b"r")
        rep["host_s"] = host_s
        return rep

    def finish(self):
        return self._report(b"q")


def paced(count, pace, fn):
    """fn(i) for i in range(count), one every pace seconds; fn's seconds each."""
    out, t0 = [], time.monotonic()
    for i in range(count):
        wait = t0 + i * pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        t = time.monotonic()
        fn(i)
        out.append(time.monotonic() - t)
    wait = t0 + count * pace - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    return out


def hotplug_cycles(sock, img, first, count, pace=0.0):
    """count blockdev-add + device_add + device_del (DEVICE_DELETED and its
    reply) cycles over slots 1-3 on one connection, one every pace seconds;
    their seconds each."""
    def cycle(k):
        i = first + k
        rep = q.cmd("blockdev-add", {"driver": "raw", "node-name": f"hp{i}",
                                     "read-only": False, "file": {
                                         "driver": "file", "filename": str(img),
                                         "aio": "native"}})
        assert rep == {"return": {}}, rep
        rep = q.cmd("device_add", {"id": f"hp{i}", "driver": "virtio-blk-mmio",
                                   "drive": f"hp{i}", "addr": str(1 + i % 3), "romfile": ""})
        assert rep == {"return": {}}, rep
        q.send({"execute": "device_del", "arguments": {"id": f"hp{i}"}})
        ev = q.wait_event("DEVICE_DELETED", 10)
        assert ev and ev["data"]["device"] == f"hp{i}", ev
        assert q.reply() == {"return": {}}

    with Qmp(sock) as q:
        return paced(count, pace, cycle)


def status_rounds(sock, count, pace=0.0):
    """The same QMP traffic without hot-plug: count rounds of three
    query-status round trips, one round every pace seconds."""
    def round_(_):
        for _ in range(3):
            assert q.cmd("query-status")["return"]["running"] is True

    with Qmp(sock) as q:
        return paced(count, pace, round_)


def stop_cont_rounds(sock, count, pace=0.0):
    """count stop + cont pairs on one connection, one every pace seconds."""
    def pair(_):
        assert q.cmd("stop") == {"return": {}}
        assert q.cmd("cont") == {"return": {}}

    with Qmp(sock) as q:
        return paced(count, pace, pair)


def stop_cont(sock, hold=0.0, around=0.0):
    """around seconds, stop, hold seconds, cont, around seconds (one connection)."""
    with Qmp(sock) as q:
        time.sleep(around)
        assert q.cmd("stop") == {"return": {}}
        if hold:
            time.sleep(hold)
        assert q.cmd("cont") == {"return": {}}
        time.sleep(around)
