#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""virtio-fs and vhost-net throughput: our VMM vs QEMU microvm, one run.

Both boot the same demo/test Linux guest (guest/build.sh: the PVH vmlinux and the
busybox initramfs, 1 vCPU, 512 MiB shared guest memory):

  virtio-fs  a fresh virtiofsd (/usr/lib/qemu/virtiofsd, cache=none) per boot
             shares a directory holding a 256 MiB file; the guest mounts it
             and reads the file sequentially with 1 MiB reads twice
             (guest/checks.d/virtiofs.sh `fsread`); the figure is the second
             read, in MB/s, timed on the host between the guest's SVFSREAD
             start/end console lines; also printed: the guest's own figure,
             the CPU time the VMM and virtiofsd spent and the interrupts the
             guest took during that read
  net        vhost=on on both: the host end of a tap in a network namespace
             sends 256 MiB over TCP, the guest receives and hashes it
             (guest/checks.d/net.sh `tcprate`), MB/s

Runs alternate ours/QEMU.  Guest user space and /dev/vhost-net need the
nested machine on a kvm_pvm host: the script then runs itself inside
scripts/hwvirt.sh (taking /tmp/hwvirt.lock), so both VMMs are measured inside
the same L1 boot.  Absolute rates there are those of QEMU's TCG running L1;
the ratio is the figure (docs/benchmarks.md).

With --test-guest the virtio-fs line is measured on this host instead, with
the freestanding test guest (tests/guest, check virtio_fs with fsbench=1:
sequential 128 KiB FUSE_READs of the 256 MiB file straight on the request
queue, timed on the host between its FSBENCH-START and FSBENCH-END lines):
no Linux, no nested machine, so kvm_pvm hosts can run it.

Usage: python3 bench/vhost.py [-n 3] [--tests fs,net] [--test-guest] [--vmm BIN] [--qemu BIN] [--json FILE]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

VIRTIOFSD = "/usr/lib/qemu/virtiofsd"
MEM_MIB = 512
FILE_MIB = 256
NET_MIB = 256
GUEST_IP, HOST_IP, PORT = "10.0.2.15", "10.0.2.1", 5001
CHECK = re.compile(r"SVCHECK (\S+) (ok|fail) ?(.*)")


def guest_paths():
    out = subprocess.run([str(bl.REPO / "guest" / "build.sh")], capture_output=True,
                         text=True, check=True).stdout
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", out, re.M))
    # the PVH vmlinux: QEMU microvm without option ROMs cannot boot a bzImage
    return Path(vals["KERNEL_DIR"]) / "vmlinux", Path(vals["INITRD"])


def cmdline(extra):
    return (bl.REPO / "guest" / "cmdline.txt").read_text().strip() + " " + extra


def ours(args, kernel, initrd, append, dev, vmm=None):
    return [vmm or args.vmm, "-machine", "microvm,mem-share=on", "-smp", "1", "-m", str(MEM_MIB),
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", cmdline(append),
            "-serial", "stdio", *dev]


def qemu(args, kernel, initrd, append, dev):
    return [args.qemu, "-M", "microvm,x-option-roms=off,memory-backend=mem", "-enable-kvm",
            "-cpu", "host", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-global", "virtio-mmio.force-legacy=false",
            "-object", f"memory-backend-memfd,id=mem,size={MEM_MIB}M,share=on",
            "-smp", "1", "-m", str(MEM_MIB), "-serial", "stdio", "-kernel", str(kernel),
            "-initrd", str(initrd), "-append", cmdline(append), *dev]


def boot_argv(args, kind, kernel, initrd, append, dev):
    """Our VMM (kind "ours", or a name given with --also) or QEMU."""
    if kind == "qemu":
        return qemu(args, kernel, initrd, append, dev)
    return ours(args, kernel, initrd, append, dev, args.vmms[kind])


def fs_dev(kind, sock):
    if kind != "qemu":
        return ["-chardev", f"socket,id=vfs0,path={sock}",
                "-device", "vhost-user-fs-device,id=fs0,chardev=vfs0,tag=svfs"]
    return ["-chardev", f"socket,id=vfs0,path={sock}",
            "-device", "vhost-user-fs-device,chardev=vfs0,tag=svfs"]


