# SPDX-License-Identifier: MulanPSL-2.0
"""QMP hot-plug with a Linux guest whose user space runs (marker hwvirt).

On the project's kvm_pvm hosts these run inside the nested machine
(scripts/hwvirt.sh, tests/integration/hwvirt.py).  The guest is the demo/test
guest of guest/; guest/checks.d/hotplug.sh prints one "SVHOTPLUG ..." line
per event on the serial console while the host drives QMP:

  disk  Kata's sequence 10 times over slots 1-3 with 4 distinct images:
        blockdev-add (Kata's object), device_add virtio-blk-mmio with addr and
        romfile "" on a fresh connection; the guest sees /dev/vd<b+slot-1>
        with the image's capacity and SHA-256; device_del waits for
        DEVICE_DELETED and the guest sees the capacity fall to 0.
  nic   openEuler's patched Kata: getfd (a tap fd opened here, SCM_RIGHTS),
        netdev_add, device_add virtio-net-mmio; the guest pings the tap's
        address; device_del, netdev_del; the guest's carrier is then 0.
  kata  Kata's own command line (rng, a read-only rootfs disk, tap fds
        inherited as 3 and 4, -netdev tap,fds=3:4, a vhost-vsock fd bound
        to its CID by the test as 5) boots our init from the disk; the guest
        pings the tap's address and vsock echoes both ways.

Environment: STRATOVIRT_BIN, STRATOVIRT_GUEST_CACHE, LINUX_USER_TIMEOUT.
"""
import ctypes
import fcntl
import hashlib
import os
import socket
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import CLONE_NEWNET, NetNs, netns_unavailable
from qmpclient import Qmp, QmpVm
from test_linux_user import CHECK_LINE, TIMEOUT, build_guest_on_host, guest, guest_cmdline  # noqa: F401

pytestmark = [pytest.mark.hwvirt, pytest.mark.slow]

GUEST_IP, HOST_IP = "10.0.2.15", "10.0.2.1"
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR = 0x0002, 0x1000, 0x0100, 0x4000
VHOST_VSOCK, VHOST_VSOCK_SET_GUEST_CID = "/dev/vhost-vsock", 0x4008AF60
VSOCK_BYTES, VSOCK_HOST_PORT = 65536, 5000


def hwvirt_host_prepare():
    """On the host, before L1 starts: the guest build (L1 has no network)."""
    build_guest_on_host()


def vmm_argv(vmm_bin, guest, append, extra=()):
    kdir, initrd = guest
    return [vmm_bin, "-machine", "microvm", "-smp", "1", "-m", "256",
            "-kernel", kdir / "bzImage", "-initrd", initrd,
            "-append", f"{guest_cmdline()} {append}", "-serial", "stdio", *extra]


def describe(vm):
    return "\n".join(vm.lines[-30:]) + "\n--- stderr ---\n" + vm.stderr.decode(errors="replace")


def event_line(vm, prefix, start):
    i = vm.wait_line(lambda ln: f"SVHOTPLUG {prefix}" in ln, TIMEOUT, start)
    assert i is not None, f"no 'SVHOTPLUG {prefix}'\n{describe(vm)}"
    return i, vm.lines[i][vm.lines[i].find("SVHOTPLUG "):]


def answer(vm):
    vm.proc.stdin.write(b"go\n")
    vm.proc.stdin.flush()


def finish(vm, names):
    assert vm.wait_line(lambda ln: "SVCHECK done" in ln, TIMEOUT) is not None, describe(vm)
    found = {}
    for ln in vm.lines:
        m = CHECK_LINE.search(ln)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3))
    for n in names:
        assert found.get(n, ("missing",))[0] == "ok", f"{n}: {found.get(n)}\n{describe(vm)}"
    assert vm.wait(TIMEOUT) == 0, describe(vm)
    return {n: found[n][1] for n in names}


def blockdev(node, path, ro):
    """Kata's blockdev-add object (govmm's ExecuteBlockdevAdd)."""
    return {"driver": "raw", "read-only": ro, "node-name": node,
            "file": {"driver": "file", "filename": str(path), "aio": "native"}}


def disk_images(tmp_path, count):
    """count distinct raw images of 1..count MiB: (path, size, SHA-256) each."""
    images = []
    for k in range(count):
        data = os.urandom((k + 1) << 20)
        path = tmp_path / f"disk{k}.img"
        path.write_bytes(data)
        images.append((path, len(data), hashlib.sha256(data).hexdigest()))
    return images


