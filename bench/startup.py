#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Start-up time and memory overhead: our VMM vs QEMU microvm, in one run.

Parts (docs/benchmarks.md explains each number):
  first   exec -> the test guest's first instruction (svguest.elf mode=first:
          its first instruction writes port 0x80, then it writes 0 to port 0xf4
          and the VMM ends). N runs each, interleaved ours/QEMU.
            ours: exec -> the VMM's log line for the port-0x80 exit (its wall
                  clock time stamp), the VMM's own "at X ms after start" figure
                  (from main()), and exec -> VMM exit;
            QEMU: exec -> the trace line of the port-0x80 write
                  (-trace memory_region_ops_write), exec -> the firmware's first
                  I/O write (qboot runs before the guest), exec -> QEMU exit.
  linux   exec -> Linux "Run /init" on the serial console (same vmlinux, PVH,
          kernel command line from guest/cmdline.txt); skipped when the guest
          kernel has not been built (guest/build.sh).
  memory  VMM memory overhead with the test guest running (1 vCPU, 128 MiB,
          waiting for serial input): /proc/PID/smaps about 1 s after the guest
          is up, summed over every mapping except guest RAM (mappings at least
          as large as guest RAM): Rss, Pss, Private_Dirty.

Usage: python3 bench/startup.py [-n 20] [--linux-runs 3] [--mem-runs 3]
       [--parts first,linux,memory] [--vmm BIN] [--guest ELF] [--json FILE]
"""
import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

GUEST_MEM_MIB = 128

OURS_MARKER = re.compile(
    r"^(\d+\.\d+) info: guest boot marker 0x[0-9a-f]+ at ([0-9.]+) ms after start", re.M)
QEMU_TRACE = re.compile(
    r"^\d+@(\d+\.\d+):memory_region_ops_write cpu -?\d+ mr \S+ addr (0x[0-9a-f]+) "
    r"value \S+ size (\d+) name '([^']*)'", re.M)

TARGET_START_MS = 2.0
TARGET_START_RATIO = 20.0
TARGET_MEM_MIB = 1.5
TARGET_MEM_RATIO = 5.0


# ------------------------------------------------------------------ commands

# the test guest ends its runs through port 0xf4: both VMMs need the device
DEBUG_EXIT = ("-device", "isa-debug-exit,iobase=0xf4,iosize=4")


def ours_cmd(args, kernel, append, mem=GUEST_MEM_MIB, extra=()):
    return [args.vmm, "-machine", "microvm", "-smp", "1", "-m", str(mem),
            "-kernel", kernel, "-append", append, *extra]


def qemu_cmd(args, kernel, append, mem=GUEST_MEM_MIB, extra=()):
    return [args.qemu, *bl.QEMU_BASE, *args.qemu_extra, "-m", str(mem), "-smp", "1",
            "-kernel", kernel, "-append", append, *extra]


def read_file(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


# ------------------------------------------------------------------ part a

def run_floor(tmp):
    """The harness's own cost: posix_spawn /bin/true -> exit."""
    true = "/bin/true"
    pid, _, t0 = bl.spawn([true])
    _, t1 = bl.wait_pid(pid, 10)
    return (t1 - t0) * 1e3


def run_first_ours(args, tmp, i):
    log = os.path.join(tmp, f"ours-first-{i}.log")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    env = dict(os.environ, STRATOVIRT_LOG_LEVEL="info")
    try:
        pid, t_real, t_mono = bl.spawn(ours_cmd(args, args.guest, "mode=first",
                                                extra=DEBUG_EXIT),
                                       stderr=fd, env=env)
    finally:
        os.close(fd)
    rc, t_exit = bl.wait_pid(pid, 30)
    text = read_file(log)
    res = {"rc": rc, "exit_ms": (t_exit - t_mono) * 1e3}
    m = OURS_MARKER.search(text)
    if rc != 0 or not m:
        res["error"] = (f"our VMM: exit status {rc}, marker line "
                        f"{'found' if m else 'missing'}; log:\n{text[-2000:]}")
        return res
    res["marker_ms"] = (float(m.group(1)) - t_real) * 1e3
    res["vmm_marker_ms"] = float(m.group(2))
    return res


