# SPDX-License-Identifier: MulanPSL-2.0
"""-serial stdio on a real terminal: typed input reaches the guest, and the
terminal's settings are restored when the VMM exits."""
import os
import pty
import select
import subprocess
import termios
import time

from conftest import parse_guest_output


def read_until(fd, token, timeout):
    buf = b""
    end = time.monotonic() + timeout
    while token not in buf and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def test_stdio_on_a_tty(vmm_bin, kvm, guest_elf):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    append = (f"svtest=1 exit=i8042 cpus=1 strict=1 now={int(time.time())} "
              "serial_in=1 tests=serial,serial_in")
    p = subprocess.Popen([str(vmm_bin), "-machine", "microvm", "-m", "128", "-kernel",
                          str(guest_elf), "-append", append, "-serial", "stdio",
                          "-device", "isa-debug-exit,iobase=0xf4,iosize=4"],
                         stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    try:
        out = read_until(master, b"SVTEST READY-FOR-INPUT", 30)
        assert b"READY-FOR-INPUT" in out, out
        during = termios.tcgetattr(slave)
        assert not during[3] & termios.ICANON, "the VMM must put the terminal in raw mode"
        assert not during[3] & termios.ECHO
        # typed keys, one at a time, as a person would
        for ch in b"ping\r":
            os.write(master, bytes([ch]))
            time.sleep(0.02)
        out += read_until(master, b"SVTEST DONE", 60)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    rep = parse_guest_output(out.decode("utf-8", "replace").replace("\r", "\n").split("\n"))
    assert rep.results.get("serial_in", ("",))[0] == "PASS", out
    assert rc == 0, p.stderr.read()
    assert after == before, "terminal settings were not restored"
