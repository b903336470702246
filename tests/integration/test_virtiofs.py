# SPDX-License-Identifier: MulanPSL-2.0
"""vhost-user-fs with Debian's virtiofsd and with hostile fake back ends.

The test guest's virtio_fs check (tests/guest/checks/virtio_fs.c) speaks FUSE
on the request queue without Linux: FUSE_INIT, FUSE_LOOKUP of a file the test
put in the shared folder, FUSE_OPEN and FUSE_READ; it prints the size and
the first bytes, which the test compares with the host file.  A virtiofsd
killed mid-way and a back end that misbehaves must leave the device in
NEEDS_RESET and the VMM running (it exits 0 on SIGTERM).
"""
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import DEBUG_EXIT, parse_guest_output, run_vm

VIRTIOFSD = "/usr/lib/qemu/virtiofsd"
CONTENT = b"virtio-fs: the host file, read by the test guest\n"
VM_TIMEOUT = 90
LOG_ENV = dict(os.environ, STRATOVIRT_LOG_LEVEL="info")

needs_virtiofsd = pytest.mark.skipif(
    not os.access(VIRTIOFSD, os.X_OK) or os.geteuid() != 0,
    reason=f"needs {VIRTIOFSD} (Debian qemu-system-common) and root for its sandbox")


def vmm_argv(vmm_bin, guest_bin, sock, append, mem_share=True, debug_exit=True, tag="svfs"):
    machine = "microvm,mem-share=on" if mem_share else "microvm"
    argv = [vmm_bin, "-machine", machine, "-smp", "1", "-m", "256", "-kernel", guest_bin,
            "-append", f"svtest=1 tests=virtio_fs discovery=acpi fstag={tag} {append}",
            "-serial", "stdio",
            "-chardev", f"socket,id=vfs0,path={sock}",
            "-device", f"vhost-user-fs-device,id=fs0,chardev=vfs0,tag={tag}"]
    return argv + (DEBUG_EXIT if debug_exit else [])


class Virtiofsd:
    def __init__(self, tmp_path):
        self.share = tmp_path / "share"
        self.share.mkdir()
        (self.share / "svguest-fs.txt").write_bytes(CONTENT)
        self.sock = tmp_path / "vfsd.sock"
        self.log = tmp_path / "virtiofsd.log"
        self.proc = None

    def __enter__(self):
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [VIRTIOFSD, f"--socket-path={self.sock}", "-o", f"source={self.share}",
             "-o", "cache=none"], stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        for _ in range(100):
            if self.sock.exists():
                return self
            time.sleep(0.05)
        self.proc.kill()
        pytest.fail(f"virtiofsd made no socket:\n{self.log.read_text()}")

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def text(self):
        return self.log.read_text(errors="replace")


@pytest.fixture
def virtiofsd(tmp_path):
    with Virtiofsd(tmp_path) as d:
        yield d


# ---- the data path with the real virtiofsd ----------------------------------

@needs_virtiofsd
def test_virtiofs_read_file(vmm_bin, kvm, guest_bin, virtiofsd):
    res = run_vm(vmm_argv(vmm_bin, guest_bin, virtiofsd.sock, "exit=i8042"),
                 timeout=VM_TIMEOUT, env=LOG_ENV)
    info = res.describe() + "\n--- virtiofsd ---\n" + virtiofsd.text()
    rep = parse_guest_output(res.lines)
    assert rep.results.get("virtio_fs", ("",))[0] == "PASS", info
    assert res.rc == 0, info
    line = next(ln for ln in res.lines if ln.startswith("INFO virtio_fs tag"))
    assert "tag 'svfs'" in line and f"size {len(CONTENT)} " in line, info
    assert f"read {len(CONTENT)} '{CONTENT.decode().rstrip()}.'" in line, info
    # the VMM's log and virtiofsd's own say the set-up completed
    assert "connected to virtiofsd" in res.stderr and "serves tag 'svfs'" in res.stderr, info
    assert "Received vhost-user socket connection" in virtiofsd.text(), info
    assert "qidx=1 started=1" in virtiofsd.text(), info


@needs_virtiofsd
def test_virtiofs_killed_midway(vmm_bin, kvm, guest_bin, virtiofsd):
    """virtiofsd dies after FUSE_INIT: NEEDS_RESET, the VMM runs on, SIGTERM ends it with 0."""
    # exit=debug without the debug-exit device: the guest halts and the VMM stays up
    argv = [str(a) for a in vmm_argv(vmm_bin, guest_bin, virtiofsd.sock,
                                     "exit=debug fsmode=kill", debug_exit=False)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=LOG_ENV)
    lines, done = [], threading.Event()

    def reader():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(errors="replace").strip()
            lines.append(line)
            if "SVTEST FS-KILL-NOW" in line:
                virtiofsd.proc.kill()
            if line.startswith("SVTEST DONE"):
                done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        assert done.wait(VM_TIMEOUT), "guest did not finish:\n" + "\n".join(lines)
        time.sleep(0.5)
        assert proc.poll() is None, "the VMM ended after virtiofsd died"
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    info = "\n".join(lines) + "\n--- stderr ---\n" + err
    rep = parse_guest_output(lines)
    assert rep.results.get("virtio_fs", ("",))[0] == "PASS", info
    assert virtiofsd.proc.poll() is not None
    assert "virtiofsd at" in err and "hung up" in err and "needs reset" in err, info
    assert rc == 0, info


# ---- start-up refusals ------------------------------------------------------

