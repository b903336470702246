#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""vsock throughput and connection set-up: our VMM vs QEMU microvm, one run.

Three set-ups boot the same demo/test Linux guest (guest/build.sh: the PVH
vmlinux and the busybox initramfs, 1 vCPU, 256 MiB), whose check
`vsockbench` (guest/checks.d/vsock.sh, `svvsock bench 1024`) listens on
vsock port 1024 and serves one command per connection:

  ours-uds    -device virtio-vsock-device,uds-path=P: our user-space vsock;
              the host connects to P and writes "CONNECT 1024"
  ours-vhost  -device vhost-vsock-device,guest-cid=N: the kernel's vhost-vsock;
              the host connects an AF_VSOCK socket to N:1024
  qemu-vhost  QEMU microvm with -device vhost-vsock-device,guest-cid=N

For each boot, timed on the host (the guest's clock is not used):
  connect     connection set-up: connect() until the stream is usable (for
              the unix socket: connect, "CONNECT 1024", the "OK" line back),
              --conns times (default 100), then one "ping" round trip each
  to host     "send N": N bytes guest -> host, from the command to the N-th byte
  to guest    "recv N": N bytes host -> guest, from the first byte to the
              guest's "ok" line
N is --mib MiB (default 64); each transfer is done --reps times per boot.
Boots alternate between the set-ups, -n rounds (default 2).

Guest user space and /dev/vhost-vsock need the nested machine on a kvm_pvm
host: the script then runs itself inside scripts/hwvirt.sh (taking
/tmp/hwvirt.lock), so all three are measured inside the same L1 boot.
Absolute rates there are those of QEMU's TCG running L1; the ratios are the
figures (docs/benchmarks.md).

Usage: python3 bench/vsock.py [-n 2] [--mib 64] [--reps 3] [--conns 100] [--also NAME=BIN]
                              [--vmm BIN] [--qemu BIN] [--json FILE]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from vhost import cmdline, guest_paths  # noqa: E402

MEM_MIB = 256
PORT = 1024
KINDS = ("ours-uds", "ours-vhost", "qemu-vhost")
BOOT_TIMEOUT = 300


def argv_for(args, kind, kernel, initrd, cid, uds):
    append = cmdline("sv.checks=vsockbench")
    if not kind.startswith("qemu"):
        dev = (f"virtio-vsock-device,id=vsock0,guest-cid={cid},uds-path={uds}"
               if kind.endswith("-uds") else f"vhost-vsock-device,id=vsock0,guest-cid={cid}")
        return [args.vmms[kind.rsplit("-", 1)[0]], "-machine", "microvm", "-smp", "1", "-m", str(MEM_MIB),
                "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
                "-serial", "stdio", "-device", dev]
    return [args.qemu, "-M", "microvm,x-option-roms=off", "-enable-kvm", "-cpu", "host",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-global", "virtio-mmio.force-legacy=false", "-smp", "1", "-m", str(MEM_MIB),
            "-serial", "stdio", "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", append, "-device", f"vhost-vsock-device,guest-cid={cid}",
            *args.qemu_extra]


class Guest:
    """One boot; its console lines are collected by a thread."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_line(self, text, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for ln in self.lines:
                    if ln is None:
                        raise bl.Skip(f"the VM ended before '{text}': {self.tail()}")
                    if text in ln:
                        return ln
                left = end - time.monotonic()
                if left <= 0:
                    raise bl.Skip(f"no '{text}' within {timeout} s: {self.tail()}")
                self.cond.wait(left)

    def tail(self):
        return " | ".join(ln for ln in self.lines[-6:] if ln)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        return self.proc.stderr.read().decode(errors="replace")


def open_stream(kind, cid, uds):
    """A connected stream to the guest's port 1024 and the set-up time in s."""
    if kind.endswith("-uds"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        t0 = time.perf_counter()
        s.connect(str(uds))
        s.sendall(f"CONNECT {PORT}\n".encode())
        line = b""
        while not line.endswith(b"\n"):
            b = s.recv(1)
            if not b:
                raise OSError(f"no OK line from {uds} (got {line!r})")
            line += b
        t1 = time.perf_counter()
        if not line.startswith(b"OK "):
            raise OSError(f"{uds}: {line!r}")
        return s, t1 - t0
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.settimeout(30)
    t0 = time.perf_counter()
    s.connect((cid, PORT))
    return s, time.perf_counter() - t0


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        line += b
    return line.decode(errors="replace").strip()


def to_host(kind, cid, uds, nbytes):
    s, _ = open_stream(kind, cid, uds)
    buf = bytearray(1 << 20)
    got = 0
    with s:
        t0 = time.perf_counter()
        s.sendall(f"send {nbytes}\n".encode())
        while got < nbytes:
            n = s.recv_into(buf)
            if n == 0:
                break
            got += n
        t1 = time.perf_counter()
    if got != nbytes:
        raise OSError(f"guest -> host: {got} of {nbytes} bytes")
    return nbytes / (t1 - t0) / 1e6


def to_guest(kind, cid, uds, nbytes, chunk):
    s, _ = open_stream(kind, cid, uds)
    with s:
        s.sendall(f"recv {nbytes}\n".encode())
        t0 = time.perf_counter()
        left = nbytes
        while left:
            k = min(left, len(chunk))
            s.sendall(chunk[:k])
            left -= k
        line = read_line(s)
        t1 = time.perf_counter()
    if line != f"ok {nbytes}":
        raise OSError(f"host -> guest: the guest answered {line!r}")
    return nbytes / (t1 - t0) / 1e6


def connect_ping(kind, cid, uds):
    s, setup = open_stream(kind, cid, uds)
    with s:
        t0 = time.perf_counter()
        s.sendall(b"ping\n")
        line = read_line(s)
        rtt = time.perf_counter() - t0
    if line != "pong":
        raise OSError(f"ping: the guest answered {line!r}")
    return setup, rtt


def boot_once(args, kind, kernel, initrd, cid, tmp, chunk, res):
    uds = Path(tmp) / f"v{cid}.sock"
    g = Guest(argv_for(args, kind, kernel, initrd, cid, uds))
    err = ""
    try:
        g.wait_line("SVVSOCK listening", BOOT_TIMEOUT)
        for _ in range(args.conns):
            setup, rtt = connect_ping(kind, cid, uds)
            res["connect"].append(setup * 1e6)
            res["ping"].append(rtt * 1e6)
        for _ in range(args.reps):
            res["to_host"].append(to_host(kind, cid, uds, args.mib << 20))
            res["to_guest"].append(to_guest(kind, cid, uds, args.mib << 20, chunk))
        s, _ = open_stream(kind, cid, uds)
        with s:
            s.sendall(b"quit\n")
        g.wait_line("SVCHECK vsockbench", 60)
    except OSError as e:
        raise bl.Skip(f"{kind}: {e}: {g.tail()}") from e
    finally:
        err = g.stop()
    ln = g.wait_line("SVCHECK vsockbench", 1)
    if " ok " not in ln + " ":
        raise bl.Skip(f"{kind}: {ln}: {err[-300:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=2, help="boots of each set-up (default 2)")
    ap.add_argument("--mib", type=int, default=64, help="MiB per transfer (default 64)")
    ap.add_argument("--reps", type=int, default=3, help="transfers each way per boot (3)")
    ap.add_argument("--conns", type=int, default=100, help="connections timed per boot (100)")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=BIN",
                    help="another build of our VMM, its unix-socket vsock measured in the "
                         "same run as NAME-uds (A/B of a change)")
    bl.add_path_args(ap)
    args = ap.parse_args()
    args.vmms = {"ours": args.vmm}
    for a in args.also:
        name, _, path = a.partition("=")
        args.vmms[name] = str(Path(path).resolve())
    kinds = [*KINDS, *(f"{n}-uds" for n in list(args.vmms)[1:])]
    if os.path.exists("/sys/module/kvm_pvm") and os.environ.get("HWVIRT") != "1":
        print("vsock: measuring inside the nested machine (scripts/hwvirt.sh)", file=sys.stderr)
        os.execvp("flock", ["flock", "/tmp/hwvirt.lock", str(bl.REPO / "scripts" / "hwvirt.sh"),
                            sys.executable, *sys.argv])
    import shlex
    args.qemu_extra = shlex.split(args.qemu_extra or "")
    if not os.path.exists("/dev/vhost-vsock"):
        print("vsock: /dev/vhost-vsock missing (modprobe vhost_vsock); the vhost lines "
              "are skipped", file=sys.stderr)
    kernel, initrd = guest_paths()
    metrics = ("connect", "ping", "to_host", "to_guest")
    res = {k: {m: [] for m in metrics} for k in kinds}
    errors = []
    chunk = memoryview(bytes((i * 7 + 1) & 0xff for i in range(1 << 20)))
    cid = 100 + os.getpid() % 1000
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        for i in range(args.n):
            for kind in kinds:
                cid += 1
                if kind.endswith("vhost") and not os.path.exists("/dev/vhost-vsock"):
                    continue
                one = {m: [] for m in metrics}
                t = time.monotonic()
                try:
                    boot_once(args, kind, kernel, initrd, cid, tmp, chunk, one)
                except bl.Skip as e:
                    errors.append(str(e))
                    print(f"run {i + 1} {kind}: failed: {e}", file=sys.stderr)
                    continue
                for m in metrics:
                    res[kind][m] += one[m]
                med = {m: bl.summary(one[m])["median"] for m in metrics}
                print(f"run {i + 1} {kind}: connect {med['connect']:.0f} us, to host "
                      f"{med['to_host']:.1f} MB/s, to guest {med['to_guest']:.1f} MB/s "
                      f"({time.monotonic() - t:.0f} s)", file=sys.stderr)
    summ = {k: {m: bl.summary(res[k][m]) for m in metrics} for k in kinds}

    def med(k, m):
        s = summ[k][m]
        return s and s["median"]

    def ratio(a, b):
        return a / b if a and b else None

    rows = []
    for m, label, digits in (("to_host", "guest -> host, MB/s", 1),
                             ("to_guest", "host -> guest, MB/s", 1),
                             ("connect", "connection set-up, us (median)", 0),
                             ("ping", "first round trip, us (median)", 0)):
        o_u, o_v, q = med("ours-uds", m), med("ours-vhost", m), med("qemu-vhost", m)
        if m in ("connect", "ping"):  # lower is better: ratios as speed-ups
            r_q, r_u = ratio(q, o_v), ratio(o_v, o_u)
        else:
            r_q, r_u = ratio(o_v, q), ratio(o_u, o_v)
        rows.append([label, bl.fmt(o_u, "", digits), bl.fmt(o_v, "", digits),
                     bl.fmt(q, "", digits), bl.fmt(r_q, "x", 2), bl.fmt(r_u, "x", 2)])
    p99 = [bl.fmt(summ[k]["connect"] and summ[k]["connect"]["p90"], "", 0) for k in KINDS]
    rows.append(["connection set-up, us (p90)", *p99, "", ""])
    bl.print_table(["vsock", "ours unix-socket", "ours vhost", "QEMU vhost",
                    "ours vhost / QEMU", "unix / vhost"], rows)
    for k in kinds[len(KINDS):]:
        print(f"{k}: " + ", ".join(
            f"{m} {bl.fmt(med(k, m), '', 1)}" for m in metrics) +
            f" (unix / vhost to host {bl.fmt(ratio(med(k, 'to_host'), med('ours-vhost', 'to_host')), 'x', 2)}"
            f", to guest {bl.fmt(ratio(med(k, 'to_guest'), med('ours-vhost', 'to_guest')), 'x', 2)})")
    print("(ratios: rate over rate, or time taken by the other over time taken; "
          "targets: ours vhost >= 1x QEMU, unix-socket >= 0.5x vhost)")
    if errors:
        print(f"{len(errors)} boot(s) failed: " + "; ".join(e[:200] for e in errors))
    if args.json:
        bl.write_json(args.json, {
            "host": bl.host_description(), "inside_nested_machine":
            os.environ.get("HWVIRT") == "1", "runs": args.n, "mib": args.mib,
            "reps": args.reps, "conns": args.conns, "qemu": bl.qemu_version(args.qemu),
            "git": bl.git_revision(), "errors": errors, "summary": summ, "samples": res})
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
