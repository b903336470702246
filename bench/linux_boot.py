#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Linux boot to first user-space output: our VMM vs QEMU, one run.

x86_64 (default): both boot the same demo/test guest (guest/build.sh: the
PVH vmlinux and the busybox initramfs, 1 vCPU, 256 MiB) with
guest/cmdline.txt plus sv.checks=nproc; QEMU is `-M microvm`.  The figures
are exec -> the guest's first serial byte and exec -> the line
"SVCHECK start" that guest/init prints first (docs/guest.md).  At that line
the VMM's memory overhead is read from /proc/PID/smaps: Rss and
Private_Dirty of every mapping except guest RAM (as in bench/startup.py).

--arch arm64: the arm64 guest of guest/build-arm64.sh (kernel Image and
busybox initramfs, 1 vCPU, 256 MiB), `console=ttyAMA0 earlycon reboot=k
panic=1`, ours (the static aarch64 build, $STRATOVIRT_AARCH64_BIN or
build-aarch64/stratovirt, `-machine microvm`) against QEMU's `-M
virt,gic-version=3 -accel kvm -cpu host` (Debian's arm64 QEMU of
bench/qemu-arm64.sh, run with its own loader, unless the host is an aarch64
one with qemu-system-aarch64 on PATH).  Without sv.checks the guest's init
prints the demo banner (the first user-space line: "=== StratoVirt demo
guest") and waits in a shell on the PL011: smaps is read there, with the VM
idle, then `poweroff -f` is typed and exec -> the VMM's exit is timed too
(PSCI SYSTEM_OFF ends both).

Runs alternate ours/QEMU after one untimed warm-up boot of each.  Guest user
space needs a KVM with hardware virtualization: on a kvm_pvm host the x86_64
mode runs itself inside the nested machine (scripts/hwvirt.sh), and on any
non-aarch64 host the arm64 mode inside the arm64 one (scripts/hwvirt-arm64.sh;
the guest, the VMM and QEMU are prepared on the host first, as L1 has no
network), so both VMMs are measured inside the same L1 boot.  Absolute times
there are inflated by TCG; the ratio is the figure (docs/benchmarks.md).

Usage: python3 bench/linux_boot.py [--arch x86_64|arm64] [-n 10] [--vmm BIN]
           [--qemu BIN] [--kernel FILE --initrd FILE] [-v] [--json FILE]
"""
import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from startup import memory_overhead  # noqa: E402

MEM_MIB = 256
ARM64_CMDLINE = "console=ttyAMA0 earlycon reboot=k panic=1"
ARM64_BANNER = b"=== StratoVirt demo guest"
X86_MARKER = b"SVCHECK start"
STOP = b"poweroff -f\n"


def guest_paths(script, kernel_file):
    out = subprocess.run([str(bl.REPO / "guest" / script)], capture_output=True,
                         text=True, check=True).stdout
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", out, re.M))
    return Path(vals["KERNEL_DIR"]) / kernel_file, Path(vals["INITRD"])


def cmdline(end="reboot"):
    # How the run ends comes after the measured line: ours exits on the
    # i8042 reset (reboot=k); QEMU microvm has no i8042 and exits on its ACPI
    # power-off.
    return (bl.REPO / "guest" / "cmdline.txt").read_text().strip() + \
        f" sv.checks=nproc sv.end={end}"


def ours_cmd(args, kernel, initrd):
    append = ARM64_CMDLINE if args.arch == "arm64" else cmdline()
    return [args.vmm, "-machine", "microvm", "-smp", "1", "-m", str(MEM_MIB), "-kernel",
            str(kernel), "-initrd", str(initrd), "-append", append, "-serial", "stdio"]


def qemu_cmd(args, kernel, initrd):
    if args.arch == "arm64":
        machine = ["-M", "virt,gic-version=3", "-accel", "kvm", "-cpu", "host",
                   "-display", "none"]
        append = ARM64_CMDLINE
    else:
        machine = ["-M", "microvm,x-option-roms=off", "-enable-kvm", "-cpu", "host",
                   "-nographic"]
        append = cmdline("poweroff")
    return [*args.qemu_prefix, args.qemu, *machine, "-nodefaults", "-no-user-config",
            "-no-reboot", "-smp", "1", "-m", str(MEM_MIB), "-serial", "stdio",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append]


def one_boot(argv, marker, stop=None, timeout=300):
    """Boot once.  Returns a dict: first (s exec -> first serial byte),
    marker (s exec -> the marker), exit (s exec -> the VMM's exit), mem (the
    overhead at the marker), rc and, on failure, the tail of stderr.  With
    stop, the guest waits after the marker until stop is written to it."""
    r, w = os.pipe()
    in_r = in_w = None
    if stop:
        in_r, in_w = os.pipe()
    err = tempfile.TemporaryFile()
    try:
        pid, _, t0 = bl.spawn(argv, stdin=in_r, stdout=w, stderr=err.fileno())
    finally:
        os.close(w)
        if in_r is not None:
            os.close(in_r)
    found = {}

    def reader():
        buf = b""
        with os.fdopen(r, "rb", buffering=0) as f:
            while True:
                chunk = f.read(4096)
                if not chunk:
                    break
                if "first" not in found:
                    found["first"] = time.monotonic() - t0
                if "marker" not in found:
                    buf += chunk
                    if marker in buf:
                        found["marker"] = time.monotonic() - t0
                        try:
                            found["mem"] = memory_overhead(pid, MEM_MIB)
                        except OSError:
                            pass
                        if in_w is not None:
                            os.write(in_w, stop)
                    buf = buf[-64:]

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    rc, t_end = bl.wait_pid(pid, timeout)
    t.join(timeout=10)
    if in_w is not None:
        os.close(in_w)
    found["rc"] = rc
    if rc is not None:
        found["exit"] = t_end - t0
    if "marker" not in found:
        err.seek(0)
        found["stderr"] = err.read().decode(errors="replace")[-1500:]
    err.close()
    return found


def spawn_floor(argv, runs=5):
    """Median seconds from spawn to exit of a program that does nothing."""
    times = []
    for _ in range(runs):
        pid, _, t0 = bl.spawn(argv)
        _, t = bl.wait_pid(pid, 30)
        times.append(t - t0)
    return statistics.median(times)


def stats(values):
    s = bl.summary(values)
    if s and len(values) > 1:
        s["stdev"] = statistics.stdev(values)
    return s


def arm64_qemu():
    """(prefix argv, binary): QEMU for arm64 guests on this host."""
    env = [os.environ.get(k) for k in ("QEMU_ARM64_LOADER", "QEMU_ARM64_LIBRARY_PATH",
                                       "QEMU_ARM64_BIN")]
    if not all(env):
        out = subprocess.run([str(bl.REPO / "bench" / "qemu-arm64.sh")], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise bl.Skip(f"bench/qemu-arm64.sh failed: {out.stderr.strip()[-500:]}")
        vals = dict(re.findall(r"^(QEMU_ARM64_\w+)=(.*)$", out.stdout, re.M))
        env = [vals[k] for k in ("QEMU_ARM64_LOADER", "QEMU_ARM64_LIBRARY_PATH",
                                 "QEMU_ARM64_BIN")]
    return [env[0], "--library-path", env[1]], env[2]


def arm64_kvm_host():
    """An aarch64 machine (in the arm64 L1 this Python is the host's x86_64
    one under qemu-x86_64, and HWVIRT_ARCH says where it is)."""
    return platform.machine() == "aarch64" or os.environ.get("HWVIRT_ARCH") == "arm64"


def reexec_nested(args):
    """Run this script inside the nested machine where it must; else return."""
    if os.environ.get("HWVIRT") == "1":
        return
    # git under qemu-x86_64 in the arm64 L1 outlasts its 10 s timeout
    os.environ["LINUX_BOOT_GIT"] = bl.git_revision()
    if args.arch == "arm64":
        if arm64_kvm_host():
            return
        # L1 has no network and runs the host's x86_64 programs slowly:
        # everything is found here and handed over.
        kernel, initrd = (args.kernel, args.initrd) if args.kernel else \
            guest_paths("build-arm64.sh", "Image")
        argv = [sys.executable, *sys.argv, "--kernel", str(kernel), "--initrd", str(initrd)]
        if not args.qemu_given:
            try:
                prefix, binary = arm64_qemu()
                os.environ.update(QEMU_ARM64_LOADER=prefix[0],
                                  QEMU_ARM64_LIBRARY_PATH=prefix[2], QEMU_ARM64_BIN=binary)
            except bl.Skip as e:
                os.environ["LINUX_BOOT_NO_QEMU"] = str(e)
        script = bl.REPO / "scripts" / "hwvirt-arm64.sh"
        print("linux_boot: measuring inside the arm64 nested machine "
              "(scripts/hwvirt-arm64.sh)", file=sys.stderr)
    elif os.path.exists("/sys/module/kvm_pvm"):
        argv = [sys.executable, *sys.argv]
        script = bl.REPO / "scripts" / "hwvirt.sh"
        print("linux_boot: kvm_pvm cannot run guest user space; measuring inside the "
              "nested machine (scripts/hwvirt.sh)", file=sys.stderr)
    else:
        return
    os.execv(str(script), [str(script), *argv])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64",
                    help="guest and VMM architecture (default x86_64)")
    ap.add_argument("-n", type=int, help="boots of each VMM (default 10; arm64 5)")
    ap.add_argument("--kernel", help="guest kernel (default: guest/build.sh's vmlinux, "
                    "guest/build-arm64.sh's Image)")
    ap.add_argument("--initrd", help="guest initramfs (default: the same script's)")
    ap.add_argument("-v", action="store_true", help="print each VMM's largest mappings")
    bl.add_path_args(ap)
    args = ap.parse_args()
    args.qemu_given = "--qemu" in sys.argv or "QEMU_BIN" in os.environ
    if args.arch == "arm64" and "--vmm" not in sys.argv:
        args.vmm = os.environ.get("STRATOVIRT_AARCH64_BIN",
                                  str(bl.REPO / "build-aarch64" / "stratovirt"))
    if bool(args.kernel) != bool(args.initrd):
        ap.error("--kernel and --initrd go together")
    n = args.n or (5 if args.arch == "arm64" else 10)
    reexec_nested(args)

    args.qemu_prefix = []
    no_qemu = os.environ.get("LINUX_BOOT_NO_QEMU")
    if args.arch == "arm64":
        if args.qemu_given:
            args.qemu = shutil.which(args.qemu) or args.qemu
        elif platform.machine() == "aarch64" and shutil.which("qemu-system-aarch64"):
            args.qemu = shutil.which("qemu-system-aarch64")
        elif not no_qemu:
            try:
                args.qemu_prefix, args.qemu = arm64_qemu()
            except bl.Skip as e:
                no_qemu = str(e)
        marker, stop = ARM64_BANNER, STOP
        default_guest = ("build-arm64.sh", "Image")
    else:
        args.qemu = shutil.which(args.qemu) or args.qemu
        marker, stop = X86_MARKER, None
        default_guest = ("build.sh", "vmlinux")
    kernel, initrd = (Path(args.kernel), Path(args.initrd)) if args.kernel else \
        guest_paths(*default_guest)
    vmms = [("ours", ours_cmd)] + ([] if no_qemu else [("qemu", qemu_cmd)])
    if no_qemu:
        print(f"linux_boot: QEMU cannot run here: {no_qemu}; our figures only",
              file=sys.stderr)

    samples = {name: {"first": [], "marker": [], "exit": [], "mem": [], "pd": []}
               for name, _ in vmms}
    failures = {name: 0 for name, _ in vmms}
    last_mem = {}
    for i in range(-1, n):  # run -1: warm-up (page cache, 9p), not counted
        for name, make in vmms:
            res = one_boot(make(args, kernel, initrd), marker, stop)
            tag = "warm-up" if i < 0 else f"run {i + 1}"
            if "marker" not in res:
                failures[name] += i >= 0
                print(f"{tag} {name}: no marker (exit {res['rc']}); stderr: "
                      f"{res.get('stderr', '').strip()[-600:]}", file=sys.stderr)
                continue
            mem = res.get("mem")
            print(f"{tag} {name}: first byte {res['first']:.3f} s, user space "
                  f"{res['marker']:.3f} s, exit {bl.fmt(res.get('exit'), ' s', 3)}, "
                  f"overhead Rss {mem['overhead_rss_kib'] / 1024 if mem else float('nan'):.1f}"
                  f" MiB", file=sys.stderr)
            if i < 0:
                continue
            s = samples[name]
            s["first"].append(res["first"])
            s["marker"].append(res["marker"])
            if "exit" in res and stop:
                s["exit"].append(res["exit"])
            if mem:
                s["mem"].append(mem["overhead_rss_kib"] / 1024)
                s["pd"].append(mem["overhead_private_dirty_kib"] / 1024)
                last_mem[name] = mem

    result = {"host": bl.host_description(), "arch": args.arch,
              "inside_nested_machine": os.environ.get("HWVIRT") == "1", "runs": n,
              "kernel": str(kernel), "initrd": str(initrd), "git": os.environ.get("LINUX_BOOT_GIT") or bl.git_revision(),
              "qemu_version": None if no_qemu else
              bl.qemu_version(args.qemu) if not args.qemu_prefix else
              subprocess.run([*args.qemu_prefix, args.qemu, "--version"], capture_output=True,
                             text=True).stdout.split("\n")[0],
              "qemu_missing": no_qemu}
    floor_argv = None
    if args.arch == "arm64":
        bb = Path(os.environ.get("STRATOVIRT_GUEST_CACHE", "/var/cache/stratovirt-guest")) / \
            "busybox-static-arm64" / "busybox"
        if bb.exists() and arm64_kvm_host():
            floor_argv = [str(bb), "true"]
    elif os.path.exists("/bin/true"):
        floor_argv = ["/bin/true"]
    if floor_argv:
        result["harness_floor_s"] = spawn_floor(floor_argv)

    rows_def = [("exec -> first serial byte", "first", " s", 3),
                ("exec -> first user-space line", "marker", " s", 3)]
    if stop:
        rows_def.append(("exec -> VMM exit (after poweroff -f)", "exit", " s", 3))
    rows_def += [("overhead Rss excl. guest RAM", "mem", " MiB", 2),
                 ("overhead Private_Dirty", "pd", " MiB", 2)]
    rows = []
    for label, key, unit, digits in rows_def:
        row = [label]
        st = {}
        for name, _ in vmms:
            st[name] = stats(samples[name][key])
            result.setdefault(name, {})[key] = st[name]
            result[name][key + "_samples"] = samples[name][key]
            s = st[name]
            row += [bl.fmt(s and s["median"], unit, digits),
                    bl.fmt(s and s["min"], "", digits) + " - " + bl.fmt(s and s["max"], "", digits)]
        if "qemu" in st:
            ratio = st["qemu"]["median"] / st["ours"]["median"] \
                if st["qemu"] and st["ours"] and st["ours"]["median"] else None
            result.setdefault("ratio_qemu_over_ours", {})[key] = ratio
            row.append(bl.fmt(ratio, "x", 2))
        rows.append(row)
    headers = ["metric", "ours median", "ours min - max"]
    if not no_qemu:
        headers += ["QEMU median", "QEMU min - max", "QEMU / ours"]
    for name, _ in vmms:
        result[name]["failures"] = failures[name]
    vm_desc = "arm64 guest, QEMU -M virt" if args.arch == "arm64" else "QEMU microvm"
    print(f"\nLinux boot, {n} runs each ({vm_desc}, 1 vCPU, {MEM_MIB} MiB); failed boots: "
          + ", ".join(f"{k} {v}" for k, v in failures.items()))
    bl.print_table(headers, rows)
    if "harness_floor_s" in result:
        print(f"harness floor (spawn {' '.join(floor_argv)} -> exit): "
              f"{result['harness_floor_s'] * 1000:.1f} ms")
    if no_qemu:
        print(f"QEMU: not measured: {no_qemu}")
    if args.v:
        for name, mem in last_mem.items():
            print(f"\n{name}: largest mappings outside guest RAM (last run)")
            bl.print_table(["mapping", "perms", "size KiB", "Rss KiB", "Private_Dirty KiB"],
                           [[m["name"][-60:], m["perms"], m["size_kib"], m["rss_kib"],
                             m["private_dirty_kib"]] for m in mem["top"][:8]])
    if args.json:
        bl.write_json(args.json, result)
    return 0 if samples["ours"]["marker"] else 1


if __name__ == "__main__":
    sys.exit(main())