def test_virtiofs_needs_mem_share(vmm_bin, guest_bin, tmp_path):
    res = run_vm(vmm_argv(vmm_bin, guest_bin, tmp_path / "none.sock", "", mem_share=False),
                 timeout=20)
    assert res.rc not in (0, None), res.describe()
    assert "vhost-user-fs-device 'fs0' needs -machine mem-share=on" in res.stderr, res.describe()


def test_virtiofs_no_daemon(vmm_bin, kvm, guest_bin, tmp_path):
    res = run_vm(vmm_argv(vmm_bin, guest_bin, tmp_path / "none.sock", ""), timeout=20)
    assert res.rc not in (0, None), res.describe()
    assert "vhost-user-fs 'fs0'" in res.stderr and "cannot connect" in res.stderr, \
        res.describe()


def test_virtiofs_server_chardev_refused(vmm_bin, guest_bin, tmp_path):
    argv = vmm_argv(vmm_bin, guest_bin, tmp_path / "s.sock", "")
    i = argv.index(f"socket,id=vfs0,path={tmp_path / 's.sock'}")
    argv[i] += ",server=on,wait=off"
    res = run_vm(argv, timeout=20)
    assert res.rc not in (0, None), res.describe()
    assert "must be a client socket" in res.stderr, res.describe()


@pytest.mark.parametrize("tag,msg", [("", "missing value for -device vhost-user-fs-device tag"),
                                     ("t" * 37, "1..36 bytes")], ids=["empty", "37"])
def test_virtiofs_bad_tag(vmm_bin, guest_bin, tmp_path, tag, msg):
    res = run_vm(vmm_argv(vmm_bin, guest_bin, tmp_path / "s.sock", "", tag=tag), timeout=20)
    assert res.rc not in (0, None), res.describe()
    assert msg in res.stderr, res.describe()


# ---- hostile back ends ------------------------------------------------------

HDR = struct.Struct("<III")
REPLY = 0x1 | 0x4
F_VERSION_1 = 1 << 32
F_PROTOCOL = 1 << 30


class FakeBackend(threading.Thread):
    """A vhost-user back end that answers the start-up requests (acking each
    request that asks, with reply_ack), then does `bad` to the first request
    of kind `at`: 'garbage' (a reply with the wrong code), 'hangup' (closes),
    'silence' (never answers)."""

    def __init__(self, path, at, bad, reply_ack=False):
        super().__init__(daemon=True)
        self.reply_ack = reply_ack
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(str(path))
        self.srv.listen(1)
        self.at, self.bad = at, bad
        self.seen = []
        self.conn = None

    def reply(self, req, payload):
        self.conn.sendall(HDR.pack(req, REPLY, len(payload)) + payload)

    def run(self):
        self.conn, _ = self.srv.accept()
        while True:
            head = self.conn.recv(HDR.size, socket.MSG_WAITALL)
            if len(head) < HDR.size:
                return
            req, flags, size = HDR.unpack(head)
            if size:
                self.conn.recv(size, socket.MSG_WAITALL)
            self.seen.append(req)
            if req == self.at:
                if self.bad == "garbage":
                    self.reply(99, struct.pack("<Q", 0))
                elif self.bad == "hangup":
                    self.conn.close()
                    return
                continue  # silence
            if req == 1:  # GET_FEATURES
                self.reply(1, struct.pack("<Q", F_VERSION_1 | F_PROTOCOL))
            elif req == 15:  # GET_PROTOCOL_FEATURES
                self.reply(15, struct.pack("<Q", 1 << 3 if self.reply_ack else 0))
            elif req == 11:  # GET_VRING_BASE
                self.reply(11, struct.pack("<II", 0, 0))
            elif flags & 0x8:  # NEED_REPLY: ack
                self.reply(req, struct.pack("<Q", 0))


@pytest.mark.parametrize("bad", ["garbage", "hangup"])
def test_virtiofs_bad_backend_at_startup(vmm_bin, kvm, guest_bin, tmp_path, bad):
    sock = tmp_path / "fake.sock"
    be = FakeBackend(sock, 1, bad)
    be.start()
    res = run_vm(vmm_argv(vmm_bin, guest_bin, sock, ""), timeout=30)
    assert res.rc not in (0, None), res.describe()
    want = "when GET_FEATURES was asked" if bad == "garbage" else "hung up"
    assert "vhost-user-fs 'fs0'" in res.stderr and want in res.stderr, res.describe()


@pytest.mark.parametrize("at", [2, 5, 9], ids=["SET_FEATURES", "SET_MEM_TABLE",
                                             "SET_VRING_ADDR"])
@pytest.mark.parametrize("bad", ["garbage", "hangup", "silence"])
def test_virtiofs_bad_backend_at_activation(vmm_bin, kvm, guest_bin, tmp_path, bad, at):
    """With reply-ack every set-up request is answered: a wrong answer, a hang-up
    or no answer (5 s timeout) at DRIVER_OK gives NEEDS_RESET; the VMM goes on
    and exits 0."""
    if bad == "silence" and at != 2:
        pytest.skip("one 5 s timeout case is enough")
    sock = tmp_path / "fake.sock"
    be = FakeBackend(sock, at, bad, reply_ack=True)
    be.start()
    res = run_vm(vmm_argv(vmm_bin, guest_bin, sock, "exit=i8042 fsmode=broken"),
                 timeout=VM_TIMEOUT, env=LOG_ENV)
    rep = parse_guest_output(res.lines)
    info = res.describe()
    assert rep.results.get("virtio_fs", ("",))[0] == "PASS", info
    assert res.rc == 0, info
    want = {"garbage": "when", "hangup": "hung up", "silence": "no reply"}[bad]
    assert "needs reset" in res.stderr and want in res.stderr, info
    assert at in be.seen
