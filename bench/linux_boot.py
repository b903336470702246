#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Linux boot to first user-space output: our VMM vs QEMU microvm, one run.

Both boot the same demo/test guest (guest/build.sh: the PVH vmlinux and the
busybox initramfs, 1 vCPU, 256 MiB) with guest/cmdline.txt plus
sv.checks=nproc; the figure is exec -> the line "SVCHECK start" that
guest/init prints first (docs/guest.md).  At that line the VMM's memory
overhead is read from /proc/PID/smaps: Rss and Private_Dirty of every mapping
except guest RAM (as in bench/startup.py).  Runs alternate ours/QEMU.

Guest user space needs a KVM with hardware virtualization: on a kvm_pvm host
the script runs itself inside the nested machine (scripts/hwvirt.sh), so both
VMMs are measured inside the same L1 boot.  Absolute times there are inflated
by TCG; the ratio is the figure (docs/benchmarks.md).

Usage: python3 bench/linux_boot.py [-n 10] [--vmm BIN] [--qemu BIN] [--json FILE]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from startup import memory_overhead  # noqa: E402

MARKER = b"SVCHECK start"
MEM_MIB = 256


def guest_paths():
    out = subprocess.run([str(bl.REPO / "guest" / "build.sh")], capture_output=True,
                         text=True, check=True).stdout
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", out, re.M))
    return Path(vals["KERNEL_DIR"]) / "vmlinux", Path(vals["INITRD"])


def cmdline(end="reboot"):
    # How the run ends comes after the measured line: ours exits on the
    # i8042 reset (reboot=k); QEMU microvm has no i8042 and exits on its ACPI
    # power-off.
    return (bl.REPO / "guest" / "cmdline.txt").read_text().strip() + \
        f" sv.checks=nproc sv.end={end}"


def ours_cmd(args, kernel, initrd):
    return [args.vmm, "-machine", "microvm", "-smp", "1", "-m", str(MEM_MIB), "-kernel",
            str(kernel), "-initrd", str(initrd), "-append", cmdline(), "-serial", "stdio"]


def qemu_cmd(args, kernel, initrd):
    return [args.qemu, "-M", "microvm,x-option-roms=off", "-enable-kvm", "-cpu", "host",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-smp", "1",
            "-m", str(MEM_MIB), "-serial", "stdio", "-kernel", str(kernel),
            "-initrd", str(initrd), "-append", cmdline("poweroff")]


def one_boot(argv, timeout=300):
    """(seconds exec -> marker, memory overhead dict, exit status)."""
    r, w = os.pipe()
    pid, _, t0 = bl.spawn(argv, stdout=w)
    os.close(w)
    found = {}

    def reader():
        buf = b""
        with os.fdopen(r, "rb", buffering=0) as f:
            while True:
                chunk = f.read(4096)
                if not chunk:
                    break
                if "t" not in found:
                    buf += chunk
                    if MARKER in buf:
                        found["t"] = time.monotonic() - t0
                        try:
                            found["mem"] = memory_overhead(pid, MEM_MIB)
                        except OSError:
                            pass
                    buf = buf[-64:]

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    rc, _ = bl.wait_pid(pid, timeout)
    t.join(timeout=10)
    return found.get("t"), found.get("mem"), rc


def stats(values):
    s = bl.summary(values)
    if s and len(values) > 1:
        s["stdev"] = statistics.stdev(values)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10, help="boots of each VMM (default 10)")
    bl.add_path_args(ap)
    args = ap.parse_args()
    if os.path.exists("/sys/module/kvm_pvm") and os.environ.get("HWVIRT") != "1":
        print("linux_boot: kvm_pvm cannot run guest user space; measuring inside the "
              "nested machine (scripts/hwvirt.sh)", file=sys.stderr)
        os.execv(str(bl.REPO / "scripts" / "hwvirt.sh"),
                 [str(bl.REPO / "scripts" / "hwvirt.sh"), sys.executable, *sys.argv])
    args.qemu = shutil.which(args.qemu) or args.qemu
    kernel, initrd = guest_paths()
    times = {"ours": [], "qemu": []}
    mems = {"ours": [], "qemu": []}
    failures = {"ours": 0, "qemu": 0}
    for i in range(args.n):
        for name, make in (("ours", ours_cmd), ("qemu", qemu_cmd)):
            t, mem, rc = one_boot(make(args, kernel, initrd))
            if t is None:
                failures[name] += 1
                print(f"run {i + 1} {name}: no marker (exit {rc})", file=sys.stderr)
                continue
            times[name].append(t)
            if mem:
                mems[name].append(mem["overhead_rss_kib"] / 1024)
            print(f"run {i + 1} {name}: {t:.3f} s to first user-space output, "
                  f"overhead Rss {mems[name][-1] if mem else float('nan'):.1f} MiB",
                  file=sys.stderr)
    rows = []
    result = {"host": bl.host_description(), "inside_nested_machine":
              os.environ.get("HWVIRT") == "1", "runs": args.n, "kernel": str(kernel),
              "qemu_version": bl.qemu_version(args.qemu), "git": bl.git_revision()}
    for name in ("ours", "qemu"):
        s, m = stats(times[name]), stats(mems[name])
        result[name] = {"boot_s": s, "overhead_rss_mib": m, "failures": failures[name],
                        "samples_s": times[name]}
        rows.append([name, bl.fmt(s and s["median"], " s", 3),
                     bl.fmt(s and s["min"], " s", 3) + " - " + bl.fmt(s and s["max"], " s", 3),
                     bl.fmt(s and s.get("stdev"), " s", 3),
                     bl.fmt(m and m["median"], " MiB", 1), failures[name]])
    bl.print_table(["VMM", "median exec->user space", "min - max", "stdev",
                    "overhead Rss (median)", "failed"], rows)
    if times["ours"] and times["qemu"]:
        ratio = result["qemu"]["boot_s"]["median"] / result["ours"]["boot_s"]["median"]
        result["ratio_qemu_over_ours"] = ratio
        print(f"ratio QEMU / ours (medians): {ratio:.2f}")
    if args.json:
        bl.write_json(args.json, result)
    return 0 if times["ours"] else 1


if __name__ == "__main__":
    sys.exit(main())
