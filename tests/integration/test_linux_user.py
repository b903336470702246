# SPDX-License-Identifier: MulanPSL-2.0
"""Linux guests whose user space runs: checks made by guest/init (issue 7).

Every test here is marked `hwvirt`: it needs a KVM that runs guest user space.
On the project's kvm_pvm hosts conftest.py runs them inside the nested machine
(scripts/hwvirt.sh, docs/hwvirt.md), one VM at a time.  The guest is the
demo/test guest of guest/ (guest/build.sh); its init runs the checks named by
sv.checks= and prints one `SVCHECK <name> ok|fail key=value...` line each
(docs/guest.md), then reboots (reboot=k: the VMM exits 0).

  boot        bzImage, vmlinux (PVH), vmlinux.bin x 1, 2 vCPUs: nproc matches
  console     the shell on ttyS0 answers a typed command, ACPI on and off;
              `reboot -f` and `poweroff -f` typed there end the VMM with 0
  ext4 root   root=/dev/vda rw: the guest writes a file and syncs, the host
              finds it in the image; a read-only disk refuses writes; the
              SHA-256 of a 64 MiB disk agrees between guest and host
  virtio-net  ping of the tap's end, 10 MiB over TCP with its SHA-256, with
              and without an I/O thread
  virtio-rng  /dev/hwrng gives bytes; virtio-console carries a line each way
  stock       Debian's linux-image-cloud-amd64 with its initramfs (udev loads
              virtio_mmio for the DSDT's LNRO0005) boots our init from vda
  qemu        QEMU microvm in the same place runs the same check

Environment: STRATOVIRT_BIN, STRATOVIRT_GUEST_CACHE, QEMU_BIN,
LINUX_USER_TIMEOUT (seconds per boot, default 180).
"""
import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

import conftest
from conftest import NetNs, netns_unavailable

pytestmark = [pytest.mark.hwvirt, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GUEST_DIR = REPO / "guest"
TIMEOUT = float(os.environ.get("LINUX_USER_TIMEOUT", "180"))
KERNEL_FORMATS = ("bzImage", "vmlinux", "vmlinux.bin")
GUEST_IP, HOST_IP = "10.0.2.15", "10.0.2.1"
TCP_PORT = 5001
CHECK_LINE = re.compile(r"SVCHECK (\S+) (ok|fail)\b ?(.*)")
# A boot whose serial port stays silent this long has stalled (a boot and its
# checks take 5-15 s in L1).
STALL = float(os.environ.get("LINUX_USER_STALL", "90"))


def run_vm(argv, timeout=60, respond=None, env=None):
    """conftest.run_vm, run once more when the guest stalled inside KVM_RUN.

    Seen once in CI (1 boot in about 300): a 2-vCPU guest in L1 went silent
    in the middle of a kernel message while the VMM's vCPU threads sat in
    KVM_RUN, i.e. L1's KVM (under QEMU's TCG SVM) stopped running it.  Such a
    run is repeated once, with the first run's report printed; a stall with a
    vCPU thread anywhere else (a VMM deadlock) fails at once.
    """
    res = conftest.run_vm(argv, timeout=timeout, respond=respond, env=env, stall=STALL)
    if res.stalled and conftest.vcpus_in_kvm_run(res.threads):
        print(f"hwvirt: the guest stalled in KVM_RUN; running it once more\n{res.describe()}")
        res = conftest.run_vm(argv, timeout=timeout, respond=respond, env=env, stall=STALL)
    return res


def build_guest_on_host():
    """Before L1 starts (L1 has no network): the demo/test guest's build."""
    subprocess.run([str(GUEST_DIR / "build.sh")], check=True, capture_output=True,
                   timeout=3 * 3600)


def hwvirt_host_prepare():
    """On the host, before L1 starts: the guest build, the stock kernel."""
    build_guest_on_host()
    if not stock_kernel() and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends",
               "linux-image-cloud-amd64", "initramfs-tools"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)


def stock_kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*-cloud-amd64"))
    if not kernels:
        return None
    initrd = kernels[-1].replace("vmlinuz-", "initrd.img-")
    return (Path(kernels[-1]), Path(initrd)) if os.path.exists(initrd) else None


def guest_cmdline():
    lines = [l.strip() for l in (GUEST_DIR / "cmdline.txt").read_text().splitlines()]
    lines = [l for l in lines if l and not l.startswith("#")]
    assert len(lines) == 1, "guest/cmdline.txt must hold exactly one command line"
    return lines[0]


