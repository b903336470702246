# SPDX-License-Identifier: MulanPSL-2.0
"""virtio-fs from a Linux guest's user space, with Debian's virtiofsd.

Marked `hwvirt` (guest user space: on kvm_pvm hosts these run inside the
nested machine, docs/hwvirt.md).  The guest is guest/'s (its kernel has
CONFIG_VIRTIO_FS=y); the checks are in guest/checks.d/virtiofs.sh:

  virtiofs  mount -t virtiofs svfs: the SHA-256 of a 4 MiB host file, a file
            the guest writes that the host then reads, a directory of 1000
            files listed
  fsroot    the whole root is the shared folder (root=svfs
            rootfstype=virtiofs, no initrd): the guest's init runs from it
"""
import hashlib
import os
import subprocess
import time
import uuid

import pytest

from conftest import run_vm
from test_linux_user import (TIMEOUT, assert_checks, guest,  # noqa: F401 (fixture)
                             hwvirt_host_prepare, initrd_tree, vmm)

pytestmark = [pytest.mark.hwvirt, pytest.mark.slow]

VIRTIOFSD = "/usr/lib/qemu/virtiofsd"


class Virtiofsd:
    def __init__(self, source, sock, log):
        self.source, self.sock, self.log = source, sock, log

    def __enter__(self):
        if not os.access(VIRTIOFSD, os.X_OK):
            pytest.skip(f"{VIRTIOFSD} missing (apt-get install qemu-system-common)")
        logf = open(self.log, "wb")
        # sandbox=chroot: the namespace sandbox's pivot_root fails inside the
        # nested machine's chroot
        self.proc = subprocess.Popen(
            [VIRTIOFSD, f"--socket-path={self.sock}", "-o", f"source={self.source}",
             "-o", "cache=none", "-o", "sandbox=chroot"],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        for _ in range(200):
            if os.path.exists(self.sock):
                return self
            time.sleep(0.05)
        self.proc.kill()
        pytest.fail(f"virtiofsd made no socket:\n{open(self.log).read()}")

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def fs_args(sock, tag="svfs"):
    return ["-chardev", f"socket,id=vfs0,path={sock}",
            "-device", f"vhost-user-fs-device,id=fs0,chardev=vfs0,tag={tag}"]


def shared_machine(argv):
    """vmm() builds `-machine microvm`; virtio-fs needs mem-share=on."""
    argv = list(argv)
    argv[argv.index("-machine") + 1] += ",mem-share=on"
    return argv


def test_virtiofs_mount_read_write_list(vmm_bin, guest, tmp_path):
    kdir, initrd = guest
    share = tmp_path / "share"
    (share / "many").mkdir(parents=True)
    data = os.urandom(4 << 20)
    (share / "known.bin").write_bytes(data)
    for i in range(1000):
        (share / "many" / f"f{i:04d}").write_text(str(i))
    token = uuid.uuid4().hex
    with Virtiofsd(share, tmp_path / "vfs.sock", tmp_path / "virtiofsd.log"):
        argv = shared_machine(vmm(vmm_bin, kdir / "bzImage",
                                  f"sv.checks=virtiofs sv.token={token}", initrd=initrd,
                                  extra=fs_args(tmp_path / "vfs.sock")))
        res = run_vm(argv, timeout=TIMEOUT)
    got = assert_checks(res, ["virtiofs"])["virtiofs"]
    assert got["sha256"] == hashlib.sha256(data).hexdigest(), res.describe()
    assert got["files"] == "1000", res.describe()
    assert (share / "from-guest.txt").read_text().strip() == token


def test_virtiofs_root(vmm_bin, guest, tmp_path):
    kdir, initrd = guest
    root = initrd_tree(initrd, tmp_path / "root")
    with Virtiofsd(root, tmp_path / "vfs.sock", tmp_path / "virtiofsd.log"):
        argv = shared_machine(vmm(vmm_bin, kdir / "bzImage",
                                  "root=svfs rootfstype=virtiofs rw init=/init "
                                  "sv.checks=fsroot,nproc",
                                  extra=fs_args(tmp_path / "vfs.sock")))
        res = run_vm(argv, timeout=TIMEOUT)
    got = assert_checks(res, ["fsroot", "nproc"])
    assert got["fsroot"]["root"] == "svfs:virtiofs", res.describe()
