# SPDX-License-Identifier: MulanPSL-2.0
"""Hostile QMP clients (docs/qmp.md, Protocol), beyond test_qmp.py's malformed inputs.

A client that floods without reading, one that sends 1 MiB lines, one that
passes 200 fds, and one that disconnects in the middle of every command.
After each, the VMM is still running, its resident memory has stayed within
a bound, it holds no fd more than before (the fds a client passed are all
closed), and the next client is served normally.
"""
import array
import json
import os
import socket
import threading
import time

import pytest

from qmpclient import Qmp, QmpVm
from test_qmp import base

RSS_BOUND_KIB = 64 * 1024  # growth allowed over the whole test


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def settle_fds(pid, want, timeout=5.0):
    end = time.monotonic() + timeout
    n = fd_count(pid)
    while n > want and time.monotonic() < end:
        time.sleep(0.05)
        n = fd_count(pid)
    return n


@pytest.fixture
def vm(vmm_bin, guest_elf, kvm, tmp_path):
    with QmpVm(base(vmm_bin, guest_elf), tmp_path / "qmp.sock") as v:
        with v.qmp() as q:  # one full session first, so lazily made state exists
            assert q.cmd("query-status")["return"]["status"] == "paused"
        v.base_fds = settle_fds(v.proc.pid, 0, 0.2)
        v.base_rss = rss_kib(v.proc.pid)
        yield v
        assert v.proc.poll() is None, v.stderr.decode()


def healthy(vm):
    """Still running, within the memory bound, no fd left behind, serving."""
    assert vm.proc.poll() is None, vm.stderr.decode()
    time.sleep(1.1)  # past the rate limit's one-second window
    with vm.qmp() as q:
        assert q.cmd("query-status")["return"]["status"] == "paused"
    assert settle_fds(vm.proc.pid, vm.base_fds) == vm.base_fds
    grown = rss_kib(vm.proc.pid) - vm.base_rss
    assert grown < RSS_BOUND_KIB, f"RSS grew by {grown} KiB"