@pytest.fixture(scope="session")
def guest():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable")
    res = subprocess.run([str(GUEST_DIR / "build.sh")], capture_output=True, text=True,
                         timeout=3 * 3600)
    if res.returncode != 0:
        pytest.fail(f"guest/build.sh failed ({res.returncode}):\n{res.stderr[-3000:]}")
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", res.stdout, re.M))
    return Path(vals["KERNEL_DIR"]), Path(vals["INITRD"])


def vmm(vmm_bin, kernel, append, smp=1, mem=256, acpi=True, initrd=None, extra=()):
    argv = [vmm_bin, "-machine", "microvm" if acpi else "microvm,acpi=off",
            "-smp", str(smp), "-m", str(mem), "-kernel", kernel]
    if initrd:
        argv += ["-initrd", initrd]
    return argv + ["-append", f"{guest_cmdline()} {append}".strip(), "-serial", "stdio",
                   *extra]


def checks(res):
    """name -> (status, {key: value}) from the SVCHECK lines of a run."""
    found = {}
    for line in res.lines:
        i = line.find("SVCHECK ")
        m = CHECK_LINE.match(line[i:]) if i >= 0 else None
        if m:
            kv = dict(p.partition("=")[::2] for p in m.group(3).split())
            found[m.group(1)] = (m.group(2), kv)
    return found


def assert_checks(res, names):
    found = checks(res)
    assert any("SVCHECK start" in l for l in res.lines), \
        f"guest init never started its checks\n{res.describe()}"
    for n in names:
        assert n in found, f"no SVCHECK line for {n}\n{res.describe()}"
        assert found[n][0] == "ok", f"check {n} failed: {found[n][1]}\n{res.describe()}"
    assert any(f"SVCHECK done pass={len(names)} fail=0" in l for l in res.lines), \
        res.describe()
    assert res.rc == 0, f"VMM exit status {res.rc} after the guest rebooted\n{res.describe()}"
    return {n: found[n][1] for n in names}


def initrd_tree(initrd, dest):
    dest.mkdir()
    with open(initrd, "rb") as f:
        data = subprocess.run(["gzip", "-dc"], stdin=f, capture_output=True,
                              check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=data, cwd=dest, check=True)
    return dest


def ext4_image(path, tree, size="64M"):
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(path), size],
                   check=True, capture_output=True)
    return path


def drive(path, name="d0", readonly=False, iothread=None):
    dev = f"virtio-blk-device,drive={name},id=blk-{name}"
    if iothread:
        dev += f",iothread={iothread}"
    return ["-drive", f"id={name},file={path},readonly={'on' if readonly else 'off'},direct=off",
            "-device", dev]


# ---- boot formats and vCPUs ---------------------------------------------------

BOOTS = [(f, n) for f in KERNEL_FORMATS for n in (1, 2)]


@pytest.mark.parametrize("fmt,smp", BOOTS, ids=[f"{f}-smp{n}" for f, n in BOOTS])
def test_boot_nproc(vmm_bin, guest, fmt, smp):
    kdir, initrd = guest
    res = run_vm(vmm(vmm_bin, kdir / fmt, "sv.checks=nproc", smp=smp, initrd=initrd),
                 timeout=TIMEOUT)
    got = assert_checks(res, ["nproc"])
    assert got["nproc"]["value"] == str(smp), res.describe()


# ---- the console ---------------------------------------------------------------

CONSOLE = [(True, "reboot"), (False, "reboot"), (True, "poweroff")]


@pytest.mark.parametrize("acpi,end", CONSOLE,
                         ids=[f"{'acpi' if a else 'noacpi'}-{e}" for a, e in CONSOLE])
def test_console_shell(vmm_bin, guest, acpi, end):
    """The shell answers a typed command; `<end> -f` typed there ends the VMM with 0."""
    kdir, initrd = guest
    res = run_vm(vmm(vmm_bin, kdir / "bzImage", "", acpi=acpi, initrd=initrd),
                 timeout=TIMEOUT if end == "reboot" else 60,
                 respond={"type 'exit'": "echo sv-$((6*7))-answer\n",
                          "sv-42-answer": f"{end} -f\n"})
    assert any(l.startswith("sv-42-answer") for l in res.lines), \
        f"the shell did not answer\n{res.describe()}"
    assert not res.timed_out and res.rc == 0, \
        f"VMM did not exit 0 after `{end} -f`\n{res.describe()}"


