# SPDX-License-Identifier: MulanPSL-2.0
"""The user-space virtio-vsock (-device virtio-vsock-device,uds-path=) with the
test guest's driver (tests/guest/checks/virtio_vsock.c), and the host side
through the unix-socket protocol (docs/vsock.md).

The guest listens on port 1024 and echoes; the host connects with
"CONNECT 1024\\n", reads "OK <port>\\n" and streams data through it; the guest
connects to host listeners at <uds-path>_<port>."""
import hashlib
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import DEBUG_EXIT, parse_guest_output

VM_TIMEOUT = 600
MIB = 1 << 20


def vm_argv(vmm_bin, guest_bin, uds, append, cid=3):
    return [str(vmm_bin), "-machine", "microvm", "-m", "256M", "-smp", "1",
            "-kernel", str(guest_bin), "-append", f"svtest=1 strict=1 {append}",
            "-device", f"virtio-vsock-device,id=vsock0,guest-cid={cid},uds-path={uds}",
            "-serial", "stdio", "-display", "none"] + DEBUG_EXIT


class Vm:
    """A VMM process whose serial lines are collected and can be waited for."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines, self.err = [], []
        self.cv = threading.Condition()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=lambda: self.err.append(self.proc.stderr.read().decode(
            "utf-8", "replace")), daemon=True).start()

    def _out(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cv:
                self.lines.append(raw.decode("utf-8", "replace").strip())
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_line(self, text, timeout=VM_TIMEOUT):
        end = time.monotonic() + timeout
        with self.cv:
            while not any(text in ln for ln in self.lines):
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise AssertionError(f"no '{text}' line\n" + self.describe())
                self.cv.wait(1)

    def finish(self, timeout=VM_TIMEOUT):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.2)
        return parse_guest_output(self.lines)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        return 0

    def describe(self):
        return ("--- serial ---\n" + "\n".join(self.lines[-40:]) +
                "\n--- stderr ---\n" + "".join(self.err))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def host_connect(uds, port, timeout=120):
    """CONNECT port through the uds; retried while the guest is not up yet."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(30)
            s.connect(uds)
            s.sendall(f"CONNECT {port}\n".encode())
            line = b""
            while not line.endswith(b"\n"):
                b = s.recv(1)
                if not b:
                    break
                line += b
            if line.startswith(b"OK "):
                return s, int(line[3:])
        except OSError:
            pass
        s.close()
        if time.monotonic() > end:
            raise AssertionError(f"CONNECT {port} through {uds} never got OK")
        time.sleep(0.2)


