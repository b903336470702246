# SPDX-License-Identifier: MulanPSL-2.0
"""Shared helpers for the benchmarks in bench/ (standard library only).

Paths: the VMM from --vmm, $STRATOVIRT_BIN or <repo>/build/stratovirt; the test
guest from --guest, $SVGUEST_ELF or <repo>/build/tests/guest/svguest.elf; QEMU
from --qemu, $QEMU_BIN or qemu-system-x86_64 on PATH.
"""
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# QEMU microvm as the peer: no option ROMs, the CPU flag this host needs
# (docs: ../shared/reference/kvm-on-these-machines.md), nothing by default.
QEMU_BASE = [
    "-M", "microvm,x-option-roms=off", "-enable-kvm",
    "-cpu", "host,-arch-capabilities", "-nodefaults", "-no-user-config",
]


class Skip(Exception):
    """A part of a benchmark that cannot run here; the message says why."""


def add_path_args(ap):
    ap.add_argument("--vmm", default=os.environ.get("STRATOVIRT_BIN",
                                                    str(REPO / "build" / "stratovirt")),
                    help="our VMM binary (default $STRATOVIRT_BIN or build/stratovirt)")
    ap.add_argument("--guest", default=os.environ.get(
        "SVGUEST_ELF", str(REPO / "build" / "tests" / "guest" / "svguest.elf")),
        help="test guest PVH ELF (default $SVGUEST_ELF or build/tests/guest/svguest.elf)")
    ap.add_argument("--qemu", default=os.environ.get("QEMU_BIN", "qemu-system-x86_64"),
                    help="QEMU binary (default $QEMU_BIN or qemu-system-x86_64)")
    ap.add_argument("--qemu-extra", default=os.environ.get("QEMU_EXTRA", ""),
                    help="extra QEMU arguments, shell-quoted (e.g. '-L DIR' for a "
                         "firmware directory; default $QEMU_EXTRA)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write the results as JSON to FILE ('-' for stdout)")


def check_paths(args):
    """Resolve and check the binaries; exit with a clear message if one is missing."""
    errors = []
    vmm = Path(args.vmm)
    if not (vmm.is_file() and os.access(vmm, os.X_OK)):
        errors.append(f"our VMM not found at {vmm} (build it: meson setup build && "
                      f"ninja -C build; or pass --vmm / set STRATOVIRT_BIN)")
    guest = Path(args.guest)
    if not guest.is_file():
        errors.append(f"test guest not found at {guest} (ninja -C build "
                      f"tests/guest/svguest.elf; or pass --guest / set SVGUEST_ELF)")
    qemu = shutil.which(args.qemu)
    if not qemu:
        errors.append(f"QEMU not found ({args.qemu}; apt-get install qemu-system-x86, "
                      f"or pass --qemu / set QEMU_BIN)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        errors.append("/dev/kvm is not usable by this user")
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    args.vmm = str(vmm.resolve())
    args.guest = str(guest.resolve())
    args.qemu = qemu
    args.qemu_extra = shlex.split(args.qemu_extra or "")


def host_description():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    kvm_mods = []
    try:
        kvm_mods = sorted(m for m in os.listdir("/sys/module") if m.startswith("kvm"))
    except OSError:
        pass
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "mem_gib": round(mem_kib / 2**20, 1),
        "kvm_modules": kvm_mods,
    }


def qemu_version(qemu):
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
        return out.splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def vmm_version(vmm):
    try:
        out = subprocess.run([vmm, "--version"], capture_output=True, text=True,
                             timeout=10)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def git_revision():
    try:
        out = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# ---------------------------------------------------------------- processes

def spawn(argv, stdin=None, stdout=None, stderr=None, env=None):
    """posix_spawn argv with the given fds (ints, or None for /dev/null).

    Returns (pid, t_real, t_mono): wall clock and monotonic time taken just
    before the spawn, so that "exec -> X" includes only the spawn itself (its
    floor is measured and reported separately with /bin/true).
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = []
    for target, fd in ((0, stdin), (1, stdout), (2, stderr)):
        actions.append((os.POSIX_SPAWN_DUP2, devnull if fd is None else fd, target))
    try:
        t_real = time.time()
        t_mono = time.monotonic()
        pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ,
                             file_actions=actions)
    finally:
        os.close(devnull)
    return pid, t_real, t_mono


def wait_pid(pid, timeout):
    """Blocking wait for pid (so the exit time is exact); a timer kills it
    after timeout seconds. Returns (exit code or None if killed, t_mono)."""
    killed = threading.Event()

    def expire():
        killed.set()
        _kill_quiet(pid)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        _, status = os.waitpid(pid, 0)
        t = time.monotonic()
    finally:
        timer.cancel()
    if killed.is_set():
        return None, t
    return os.waitstatus_to_exitcode(status), t


def _kill_quiet(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# ---------------------------------------------------------------- statistics

def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def summary(values):
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {"n": n, "min": s[0], "median": median, "p90": percentile(s, 90),
            "max": s[-1]}


# ---------------------------------------------------------------- output

def fmt(v, unit="", digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def print_table(headers, rows, out=sys.stdout):
    cols = [[str(h)] + [str(r[i]) for r in rows] for i, h in enumerate(headers)]
    widths = [max(len(c) for c in col) for col in cols]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line, file=out)
    print("-+-".join("-" * w for w in widths), file=out)
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)), file=out)


def write_json(path, data):
    text = json.dumps(data, indent=2, sort_keys=False)
    if path == "-":
        print(text)
    else:
        Path(path).write_text(text + "\n")
        print(f"JSON written to {path}")


def log_line_regex(pattern):
    return re.compile(pattern, re.M)