# ---- virtio-blk ----------------------------------------------------------------

def test_ext4_root_write(vmm_bin, guest, tmp_path):
    kdir, initrd = guest
    img = ext4_image(tmp_path / "root.img", initrd_tree(initrd, tmp_path / "tree"))
    token = uuid.uuid4().hex
    append = f"root=/dev/vda rw init=/init sv.checks=write sv.token={token}"
    res = run_vm(vmm(vmm_bin, kdir / "vmlinux.bin", append, extra=drive(img)),
                 timeout=TIMEOUT)
    assert "VFS: Mounted root (ext4 filesystem)" in res.output, res.describe()
    assert_checks(res, ["write"])
    got = subprocess.run(["debugfs", "-R", "cat /svcheck.txt", str(img)],
                         capture_output=True, text=True)
    assert got.stdout.strip() == token, f"host read {got.stdout!r} from the image"


def test_readonly_disk_refuses_writes(vmm_bin, guest, tmp_path):
    kdir, initrd = guest
    img = tmp_path / "ro.img"
    img.write_bytes(os.urandom(1 << 20))
    before = hashlib.sha256(img.read_bytes()).hexdigest()
    res = run_vm(vmm(vmm_bin, kdir / "bzImage", "sv.checks=rofail sv.rodev=/dev/vda",
                     initrd=initrd, extra=drive(img, readonly=True)), timeout=TIMEOUT)
    got = assert_checks(res, ["rofail"])
    assert got["rofail"]["write"] == "refused" and got["rofail"]["ro"] == "1"
    assert hashlib.sha256(img.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("iothread", [None, "io1"], ids=["main", "iothread"])
def test_disk_checksum_64mib(vmm_bin, guest, tmp_path, iothread):
    kdir, initrd = guest
    img = tmp_path / "data.img"
    data = os.urandom(64 << 20)
    img.write_bytes(data)
    extra = drive(img, iothread=iothread)
    if iothread:
        extra = ["-object", f"iothread,id={iothread}"] + extra
    res = run_vm(vmm(vmm_bin, kdir / "bzImage", "sv.checks=blksum sv.blkdev=/dev/vda",
                     initrd=initrd, extra=extra), timeout=TIMEOUT)
    got = assert_checks(res, ["blksum"])
    assert got["blksum"]["bytes"] == str(len(data))
    assert got["blksum"]["sha256"] == hashlib.sha256(data).hexdigest()


# ---- virtio-net ----------------------------------------------------------------

class Sender(threading.Thread):
    """Accepts one TCP connection in the namespace and sends the payload."""

    def __init__(self, ns, payload):
        super().__init__(daemon=True)
        self.payload = payload
        self.sock = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST_IP, TCP_PORT))
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.sent = 0
        self.error = None

    def run(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.sendall(self.payload)
                self.sent = len(self.payload)
        except OSError as e:
            self.error = e
        finally:
            self.sock.close()


def tap_net_check(ns, netdev_opts=""):
    """HOST_IP on ns's tap; the VMM's virtio-net arguments on that tap
    (netdev_opts: more -netdev options, ",name=value..."), and the guest's
    command-line words that configure eth0 and run the ping and tcp checks
    against the tap's end."""
    ns.ip("addr", "add", f"{HOST_IP}/24", "dev", ns.tap)
    extra = ["-netdev", f"tap,id=n0,ifname={ns.tap}{netdev_opts}", "-device",
             "virtio-net-device,netdev=n0,id=net0,mac=52:54:00:12:34:56"]
    append = (f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off "
              f"sv.checks=ping,tcp sv.peer={HOST_IP} sv.tcp={HOST_IP}:{TCP_PORT}")
    return extra, append


def assert_ping_and_tcp(res, sender, payload):
    """The guest's ping check got answers and its tcp check read payload whole."""
    got = assert_checks(res, ["ping", "tcp"])
    assert int(got["ping"]["received"]) > 0, res.describe()
    assert sender.error is None, sender.error
    assert got["tcp"]["bytes"] == str(len(payload)), res.describe()
    assert got["tcp"]["sha256"] == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("iothread", [None, "io1"], ids=["main", "iothread"])
def test_network_ping_and_transfer(vmm_bin, guest, iothread):
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    kdir, initrd = guest
    payload = os.urandom(10 << 20)
    with NetNs() as ns:
        net, append = tap_net_check(ns, f",iothread={iothread}" if iothread else "")
        sender = Sender(ns, payload)
        sender.start()
        extra = ["-object", f"iothread,id={iothread}"] if iothread else []
        res = run_vm(ns.wrap(vmm(vmm_bin, kdir / "bzImage", append, initrd=initrd,
                                 extra=extra + net)), timeout=TIMEOUT)
        sender.join(timeout=10)
    assert_ping_and_tcp(res, sender, payload)


# ---- virtio-rng, virtio-console ------------------------------------------------

def test_rng_feeds_hwrng(vmm_bin, guest):
    kdir, initrd = guest
    extra = ["-object", "rng-random,id=rng0,filename=/dev/urandom",
             "-device", "virtio-rng-device,rng=rng0"]
    res = run_vm(vmm(vmm_bin, kdir / "bzImage", "sv.checks=rng", initrd=initrd, extra=extra),
                 timeout=TIMEOUT)
    got = assert_checks(res, ["rng"])
    assert got["rng"]["current"].startswith("virtio_rng"), got
    assert got["rng"]["bytes"] == "65536"
    assert int(got["rng"]["distinct"]) == 256, "64 KiB of random bytes hold every value"


def test_virtio_console_both_ways(vmm_bin, guest, tmp_path):
    kdir, initrd = guest
    sock = tmp_path / "vcon.sock"
    token = uuid.uuid4().hex[:12]
    received = []

    def peer():
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(sock))
                break
            except OSError:
                s.close()
                time.sleep(0.1)
        else:
            return
        s.settimeout(TIMEOUT)
        buf = b""
        try:
            while b"\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            received.append(buf)
            s.sendall(b"hello-from-host\n")
            time.sleep(2)
        except OSError:
            pass
        s.close()

    t = threading.Thread(target=peer, daemon=True)
    t.start()
    extra = ["-device", "virtio-serial-device",
             "-chardev", f"socket,id=con0,path={sock},server,nowait",
             "-device", "virtconsole,chardev=con0,id=console0"]
    res = run_vm(vmm(vmm_bin, kdir / "bzImage", f"sv.checks=vcon sv.token={token}",
                     initrd=initrd, extra=extra), timeout=TIMEOUT)
    t.join(timeout=10)
    assert received and received[0].strip() == f"SVCON guest {token}".encode(), \
        f"host received {received!r} from the virtio console\n{res.describe()}"
    got = assert_checks(res, ["vcon"])
    assert got["vcon"]["got"] == "hello-from-host"


