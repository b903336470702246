#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""QMP latency: our VMM vs QEMU microvm, side by side in one run.

Both VMs run the test guest paused (-S, 1 vCPU, 128 MiB), so only the
control path is measured. Each line is N runs (default 1000), median and p99:
  connect    connect + greeting + qmp_capabilities reply (a new connection each)
  status     query-status round trip on an open connection
  hotplug    blockdev-add + device_add round trips (ours: into a blk slot)
  unplug     device_del sent -> DEVICE_DELETED received (ours)
  node       blockdev-add + blockdev-del round trips (both)
Only bytes are timed: requests are encoded before the clock starts and the
replies' JSON is parsed and checked after it stops (Client.check), the same
for both VMMs.
QEMU microvm's virtio-mmio transports cannot be hot-plugged (its buses refuse
device_add), and a PCIe unplug waits for the guest OS to eject the device, so
the hotplug and unplug lines have no QEMU figure; `node` is the part both do.

--linux (ours only; needs a KVM that runs guest user space, e.g. inside
scripts/hwvirt.sh): the demo/test Linux guest of guest/ runs its `hotplug`
check (guest/checks.d/hotplug.sh) polling vdb..vdd every 10 ms; each of N
runs times device_add sent -> the guest's "SVHOTPLUG seen" line read on the
serial console (the blockdev-add before it is not counted), over slots 1-3.