def run_first_qemu(args, tmp, i):
    trace = os.path.join(tmp, f"qemu-first-{i}.trace")
    errlog = os.path.join(tmp, f"qemu-first-{i}.err")
    fd = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    extra = ["-nographic", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
             "-trace", "memory_region_ops_write", "-msg", "timestamp=on", "-D", trace]
    try:
        pid, t_real, t_mono = bl.spawn(qemu_cmd(args, args.guest, "mode=first",
                                                extra=extra), stderr=fd)
    finally:
        os.close(fd)
    rc, t_exit = bl.wait_pid(pid, 30)
    res = {"rc": rc, "exit_ms": (t_exit - t_mono) * 1e3}
    writes = QEMU_TRACE.findall(read_file(trace))
    marker = [w for w in writes if int(w[1], 16) == 0x80 and w[3] == "io"]
    # isa-debug-exit exits with (value << 1) | 1: 1 for the guest's 0
    if rc != 1 or not marker:
        res["error"] = (f"QEMU: exit status {rc} (expected 1), port-0x80 trace "
                        f"{'found' if marker else 'missing'}; stderr:\n"
                        f"{read_file(errlog)[-2000:]}")
        return res
    res["marker_ms"] = (float(marker[0][0]) - t_real) * 1e3
    res["first_io_ms"] = (float(writes[0][0]) - t_real) * 1e3
    return res


def part_first(args, tmp, results):
    n = args.runs
    print(f"== exec -> first guest instruction: {n} runs each, interleaved "
          f"(+1 warm-up each) ==", flush=True)
    ours, qemu, floor = [], [], []
    for i in range(-1, n):
        o = run_first_ours(args, tmp, i)
        q = run_first_qemu(args, tmp, i)
        f = run_floor(tmp)
        for r in (o, q):
            if "error" in r:
                raise SystemExit(f"error: run {i}: {r['error']}")
        if i >= 0:
            ours.append(o)
            qemu.append(q)
            floor.append(f)
    stats = {
        "ours_exec_to_marker_ms": bl.summary([r["marker_ms"] for r in ours]),
        "ours_main_to_marker_ms": bl.summary([r["vmm_marker_ms"] for r in ours]),
        "ours_exec_to_exit_ms": bl.summary([r["exit_ms"] for r in ours]),
        "qemu_exec_to_marker_ms": bl.summary([r["marker_ms"] for r in qemu]),
        "qemu_exec_to_firmware_ms": bl.summary([r["first_io_ms"] for r in qemu]),
        "qemu_exec_to_exit_ms": bl.summary([r["exit_ms"] for r in qemu]),
        "spawn_floor_ms": bl.summary(floor),
    }
    results["first"] = {"runs": n, "stats": stats,
                        "raw": {"ours": ours, "qemu": qemu, "floor_ms": floor}}
    rows = []

    def row(name, key):
        s = stats[key]
        rows.append([name] + [bl.fmt(s[k]) if s else "-" for k in ("min", "median", "p90")])

    row("ours: exec -> port 0x80 (VMM log time stamp)", "ours_exec_to_marker_ms")
    row("ours: main() -> port 0x80 (VMM's own figure)", "ours_main_to_marker_ms")
    row("ours: exec -> VMM exit", "ours_exec_to_exit_ms")
    row("QEMU: exec -> port 0x80 (trace time stamp)", "qemu_exec_to_marker_ms")
    row("QEMU: exec -> firmware's first I/O (qboot)", "qemu_exec_to_firmware_ms")
    row("QEMU: exec -> QEMU exit", "qemu_exec_to_exit_ms")
    row("harness floor: posix_spawn /bin/true -> exit", "spawn_floor_ms")
    bl.print_table(["ms", "min", "median", "p90"], rows)
    print()


# ------------------------------------------------------------------ part b