# ---- Debian's stock kernel, QEMU -----------------------------------------------

def test_stock_cloud_kernel_initramfs(vmm_bin, guest, tmp_path):
    stock = stock_kernel()
    if not stock:
        pytest.skip("linux-image-cloud-amd64 is not installed (hwvirt_host_prepare "
                    "installs it with apt-get when run as root)")
    kernel, stock_initrd = stock
    _, initrd = guest
    img = ext4_image(tmp_path / "root.img", initrd_tree(initrd, tmp_path / "tree"))
    append = "root=/dev/vda rw init=/init nokaslr sv.checks=nproc"
    res = run_vm(vmm(vmm_bin, kernel, append, smp=2, mem=512, initrd=stock_initrd,
                     extra=drive(img)), timeout=TIMEOUT * 2)
    got = assert_checks(res, ["nproc"])
    assert got["nproc"]["value"] == "2"
    assert "virtio_mmio" not in re.search(r"Command line: (.*)", res.output).group(1)


def test_qemu_microvm_same_check(guest):
    qemu = os.environ.get("QEMU_BIN") or shutil.which("qemu-system-x86_64")
    if not qemu:
        pytest.skip("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
    kdir, initrd = guest
    argv = [qemu, "-M", "microvm,x-option-roms=off", "-enable-kvm", "-cpu", "host",
            "-m", "256", "-smp", "2", "-nodefaults", "-no-user-config", "-nographic",
            "-serial", "stdio", "-no-reboot", "-kernel", kdir / "vmlinux",
            "-initrd", initrd, "-append",
            # QEMU microvm has no i8042 for reboot=k: power off (its ACPI GED).
            f"{guest_cmdline()} sv.checks=nproc sv.end=poweroff"]
    res = run_vm(argv, timeout=2 * TIMEOUT)  # QEMU takes 2.5x our time in L1 (bench/linux_boot.py)
    got = assert_checks(res, ["nproc"])
    assert got["nproc"]["value"] == "2"
