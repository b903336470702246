# SPDX-License-Identifier: MulanPSL-2.0
"""Shared fixtures and helpers for the integration tests.

Fixtures:
  vmm_bin     the VMM: $STRATOVIRT_BIN, else <repo>/build/stratovirt
  guest_elf   the test guest, PVH ELF: $SVGUEST_ELF, else
              <repo>/build/tests/guest/svguest.elf
  guest_bin   the test guest, raw 64-bit image: $SVGUEST_BIN, else
              <repo>/build/tests/guest/svguest.bin
  qemu_bin    qemu-system-x86_64 from $QEMU_BIN or PATH
  netns       a NetNs: a network namespace made for the test, with one tap
              (svtap0, up, no addresses); removed afterwards
A fixture whose file is missing skips the test that asks for it, with the path
in the reason.

Tests marked `hwvirt` need a KVM that runs guest user space.  On a host whose
KVM cannot (kvm_pvm), they are run inside the nested machine: the first one
starts `scripts/hwvirt.sh python3 -m pytest <all selected hwvirt tests>` once
and each reports its own result from that run (see hwvirt.py and
docs/hwvirt.md).

run_vm() runs a VM with a timeout and captures its serial
console (stdout); parse_guest_output() reads the test guest's protocol
(docs/test-guest.md).
"""
import ctypes
import glob
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hwvirt

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "hwvirt: needs guest user space (a hardware-"
                            "virtualization KVM); run inside scripts/hwvirt.sh on kvm_pvm hosts")
    config.addinivalue_line("markers", "hwvirt_arm64: needs an aarch64 KVM; run inside "
                            "scripts/hwvirt-arm64.sh unless on an aarch64 host with /dev/kvm")
    config.addinivalue_line("markers", "arm64_gicv2: a hwvirt_arm64 test for an L1 whose GIC is "
                            "a GICv2 (scripts/hwvirt-arm64.sh with HWVIRT_ARM64_GIC=2)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    hwvirt.delegate_items(session, config, items)


def pytest_runtest_logreport(report):
    hwvirt.write_report(report)


def _path_from_env(var, default):
    p = Path(os.environ.get(var, default))
    return p if p.is_absolute() else (Path.cwd() / p)


def _existing(var, default, what):
    p = _path_from_env(var, default)
    if not p.exists():
        pytest.skip(f"{what} not found at {p} (set {var})")
    return p


@pytest.fixture(scope="session")
def vmm_bin():
    return _existing("STRATOVIRT_BIN", REPO / "build" / "stratovirt", "stratovirt binary")


@pytest.fixture(scope="session")
def guest_elf():
    return _existing("SVGUEST_ELF", REPO / "build" / "tests" / "guest" / "svguest.elf",
                     "test guest svguest.elf")


@pytest.fixture(scope="session")
def guest_bin():
    return _existing("SVGUEST_BIN", REPO / "build" / "tests" / "guest" / "svguest.bin",
                     "test guest svguest.bin")


@pytest.fixture(scope="session")
def qemu_bin():
    path = os.environ.get("QEMU_BIN") or shutil.which("qemu-system-x86_64")
    if not path or not os.path.exists(path):
        pytest.skip("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
    return Path(path)


@pytest.fixture(scope="session")
def kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable")
    return Path("/dev/kvm")


@dataclass
class VmResult:
    argv: list
    rc: int                 # None if it was killed at the timeout
    output: str             # everything the VM wrote to stdout (the serial port)
    stderr: str
    timed_out: bool
    seconds: float
    lines: list = field(default_factory=list)
    stalled: bool = False   # ended because the serial port was silent for `stall` s
    threads: str = ""       # the VMM's threads when it was killed (timeout or stall)

    def describe(self):
        return (f"command: {' '.join(map(str, self.argv))}\n"
                f"exit status: {self.rc} timed out: {self.timed_out} "
                f"stalled: {self.stalled} after {self.seconds:.1f}s\n"
                f"--- serial ---\n{self.output}\n--- stderr ---\n{self.stderr}\n"
                f"--- VMM threads when killed ---\n{self.threads}\n"
                f"--- exit status: {self.rc} timed out: {self.timed_out} "
                f"after {self.seconds:.1f}s ---")


# The test guest ends a run with exit=debug (and falls back to it when an
# i8042 reset does not end the VM) through port 0xf4, which exists only when
# asked for, with QEMU's spelling.
# The sanitizer pass of scripts/check.sh runs the VMM through
# scripts/asan-vmm.sh, which passes -disable-seccomp (the sanitizer runtime
# makes syscalls the filters refuse): the mode a thread's filter is in there.
SECCOMP_MODE = "0" if os.environ.get("SV_ASAN_VMM") else "2"

DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


KVM_RUN = 0xae80


def thread_states(pid):
    """One line per thread of pid: name, state, kernel wait channel, syscall."""
    out = []
    for task in sorted(glob.glob(f"/proc/{pid}/task/*")):
        try:
            comm = open(f"{task}/comm").read().strip()
            state = open(f"{task}/stat").read().rsplit(")", 1)[1].split()[0]
            wchan = open(f"{task}/wchan").read().strip()
            sysc = open(f"{task}/syscall").read().strip()
        except OSError:
            continue
        out.append(f"{comm} state={state} wchan={wchan} syscall={sysc}")
    return "\n".join(out)


def vcpus_in_kvm_run(threads):
    """True when every vCPU thread of a thread_states() text sits in ioctl(KVM_RUN)."""
    vcpus = [ln for ln in threads.splitlines() if ln.startswith("vcpu")]
    def in_run(ln):
        f = ln.split("syscall=", 1)[1].split()
        if f and f[0] == "running":  # on a CPU right now: in the guest (or our code)
            return True
        return len(f) > 2 and f[0] == str(SYS_IOCTL) and int(f[2], 16) == KVM_RUN
    return bool(vcpus) and all(in_run(ln) for ln in vcpus)


SYS_IOCTL = 16  # x86-64


def run_vm(argv, timeout=60, respond=None, env=None, stall=None):
    """Runs argv, returns a VmResult.

    stall: end the run (stalled=True) once the VM has written nothing to its
    serial port for that many seconds.

    respond maps a substring of a stdout line to text written to the VM's
    stdin when such a line appears (each fires once), e.g.
    {"SVTEST READY-FOR-INPUT": "ping\\n"}. stdin stays open until the VM ends
    so a VMM reading its console sees no end of file.
    """
    respond = dict(respond or {})
    argv = [str(a) for a in argv]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    out_lines, err_chunks = [], []
    last_output = [time.monotonic()]

    def read_stdout():
        for raw in iter(proc.stdout.readline, b""):
            last_output[0] = time.monotonic()
            line = raw.decode("utf-8", "replace")
            out_lines.append(line)
            for trigger in list(respond):
                if trigger in line:
                    text = respond.pop(trigger)
                    try:
                        proc.stdin.write(text.encode())
                        proc.stdin.flush()
                    except OSError:
                        pass

    def read_stderr():
        err_chunks.append(proc.stderr.read().decode("utf-8", "replace"))

    threads = [threading.Thread(target=read_stdout, daemon=True),
               threading.Thread(target=read_stderr, daemon=True)]
    for t in threads:
        t.start()
    timed_out = stalled = False
    threads_text = ""
    rc = None
    while rc is None:
        now = time.monotonic()
        try:
            rc = proc.wait(timeout=min(1.0, max(0.01, start + timeout - now)))
        except subprocess.TimeoutExpired:
            now = time.monotonic()
            stalled = stall is not None and now - last_output[0] > stall
            if now >= start + timeout or stalled:
                timed_out = True
                threads_text = thread_states(proc.pid)
                proc.kill()
                proc.wait()
                break
    for t in threads:
        t.join(timeout=5)
    try:
        proc.stdin.close()
    except OSError:
        pass
    output = "".join(out_lines)
    return VmResult(argv, rc, output, "".join(err_chunks), timed_out,
                    time.monotonic() - start,
                    [ln.strip() for ln in output.replace("\r", "\n").split("\n") if ln.strip()],
                    stalled, threads_text)


@dataclass
class GuestReport:
    started: bool = False
    done: bool = False
    passed: int = -1
    failed: int = -1
    results: dict = field(default_factory=dict)  # name -> ("PASS"|"FAIL"|"SKIP", reason)


def parse_guest_output(lines):
    """Reads the test guest's serial protocol (docs/test-guest.md)."""
    rep = GuestReport()
    for line in lines:
        # A VMM or firmware may print before the guest starts; find the token.
        for token in ("SVTEST ", "PASS ", "FAIL ", "SKIP "):
            i = line.find(token)
            if i > 0 and not line[:i].strip():
                line = line[i:]
        if line == "SVTEST START":
            rep.started = True
        elif line.startswith("SVTEST DONE"):
            rep.done = True
            for kv in line.split()[2:]:
                k, _, v = kv.partition("=")
                if k == "pass":
                    rep.passed = int(v)
                elif k == "fail":
                    rep.failed = int(v)
        elif line.startswith(("PASS ", "FAIL ", "SKIP ")):
            status, _, rest = line.partition(" ")
            name, _, reason = rest.partition(":")
            rep.results[name.strip()] = (status, reason.strip())
    return rep


# ---- network namespace with a tap -------------------------------------------

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003


def netns_unavailable():
    """Why a NetNs cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root to make a network namespace and a tap"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    if subprocess.run(["ip", "-V"], capture_output=True).returncode != 0:
        return "iproute2 (ip) is not installed"
    return None


class NetNs:
    """A network namespace with one tap (up, no addresses) for one test.

    Nothing outside the namespace is touched; deleting the namespace removes
    the tap with it.
    """

    def __init__(self, tap="svtap0"):
        self.name = f"svt-{uuid.uuid4().hex[:8]}"
        self.tap = tap

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.ip("tuntap", "add", "dev", self.tap, "mode", "tap")
            self.ip("link", "set", self.tap, "up")
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def ip(self, *args):
        subprocess.run(["ip", "netns", "exec", self.name, "ip", *args], check=True,
                       capture_output=True)

    def wrap(self, argv):
        """argv run inside the namespace (ip netns exec execs it: same pid)."""
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]

    def socket(self, family, type_, proto=0):
        """A socket made inside the namespace (setns on this thread only)."""
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the test namespace")
            try:
                s = socket.socket(family, type_, proto)
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(own)
            os.close(target)
        return s

    def packet_socket(self):
        """An AF_PACKET socket bound to the tap."""
        s = self.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((self.tap, 0))
        return s


@pytest.fixture
def netns():
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    with NetNs() as ns:
        yield ns
