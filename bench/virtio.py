#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""virtio-mmio device throughput: our VMM vs QEMU microvm, same test guest.

The test guest (tests/guest, docs/test-guest.md) drives the device itself:
  bench=blk4k  count=N   N 4 KiB random reads from the first virtio-blk disk
  bench=blk1m  count=N   N 1 MiB sequential reads
  bench=nettx  count=N   N frames guest -> host through virtio-net
  bench=netrx  count=N   N frames host -> guest (this script sends them)
It prints a line `BENCH <name> count=N ...` when it starts and another when it
is done, then ends the VM through the debug-exit port. This script time-stamps
the two lines as they arrive on the serial console and reports N / (t_done -
t_start) requests or frames per second. For netrx it starts sending frames into
the tap when the first line arrives and stops at the second.

Both VMMs get the same disk image (buffered I/O: page cache, so the figure is
the device emulation, not the disk) and the same tap (no vhost on this host).
QEMU runs with `-global virtio-mmio.force-legacy=false` (virtio 1.0 transport).
Needs root for the tap. Parts that cannot run (no bench modes in the test
guest yet, a VMM without the device, no /dev/net/tun) are skipped with the
reason.

Usage: python3 bench/virtio.py [--runs 3] [--benches blk4k,blk1m,nettx,netrx]
       [--count-blk4k N ...] [--vmm BIN] [--guest ELF] [--json FILE]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

BENCHES = ("blk4k", "blk1m", "nettx", "netrx")
DEFAULT_COUNTS = {"blk4k": 5000, "blk1m": 500, "nettx": 5000, "netrx": 5000}
UNITS = {"blk4k": "req/s", "blk1m": "req/s", "nettx": "frames/s", "netrx": "frames/s"}
LABELS = {
    "blk4k": "virtio-blk 4 KiB random read",
    "blk1m": "virtio-blk 1 MiB sequential read",
    "nettx": "virtio-net guest -> host",
    "netrx": "virtio-net host -> guest",
}
GUEST_MAC = "52:54:00:12:34:56"
HOST_MAC = "52:54:00:be:9c:01"
TAP = "svbench0"
DISK_MIB = 256
GUEST_MEM_MIB = 256

BENCH_LINE = re.compile(rb"^BENCH (\S+)(.*)$", re.M)

# Sends raw Ethernet frames into the tap (as the host's network would) until
# SIGTERM; prints how many it queued. A separate process so that the serial
# reader's time stamps do not wait on the GIL.
SENDER = r"""
import errno, signal, socket, sys, time
tap, dst, src, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind((tap, 0))
hdr = bytes.fromhex(dst.replace(':', '')) + bytes.fromhex(src.replace(':', '')) + b'\x88\xb5'
frame = hdr + bytes(max(0, size - len(hdr)))
sent = dropped = 0
t0 = time.monotonic()
while not stop:
    for _ in range(64):
        try:
            s.send(frame)
            sent += 1
        except OSError as e:
            if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                raise
            dropped += 1
dt = time.monotonic() - t0
print(f"sent={sent} dropped={dropped} seconds={dt:.3f}", flush=True)
"""


def guest_has_bench(guest):
    """Whether the test guest binary knows the bench modes (has the strings)."""
    data = Path(guest).read_bytes()
    return b"BENCH" in data and b"bench" in data


def guest_knows(guest, name):
    return name.encode() in Path(guest).read_bytes()


# ------------------------------------------------------------------ setup

def make_disk(path, mib):
    """A raw image with non-zero content (holes would read as a shortcut)."""
    block = bytes((i * 131 + 7) & 0xff for i in range(1 << 20))
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[i:] + block[:i])
    # read it once so both VMMs start from a warm page cache
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


def run_cmd(argv):
    return subprocess.run(argv, capture_output=True, text=True)