def raw_client(vm, negotiate=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(vm.sock)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    if negotiate:
        s.sendall(b'{"execute":"qmp_capabilities"}')
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(4096)
        assert json.loads(buf) == {"return": {}}
    return s


def test_flood_without_reading(vm):
    """200000 requests never read: the server stops at 1 MiB of pending replies."""
    s = raw_client(vm)
    req = b'{"execute":"query-status"}' * 1000
    sent = 0
    s.settimeout(20)
    try:
        for _ in range(200):
            s.sendall(req)
            sent += 1000
    except (BrokenPipeError, ConnectionResetError):
        pass  # disconnected for not reading
    except socket.timeout:
        pass  # the server stopped reading: its buffer for us is full
    # What did come back is well formed: replies or OperationThrottled.
    s.settimeout(5)
    data = b""
    try:
        while len(data) < 4 << 20:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    lines = [ln for ln in data.split(b"\r\n") if ln]
    assert lines, "no reply at all"
    for ln in lines[:-1]:  # the last may be cut by the disconnect
        msg = json.loads(ln)
        assert msg.get("return", {}).get("status") == "paused" or \
            msg["error"]["class"] == "OperationThrottled", msg
    assert sent >= 1000
    healthy(vm)


def test_flood_parallel_clients(vm):
    """Eight clients connect and send at once: one is served, the others refused."""
    results = []

    def client():
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(vm.sock)
            s.sendall(b'{"execute":"qmp_capabilities"}' + b'{"execute":"query-status"}' * 500)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if data.count(b"\r\n") >= 502:
                    break
            s.close()
            results.append(data)
        except OSError as e:
            results.append(repr(e).encode())

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    refused = sum(b"one client is served at a time" in r for r in results)
    served = sum(r.count(b'"status": "paused"') + r.count(b'"status":"paused"') >= 1
                 for r in results)
    assert served >= 1 and served + refused >= 1, results
    healthy(vm)


@pytest.mark.parametrize("kind", ["open_string", "open_object", "bare_token", "long_array"])
def test_one_mib_line(vm, kind):
    """1 MiB in one request: one GenericError, the connection closed, nothing kept."""
    mib = 1 << 20
    body = {
        "open_string": b'{"execute":"query-status","id":"' + b"a" * mib,
        "open_object": b'{"execute":"query-status","arguments":' + b'{"a":' * (mib // 5),
        "bare_token": b"x" * mib,
        "long_array": b"[" + b"1," * (mib // 2) + b"1]",
    }[kind] + b"\n"
    s = raw_client(vm)
    try:
        s.sendall(body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    first = json.loads(data.split(b"\r\n")[0])
    assert first["error"] == {"class": "GenericError",
                              "desc": "Request longer than 65536 bytes; closing the connection"}
    healthy(vm)


def test_one_mib_of_small_lines(vm):
    """1 MiB of short malformed lines, read as they come: an error each, the session survives."""
    s = raw_client(vm)
    line = b"{nope: 1}\n"
    per_batch = 16384 // len(line)
    batches = (1 << 20) // (per_batch * len(line)) + 1
    s.settimeout(30)
    buf, errors = b"", 0
    for _ in range(batches):
        s.sendall(line * per_batch)
        want = errors + per_batch
        while errors < want:
            chunk = s.recv(1 << 20)
            assert chunk, "disconnected"
            buf += chunk
            *lines, buf = buf.split(b"\r\n")
            for ln in lines:
                msg = json.loads(ln)
                assert msg["error"]["class"] in ("GenericError", "OperationThrottled"), msg
                errors += 1
    assert errors == batches * per_batch and errors * len(line) >= 1 << 20
    time.sleep(1.1)
    s.sendall(b'{"execute":"query-status"}')
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    assert json.loads(buf.split(b"\r\n")[0])["return"]["status"] == "paused"
    s.close()
    healthy(vm)


def _send_fds(s, data, fds):
    s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])


def test_two_hundred_fds(vm):
    """200 fds in one message, then 200 more spread over requests: none kept."""
    r, w = os.pipe()
    fds = [os.dup(r) for _ in range(200)]
    try:
        q = Qmp(vm.sock)
        # All in one message: at most 8 are received, the kernel closes the rest.
        _send_fds(q.sock, b'{"execute":"query-status"}', fds[:200])
        assert q.reply()["return"]["status"] == "paused"
        # 8 per message with a request that takes none, 25 times.
        for i in range(25):
            _send_fds(q.sock, b'{"execute":"query-status"}', fds[i * 8:i * 8 + 8])
            assert q.reply()["return"]["status"] == "paused"
        # Fds with no request at all, then getfd takes one of them.
        for i in range(25):
            _send_fds(q.sock, b" ", fds[i * 8:i * 8 + 8])
        rep = q.cmd("getfd", {"fdname": "kept"})
        assert rep == {"return": {}}, rep
        assert q.cmd("closefd", {"fdname": "kept"}) == {"return": {}}
        assert settle_fds(vm.proc.pid, vm.base_fds + 1) <= vm.base_fds + 1  # the client
        q.close()
    finally:
        for fd in fds + [r, w]:
            os.close(fd)
    healthy(vm)


COMMANDS = [
    {"execute": "query-status"},
    {"execute": "query-version"},
    {"execute": "query-commands"},
    {"execute": "query-cpus-fast"},
    {"execute": "query-hotpluggable-cpus"},
    {"execute": "query-balloon"},
    {"execute": "balloon", "arguments": {"value": 1 << 26}},
    {"execute": "stop"},
    {"execute": "cont"},
    {"execute": "stop"},
    {"execute": "getfd", "arguments": {"fdname": "f"}},
    {"execute": "closefd", "arguments": {"fdname": "f"}},
    {"execute": "blockdev-add", "arguments": {"node-name": "d0", "driver": "file",
                                              "filename": "/dev/null", "read-only": True}},
    {"execute": "blockdev-del", "arguments": {"node-name": "d0"}},
    {"execute": "netdev_add", "arguments": {"type": "tap", "id": "n0", "ifname": "svhq0"}},
    {"execute": "netdev_del", "arguments": {"id": "n0"}},
    {"execute": "device_add", "arguments": {"driver": "virtio-blk-mmio", "id": "v0",
                                            "drive": "none"}},
    {"execute": "device_del", "arguments": {"id": "v0"}},
    {"execute": "no-such-command"},
]


def test_disconnect_mid_command(vm):
    """Every command cut at every tenth of its bytes, and sent whole then hung up on."""
    r, w = os.pipe()
    try:
        for cmd in COMMANDS:
            text = json.dumps(cmd).encode()
            cuts = sorted({len(text) * k // 10 for k in range(1, 10)} | {len(text)})
            for cut in cuts:
                s = raw_client(vm)
                if cmd["execute"] == "getfd":
                    _send_fds(s, text[:cut], [r])
                else:
                    s.sendall(text[:cut])
                s.close()  # before any reply
            assert vm.proc.poll() is None, vm.stderr.decode()
    finally:
        os.close(r)
        os.close(w)
    # The whole-command sends took effect (docs: only the reply is lost): the
    # last stop left the VM paused; nothing stayed attached.
    with vm.qmp() as q:
        assert q.cmd("query-status")["return"]["status"] == "paused"
        assert q.cmd("closefd", {"fdname": "f"})["error"]["class"] == "GenericError"
    healthy(vm)