def kata_disk_round(vm, sock, i, slot, image, pos):
    """One round of Kata's disk hot-plug while the guest's hotplug check runs:
    blockdev-add and device_add into slot (read-only on odd rounds), the
    guest's add line with the image's size and SHA-256, device_del with
    DEVICE_DELETED, the guest's del line.  Returns (pos, seconds from
    blockdev-add to the add line, seconds from there to the del line)."""
    path, size, sha = image
    node, dev = f"drive{i}", f"vd{chr(ord('a') + slot)}"
    t0 = time.monotonic()
    with Qmp(sock) as q:  # Kata: a new connection per operation
        assert q.cmd("blockdev-add", blockdev(node, path, i % 2 == 1)) == {"return": {}}
    with Qmp(sock) as q:
        assert q.cmd("device_add", {"id": node, "driver": "virtio-blk-mmio",
                                    "drive": node, "addr": str(slot),
                                    "romfile": ""}) == {"return": {}}
    pos, line = event_line(vm, "add", pos)
    t1 = time.monotonic()
    assert line == f"SVHOTPLUG add dev={dev} sectors={size // 512} bytes={size} " \
                   f"sha256={sha}", f"round {i} slot {slot}: {line}\n{describe(vm)}"
    with Qmp(sock) as q:
        q.send({"execute": "device_del", "arguments": {"id": node}})
        ev = q.wait_event("DEVICE_DELETED", 10)
        assert ev is not None and ev["data"] == {"device": node, "path": node}, ev
        assert q.reply() == {"return": {}}
    pos, line = event_line(vm, "del", pos)
    assert line == f"SVHOTPLUG del dev={dev}", line
    return pos, t1 - t0, time.monotonic() - t1


def test_kata_disk_hotplug_linux(vmm_bin, guest, tmp_path):
    rounds, images = 10, disk_images(tmp_path, 4)  # 4 distinct images, 1..4 MiB
    sock = tmp_path / "qmp.sock"
    argv = vmm_argv(vmm_bin, guest, f"sv.checks=hotplug sv.hotplug={rounds}")
    times = []
    with QmpVm(argv, sock) as vm:
        assert vm.wait_line(lambda ln: "SVCHECK start" in ln, TIMEOUT) is not None, describe(vm)
        pos = 0
        for i in range(rounds):
            pos, add_s, del_s = kata_disk_round(vm, sock, i, 1 + i % 3, images[i % 4], pos)
            times.append((add_s, del_s))
        finish(vm, ["hotplug"])
    adds = sorted(a for a, _ in times)
    dels = sorted(d for _, d in times)
    print(f"{rounds} rounds: blockdev-add+device_add to the guest's SVHOTPLUG add line "
          f"median {adds[rounds // 2]:.3f} s max {adds[-1]:.3f} s; device_del to the "
          f"del line median {dels[rounds // 2]:.3f} s max {dels[-1]:.3f} s")


