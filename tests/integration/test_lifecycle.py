# SPDX-License-Identifier: MulanPSL-2.0
"""Process lifecycle: exit status, signals, pidfile, daemonize, error reports.

Tiny raw guests (loaded like vmlinux.bin at 16 MiB, entered in 64-bit mode)
are written by the tests themselves so each one does exactly one thing.
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import DEBUG_EXIT, run_vm

HLT_LOOP = bytes([0xF4, 0xEB, 0xFD])  # 1: hlt; jmp 1b
UD2 = bytes([0x0F, 0x0B])  # #UD with no IDT: triple fault
# mov $0xe0000000, %rax; jmp *%rax  -- execute from the MMIO hole
JUMP_TO_MMIO = bytes([0x48, 0xB8, 0, 0, 0, 0xE0, 0, 0, 0, 0, 0xFF, 0xE0])


def serial_then(code):
    """Writes 'ok\\n' to COM1, then runs code."""
    out = b""
    for ch in b"ok\n":
        out += bytes([0x66, 0xBA, 0xF8, 0x03, 0xB0, ch, 0xEE])  # mov dx,0x3f8; mov al,ch; out
    return out + code


RESET = bytes([0xB0, 0xFE, 0xE6, 0x64]) + HLT_LOOP  # mov al,0xfe; out 0x64,al
DEBUG_EXIT_7 = bytes([0xB0, 0x07, 0xE6, 0xF4]) + HLT_LOOP  # out 0xf4 <- 7


@pytest.fixture
def raw_guest(tmp_path):
    def make(code, name="guest.bin"):
        p = tmp_path / name
        p.write_bytes(code)
        return p
    return make


def vm_args(vmm_bin, kernel, *extra):
    return [vmm_bin, "-machine", "microvm", "-m", "128", "-kernel", kernel, *extra]


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_i8042_reset_exits_zero(vmm_bin, kvm, raw_guest):
    r = run_vm(vm_args(vmm_bin, raw_guest(serial_then(RESET)), "-serial", "stdio"), timeout=30)
    assert r.rc == 0, r.describe()
    assert r.output == "ok\n"


def test_triple_fault_is_a_reset(vmm_bin, kvm, raw_guest):
    r = run_vm(vm_args(vmm_bin, raw_guest(UD2)), timeout=30)
    assert r.rc == 0, r.describe()


def test_debug_exit_status(vmm_bin, kvm, raw_guest):
    r = run_vm(vm_args(vmm_bin, raw_guest(DEBUG_EXIT_7), *DEBUG_EXIT), timeout=30)
    assert r.rc == 7, r.describe()


def test_emulation_failure_reports_and_exits(vmm_bin, kvm, raw_guest):
    r = run_vm(vm_args(vmm_bin, raw_guest(JUMP_TO_MMIO)), timeout=30)
    assert not r.timed_out, r.describe()
    assert r.rc not in (0, None), r.describe()
    assert "emulation failure" in r.stderr
    assert "rip=00000000e0000000" in r.stderr
    assert "code at gpa e0000000" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_cleanly(vmm_bin, kvm, raw_guest, tmp_path, sig):
    pidfile = tmp_path / "vm.pid"
    p = subprocess.Popen([str(a) for a in vm_args(vmm_bin, raw_guest(HLT_LOOP),
                                                   "-pidfile", pidfile, "-smp", "2")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(pidfile.exists), "pidfile never appeared"
        assert int(pidfile.read_text()) == p.pid
        time.sleep(0.2)
        assert p.poll() is None, "VMM exited on its own"
        p.send_signal(sig)
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert rc == 0, p.stderr.read()
    assert not pidfile.exists(), "pidfile left behind"


def test_start_paused_runs_no_guest_code(vmm_bin, kvm, raw_guest):
    p = subprocess.Popen([str(a) for a in vm_args(vmm_bin, raw_guest(serial_then(RESET)),
                                                   "-serial", "stdio", "-S")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    assert p.poll() is None, "a paused VM must not run to its reset"
    p.terminate()
    out, _ = p.communicate(timeout=10)
    assert p.returncode == 0
    assert out == b"", "guest code ran while paused"


def test_daemonize_detaches(vmm_bin, kvm, raw_guest, tmp_path):
    pidfile = tmp_path / "d.pid"
    logfile = tmp_path / "serial.log"
    kernel = raw_guest(serial_then(HLT_LOOP))
    start = time.monotonic()
    r = subprocess.run([str(a) for a in vm_args(vmm_bin, kernel, "-daemonize",
                                                 "-pidfile", pidfile,
                                                 "-serial", f"file,path={logfile}")],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 10
    pid = int(pidfile.read_text())
    try:
        assert pid != os.getpid()
        stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        ppid, sid = int(stat[1]), int(stat[3])
        assert ppid != os.getpid(), "the daemon is still our child"
        # double fork: a new session, of which the daemon is not the leader
        assert sid != os.getsid(0), "the daemon must leave our session"
        assert sid != pid, "the daemon must not be able to reacquire a terminal"
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
        assert wait_for(lambda: logfile.exists() and logfile.read_text() == "ok\n")
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}")), "daemon did not exit on SIGTERM"
    assert not pidfile.exists(), "pidfile left behind by the daemon"


def test_daemonize_reports_startup_errors(vmm_bin, kvm, tmp_path):
    pidfile = tmp_path / "d.pid"
    r = subprocess.run([str(vmm_bin), "-machine", "microvm", "-kernel", tmp_path / "missing",
                        "-daemonize", "-pidfile", str(pidfile)],
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    assert b"missing" in r.stderr
    assert not pidfile.exists()


def test_kernel_errors_are_one_clear_line(vmm_bin, kvm, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    bad_elf = tmp_path / "bad.elf"
    bad_elf.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9)  # truncated header
    for kernel, word in ((tmp_path / "nope", "nope"), (empty, "empty"), (bad_elf, "bad.elf")):
        r = subprocess.run([str(vmm_bin), "-kernel", str(kernel)], capture_output=True,
                           timeout=30)
        assert r.returncode != 0
        lines = r.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and word in lines[0], r.stderr


def test_initrd_errors(vmm_bin, kvm, raw_guest, tmp_path):
    r = subprocess.run([str(vmm_bin), "-kernel", str(raw_guest(HLT_LOOP)), "-initrd",
                        str(tmp_path / "no-initrd")], capture_output=True, timeout=30)
    assert r.returncode != 0
    assert b"no-initrd" in r.stderr