def net_dev(kind, tap):
    if kind != "qemu":
        return ["-netdev", f"tap,id=n0,ifname={tap},vhost=on",
                "-device", "virtio-net-device,netdev=n0,id=net0,mac=52:54:00:12:34:56"]
    return ["-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no,vhost=on",
            "-device", "virtio-net-device,netdev=n0,mac=52:54:00:12:34:56"]


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run_guest(argv, timeout=240, on_line=None):
    """The SVCHECK results of one boot: name -> (status, {key: value}).  The VM
    is stopped once the guest prints "SVCHECK done" (QEMU microvm has no
    i8042, so the guest's reboot=k does not end it).  on_line(line, pid) is
    called for every console line as it arrives."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    found = {}
    try:
        for raw in p.stdout:
            line = raw.decode(errors="replace")
            if on_line:
                on_line(line, p.pid)
            i = line.find("SVCHECK ")
            m = CHECK.match(line[i:].strip()) if i >= 0 else None
            if m:
                found[m.group(1)] = (m.group(2), dict(kv.partition("=")[::2]
                                                      for kv in m.group(3).split()))
            if "SVCHECK done" in line:
                break
    finally:
        killer.cancel()
        if p.poll() is None:
            p.kill()
        p.wait()
    return found, p


def fs_once(args, kind, kernel, initrd, share, tmp, diag=None):
    """MB/s of the guest's second 1 MiB dd of the file, timed on the host
    between the SVFSREAD start and end console lines.  diag gets the guest's
    own figure and what each process spent meanwhile."""
    sock = Path(tmp) / f"vfs-{uuid.uuid4().hex[:6]}.sock"
    d = subprocess.Popen([VIRTIOFSD, f"--socket-path={sock}", "-o", f"source={share}",
                          "-o", "cache=none", "-o", "sandbox=chroot"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks = {}

    def on_line(line, pid):
        for m in ("start", "end"):
            if f"SVFSREAD {m}" in line:
                marks[m] = (time.monotonic(), cpu_seconds(pid), cpu_seconds(d.pid))

    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        found, p = run_guest(boot_argv(args, kind, kernel, initrd, "sv.checks=fsread",
                                       fs_dev(kind, sock)), on_line=on_line)
    finally:
        d.kill()
        d.wait()
    st, kv = found.get("fsread", ("missing", {}))
    if st != "ok" or float(kv.get("seconds", 0)) <= 0 or len(marks) != 2:
        raise bl.Skip(f"{kind} fsread {st} {kv}: {p.stderr.read().decode(errors='replace')[-500:]}")
    (t0, v0, d0), (t1, v1, d1) = marks["start"], marks["end"]
    nbytes = int(kv["bytes"])
    if diag is not None:
        diag.append({"host_s": t1 - t0, "guest_s": float(kv["seconds"]),
                     "guest_mbs": nbytes / float(kv["seconds"]) / 1e6,
                     "vmm_cpu_s": v1 - v0 if v0 is not None and v1 is not None else None,
                     "virtiofsd_cpu_s": d1 - d0 if d0 is not None and d1 is not None else None,
                     "irqs": int(kv.get("irqs", -1)), "clocksource": kv.get("clocksource")})
        print(f"  {kind} fsread: {diag[-1]}", file=sys.stderr)
    return nbytes / (t1 - t0) / 1e6


class Netns:
    def __init__(self):
        self.name = f"svb-{uuid.uuid4().hex[:8]}"
        self.tap = "svbtap0"

    def ip(self, *a):
        subprocess.run(["ip", "netns", "exec", self.name, "ip", *a], check=True,
                       capture_output=True)

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("tuntap", "add", "dev", self.tap, "mode", "tap")
        self.ip("link", "set", self.tap, "up")
        self.ip("addr", "add", f"{HOST_IP}/24", "dev", self.tap)
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def wrap(self, argv):
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]


def sender(ns, payload, ready):
    """Serves the payload once from inside the namespace (a child in it); the
    child holds all of it before it listens, so the guest's time is the
    transfer's alone."""
    code = ("import socket,sys\n"
            "data=sys.stdin.buffer.read()\n"
            "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            f"s.bind(('{HOST_IP}',{PORT}));s.listen(1);print('ready',flush=True)\n"
            "c,_=s.accept();c.sendall(data);c.close()\n")
    p = subprocess.Popen(ns.wrap([sys.executable, "-c", code]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    p.stdin.write(payload)
    p.stdin.close()
    p.stdout.readline()
    ready.set()
    p.wait(timeout=600)


def net_once(args, kind, kernel, initrd, payload):
    with Netns() as ns:
        ready = threading.Event()
        t = threading.Thread(target=sender, args=(ns, payload, ready), daemon=True)
        t.start()
        ready.wait(30)
        append = (f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off sv.checks=tcprate "
                  f"sv.tcp={HOST_IP}:{PORT}")
        found, p = run_guest(ns.wrap(boot_argv(args, kind, kernel, initrd, append,
                                               net_dev(kind, ns.tap))))
        t.join(timeout=30)
    st, kv = found.get("tcprate", ("missing", {}))
    if st != "ok" or kv.get("bytes") != str(len(payload)):
        raise bl.Skip(f"{kind} tcprate {st} {kv}: {p.stderr.read().decode(errors='replace')[-500:]}")
    return len(payload) / float(kv["seconds"]) / 1e6


def tg_fs_once(args, kind, share, tmp):
    """MB/s of the test guest's FUSE_READ loop under one VMM (this host)."""
    sock = Path(tmp) / f"vfs-{uuid.uuid4().hex[:6]}.sock"
    d = subprocess.Popen([VIRTIOFSD, f"--socket-path={sock}", "-o", f"source={share}",
                          "-o", "cache=none", "-o", "sandbox=chroot"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    append = ("svtest=1 exit=debug tests=virtio_fs discovery=acpi fstag=svfs "
              "fsfile=big.bin fsbench=1")
    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        if kind == "ours":
            argv = [args.vmm, "-machine", "microvm,mem-share=on", "-smp", "1", "-m", "256",
                    "-kernel", args.guest, "-append", append, "-serial", "stdio"]
        else:
            argv = [args.qemu, "-M", "microvm,x-option-roms=off,memory-backend=mem",
                    *bl.QEMU_BASE[2:], "-nographic", "-no-reboot",
                    "-global", "virtio-mmio.force-legacy=false",
                    "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-smp", "1",
                    "-m", "256", "-serial", "stdio", "-kernel", args.guest, "-append", append]
        argv += ["-device", "isa-debug-exit,iobase=0xf4,iosize=4", *fs_dev(kind, sock)]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        t0 = t1 = None
        nbytes = 0
        for raw in p.stdout:
            line = raw.decode(errors="replace")
            if "SVTEST FSBENCH-START" in line:
                t0 = time.monotonic()
            elif "SVTEST FSBENCH-END" in line:
                t1 = time.monotonic()
                nbytes = int(line.split()[-1])
        p.wait(timeout=60)
    finally:
        d.kill()
        d.wait()
    if t0 is None or t1 is None or nbytes != FILE_MIB << 20:
        raise bl.Skip(f"{kind}: no complete FSBENCH run: {p.stderr.read().decode()[-300:]}")
    return nbytes / (t1 - t0) / 1e6


def main_test_guest(args):
    rates = {"ours": [], "qemu": []}
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        share = Path(tmp) / "share"
        share.mkdir()
        with open(share / "big.bin", "wb") as f:
            for _ in range(FILE_MIB):
                f.write(os.urandom(1 << 20))
        for i in range(args.n):
            for kind in ("ours", "qemu"):
                r = tg_fs_once(args, kind, share, tmp)
                rates[kind].append(r)
                print(f"run {i + 1} {kind}: {r:.1f} MB/s", file=sys.stderr)
    o, q = bl.summary(rates["ours"]), bl.summary(rates["qemu"])
    bl.print_table(["test (this host, test guest)", "ours (median)", "QEMU (median)",
                    "ours/QEMU"],
                   [[f"virtio-fs FUSE_READ {FILE_MIB} MiB, 128 KiB (MB/s)",
                     bl.fmt(o["median"], "", 1), bl.fmt(q["median"], "", 1),
                     bl.fmt(o["median"] / q["median"], "x", 2)]])
    if args.json:
        bl.write_json(args.json, {"host": bl.host_description(), "runs": args.n,
                                  "qemu": bl.qemu_version(args.qemu), "git": bl.git_revision(),
                                  "fs_test_guest": {"ours": o, "qemu": q, "samples": rates}})
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3, help="runs of each VMM per test (default 3)")
    ap.add_argument("--test-guest", action="store_true",
                    help="virtio-fs only, on this host, with the freestanding test guest")
    ap.add_argument("--tests", default="fs,net", help="which lines (default fs,net)")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=BIN",
                    help="another build of our VMM measured in the same run (A/B of a change)")
    bl.add_path_args(ap)
    args = ap.parse_args()
    args.vmms = {"ours": args.vmm}
    for a in args.also:
        name, _, path = a.partition("=")
        args.vmms[name] = str(Path(path).resolve())
    kinds = [*args.vmms, "qemu"]
    tests = [t for t in ("fs", "net") if t in args.tests.split(",")]
    if args.test_guest:
        return main_test_guest(args)
    if os.path.exists("/sys/module/kvm_pvm") and os.environ.get("HWVIRT") != "1":
        print("vhost: measuring inside the nested machine (scripts/hwvirt.sh)",
              file=sys.stderr)
        os.execvp("flock", ["flock", "/tmp/hwvirt.lock", str(bl.REPO / "scripts" / "hwvirt.sh"),
                            sys.executable, *sys.argv])
    kernel, initrd = guest_paths()
    rates = {(t, k): [] for t in ("fs", "net") for k in kinds}
    errors = []
    diag = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        share = Path(tmp) / "share"
        share.mkdir()
        with open(share / "big.bin", "wb") as f:
            for _ in range(FILE_MIB):
                f.write(os.urandom(1 << 20))
        payload = os.urandom(NET_MIB << 20) if "net" in tests else b""
        for i in range(args.n):
            for test, once, arg in (("fs", fs_once, None), ("net", net_once, payload)):
                if test not in tests:
                    continue
                for kind in kinds:
                    try:
                        if test == "fs":
                            r = once(args, kind, kernel, initrd, share, tmp, diag[kind])
                        else:
                            r = once(args, kind, kernel, initrd, arg)
                    except (bl.Skip, subprocess.TimeoutExpired) as e:
                        errors.append(str(e))
                        print(f"run {i + 1} {test} {kind}: failed: {e}", file=sys.stderr)
                        continue
                    rates[(test, kind)].append(r)
                    print(f"run {i + 1} {test} {kind}: {r:.1f} MB/s", file=sys.stderr)
    result = {"host": bl.host_description(), "inside_nested_machine":
              os.environ.get("HWVIRT") == "1", "runs": args.n,
              "qemu": bl.qemu_version(args.qemu), "git": bl.git_revision(), "errors": errors,
              "fs_diag": diag}
    rows = []
    for test, label in (("fs", f"virtio-fs read {FILE_MIB} MiB (MB/s)"),
                        ("net", f"vhost-net TCP {NET_MIB} MiB to guest (MB/s)")):
        if test not in tests:
            continue
        sm = {k: bl.summary(rates[(test, k)]) for k in kinds}
        result[test] = {**sm, "samples": {k: rates[(test, k)] for k in kinds}}
        q = sm["qemu"]
        row = [label]
        for k in kinds:
            row.append(bl.fmt(sm[k] and sm[k]["median"], "", 1))
        for k in kinds[:-1]:
            row.append(bl.fmt(sm[k]["median"] / q["median"] if sm[k] and q else None, "x", 2))
        rows.append(row)
    bl.print_table(["test", *(f"{k} (median)" for k in kinds),
                    *(f"{k}/qemu" for k in kinds[:-1])], rows)
    if "fs" in tests:
        # per MiB read: what each process and the guest's interrupts cost
        drows = []
        for key, label in (("guest_mbs", "guest's own figure (MB/s, /proc/uptime)"),
                           ("vmm_cpu_s", "VMM CPU ms per MiB"),
                           ("virtiofsd_cpu_s", "virtiofsd CPU ms per MiB"),
                           ("irqs", "guest virtio interrupts per MiB")):
            row = [label]
            for kind in kinds:
                vals = [d[key] for d in diag[kind] if d.get(key) is not None]
                if key != "guest_mbs":
                    vals = [v * (1000 if key.endswith("_s") else 1) / FILE_MIB for v in vals]
                sm = bl.summary(vals)
                row.append(bl.fmt(sm and sm["median"], "", 2))
            drows.append(row)
        bl.print_table(["virtio-fs read, during the timed dd",
                        *(f"{k} (median)" for k in kinds)], drows)
    if args.json:
        bl.write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
