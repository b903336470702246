# SPDX-License-Identifier: MulanPSL-2.0
"""vhost-vsock-device (the kernel's vhost-vsock, docs/vsock.md) and, from a
Linux guest's user space, both vsock paths end to end.

On any host: the one-line refusals (no /dev/vhost-vsock, a vhostfd that is
not the vhost-vsock device or not open).  Marked `hwvirt` (guest user space,
/dev/vhost-vsock: on kvm_pvm hosts they run inside the nested machine,
docs/hwvirt.md): the guest's svvsock (guest/agent/vsock.c, check `vsock` in
guest/checks.d/vsock.sh) listens on port 1024; the host connects 100 times
(AF_VSOCK CID 3, or CONNECT 1024 through the unix socket) and echoes 1 MiB
each way with SHA-256 on both ends; then the guest connects to a host
listener (port 5000) and checks 1 MiB echoed back.  And Kata's own command
line with a vhostfd the test opened and bound itself."""
import fcntl
import hashlib
import json
import os
import socket
import struct
import subprocess
import threading
import time
import uuid

import pytest

from test_linux_user import (TIMEOUT, assert_checks, guest,  # noqa: F401 (fixture)
                             guest_cmdline, hwvirt_host_prepare, vmm)
from test_vsock import Vm, echo_through, host_connect

MIB = 1 << 20
CONNS = 100
HOST_PORT = 5000
VHOST_VSOCK = "/dev/vhost-vsock"
# _IOW(VHOST_VIRTIO 0xAF, 0x60, __u64)
VHOST_VSOCK_SET_GUEST_CID = 0x4008AF60


def refused(vmm_bin, guest_bin, extra, pass_fds=()):
    r = subprocess.run([str(vmm_bin), "-machine", "microvm", "-m", "128M", "-kernel",
                        str(guest_bin), *extra], capture_output=True, text=True, timeout=30,
                       pass_fds=pass_fds)
    assert r.returncode == 1, f"rc {r.returncode}: {r.stderr}"
    return r.stderr


@pytest.mark.skipif(os.path.exists(VHOST_VSOCK), reason=f"{VHOST_VSOCK} exists on this host")
@pytest.mark.parametrize("opt", ["vhost-vsock-device", "vsock"])
def test_no_vhost_vsock_device_one_line(vmm_bin, guest_bin, tmp_path, opt):
    before = sorted(os.listdir(tmp_path))
    err = refused(vmm_bin, guest_bin, ["-device", f"{opt},id=vsock0,guest-cid=3",
                                       "-qmp", f"unix:{tmp_path}/q.sock,server,nowait"])
    assert err == (f"stratovirt: -device {opt} 'vsock0': cannot open /dev/vhost-vsock: No such "
                   "file or directory (no vhost_vsock module here; "
                   "virtio-vsock-device,uds-path= works without it)\n")
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.skipif(os.path.exists(VHOST_VSOCK), reason=f"{VHOST_VSOCK} exists on this host")
def test_json_vsock_is_vhost_vsock(vmm_bin, guest_bin, tmp_path):
    cfg = tmp_path / "vm.json"
    cfg.write_text(json.dumps({"vsock": {"vsock_id": "v0", "guest_cid": 3}}))
    err = refused(vmm_bin, guest_bin, ["-config", str(cfg)])
    assert err.startswith("stratovirt: JSON vsock 'v0': cannot open /dev/vhost-vsock: "), err


def test_vhostfd_of_the_wrong_type(vmm_bin, guest_bin, tmp_path):
    r, w = os.pipe()
    try:
        err = refused(vmm_bin, guest_bin,
                      ["-device", f"vhost-vsock-device,id=vsock0,guest-cid=3,vhostfd={r}"],
                      pass_fds=(r,))
        assert err == (f"stratovirt: -device vhost-vsock-device 'vsock0': vhostfd={r}: not the "
                       "vhost-vsock character device (10:241)\n")
    finally:
        os.close(r)
        os.close(w)
    with open("/dev/null", "rb") as f:  # a character device, not that one
        fd = f.fileno()
        err = refused(vmm_bin, guest_bin,
                      ["-device", f"vsock,id=v1,guest-cid=4,vhostfd={fd}"], pass_fds=(fd,))
        assert err == (f"stratovirt: -device vsock 'v1': vhostfd={fd}: not the vhost-vsock "
                       "character device (10:241)\n")


def test_vhostfd_not_open(vmm_bin, guest_bin):
    err = refused(vmm_bin, guest_bin, ["-device", "vhost-vsock-device,id=v,guest-cid=3,"
                                       "vhostfd=1000"])
    assert err == ("stratovirt: -device vhost-vsock-device 'v': vhostfd=1000: Bad file "
                   "descriptor\n")


# ---- from Linux user space (nested machine) ---------------------------------------

def echo_server(ls, results, count=1):
    """Accepts count connections, echoes each to its end; records bytes echoed."""
    def run():
        for _ in range(count):
            try:
                c, _ = ls.accept()
            except OSError:
                return
            n = 0
            with c:
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


def vsock_listener(port):
    ls = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    ls.bind((socket.VMADDR_CID_ANY, port))
    ls.listen(4)
    ls.settimeout(TIMEOUT)
    return ls


def unix_listener(path):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(str(path))
    ls.listen(4)
    ls.settimeout(TIMEOUT)
    return ls


def vsock_connect(cid, port, timeout=60):
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect((cid, port))
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def check_host_to_guest(connect):
    for i in range(CONNS):
        s = connect()
        with s:
            sent, got, n = echo_through(s, MIB)
        assert n == MIB and got == sent, f"connection {i}: {n} bytes echoed, digests differ"


class Res:
    """What assert_checks() needs, from a Vm."""

    def __init__(self, vm):
        self.lines, self.rc, self.describe = vm.lines, vm.proc.returncode, vm.describe