def echo_through(s, nbytes):
    """Sends nbytes of random data and reads the echo; returns (sent, got) digests."""
    data = os.urandom(nbytes)
    got = hashlib.sha256()
    received = [0]

    def reader():
        while received[0] < nbytes:
            b = s.recv(65536)
            if not b:
                break
            got.update(b)
            received[0] += len(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(VM_TIMEOUT)
    return hashlib.sha256(data).hexdigest(), got.hexdigest(), received[0]


def listen_at(path):
    if os.path.exists(path):
        os.unlink(path)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(16)
    return ls


def serve_echo(ls):
    def run():
        c, _ = ls.accept()
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_vsock_echo_both_ways(vmm_bin, kvm, guest_bin, tmp_path):
    """Host connects three times (1 MiB, 4 KiB, 1 byte echoed with sha256),
    then the guest connects to <uds>_5000 and 256 KiB come back."""
    uds = str(tmp_path / "v.sock")
    ls = listen_at(uds + "_5000")
    echo = serve_echo(ls)
    vm = Vm(vm_argv(vmm_bin, guest_bin, uds,
                    "tests=virtio_vsock vsock_conns=3 vsock_port=5000"))
    try:
        vm.wait_line("SVTEST VSOCK-LISTENING")
        ports = set()
        for n in (MIB, 4096, 1):
            s, hp = host_connect(uds, 1024)
            assert hp >= 1 << 30, f"host port {hp} below 2^30"
            ports.add(hp)
            sent, got, count = echo_through(s, n)
            assert count == n and sent == got, f"{n} bytes: {count} came back, digests differ"
            s.shutdown(socket.SHUT_WR)
            assert s.recv(1) == b"", "connection not closed after our shutdown"
            s.close()
        assert len(ports) == 3, "host ports reused"
        rep = vm.finish()
        echo.join(10)
    finally:
        vm.kill()
        ls.close()
    assert rep.results.get("virtio_vsock", ("?",))[0] == "PASS", vm.describe()
    assert any("guest->host 262144 bytes echoed" in ln for ln in vm.lines), vm.describe()
    assert not os.path.exists(uds), "uds-path left behind"


def test_vsock_unknown_port_and_bad_connect(vmm_bin, kvm, guest_bin, tmp_path):
    """CONNECT to a port nobody listens on is closed without OK; a garbage
    line is closed; the device still serves port 1024 afterwards."""
    uds = str(tmp_path / "v.sock")
    vm = Vm(vm_argv(vmm_bin, guest_bin, uds, "tests=virtio_vsock vsock_conns=1"))
    try:
        vm.wait_line("SVTEST VSOCK-LISTENING")
        for line in (b"CONNECT 4444\n", b"HELLO\n", b"CONNECT 99999999999\n",
                     b"x" * 40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(uds)
            s.sendall(line)
            try:
                answer = s.recv(64)
            except ConnectionResetError:
                answer = b""  # closed with our bytes unread
            assert answer == b"", f"{line!r} got an answer"
            s.close()
        s, _ = host_connect(uds, 1024)
        sent, got, count = echo_through(s, 65536)
        assert sent == got
        s.close()
        rep = vm.finish()
    finally:
        vm.kill()
    assert rep.results.get("virtio_vsock", ("?",))[0] == "PASS", vm.describe()


def test_vsock_idle_connect_times_out(vmm_bin, kvm, guest_bin, tmp_path):
    """A host client that never sends CONNECT is closed after about 2 s."""
    uds = str(tmp_path / "v.sock")
    vm = Vm(vm_argv(vmm_bin, guest_bin, uds, "tests=virtio_vsock vsock_conns=1"))
    try:
        vm.wait_line("SVTEST VSOCK-LISTENING")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(uds)
        t0 = time.monotonic()
        assert s.recv(1) == b""
        waited = time.monotonic() - t0
        assert 1.5 <= waited <= 6, f"closed after {waited:.1f}s"
        s.close()
        s, _ = host_connect(uds, 1024)
        s.close()
        vm.finish()
    finally:
        vm.kill()


def test_vsock_host_not_reading_is_bounded(vmm_bin, kvm, guest_bin, tmp_path):
    """Eight guest connections to a host listener that never reads: the
    guest is held by its credit, the VMM's RSS grows by at most 8 x 256 KiB
    plus slack, and closing the host sockets resets each guest connection."""
    uds = str(tmp_path / "v.sock")
    ls = listen_at(uds + "_6000")
    held = []
    acc = threading.Thread(target=lambda: [held.append(ls.accept()[0]) for _ in range(8)],
                           daemon=True)
    acc.start()
    vm = Vm(vm_argv(vmm_bin, guest_bin, uds,
                    "tests=virtio_vsock vsock_conns=1 vsock_stuff=6000"))
    try:
        vm.wait_line("SVTEST VSOCK-LISTENING")
        s, _ = host_connect(uds, 1024)
        s.close()
        rss0 = vm.rss_kib()
        vm.wait_line("SVTEST VSOCK-STUFFED")
        time.sleep(0.5)
        rss1 = vm.rss_kib()
        acc.join(10)
        for c in held:
            c.close()
        rep = vm.finish()
    finally:
        vm.kill()
        ls.close()
    assert rep.results.get("virtio_vsock", ("?",))[0] == "PASS", vm.describe()
    stuffed = [ln for ln in vm.lines if "stuffed" in ln]
    assert stuffed, vm.describe()
    total = int(stuffed[0].split("stuffed ")[1].split()[0])
    # the guest got no more credit than socket buffers + 256 KiB each
    assert total < 8 * (256 * 1024 + 4 * MIB), stuffed[0]
    assert rss1 - rss0 < 8 * 256 + 2048, f"RSS grew {rss1 - rss0} KiB ({stuffed[0]})"


def test_vsock_hostile_guest(vmm_bin, kvm, guest_bin, tmp_path):
    """Malformed packets from the guest: RST, no answer, NEEDS_RESET; the
    VMM keeps running and the device works after the guest resets it."""
    uds = str(tmp_path / "v.sock")
    ls = listen_at(uds + "_7100")
    held = []
    threading.Thread(target=lambda: [held.append(ls.accept()[0]) for _ in range(2)],
                     daemon=True).start()
    vm = Vm(vm_argv(vmm_bin, guest_bin, uds, "tests=virtio_vsock_hostile vsock_port=7100"))
    try:
        rep = vm.finish()
    finally:
        vm.kill()
        ls.close()
    assert rep.results.get("virtio_vsock_hostile", ("?",))[0] == "PASS", vm.describe()
    assert vm.proc.returncode == 0, vm.describe()
    assert "shorter than its header" in "".join(vm.err), vm.describe()


@pytest.mark.parametrize("args,msg", [
    (["-device", "virtio-vsock-device,id=v0,guest-cid=3"], "needs uds-path="),
    (["-device", "virtio-vsock-device,id=v0,guest-cid=2,uds-path=/tmp/x"], "guest-cid"),
    (["-device", "virtio-vsock-device,id=v0,guest-cid=3,uds-path=/tmp/x,vhostfd=3"],
     "vhostfd"),
])
def test_vsock_bad_options(vmm_bin, guest_bin, args, msg):
    r = subprocess.run([str(vmm_bin), "-kernel", str(guest_bin)] + args,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert msg in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_vsock_uds_path_is_a_file(vmm_bin, guest_bin, tmp_path):
    """The pre-flight refuses a uds-path that is a regular file, and leaves it."""
    f = tmp_path / "file"
    f.write_text("keep")
    r = subprocess.run([str(vmm_bin), "-kernel", str(guest_bin), "-device",
                        f"virtio-vsock-device,id=v0,guest-cid=3,uds-path={f}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and str(f) in r.stderr, r.stderr
    assert f.read_text() == "keep"