def find_linux(args):
    """(vmlinux, initrd, cmdline, note) or raise Skip."""
    cache = Path(os.environ.get("STRATOVIRT_GUEST_CACHE", "/var/cache/stratovirt-guest"))
    kernel = args.kernel
    if not kernel:
        dirs = sorted((d for d in cache.glob("kernel-*")
                       if d.is_dir() and (d / "vmlinux").is_file()
                       and (d / "BUILD-INFO").is_file()),
                      key=lambda d: d.stat().st_mtime, reverse=True)
        if not dirs:
            raise bl.Skip(f"no built guest kernel under {cache} (run guest/build.sh, "
                       f"or pass --kernel VMLINUX)")
        kernel = str(dirs[0] / "vmlinux")
    if not Path(kernel).is_file():
        raise bl.Skip(f"guest kernel {kernel} not found")
    initrd = args.initrd
    if not initrd:
        cands = sorted(cache.glob("initrd-*/initrd.cpio.gz"),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        if not cands:
            raise bl.Skip(f"no built initramfs under {cache} (run guest/build.sh, "
                       f"or pass --initrd FILE)")
        initrd = str(cands[0])
    note = ""
    cmdline_file = bl.REPO / "guest" / "cmdline.txt"
    lines = []
    if cmdline_file.is_file():
        lines = [ln.strip() for ln in cmdline_file.read_text().splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if lines:
        cmdline = lines[0]
    else:
        cmdline = ("console=ttyS0 reboot=k panic=1 noxsave "
                   "clearcpuid=popcnt,cx16,smap,smep nosmap nosmep")
        note = f"{cmdline_file} missing: used the built-in fallback command line"
    return kernel, initrd, cmdline, note


def run_linux(argv, timeout, marker="Run /init"):
    """Spawn argv with the serial console on a pipe; time to marker (ms) or None."""
    rfd, wfd = os.pipe()
    try:
        pid, _, t0 = bl.spawn(argv, stdout=wfd, stderr=wfd)
    finally:
        os.close(wfd)
    found = [None]
    buf = bytearray()

    def reader():
        while True:
            try:
                chunk = os.read(rfd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf.extend(chunk)
            if found[0] is None and marker.encode() in buf[-len(chunk) - 64:]:
                found[0] = (time.monotonic() - t0) * 1e3
                bl.kill_pid(pid)
                break

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    th.join(timeout)
    rc = None
    if found[0] is None:
        if th.is_alive():       # still running: timed out
            bl.kill_pid(pid)
        else:                   # the console closed: the VMM ended by itself
            rc, _ = bl.wait_pid(pid, 10)
    else:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    th.join(2)
    os.close(rfd)
    return found[0], rc, bytes(buf).decode(errors="replace")


def part_linux(args, tmp, results):
    print(f"== exec -> Linux 'Run /init': {args.linux_runs} runs each ==", flush=True)
    try:
        kernel, initrd, cmdline, note = find_linux(args)
    except bl.Skip as e:
        print(f"SKIP linux: {e}\n")
        results["linux"] = {"skipped": str(e)}
        return
    if note:
        print(f"note: {note}")
    print(f"kernel {kernel}\ninitrd {initrd}\ncmdline {cmdline}", flush=True)
    ours, qemu, failures = [], [], []
    for i in range(args.linux_runs):
        for name, argv, acc in (
                ("ours", ours_cmd(args, kernel, cmdline,
                                  extra=("-initrd", initrd, "-serial", "stdio")), ours),
                ("qemu", qemu_cmd(args, kernel, cmdline,
                                  extra=("-initrd", initrd, "-display", "none",
                                         "-serial", "stdio", "-no-reboot")), qemu)):
            ms, rc, out = run_linux(argv, args.linux_timeout)
            if ms is None:
                tail = "\n".join("    " + ln for ln in out.splitlines()[-12:])
                why = (f"timed out after {args.linux_timeout:.0f} s" if rc is None
                       else f"the VMM exited with status {rc} first")
                failures.append(f"{name} run {i}: no 'Run /init': {why}")
                print(f"  {name} run {i}: FAILED, no 'Run /init': {why}; console "
                      f"tail:\n{tail}", flush=True)
            else:
                acc.append(ms)
                print(f"  {name} run {i}: {ms / 1e3:.2f} s", flush=True)
    results["linux"] = {"kernel": kernel, "initrd": initrd, "cmdline": cmdline,
                        "note": note, "ours_ms": ours, "qemu_ms": qemu,
                        "ours": bl.summary(ours), "qemu": bl.summary(qemu),
                        "failures": failures}
    rows = []
    for name, s in (("ours", bl.summary(ours)), ("QEMU", bl.summary(qemu))):
        rows.append([name] + [bl.fmt(s[k] / 1e3) if s else "-"
                              for k in ("min", "median", "p90")])
    bl.print_table(["s to Run /init", "min", "median", "p90"], rows)
    print()


# ------------------------------------------------------------------ part c

SMAPS_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")


def read_smaps(pid):
    """List of mappings: dict(start, size, perms, name, Rss, Pss, Private_Dirty...) in KiB."""
    maps = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = SMAPS_HEADER.match(line)
            if m:
                cur = {"start": int(m.group(1), 16),
                       "size_kib": (int(m.group(2), 16) - int(m.group(1), 16)) // 1024,
                       "perms": m.group(3), "name": m.group(4).strip()}
                maps.append(cur)
                continue
            parts = line.split()
            if cur is not None and len(parts) >= 2 and parts[0].endswith(":") \
                    and parts[1].isdigit():
                cur[parts[0][:-1]] = int(parts[1])
    return maps


def memory_overhead(pid, guest_mib):
    maps = read_smaps(pid)
    ram_kib = guest_mib * 1024
    guest = [m for m in maps if m["size_kib"] >= ram_kib]
    rest = [m for m in maps if m["size_kib"] < ram_kib]

    def total(ms, key):
        return sum(m.get(key, 0) for m in ms)

    top = sorted(rest, key=lambda m: m.get("Rss", 0), reverse=True)[:12]
    return {
        "overhead_rss_kib": total(rest, "Rss"),
        "overhead_pss_kib": total(rest, "Pss"),
        "overhead_private_dirty_kib": total(rest, "Private_Dirty"),
        "overhead_anon_kib": total(rest, "Anonymous"),
        "guest_ram_rss_kib": total(guest, "Rss"),
        "guest_ram_mappings": [(hex(m["start"]), m["size_kib"]) for m in guest],
        "total_rss_kib": total(maps, "Rss"),
        "mappings": len(maps),
        "top": [{"name": m["name"] or "[anon]", "perms": m["perms"],
                 "size_kib": m["size_kib"], "rss_kib": m.get("Rss", 0),
                 "private_dirty_kib": m.get("Private_Dirty", 0)} for m in top],
    }


def threads_of(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return None


def run_memory(argv, settle, env=None):
    """Start argv with the guest waiting for serial input; sample smaps."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid, _, _ = bl.spawn(argv, stdin=in_r, stdout=out_w, env=env)
    finally:
        os.close(in_r)
        os.close(out_w)
    buf = bytearray()
    ready = threading.Event()

    def reader():
        while True:
            try:
                chunk = os.read(out_r, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf.extend(chunk)
            if b"READY-FOR-INPUT" in buf:
                ready.set()
        ready.set()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    result = None
    error = None
    if ready.wait(30) and b"READY-FOR-INPUT" in buf:
        time.sleep(settle)
        try:
            result = memory_overhead(pid, GUEST_MEM_MIB)
            result["threads"] = threads_of(pid)
        except OSError as e:
            error = f"reading smaps: {e}"
        try:
            os.write(in_w, b"ping\n")
        except OSError:
            pass
    else:
        error = "guest never printed READY-FOR-INPUT; console:\n" + \
            bytes(buf).decode(errors="replace")[-1500:]
    rc, _ = bl.wait_pid(pid, 20)
    os.close(in_w)
    th.join(2)
    os.close(out_r)
    if result is not None:
        result["rc"] = rc
    return result, error


def part_memory(args, tmp, results):
    print(f"== VMM memory overhead, guest running (1 vCPU, {GUEST_MEM_MIB} MiB): "
          f"{args.mem_runs} runs each ==", flush=True)
    append = "svtest=1 tests=serial_in serial_in=1 exit=debug"
    runs = {"ours": [], "qemu": []}
    for i in range(args.mem_runs):
        for name, argv in (
                ("ours", ours_cmd(args, args.guest, append,
                                  extra=("-serial", "stdio", *DEBUG_EXIT))),
                ("qemu", qemu_cmd(args, args.guest, append,
                                  extra=("-display", "none", "-serial", "stdio",
                                         "-device", "isa-debug-exit,iobase=0xf4,iosize=4")))):
            r, err = run_memory(argv, args.settle)
            if err:
                raise SystemExit(f"error: memory run {i} ({name}): {err}")
            runs[name].append(r)
    out = {}
    for name, rs in runs.items():
        out[name] = {k: bl.summary([r[k] for r in rs])["median"] for k in
                     ("overhead_rss_kib", "overhead_pss_kib", "overhead_private_dirty_kib",
                      "overhead_anon_kib", "guest_ram_rss_kib", "total_rss_kib")}
        out[name]["threads"] = rs[-1]["threads"]
        out[name]["mappings"] = rs[-1]["mappings"]
        out[name]["guest_ram_mappings"] = rs[-1]["guest_ram_mappings"]
        out[name]["top"] = rs[-1]["top"]
    results["memory"] = {"runs": args.mem_runs, "settle_s": args.settle, **out,
                         "raw": {k: [{kk: vv for kk, vv in r.items() if kk != "top"}
                                     for r in v] for k, v in runs.items()}}
    rows = []
    for key, label in (("overhead_rss_kib", "Rss excl. guest RAM"),
                       ("overhead_pss_kib", "Pss excl. guest RAM"),
                       ("overhead_private_dirty_kib", "Private_Dirty excl. guest RAM"),
                       ("overhead_anon_kib", "Anonymous excl. guest RAM"),
                       ("guest_ram_rss_kib", "guest RAM Rss (excluded)"),
                       ("total_rss_kib", "total Rss")):
        rows.append([label, bl.fmt(out["ours"][key] / 1024, digits=2),
                     bl.fmt(out["qemu"][key] / 1024, digits=2)])
    rows.append(["threads", out["ours"]["threads"], out["qemu"]["threads"]])
    rows.append(["mappings", out["ours"]["mappings"], out["qemu"]["mappings"]])
    bl.print_table(["MiB (median)", "ours", "QEMU"], rows)
    if args.verbose:
        for name in ("ours", "qemu"):
            print(f"\n{name}: largest mappings by Rss (guest RAM excluded)")
            bl.print_table(["mapping", "perms", "size KiB", "Rss KiB", "Priv_Dirty KiB"],
                           [[t["name"][-50:], t["perms"], t["size_kib"], t["rss_kib"],
                             t["private_dirty_kib"]] for t in out[name]["top"]])
    print()


# ------------------------------------------------------------------ summary

def verdict(ours, qemu, abs_max, ratio_min):
    if ours is None or qemu is None or ours <= 0:
        return None, "-"
    ratio = qemu / ours
    met = ours < abs_max and ratio >= ratio_min
    return ratio, "yes" if met else "NO"


def print_summary(results):
    rows = []
    first = results.get("first")
    if first:
        s = first["stats"]
        o = s["ours_exec_to_marker_ms"]["median"]
        q = s["qemu_exec_to_marker_ms"]["median"]
        ratio, met = verdict(o, q, TARGET_START_MS, TARGET_START_RATIO)
        rows.append(["exec -> first guest instruction (median ms)", bl.fmt(o), bl.fmt(q),
                     bl.fmt(ratio, "x", 1), f"< {TARGET_START_MS:g} ms, >= "
                     f"{TARGET_START_RATIO:g}x", met])
        mo = s["ours_main_to_marker_ms"]["median"]
        rows.append(["  ours from main() (VMM's own log)", bl.fmt(mo), "-", "-",
                     f"< {TARGET_START_MS:g} ms", "yes" if mo < TARGET_START_MS else "NO"])
        o = s["ours_exec_to_exit_ms"]["median"]
        q = s["qemu_exec_to_exit_ms"]["median"]
        rows.append(["exec -> VMM exit, guest exits at once (median ms)", bl.fmt(o),
                     bl.fmt(q), bl.fmt(q / o if o else None, "x", 1), "(info)", "-"])
    lin = results.get("linux")
    if lin:
        if "skipped" in lin:
            rows.append(["exec -> Linux 'Run /init' (median s)", "skipped", "skipped",
                         "-", "(info)", "-"])
        else:
            o = lin["ours"]["median"] / 1e3 if lin["ours"] else None
            q = lin["qemu"]["median"] / 1e3 if lin["qemu"] else None
            rows.append(["exec -> Linux 'Run /init' (median s)", bl.fmt(o), bl.fmt(q),
                         bl.fmt(q / o if o and q else None, "x", 2), "(info)", "-"])
    mem = results.get("memory")
    if mem:
        o = mem["ours"]["overhead_rss_kib"] / 1024
        q = mem["qemu"]["overhead_rss_kib"] / 1024
        ratio, met = verdict(o, q, TARGET_MEM_MIB, TARGET_MEM_RATIO)
        rows.append(["memory overhead, Rss excl. guest RAM (MiB)", bl.fmt(o), bl.fmt(q),
                     bl.fmt(ratio, "x", 1), f"< {TARGET_MEM_MIB:g} MiB, >= "
                     f"{TARGET_MEM_RATIO:g}x below", met])
        for key, label in (("overhead_pss_kib", "  Pss excl. guest RAM (MiB)"),
                           ("overhead_private_dirty_kib",
                            "  Private_Dirty excl. guest RAM (MiB)")):
            o = mem["ours"][key] / 1024
            q = mem["qemu"][key] / 1024
            rows.append([label, bl.fmt(o), bl.fmt(q), bl.fmt(q / o if o else None, "x", 1),
                         "(info)", "-"])
    print("== summary (ratio = QEMU / ours) ==")
    bl.print_table(["metric", "ours", "QEMU", "ratio", "target", "met?"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_path_args(ap)
    ap.add_argument("-n", "--runs", type=int, default=20,
                    help="runs of each VMM for the first-instruction part (default 20)")
    ap.add_argument("--linux-runs", type=int, default=3,
                    help="Linux boots of each VMM (default 3; 0 skips)")
    ap.add_argument("--linux-timeout", type=float, default=300.0,
                    help="seconds per Linux boot before giving up (default 300)")
    ap.add_argument("--kernel", help="guest vmlinux (default: newest in the guest cache)")
    ap.add_argument("--initrd", help="guest initramfs (default: newest in the guest cache)")
    ap.add_argument("--mem-runs", type=int, default=3,
                    help="memory samples of each VMM (default 3)")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds between the guest's READY line and the smaps sample")
    ap.add_argument("--parts", default="first,linux,memory",
                    help="comma-separated subset of first,linux,memory")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print the largest non-RAM mappings of each VMM")
    args = ap.parse_args()
    bl.check_paths(args)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    for p in parts:
        if p not in ("first", "linux", "memory"):
            ap.error(f"unknown part '{p}'")
    if args.linux_runs <= 0 and "linux" in parts:
        parts.remove("linux")

    host = bl.host_description()
    results = {"host": host, "ours": {"binary": args.vmm, "version": bl.vmm_version(args.vmm),
                                      "revision": bl.git_revision()},
               "qemu": {"binary": args.qemu, "version": bl.qemu_version(args.qemu)},
               "guest": args.guest}
    print(f"host: {host['cpu']}, {host['cpus']} CPUs, {host['mem_gib']} GiB, Linux "
          f"{host['kernel']}, {'/'.join(host['kvm_modules'])}; {host['date']}")
    print(f"ours: {args.vmm} ({results['ours']['version']}, {results['ours']['revision']})")
    print(f"QEMU: {args.qemu} ({results['qemu']['version']})")
    print(f"guest: {args.guest}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="sv-bench-") as tmp:
        if "first" in parts:
            part_first(args, tmp, results)
        if "memory" in parts:
            part_memory(args, tmp, results)
        if "linux" in parts:
            part_linux(args, tmp, results)
    print_summary(results)
    if args.json:
        bl.write_json(args.json, results)


if __name__ == "__main__":
    main()