def run_linux_vsock(vmm_bin, guest, device, listener, connect):
    kdir, initrd = guest
    echoed = []
    srv = echo_server(listener, echoed)
    vm = Vm(vmm(vmm_bin, kdir / "bzImage", f"sv.checks=vsock sv.vsock_conns={CONNS} "
                f"sv.vsock_hostport={HOST_PORT}", initrd=initrd, extra=["-device", device]))
    try:
        vm.wait_line("SVVSOCK listening", timeout=TIMEOUT)
        check_host_to_guest(connect)
        vm.wait_line("SVCHECK done", timeout=TIMEOUT)
        vm.finish(timeout=60)
    finally:
        vm.kill()
        listener.close()
    srv.join(5)
    got = assert_checks(Res(vm), ["vsock"])["vsock"]
    assert got["conns"] == str(CONNS) and got["bytes"] == str(CONNS * MIB), vm.describe()
    assert got["to_host_bytes"] == str(MIB), vm.describe()
    assert echoed == [MIB]
    return got


@pytest.mark.hwvirt
@pytest.mark.slow
def test_linux_vhost_vsock_both_ways(vmm_bin, guest):
    if not os.path.exists(VHOST_VSOCK):
        pytest.skip(f"{VHOST_VSOCK} missing (modprobe vhost_vsock)")
    run_linux_vsock(vmm_bin, guest, "vhost-vsock-device,id=vsock0,guest-cid=3",
                    vsock_listener(HOST_PORT), lambda: vsock_connect(3, 1024))


@pytest.mark.hwvirt
@pytest.mark.slow
def test_linux_unix_socket_vsock_both_ways(vmm_bin, guest, tmp_path):
    uds = tmp_path / "v.sock"
    run_linux_vsock(vmm_bin, guest,
                    f"virtio-vsock-device,id=vsock0,guest-cid=3,uds-path={uds}",
                    unix_listener(f"{uds}_{HOST_PORT}"),
                    lambda: host_connect(str(uds), 1024)[0])


def bound_vhost_vsock(cid):
    """What Kata does before starting the VMM: open the device, bind the CID."""
    fd = os.open(VHOST_VSOCK, os.O_RDWR)
    fcntl.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, struct.pack("<Q", cid))
    return fd


@pytest.mark.hwvirt
@pytest.mark.slow
def test_kata_command_line_with_inherited_vhostfd(vmm_bin, guest, tmp_path):
    """Kata's StratoVirt line (shared/reference/kata-and-stratovirt.md), vhostfd=3
    bound by us; the guest's console is off (8250.nr_uarts=0, as Kata runs it), so
    the agent port is dialled until it answers, as Kata does."""
    if not os.path.exists(VHOST_VSOCK):
        pytest.skip(f"{VHOST_VSOCK} missing (modprobe vhost_vsock)")
    kdir, initrd = guest
    cid = 4000 + os.getpid() % 1000
    img = tmp_path / "rootfs.img"
    img.write_bytes(b"\0" * MIB)
    fd = bound_vhost_vsock(cid)
    # a second VMM cannot take that CID: the kernel says it is in use
    other = bound_vhost_vsock(cid + 1)
    with pytest.raises(OSError):
        fcntl.ioctl(other, VHOST_VSOCK_SET_GUEST_CID, struct.pack("<Q", cid))
    os.close(other)
    sid = uuid.uuid4()
    append = (f"{guest_cmdline()} reboot=k panic=1 net.ifnames=0 pci=off iommu=off acpi=off "
              f"quiet 8250.nr_uarts=0 agent.log_vport=1025 sv.checks=vsock "
              f"sv.vsock_conns={CONNS} sv.vsock_hostport={HOST_PORT}")
    argv = [str(vmm_bin), "-name", f"sandbox-{sid.hex}", "-uuid", str(sid), "-smp", "1",
            "-m", "256", "-kernel", str(kdir / "bzImage"), "-append", append,
            "-qmp", f"unix:{tmp_path}/qmp.socket,server,nowait", "-D", "-disable-seccomp",
            "-machine", "type=microvm,dump-guest-core=off", "-initrd", str(initrd),
            "-object", "rng-random,id=objrng0,filename=/dev/urandom",
            "-device", "virtio-rng-device,rng=objrng0,id=virtio-rng0",
            "-drive", f"id=rootfs,file={img},readonly=on,direct=off",
            "-device", "virtio-blk-device,drive=rootfs,id=virtio-blk0",
            "-device", f"vhost-vsock-device,id=vsock-id,guest-cid={cid},vhostfd=3"]
    listener = vsock_listener(HOST_PORT)
    echoed = []
    srv = echo_server(listener, echoed)
    # The VMM finds it as fd 3, as Kata's first ExtraFile.  Moved above 9
    # first ("3<&3 3<&-" would close it), so bash, not sh: dash takes only
    # one-digit fds in a redirection ("Bad fd number", and no VMM at all).
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    proc = subprocess.Popen(["bash", "-c", f'exec 3<&{high} {high}<&-; exec "$@"', "bash",
                             *argv],
                            pass_fds=(high,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(high)
    try:
        try:
            check_host_to_guest(lambda: vsock_connect(cid, 1024, timeout=TIMEOUT))
        except OSError as e:
            alive = proc.poll() is None
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(
                f"host -> guest CID {cid}: {e!r}; the VMM "
                f"{'was still running' if alive else 'had exited'} (status "
                f"{proc.returncode}); its stderr:\n{err.decode(errors='replace')[-3000:]}") from e
        srv.join(TIMEOUT)
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
        listener.close()
    assert echoed == [MIB], err.decode(errors="replace")
    assert proc.returncode == 0, err.decode(errors="replace")