def open_taps(ns, tap, count, multi_queue):
    """count fds of the namespace's tap (setns on this thread while opening)."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns.name}", os.O_RDONLY)
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if multi_queue else 0)
    fds = []
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the test namespace")
        try:
            for _ in range(count):
                fd = os.open("/dev/net/tun", os.O_RDWR)
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), flags))
                fds.append(fd)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)
    return fds


def test_openeuler_nic_hotplug_ping(vmm_bin, guest, tmp_path):
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    sock = tmp_path / "qmp.sock"
    argv = vmm_argv(vmm_bin, guest, f"sv.checks=hotnet sv.peer={HOST_IP} sv.ip={GUEST_IP}")
    with NetNs() as ns:
        ns.ip("addr", "add", f"{HOST_IP}/24", "dev", ns.tap)
        with QmpVm(argv, sock) as vm:
            pos, _ = event_line(vm, "net-wait", 0)
            (tapfd,) = open_taps(ns, ns.tap, 1, False)
            with Qmp(sock) as q:
                assert q.cmd("getfd", {"fdname": "fd0"}, fds=[tapfd]) == {"return": {}}
                os.close(tapfd)
                assert q.cmd("netdev_add", {"type": "tap", "id": "net0", "fds": "fd0",
                                            "vhost": True}) == {"return": {}}
                assert q.cmd("device_add", {"id": "net0", "driver": "virtio-net-mmio",
                                            "netdev": "net0", "addr": "0x0",
                                            "mac": "52:54:00:12:34:56"}) == {"return": {}}
            answer(vm)
            pos, line = event_line(vm, "net-pinged", pos)
            assert int(line.split("received=")[1]) > 0, describe(vm)
            with Qmp(sock) as q:
                q.send({"execute": "device_del", "arguments": {"id": "net0"}})
                ev = q.wait_event("DEVICE_DELETED", 10)
                assert ev is not None and ev["data"]["device"] == "net0", ev
                assert q.reply() == {"return": {}}
                assert q.cmd("netdev_del", {"id": "net0"}) == {"return": {}}
            answer(vm)
            got = finish(vm, ["hotnet"])
    print("guest:", got["hotnet"])


def initrd_tree(initrd, dest):
    dest.mkdir()
    with open(initrd, "rb") as f:
        data = subprocess.run(["gzip", "-dc"], stdin=f, capture_output=True,
                              check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=data, cwd=dest, check=True)
    return dest


def vsock_echo_server(results):
    """Echoes one guest connection on VSOCK_HOST_PORT to its end."""
    ls = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    ls.bind((socket.VMADDR_CID_ANY, VSOCK_HOST_PORT))
    ls.listen(1)
    ls.settimeout(TIMEOUT)

    def run():
        with ls:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            with c:
                n = 0
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    c.sendall(b)
                    n += len(b)
            results.append(n)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def vsock_echo_to_guest(cid, results):
    """Dials the guest's port 1024 until it answers, sends VSOCK_BYTES, reads the echo."""
    def run():
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            s.settimeout(30)
            try:
                s.connect((cid, 1024))
            except OSError:
                s.close()
                time.sleep(0.2)
                continue
            data, got = os.urandom(VSOCK_BYTES), b""
            with s:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    got += b
            results.append(got == data)
            return
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_kata_command_line_inherited_tap_fds(vmm_bin, guest, tmp_path):
    """Kata's stratovirt.go argument list, in its order (non-debug, image rootfs).

    Kept from the kernel parameters Kata adds: everything but `quiet
    8250.nr_uarts=0` (this test reads the serial console) and the rootfs's
    `/dev/vda1` (the image has no partition table: /dev/vda).
    """
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    if not os.path.exists(VHOST_VSOCK):
        pytest.skip(f"{VHOST_VSOCK} missing (modprobe vhost_vsock)")
    kdir, initrd = guest
    img = tmp_path / "rootfs.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(initrd_tree(initrd, tmp_path / "t")),
                    str(img), "64M"], check=True, capture_output=True)
    sock = tmp_path / "qmp.socket"
    sid = uuid.uuid4()
    params = (f"{guest_cmdline()} reboot=k panic=1 net.ifnames=0 pci=off iommu=off acpi=off "
              "agent.log_vport=1025 root=/dev/vda rootflags=data=ordered,errors=remount-ro ro "
              f"rootfstype=ext4 init=/init ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off "
              f"sv.checks=ping,rng,rofail,vsock sv.rodev=/dev/vda sv.peer={HOST_IP} "
              f"sv.vsock_conns=1 sv.vsock_hostport={VSOCK_HOST_PORT} "
              f"sv.vsock_bytes={VSOCK_BYTES}")
    cid = 5000 + os.getpid() % 1000
    kata = [vmm_bin, "-name", f"sandbox-{sid.hex[:16]}", "-uuid", str(sid), "-smp", "1",
            "-m", "256", "-kernel", kdir / "bzImage", "-append", params,
            "-qmp", f"unix:{sock},server,nowait", "-D", "-disable-seccomp",
            "-machine", "type=microvm,dump-guest-core=off",
            "-object", "rng-random,id=objrng0,filename=/dev/urandom",
            "-device", "virtio-rng-device,rng=objrng0,id=virtio-rng0",
            "-drive", f"id=rootfs,file={img},readonly=on,direct=off",
            "-device", "virtio-blk-device,drive=rootfs,id=virtio-blk0",
            "-device", f"vhost-vsock-device,id=vsock-id,guest-cid={cid},vhostfd=5",
            "-netdev", "tap,id=eth0,fds=3:4",
            "-device", "virtio-net-device,netdev=eth0,id=eth0,mac=52:54:00:12:34:56",
            "-serial", "stdio"]
    with NetNs() as ns:
        tap = "svkata0"
        ns.ip("tuntap", "add", "dev", tap, "mode", "tap", "multi_queue")
        ns.ip("link", "set", tap, "up")
        ns.ip("addr", "add", f"{HOST_IP}/24", "dev", tap)
        vs = os.open(VHOST_VSOCK, os.O_RDWR)  # what Kata does: open, bind the CID
        fcntl.ioctl(vs, VHOST_VSOCK_SET_GUEST_CID, struct.pack("<Q", cid))
        orig = open_taps(ns, tap, 2, True) + [vs]
        fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in orig]
        for fd in orig:
            os.close(fd)
        # as Go's ExtraFiles: the two tap fds and the vsock fd become 3, 4 and 5
        shell = (f'exec 3<&{fds[0]} 4<&{fds[1]} 5<&{fds[2]} {fds[0]}<&- {fds[1]}<&- '
                 f'{fds[2]}<&-; exec "$@"')
        echoed, to_guest = [], []
        threads = [vsock_echo_server(echoed), vsock_echo_to_guest(cid, to_guest)]
        proc = subprocess.Popen(["bash", "-c", shell, "bash", *map(str, kata)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=fds)
        for fd in fds:
            os.close(fd)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        text = out.decode(errors="replace")
        desc = f"{text[-4000:]}\n--- stderr ---\n{err.decode(errors='replace')}"
        found = {m.group(1): (m.group(2), m.group(3)) for m in CHECK_LINE.finditer(text)}
        for t in threads:
            t.join(10)
        for n in ("ping", "rng", "rofail", "vsock"):
            assert found.get(n, ("missing",))[0] == "ok", f"{n}: {found.get(n)}\n{desc}"
        assert "SVCHECK done pass=4 fail=0" in text, desc
        assert to_guest == [True], f"host -> guest vsock echo: {to_guest}\n{desc}"
        assert echoed == [VSOCK_BYTES], f"guest -> host vsock echo: {echoed}\n{desc}"
        assert proc.returncode == 0, desc
        assert not sock.exists(), "the QMP socket is removed on exit"
    print("guest:", found["ping"][1], "|", found["rng"][1], "|", found["vsock"][1])