def make_tap():
    """Create the persistent tap TAP, up, no addresses. Returns None or a reason."""
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    if os.geteuid() != 0:
        return "making a tap needs root"
    run_cmd(["ip", "link", "del", TAP])
    r = run_cmd(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"])
    if r.returncode:
        return f"ip tuntap add {TAP}: {r.stderr.strip()}"
    # keep the host's own traffic (IPv6 autoconf, router solicitations) out
    try:
        Path(f"/proc/sys/net/ipv6/conf/{TAP}/disable_ipv6").write_text("1")
    except OSError:
        pass
    r = run_cmd(["ip", "link", "set", TAP, "up"])
    if r.returncode:
        return f"ip link set {TAP} up: {r.stderr.strip()}"
    return None


def del_tap():
    run_cmd(["ip", "link", "del", TAP])


def tap_stats():
    base = Path(f"/sys/class/net/{TAP}/statistics")
    out = {}
    for k in ("rx_packets", "tx_packets", "tx_dropped", "rx_dropped"):
        try:
            out[k] = int((base / k).read_text())
        except (OSError, ValueError):
            out[k] = None
    return out


# ------------------------------------------------------------------ commands

def ours_cmd(args, bench, count, disk):
    argv = [args.vmm, "-machine", "microvm", "-smp", "1", "-m", str(GUEST_MEM_MIB),
            "-kernel", args.guest, "-append", guest_append(bench, count),
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if bench.startswith("blk"):
        argv += ["-drive", f"id=bd0,file={disk},readonly=on,direct=off",
                 "-device", "virtio-blk-device,drive=bd0,id=blk0"]
    else:
        argv += ["-netdev", f"tap,id=nd0,ifname={TAP}",
                 "-device", f"virtio-net-device,netdev=nd0,id=net0,mac={GUEST_MAC}"]
    return argv


def qemu_cmd(args, bench, count, disk):
    argv = [args.qemu, *bl.QEMU_BASE, *args.qemu_extra, "-m", str(GUEST_MEM_MIB), "-smp", "1",
            "-display", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-global", "virtio-mmio.force-legacy=false",
            "-kernel", args.guest, "-append", guest_append(bench, count)]
    if bench.startswith("blk"):
        argv += ["-drive", f"id=bd0,file={disk},if=none,format=raw,readonly=on,cache=writeback",
                 "-device", "virtio-blk-device,drive=bd0"]
    else:
        argv += ["-netdev", f"tap,id=nd0,ifname={TAP},script=no,downscript=no",
                 "-device", f"virtio-net-device,netdev=nd0,mac={GUEST_MAC}"]
    return argv


def guest_append(bench, count):
    return f"svtest=1 exit=debug tests=virtio_bench bench={bench} count={count}"


def parse_fields(rest):
    return dict(kv.split("=", 1) for kv in rest.decode(errors="replace").split() if "=" in kv)


def run_one(argv, bench, count, timeout, frame_size, ok_rcs):
    """One VM run. Returns dict(rate, seconds, ...) or dict(error=...)."""
    out_r, out_w = os.pipe()
    try:
        pid, _, t0 = bl.spawn(argv, stdout=out_w, stderr=out_w)
    finally:
        os.close(out_w)
    buf = bytearray()
    marks = []          # (t_mono, name, fields)
    sender = [None]
    started = threading.Event()

    def start_sender():
        sender[0] = subprocess.Popen(
            [sys.executable, "-c", SENDER, TAP, GUEST_MAC, HOST_MAC, str(frame_size)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.set()

    def stop_sender():
        p = sender[0]
        if p is None:
            return None
        p.terminate()
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        m = re.search(r"sent=(\d+) dropped=(\d+) seconds=([0-9.]+)", out)
        if not m:
            return {"error": err.strip()[-300:]}
        return {"sent": int(m.group(1)), "dropped": int(m.group(2)),
                "seconds": float(m.group(3))}

    def reader():
        pos = 0
        while True:
            try:
                chunk = os.read(out_r, 65536)
            except OSError:
                break
            if not chunk:
                break
            now = time.monotonic()
            buf.extend(chunk)
            while True:
                nl = buf.find(b"\n", pos)
                if nl < 0:
                    break
                line = bytes(buf[pos:nl]).rstrip(b"\r")
                pos = nl + 1
                m = BENCH_LINE.match(line)
                if m:
                    marks.append((now, m.group(1).decode(errors="replace"),
                                  parse_fields(m.group(2))))
                    if bench == "netrx" and len(marks) == 1:
                        start_sender()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    rc, t_exit = bl.wait_pid(pid, timeout)
    th.join(5)
    os.close(out_r)
    send = stop_sender()
    text = bytes(buf).decode(errors="replace")
    res = {"rc": rc, "wall_s": t_exit - t0}
    if send:
        res["sender"] = send
    if len(marks) < 2:
        reason = "timed out" if rc is None else f"exit status {rc}"
        fails = [ln for ln in text.splitlines() if ln.startswith(("FAIL", "SKIP"))]
        res["error"] = (f"{reason}, {len(marks)} BENCH line(s); "
                        + ("; ".join(fails[-3:]) if fails else
                           "output tail: " + " | ".join(text.splitlines()[-6:])))
        return res
    (t1, _, f1), (t2, _, f2) = marks[0], marks[1]
    n = int(f2.get("count", f1.get("count", count)))
    secs = t2 - t1
    res.update({"count": n, "seconds": secs, "rate": n / secs if secs > 0 else None,
                "start_fields": f1, "done_fields": f2})
    if rc not in ok_rcs:
        res["warning"] = f"exit status {rc} (expected {sorted(ok_rcs)})"
    return res


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_path_args(ap)
    ap.add_argument("--runs", type=int, default=3, help="runs of each VMM per bench (default 3)")
    ap.add_argument("--benches", default=",".join(BENCHES),
                    help="comma-separated subset of " + ",".join(BENCHES))
    for b in BENCHES:
        ap.add_argument(f"--count-{b}", type=int, default=DEFAULT_COUNTS[b],
                        help=f"requests/frames per {b} run (default {DEFAULT_COUNTS[b]})")
    ap.add_argument("--frame-size", type=int, default=64,
                    help="size of the frames sent to the guest for netrx (default 64)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per VM run")
    args = ap.parse_args()
    bl.check_paths(args)
    benches = [b.strip() for b in args.benches.split(",") if b.strip()]
    for b in benches:
        if b not in BENCHES:
            ap.error(f"unknown bench '{b}'")

    host = bl.host_description()
    results = {"host": host, "ours": {"binary": args.vmm, "version": bl.vmm_version(args.vmm),
                                      "revision": bl.git_revision()},
               "qemu": {"binary": args.qemu, "version": bl.qemu_version(args.qemu)},
               "guest": args.guest, "benches": {}}
    print(f"host: {host['cpu']}, {host['cpus']} CPUs, {host['mem_gib']} GiB, Linux "
          f"{host['kernel']}, {'/'.join(host['kvm_modules'])}; {host['date']}")
    print(f"ours: {args.vmm} ({results['ours']['version']}, {results['ours']['revision']})")
    print(f"QEMU: {args.qemu} ({results['qemu']['version']})")
    print(f"guest: {args.guest}\n", flush=True)

    skip_all = None
    if not guest_has_bench(args.guest):
        skip_all = ("the test guest has no bench modes yet (no 'bench=' / 'BENCH' in "
                    f"{args.guest}; tests/guest must implement bench=blk4k|blk1m|nettx|netrx)")
    net_skip = None
    rows = []
    with tempfile.TemporaryDirectory(prefix="sv-virtio-bench-") as tmp:
        disk = os.path.join(tmp, "disk.img")
        tap_made = False
        try:
            for b in benches:
                count = getattr(args, f"count_{b}")
                entry = {"count": count, "unit": UNITS[b]}
                results["benches"][b] = entry
                if skip_all:
                    entry["skipped"] = skip_all
                    continue
                if not guest_knows(args.guest, b):
                    entry["skipped"] = f"the test guest does not know bench={b}"
                    continue
                if b.startswith("blk") and not os.path.exists(disk):
                    print(f"making a {DISK_MIB} MiB disk image ...", flush=True)
                    make_disk(disk, DISK_MIB)
                if b.startswith("net"):
                    if not tap_made and net_skip is None:
                        net_skip = make_tap()
                        tap_made = net_skip is None
                    if net_skip:
                        entry["skipped"] = net_skip
                        continue
                print(f"== {LABELS[b]}: {args.runs} runs each, count={count} ==", flush=True)
                per = {"ours": [], "qemu": []}
                errors = {"ours": [], "qemu": []}
                for i in range(args.runs):
                    for name, argv, ok in (("ours", ours_cmd(args, b, count, disk), {0}),
                                           ("qemu", qemu_cmd(args, b, count, disk), {1})):
                        before = tap_stats() if b.startswith("net") else None
                        r = run_one(argv, b, count, args.timeout, args.frame_size, ok)
                        if before:
                            after = tap_stats()
                            r["tap"] = {k: (after[k] - before[k]) if after[k] is not None
                                        and before[k] is not None else None for k in after}
                        if "error" in r:
                            errors[name].append(r["error"])
                            print(f"  {name} run {i}: FAILED: {r['error']}", flush=True)
                        else:
                            per[name].append(r)
                            extra = ""
                            if "sender" in r and "sent" in r["sender"]:
                                s = r["sender"]
                                extra = (f" (sender offered "
                                         f"{(s['sent'] + s['dropped']) / max(s['seconds'], 1e-9):.0f}/s)")
                            print(f"  {name} run {i}: {r['rate']:.0f} {UNITS[b]} "
                                  f"({r['count']} in {r['seconds']:.3f} s){extra}", flush=True)
                for name in ("ours", "qemu"):
                    rates = [r["rate"] for r in per[name] if r.get("rate")]
                    entry[name] = {"rates": rates, "summary": bl.summary(rates),
                                   "errors": errors[name], "runs": per[name]}
                print(flush=True)
        finally:
            if tap_made:
                del_tap()

    for b in benches:
        e = results["benches"][b]
        if "skipped" in e:
            rows.append([LABELS[b], UNITS[b], "skipped", "skipped", "-", ">= QEMU", "-"])
            continue
        o = e["ours"]["summary"]["median"] if e["ours"]["summary"] else None
        q = e["qemu"]["summary"]["median"] if e["qemu"]["summary"] else None
        ratio = o / q if o and q else None
        met = "-" if ratio is None else ("yes" if ratio >= 1.0 else "NO")
        rows.append([LABELS[b], UNITS[b], bl.fmt(o, digits=0) if o else "failed",
                     bl.fmt(q, digits=0) if q else "failed", bl.fmt(ratio, "x", 2),
                     ">= QEMU", met])
    print("== summary (median of runs; ratio = ours / QEMU) ==")
    bl.print_table(["bench", "unit", "ours", "QEMU", "ratio", "target", "met?"], rows)
    for b in benches:
        e = results["benches"][b]
        if "skipped" in e:
            print(f"SKIP {b}: {e['skipped']}")
        else:
            for name in ("ours", "qemu"):
                if e[name]["errors"]:
                    print(f"{b} {name}: {len(e[name]['errors'])} failed run(s): "
                          f"{e[name]['errors'][0]}")
    if args.json:
        bl.write_json(args.json, results)


if __name__ == "__main__":
    main()