--clock-gap (ours): does hot-plug stop the vCPU? The test guest's clock_gap
check (tests/guest/checks/clock_gap.c) spins on one vCPU reading the TSC and
keeps the largest gap between two reads (a COM1 status read and a bystander
disk's MMIO read once a millisecond are in the gaps). The host runs W windows
(default 10) of each kind: `idle` (nothing, as long as a hot-plug window
lasted), `hot-plug` (N/W blockdev-add + device_add + device_del cycles over
slots 1-3, waiting for DEVICE_DELETED; N default 100), `query-status` (the
same pace of QMP traffic, 3 round trips, without hot-plug) and `stop+cont`
(as many `stop` + `cont` pairs, for reference: what a pause costs the
guest); each window about N/W x pace (10 ms) long. --rt runs the VMM at
SCHED_FIFO 1: then only the VMM's own stalls show, plus the kernel's RT
throttling (about 50 ms a second: sched_rt_runtime_us).

Usage: python3 bench/qmp.py [-n 1000] [--vmm BIN] [--guest ELF] [--qemu BIN] [--json FILE]
       python3 bench/qmp.py --linux [-n 50] [--vmm BIN]
       python3 bench/qmp.py --clock-gap [-n 100] [--windows 10] [--vmm BIN] [--guest ELF]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import benchlib as bl  # noqa: E402
import clockgap  # noqa: E402


def encode(name, args=None):
    req = {"execute": name}
    if args:
        req["arguments"] = args
    return json.dumps(req).encode()


class Client:
    """Times bytes, not Python's JSON: inside a timed region it sends requests
    encoded beforehand and keeps each reply line raw; check() parses them all
    after the clock stopped (the client's json.loads/dumps, about 5 µs per
    connect on host A, would otherwise be in every figure, for both VMMs)."""
    unchecked = []

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        Client.unchecked.append((b'{"QMP"', self.line()))

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def recv(self):
        return json.loads(self.line())

    def send(self, req):
        self.s.sendall(req)

    def reply_line(self):
        """The next reply (events before it skipped: ours start with {"event",
        QEMU's with {"timestamp")."""
        while True:
            line = self.line()
            if line.startswith((b'{"return"', b'{"error"')):
                return line

    def run(self, req):
        """One pre-encoded request, its reply kept raw for check()."""
        self.s.sendall(req)
        Client.unchecked.append((b'{"return"', self.reply_line()))

    def cmd(self, name, args=None):
        self.s.sendall(encode(name, args))
        r = json.loads(self.reply_line())
        if "error" in r:
            raise RuntimeError(f"{name}: {r['error']}")
        return r

    @staticmethod
    def check():
        """Every line kept raw must be the JSON object expected (a greeting, a
        success); done after the timed loops."""
        for want, line in Client.unchecked:
            m = json.loads(line)
            if not isinstance(m, dict) or not line.startswith(want) or "error" in m:
                raise RuntimeError(f"unexpected QMP message: {line[:200]!r}")
        Client.unchecked = []

    def close(self):
        self.s.close()


def start(argv, sock):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    end = time.monotonic() + 30
    while not os.path.exists(sock):
        if p.poll() is not None or time.monotonic() > end:
            p.kill()
            raise bl.Skip(f"{argv[0]} did not open its QMP socket: {p.stderr.read().decode()}")
        time.sleep(0.01)
    return p


def timed(fn, n):
    out = []
    for i in range(n):
        t = time.perf_counter_ns()
        fn(i)
        out.append((time.perf_counter_ns() - t) / 1e3)
    return out


def stats(v):
    if not v:
        return None
    s = bl.summary(v)
    s["p99"] = bl.percentile(v, 99)
    return s


def measure(sock, n, img, ours):
    res = {}
    caps = encode("qmp_capabilities")

    def connect(_):
        c = Client(sock)
        c.run(caps)
        c.close()

    res["connect"] = timed(connect, n)
    c = Client(sock)
    c.run(caps)
    status = encode("query-status")
    res["status"] = timed(lambda i: c.run(status), n)
    # aio threads: QEMU refuses aio=native without cache.direct
    nodes = [(encode("blockdev-add", {"driver": "raw", "node-name": f"n{i}", "file": {
        "driver": "file", "filename": img, "aio": "threads"}}),
        encode("blockdev-del", {"node-name": f"n{i}"})) for i in range(n)]

    def node(i):
        c.run(nodes[i][0])
        c.run(nodes[i][1])

    res["node"] = timed(node, n)
    if ours:
        plug, unplug = [], []
        for i in range(n):
            add = encode("blockdev-add", {"driver": "raw", "node-name": f"d{i}",
                                          "read-only": False, "file": {
                                              "driver": "file", "filename": img,
                                              "aio": "native"}})
            dev = encode("device_add", {"id": f"d{i}", "driver": "virtio-blk-mmio",
                                        "drive": f"d{i}", "addr": str(1 + i % 3),
                                        "romfile": ""})
            dele = encode("device_del", {"id": f"d{i}"})
            t = time.perf_counter_ns()
            c.run(add)
            c.run(dev)
            plug.append((time.perf_counter_ns() - t) / 1e3)
            t = time.perf_counter_ns()
            c.send(dele)
            while b'"DEVICE_DELETED"' not in c.line():
                pass
            unplug.append((time.perf_counter_ns() - t) / 1e3)
            Client.unchecked.append((b'{"return"', c.reply_line()))
        res["hotplug"], res["unplug"] = plug, unplug
    c.close()
    Client.check()
    return res


def linux_guest():
    out = subprocess.run([str(bl.REPO / "guest" / "build.sh")], capture_output=True,
                         text=True, check=True).stdout
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", out, re.M))
    cmdline = [ln.strip() for ln in (bl.REPO / "guest" / "cmdline.txt").read_text()
               .splitlines() if ln.strip() and not ln.startswith("#")][0]
    return Path(vals["KERNEL_DIR"]) / "bzImage", vals["INITRD"], cmdline


def measure_linux(args):
    """device_add -> the Linux guest's user space sees the disk, n times (µs)."""
    kernel, initrd, cmdline = linux_guest()
    lines, cv = [], threading.Condition()
    seen = []
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.write(os.urandom(1 << 20))
        sock = f"{d}/qmp.sock"
        argv = [args.vmm, "-machine", "microvm", "-smp", "1", "-m", "256", "-kernel", kernel,
                "-initrd", initrd, "-append",
                f"{cmdline} sv.checks=hotplug sv.hotplug={args.n} sv.hotplug_poll=0.01",
                "-serial", "stdio", "-qmp", f"unix:{sock},server,nowait"]
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

        def read():
            for raw in iter(p.stdout.readline, b""):
                with cv:
                    lines.append((time.perf_counter_ns(), raw.decode(errors="replace")))
                    cv.notify_all()

        threading.Thread(target=read, daemon=True).start()

        def wait(word, start):
            end = time.monotonic() + 180
            with cv:
                while True:
                    for i in range(start, len(lines)):
                        if "SVCHECK hotplug fail" in lines[i][1]:
                            raise RuntimeError(lines[i][1])
                        if f"SVHOTPLUG {word}" in lines[i][1]:
                            return i
                    if time.monotonic() > end or p.poll() is not None:
                        raise RuntimeError(f"no 'SVHOTPLUG {word}' from the guest")
                    cv.wait(0.2)
        try:
            end = time.monotonic() + 180
            while not any("SVCHECK start" in ln for _, ln in lines):
                if time.monotonic() > end or p.poll() is not None:
                    raise RuntimeError("the guest's init did not start its checks")
                time.sleep(0.05)
            pos = 0
            for i in range(args.n):
                c = Client(sock)
                c.cmd("qmp_capabilities")
                c.cmd("blockdev-add", {"driver": "raw", "node-name": f"d{i}",
                                       "read-only": False, "file": {
                                           "driver": "file", "filename": img,
                                           "aio": "native"}})
                with cv:
                    pos = len(lines)
                t = time.perf_counter_ns()
                c.cmd("device_add", {"id": f"d{i}", "driver": "virtio-blk-mmio",
                                     "drive": f"d{i}", "addr": str(1 + i % 3),
                                     "romfile": ""})
                k = wait("seen", pos)
                seen.append((lines[k][0] - t) / 1e3)
                wait("add", k)
                c.s.sendall(json.dumps({"execute": "device_del",
                                        "arguments": {"id": f"d{i}"}}).encode())
                c.reply_line()
                c.close()
                wait("del", k)
        finally:
            p.kill()
            p.wait()
    return seen


def main_linux(args):
    v = measure_linux(args)
    s = stats(v)
    host = bl.host_description()
    print(f"device_add -> Linux guest user space sees the disk (10 ms poll), {len(v)} runs, "
          f"microseconds; {host.get('cpu')}, {host.get('cpus')} CPUs, kernel "
          f"{host.get('kernel')}, nested={os.environ.get('HWVIRT') == '1'}, {host.get('date')}")
    bl.print_table(["µs", "median", "p99", "min", "max"],
                   [["device_add -> guest sees /dev/vdX", bl.fmt(s["median"], digits=0),
                     bl.fmt(s["p99"], digits=0), bl.fmt(min(v), digits=0),
                     bl.fmt(max(v), digits=0)]])
    if args.json:
        bl.write_json(args.json, {"runs": len(v), "host": host, "linux_seen_us": v})


def measure_clock_gap(args):
    """W windows of each kind, each about N/W * pace long; the guest's report
    of each (clockgap.GapVm.window)."""
    per = max(1, args.n // args.windows)
    pace = args.pace_ms / 1e3
    res = {k: [] for k in KINDS}
    res["cycle_s"] = []
    with tempfile.TemporaryDirectory() as d:
        cold, img = os.path.join(d, "cold.img"), os.path.join(d, "hot.img")
        for f in (cold, img):
            with open(f, "wb") as fh:
                fh.truncate(1 << 20)
        sock = f"{d}/qmp.sock"
        wrap = (lambda a: ["chrt", "--fifo", "1", *a]) if args.rt else None
        with clockgap.GapVm(clockgap.argv(args.vmm, args.guest, cold), sock, wrap=wrap) as vm:
            res["tsc_khz"] = vm.tsc_khz
            for w in range(args.windows):
                res["idle"].append(vm.window(lambda: time.sleep(per * pace)))
                res["query-status"].append(vm.window(
                    lambda: clockgap.status_rounds(sock, per, pace)))
                res["hot-plug"].append(vm.window(lambda: res["cycle_s"].extend(
                    clockgap.hotplug_cycles(sock, img, w * per, per, pace))))
                res["stop+cont"].append(vm.window(
                    lambda: clockgap.stop_cont_rounds(sock, per, pace)))
            vm.finish()
    return res


KINDS = ["idle", "query-status", "hot-plug", "stop+cont"]


def main_clock_gap(args):
    r = measure_clock_gap(args)
    host = bl.host_description()
    cycles = len(r["cycle_s"])
    print(f"vCPU clock gaps, test guest (1 vCPU, TSC {r['tsc_khz']} kHz): {args.windows} windows "
          f"of each kind, {cycles} hot-plug cycles, stop+cont pairs and query-status rounds (one "
          f"per {args.pace_ms} ms), VMM at {'SCHED_FIFO 1' if args.rt else 'normal priority'}; "
          f"{host.get('cpu')}, {host.get('cpus')} CPUs, "
          f"kernel {host.get('kernel')}, load {os.getloadavg()[0]:.1f}, {host.get('date')}")

    def total(ws, key):
        return sum(w[key] for w in ws)

    rows = [
        ("largest gap, all windows (µs)", lambda ws: max(w["gap_us"] for w in ws), 0),
        ("largest gap, median window (µs)",
         lambda ws: bl.percentile([w["gap_us"] for w in ws], 50), 0),
        ("largest single exit (µs)", lambda ws: max(w["exit_us"] for w in ws), 0),
        ("gaps > 100 µs per second",
         lambda ws: total(ws, "over100us") / max(1e-9, total(ws, "ms") / 1e3), 1),
        ("gaps > 1 ms per second",
         lambda ws: total(ws, "over1ms") / max(1e-9, total(ws, "ms") / 1e3), 1),
        ("TSC reads per ms", lambda ws: total(ws, "reads") / max(1, total(ws, "ms")), 0),
        ("window length, median (ms)", lambda ws: bl.percentile([w["ms"] for w in ws], 50), 0),
    ]
    bl.print_table(["", *KINDS], [[label, *[bl.fmt(fn(r[k]), digits=dg) for k in KINDS]]
                                  for label, fn, dg in rows])
    c = sorted(r["cycle_s"])
    print(f"hot-plug cycle (blockdev-add + device_add + device_del -> DEVICE_DELETED) on the "
          f"host: median {c[len(c) // 2] * 1e3:.2f} ms, max {c[-1] * 1e3:.2f} ms")
    if args.json:
        bl.write_json(args.json, {"host": host, **r})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=None)
    ap.add_argument("--linux", action="store_true",
                    help="device_add -> the Linux guest's user space sees the disk (ours)")
    ap.add_argument("--clock-gap", action="store_true",
                    help="the guest vCPU's largest clock gaps with and without hot-plug (ours)")
    ap.add_argument("--windows", type=int, default=10, help="--clock-gap: windows of each kind")
    ap.add_argument("--pace-ms", type=float, default=10.0,
                    help="--clock-gap: one hot-plug cycle every this many ms")
    ap.add_argument("--rt", action="store_true",
                    help="--clock-gap: run the VMM at SCHED_FIFO 1 (chrt), so that other "
                    "processes of a loaded host do not preempt its threads")
    bl.add_path_args(ap)
    args = ap.parse_args()
    if args.clock_gap:
        args.n = args.n or 100
        main_clock_gap(args)
        return
    if args.linux:
        args.n = args.n or 50
        main_linux(args)
        return
    args.n = args.n or 1000
    bl.check_paths(args)
    results = {}
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.truncate(1 << 20)
        append = "svtest=1"
        runs = {
            "ours": [args.vmm, "-machine", "microvm", "-smp", "1", "-m", "128", "-kernel",
                     args.guest, "-append", append, "-S", "-qmp",
                     f"unix:{d}/ours.sock,server,nowait"],
            "qemu": [args.qemu, *bl.QEMU_BASE, *args.qemu_extra, "-m", "128", "-smp", "1",
                     "-kernel", args.guest, "-append", append, "-S", "-display", "none",
                     "-qmp", f"unix:{d}/qemu.sock,server=on,wait=off"],
        }
        for name, argv in runs.items():
            sock = f"{d}/{name}.sock"
            try:
                p = start([str(a) for a in argv], sock)
            except bl.Skip as e:
                print(f"{name}: skipped: {e}")
                continue
            try:
                results[name] = {k: stats(v) for k, v in
                                 measure(sock, args.n, img, name == "ours").items()}
            finally:
                p.kill()
                p.wait()
    host = bl.host_description()
    print(f"QMP latency, {args.n} runs each, microseconds; {host.get('cpu')}, "
          f"{host.get('cpus')} CPUs, kernel {host.get('kernel')}, {host.get('date')}")
    rows = []
    labels = [("connect", "connect + greeting + qmp_capabilities"),
              ("status", "query-status round trip"),
              ("hotplug", "blockdev-add + device_add"),
              ("unplug", "device_del -> DEVICE_DELETED"),
              ("node", "blockdev-add + blockdev-del")]
    for key, label in labels:
        o = results.get("ours", {}).get(key)
        q = results.get("qemu", {}).get(key)
        ratio = f"{q['median'] / o['median']:.1f}x" if o and q else "-"
        rows.append([label, bl.fmt(o and o["median"], digits=1), bl.fmt(o and o["p99"], digits=1),
                     bl.fmt(q and q["median"], digits=1), bl.fmt(q and q["p99"], digits=1),
                     ratio])
    bl.print_table(["µs", "ours median", "ours p99", "QEMU median", "QEMU p99",
                    "QEMU/ours (median)"], rows)
    if args.json:
        bl.write_json(args.json, {"runs": args.n, "host": host, "results": results})


if __name__ == "__main__":
    main()
