# SPDX-License-Identifier: MulanPSL-2.0
"""The jail (-jail, -rlimit; docs/security.md) and the fd audit.

Needs root (namespaces, pivot_root, a uid change): skipped otherwise.
"""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SECCOMP_MODE
from qmpclient import QmpVm

HOLD = "svtest=1 exit=i8042 tests=hold hold=1000000"
NOBODY = 65534


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("the jail tests need root (namespaces, pivot_root, setresuid)")


@pytest.fixture
def jail_dir(tmp_path):
    d = tmp_path / "jail"
    d.mkdir()
    (d / "marker").write_text("inside\n")
    return d


def argv(vmm_bin, guest_elf, *extra):
    return [vmm_bin, "-machine", "microvm", "-smp", "2", "-m", "128", "-kernel", guest_elf,
            "-append", HOLD, "-serial", "stdio", "-object", "iothread,id=io1",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", *extra]


def status(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    return dict(ln.split(":\t", 1) for ln in Path(path).read_text().splitlines() if ":\t" in ln)


def user_threads(pid):
    out = []
    for t in Path(f"/proc/{pid}/task").iterdir():
        flags = int((t / "stat").read_text().rsplit(")", 1)[1].split()[6])
        if not flags & (0x10 | 0x4000):  # kernel workers run no user code
            out.append(int(t.name))
    return out


def vm_pid(proc, pidns):
    """The VM's process: the parent's only child with pidns=on."""
    if not pidns:
        return proc.pid
    for _ in range(100):
        kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        if kids:
            assert len(kids) == 1, kids
            return int(kids[0])
        time.sleep(0.05)
    raise AssertionError("no child")


def limits(pid):
    out = {}
    for ln in Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]:
        name, rest = ln[:26].strip(), ln[26:].split()
        out[name] = (rest[0], rest[1])
    return out


def start(vmm_bin, guest_elf, tmp_path, *extra):
    vm = QmpVm(argv(vmm_bin, guest_elf, *extra), tmp_path / "qmp.sock")
    assert vm.wait_line(lambda ln: "TICK" in ln, 30) is not None, (vm.lines, vm.stderr)
    return vm


def stop(vm):
    vm.proc.send_signal(signal.SIGTERM)
    rc = vm.wait(30)
    if rc is None:
        vm.kill()
    return rc


@pytest.mark.parametrize("pidns", [True, False])
def test_full_jail(root, vmm_bin, guest_elf, kvm, tmp_path, jail_dir, pidns):
    os.chmod(tmp_path, 0o755)
    opts = f"dir={jail_dir},uid={NOBODY},gid={NOBODY},netns=on,mountns=on"
    if pidns:
        opts += ",pidns=on"
    vm = start(vmm_bin, guest_elf, tmp_path, "-jail", opts, "-rlimit", "nofile=256,memlock=4M")
    try:
        pid = vm_pid(vm.proc, pidns)
        threads = user_threads(pid)
        assert len(threads) == 4, threads  # main, 2 vCPUs, the I/O thread
        for tid in threads:
            st = status(pid, tid)
            name = st["Name"].strip()
            assert st["Uid"].split() == [str(NOBODY)] * 4, (name, st["Uid"])
            assert st["Gid"].split() == [str(NOBODY)] * 4, (name, st["Gid"])
            assert st["Groups"].strip() == "", (name, st["Groups"])
            for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                assert int(st[cap], 16) == 0, (name, cap, st[cap])
            assert st["NoNewPrivs"].strip() == "1", name
            assert st["Seccomp"].strip() == SECCOMP_MODE, name
            # the root of every thread is the jail directory
            troot = Path(f"/proc/{pid}/task/{tid}/root")
            assert os.stat(troot).st_ino == os.stat(jail_dir).st_ino, name
            assert (troot / "marker").read_text() == "inside\n", name
            assert not (troot / "proc").exists() and not (troot / "etc").exists(), name
            for ns in ("net", "mnt"):
                assert os.readlink(f"/proc/{pid}/task/{tid}/ns/{ns}") != \
                    os.readlink(f"/proc/self/ns/{ns}"), (name, ns)
        ns_pid = os.readlink(f"/proc/{pid}/ns/pid")
        assert (ns_pid != os.readlink("/proc/self/ns/pid")) == pidns
        if pidns:
            assert status(pid)["NSpid"].split()[-1] == "1"  # pid 1 inside
            # the parent outside waits under its own, small filter
            assert status(vm.proc.pid)["Seccomp"].strip() == SECCOMP_MODE
        lim = limits(pid)
        assert lim["Max open files"] == ("256", "256"), lim
        assert lim["Max locked memory"] == (str(4 << 20), str(4 << 20)), lim
        # still a working VM: QMP answers and the guest keeps ticking
        n = len(vm.lines)
        with vm.qmp() as q:
            assert q.cmd("query-status")["return"]["status"] == "running"
        assert vm.wait_line(lambda ln: "TICK" in ln, 10, start=n) is not None
    finally:
        rc = stop(vm)
    assert rc == 0, vm.stderr
    assert b"seccomp" not in vm.stderr, vm.stderr


def test_chroot_only_keeps_namespaces(root, vmm_bin, guest_elf, kvm, tmp_path, jail_dir):
    os.chmod(tmp_path, 0o755)
    vm = start(vmm_bin, guest_elf, tmp_path, "-jail", f"dir={jail_dir},uid=1234,gid=4321")
    try:
        pid = vm.proc.pid
        for tid in user_threads(pid):
            st = status(pid, tid)
            assert st["Uid"].split()[0] == "1234" and st["Gid"].split()[0] == "4321"
            assert int(st["CapEff"], 16) == 0 and st["NoNewPrivs"].strip() == "1"
            assert os.stat(f"/proc/{pid}/task/{tid}/root").st_ino == os.stat(jail_dir).st_ino
        for ns in ("net", "mnt", "pid"):
            assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/self/ns/{ns}")
    finally:
        rc = stop(vm)
    assert rc == 0, vm.stderr


def test_hotplug_paths_are_inside_the_jail(root, vmm_bin, guest_elf, kvm, tmp_path, jail_dir):
    os.chmod(tmp_path, 0o755)
    img = jail_dir / "disk.img"
    img.write_bytes(bytes(256 * 512))
    os.chown(img, NOBODY, NOBODY)
    outside = tmp_path / "outside.img"
    outside.write_bytes(bytes(256 * 512))
    vm = start(vmm_bin, guest_elf, tmp_path, "-jail",
               f"dir={jail_dir},uid={NOBODY},gid={NOBODY},mountns=on")

    def node(name, path):
        return {"driver": "raw", "node-name": name,
                "file": {"driver": "file", "filename": path}}
    try:
        with vm.qmp() as q:
            assert q.cmd("blockdev-add", node("in", "/disk.img")) == {"return": {}}
            rep = q.cmd("blockdev-add", node("out", str(outside)))
            assert "error" in rep and "No such file" in rep["error"]["desc"], rep
    finally:
        rc = stop(vm)
    assert rc == 0, vm.stderr


@pytest.mark.parametrize("args,msg", [
    (["-jail", "uid=1"], "-jail needs dir=DIR"),
    (["-jail", "dir=relative"], "invalid value 'relative' for -jail dir: must be an absolute path"),
    (["-jail", "dir=/x,uid=-1"], "invalid value '-1' for -jail uid"),
    (["-jail", "dir=/x,netns=maybe"], "invalid value 'maybe' for -jail netns: must be on or off"),
    (["-jail", "dir=/x,chroot=on"], "chroot"),
    (["-rlimit", "nofile=10"], "invalid value '10' for -rlimit nofile"),
    (["-rlimit", "memlock=lots"], "invalid value 'lots' for -rlimit memlock"),
    (["-rlimit", "core=0"], "core"),
])
def test_bad_options_are_refused(vmm_bin, guest_elf, args, msg):
    r = subprocess.run([str(a) for a in argv(vmm_bin, guest_elf, *args)], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stderr
    assert msg in r.stderr, r.stderr


def test_jail_dir_must_exist(root, vmm_bin, guest_elf, kvm, tmp_path):
    r = subprocess.run([str(a) for a in argv(vmm_bin, guest_elf, "-jail",
                                             f"dir={tmp_path}/none")],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stderr
    assert f"stratovirt: -jail: {tmp_path}/none: No such file or directory" in r.stderr


# ---- the fd audit -----------------------------------------------------------

O_CLOEXEC = 0o2000000


def fd_table(pid):
    out = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
            info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
        except FileNotFoundError:
            continue
        flags = int(info.split("flags:\t", 1)[1].split()[0], 8)
        out[int(fd.name)] = (target, flags)
    return out


def test_every_fd_is_accounted_for(vmm_bin, guest_elf, kvm, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(1 << 20))
    log = tmp_path / "vmm.log"
    vm = start(vmm_bin, guest_elf, tmp_path, "-drive", f"id=d0,file={img},if=none",
               "-device", "virtio-blk-device,drive=d0,id=blk0,iothread=io1",
               "-D", log, "-pidfile", tmp_path / "vm.pid")
    pid = vm.proc.pid
    try:
        with vm.qmp():
            table = fd_table(pid)
            pidfile_ino = os.stat(tmp_path / "vm.pid").st_ino
            inodes = {fd: os.stat(f"/proc/{pid}/fd/{fd}").st_ino for fd in table}
    finally:
        stop(vm)
    kinds = {}
    for fd, (target, flags) in sorted(table.items()):
        if fd <= 2:
            kind = "stdio"
        elif target in (table[0][0], table[1][0]):
            kind = "serial"  # -serial stdio: its own copies of stdin and stdout
        elif inodes[fd] == pidfile_ino:
            kind = "pidfile"  # locked; written through a temporary name linked into place
        elif target == "/dev/kvm":
            kind = "kvm"
        elif target == "anon_inode:kvm-vm":
            kind = "kvm-vm"
        elif target.startswith("anon_inode:kvm-vcpu:"):
            kind = "kvm-vcpu"
        elif target == "anon_inode:[eventfd]":
            kind = "eventfd"
        elif target == "anon_inode:[eventpoll]":
            kind = "epoll"
        elif target == "anon_inode:[signalfd]":
            kind = "signalfd"
        elif target == "anon_inode:[io_uring]":
            kind = "io_uring"
        elif target == "anon_inode:[timerfd]":
            kind = "timerfd"
        elif target.startswith("socket:["):
            kind = "socket"  # the QMP listener and its client
        elif target in (str(img), str(log)):
            kind = Path(target).name
        elif target.startswith("/memfd:") or target.startswith("anon_inode:[memfd"):
            kind = "guest-ram"
        else:
            kind = "unknown: " + target
        kinds.setdefault(kind, []).append(fd)
        # nothing reaches a child by accident: every fd but stdio is close-on-exec
        if fd > 2:
            assert flags & O_CLOEXEC, (fd, target, oct(flags))
    assert not [k for k in kinds if k.startswith("unknown")], kinds
    assert len(kinds["kvm"]) == 1 and len(kinds["kvm-vm"]) == 1, kinds
    assert len(kinds["kvm-vcpu"]) == 2, kinds
    assert len(kinds["signalfd"]) == 3, kinds  # the main loop's, each vCPU's kick
    assert len(kinds["socket"]) == 2, kinds  # listener + the connected client
    # the main loop, the I/O thread's, QMP's wait for its last replies at exit
    assert len(kinds["epoll"]) == 3, kinds
    assert len(kinds.get("disk.img", [])) == 1 and len(kinds.get("vmm.log", [])) == 1, kinds
    assert len(kinds.get("pidfile", [])) == 1 and len(kinds.get("serial", [])) == 2, kinds
    # a ring per blk slot, made at start-up: the disk's and 3 empty ones
    assert len(kinds.get("io_uring", [])) == 4, kinds
    # the I/O limits and vsock deadlines are timers of the event loops: no timerfd
    assert "timerfd" not in kinds, kinds


def test_daemonized_jail(root, vmm_bin, guest_elf, kvm, tmp_path, jail_dir):
    """-daemonize with a jail: stdio goes to /dev/null (opened before the jail)."""
    os.chmod(tmp_path, 0o755)
    pidfile = tmp_path / "vm.pid"
    args = [str(a) for a in argv(vmm_bin, guest_elf, "-jail",
                                 f"dir={jail_dir},uid={NOBODY},gid={NOBODY},mountns=on",
                                 "-daemonize", "-pidfile", pidfile)]
    args[args.index("stdio")] = f"file,path={tmp_path / 'serial.log'}"
    r = subprocess.run(args, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    try:
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/null"
        assert status(pid)["Uid"].split()[0] == str(NOBODY)
        assert os.stat(f"/proc/{pid}/root").st_ino == os.stat(jail_dir).st_ino
    finally:
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
