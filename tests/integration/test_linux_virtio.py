# SPDX-License-Identifier: MulanPSL-2.0
"""Linux drives the virtio-mmio devices (issue 3, "Linux" tests).

The test kernel of guest/ (guest/build.sh) is booted as vmlinux.bin, with no
initrd, from an ext4 root on virtio-blk:

  ext4 root   root=/dev/vda rw: the console shows the virtio_blk probe of vda,
              "EXT4-fs (vda): mounted" and "VFS: Mounted root (ext4 ...)"; the
              kernel then runs /sbin/init from that file system. Guest user
              space cannot make system calls on the project's kvm_pvm hosts
              (docs/linux-tests.md), so init dies, the kernel panics, reboots
              (panic=1 reboot=k) and the VMM must exit with status 0. From the
              host the image shows the rw mount (mount count 1).
  network     a network namespace made by the test holds the tap
              (10.0.2.1/24); the kernel configures eth0 itself with ip=, sends
              its log with netconsole to a UDP listener on 10.0.2.1:6666 in the
              namespace, and answers ping from the namespace while it waits in
              rootdelay before mounting its root.
  discovery   both run twice: ACPI on (default; the DSDT describes the
              transports as LNRO0005, the command line has no
              virtio_mmio.device=) and -machine microvm,acpi=off (the VMM
              appends virtio_mmio.device= to the command line). Linux 6.1
              without CONFIG_PCI cannot load our DSDT (ACPICA: AE_BAD_PARAMETER
              during region initialization), so while the cached test kernel
              lacks CONFIG_PCI=y the ACPI variants are expected failures.
  stock       Debian's linux-image-cloud-amd64 (installed with apt-get when
              missing and root): its bzImage and initrd with ACPI on. virtio_mmio
              is a module there, so only the initramfs can find the disk; where
              guest user space cannot run, the test checks what the kernel does
              on its own (boot, e820, our ACPI tables) and skips with the reason.

The boots are slow here (one to two minutes each; rootdelay adds one), so all
boots of the selected tests start in the background, PARALLEL at a time, when
the first test asks for its result.

Environment:
  STRATOVIRT_BIN              VMM binary (default <repo>/build/stratovirt)
  STRATOVIRT_GUEST_CACHE      guest build cache (see guest/build.sh)
  LINUX_VIRTIO_KERNEL_DIR     use this built kernel directory (vmlinux.bin, config)
                              instead of running guest/build.sh
  LINUX_VIRTIO_TIMEOUT        seconds per boot of the test kernel (default 600)
  LINUX_VIRTIO_STOCK_TIMEOUT  seconds for the stock kernel (default 450: its 14 MB
                              bzImage alone takes minutes to decompress here)
  LINUX_VIRTIO_PARALLEL       boots at a time (default 2)
  LINUX_VIRTIO_APPEND         extra kernel arguments for the test kernel (debugging)
  LINUX_VIRTIO_LOGDIR         keep the serial logs there (default: pytest tmp)
"""
import concurrent.futures
import glob
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import NetNs, netns_unavailable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
GUEST_DIR = REPO / "guest"
BOOT_TIMEOUT = float(os.environ.get("LINUX_VIRTIO_TIMEOUT", "600"))
STOCK_TIMEOUT = float(os.environ.get("LINUX_VIRTIO_STOCK_TIMEOUT", "450"))
PARALLEL = int(os.environ.get("LINUX_VIRTIO_PARALLEL", "2"))
BUILD_TIMEOUT = 3 * 3600  # a cold kernel build on 2 shared cores

GUEST_IP, HOST_IP, NETMASK = "10.0.2.15", "10.0.2.1", "255.255.255.0"
GUEST_MAC = "52:54:00:12:34:56"
TAP_MAC = "02:53:56:00:00:01"      # the namespace's end: netconsole sends to it
NETCON_SRC_PORT, NETCON_PORT = 6665, 6666
ROOTDELAY = 60
MARKER = "stratovirt-linux-virtio-test\n"

DISCOVERY = ("cmdline", "acpi")
BLK_PROBE = re.compile(r"virtio_blk virtio\d+: \[vda\] \d+ 512-byte logical blocks")
EXT4_MOUNTED = re.compile(r"EXT4-fs \(vda\): mounted filesystem")
VFS_MOUNTED = "VFS: Mounted root (ext4 filesystem)"
RUN_INIT = "Run /sbin/init as init process"


def vmm_binary():
    return Path(os.environ.get("STRATOVIRT_BIN", REPO / "build" / "stratovirt"))


def guest_cmdline():
    lines = [l.strip() for l in (GUEST_DIR / "cmdline.txt").read_text().splitlines()]
    lines = [l for l in lines if l and not l.startswith("#")]
    assert len(lines) == 1, "guest/cmdline.txt must hold exactly one command line"
    return f"{lines[0]} {os.environ.get('LINUX_VIRTIO_APPEND', '')}".strip()


def console_cmdline(output):
    """The 'Command line:' line the kernel printed, or ''."""
    m = re.search(r"Command line: (.*)", output)
    return m.group(1) if m else ""


# ---- running one boot ---------------------------------------------------------

class Boot:
    """One VM run: serial+stderr collected; on_line(line) sees each line."""

    def __init__(self, name, argv, timeout, log_path, on_line=None):
        self.name, self.argv, self.timeout, self.log_path = name, argv, timeout, log_path
        self.on_line = on_line
        self.output = ""
        self.stderr = ""
        self.returncode = None
        self.timed_out = False
        self.seconds = 0.0
        self.extra = {}      # per-scenario findings (netconsole, ping, image)
        self.notes = []      # for describe()

    def run(self):
        start = time.monotonic()
        chunks, err = [], []
        with open(self.log_path, "wb") as log:
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)

            def read_out():
                pending = b""
                for chunk in iter(lambda: proc.stdout.read1(4096), b""):
                    chunks.append(chunk)
                    log.write(chunk)
                    log.flush()
                    pending += chunk
                    *lines, pending = re.split(rb"\r\n|\r|\n", pending)
                    for raw in lines:
                        if self.on_line:
                            self.on_line(raw.decode("utf-8", "replace"))

            def read_err():
                for chunk in iter(lambda: proc.stderr.read1(4096), b""):
                    err.append(chunk)

            threads = [threading.Thread(target=read_out, daemon=True),
                       threading.Thread(target=read_err, daemon=True)]
            for t in threads:
                t.start()
            try:
                proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.timed_out = True
                proc.kill()
                proc.wait()
            for t in threads:
                t.join(timeout=10)
            self.stderr = b"".join(err).decode("utf-8", "replace")
            log.write(b"\n--- stderr ---\n" + self.stderr.encode())
        self.returncode = proc.returncode
        self.seconds = time.monotonic() - start
        out = b"".join(chunks).decode("utf-8", "replace")
        self.output = out.replace("\r\n", "\n").replace("\r", "\n")
        return self

    def describe(self, tail=40):
        last = "\n".join(self.output.splitlines()[-tail:])
        notes = "".join(f"{n}\n" for n in self.notes)
        state = (f"TIMED OUT: killed after {self.seconds:.0f} s, the guest had not "
                 f"finished (see the last lines)\n" if self.timed_out else "")
        return (f"{state}boot {self.name}: {shlex.join(map(str, self.argv))}\n"
                f"exit status {self.returncode}, timed out: {self.timed_out}, "
                f"{self.seconds:.1f} s; full log: {self.log_path}\n{notes}"
                f"--- last lines of the serial output ---\n{last}\n"
                f"--- VMM stderr ---\n{self.stderr[-3000:]}")


def make_rootfs(path):
    """A 64 MiB ext4 image holding /sbin/init (static busybox) and /MARKER."""
    tree = Path(str(path) + ".d")
    (tree / "sbin").mkdir(parents=True)
    for d in ("dev", "proc", "sys", "tmp"):
        (tree / d).mkdir()
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, tree / "sbin" / "init")
    (tree / "MARKER").write_text(MARKER)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(path), "64M"],
                   check=True, capture_output=True)
    shutil.rmtree(tree)
    return path


def image_after_boot(path):
    """What the host sees in the image: mount count, marker file."""
    info = {}
    r = subprocess.run(["dumpe2fs", "-h", str(path)], capture_output=True, text=True)
    m = re.search(r"^Mount count:\s*(\d+)", r.stdout, re.M)
    info["mount_count"] = int(m.group(1)) if m else None
    r = subprocess.run(["debugfs", "-R", "cat /MARKER", str(path)],
                       capture_output=True, text=True)
    info["marker"] = r.stdout
    return info


def vmm_argv(kernel, cmdline, discovery, disk, extra=(), mem=256, initrd=None):
    machine = "microvm" if discovery == "acpi" else "microvm,acpi=off"
    argv = [str(vmm_binary()), "-machine", machine, "-smp", "1", "-m", str(mem),
            "-kernel", str(kernel)]
    if initrd:
        argv += ["-initrd", str(initrd)]
    argv += ["-append", cmdline,
             "-drive", f"id=rootfs,file={disk},readonly=off,direct=off",
             "-device", "virtio-blk-device,drive=rootfs,id=blk0",
             *extra, "-serial", "stdio"]
    return argv


def boot_ext4(kernel_dir, discovery, workdir):
    disk = make_rootfs(workdir / f"ext4-{discovery}.img")
    cmdline = f"root=/dev/vda rw {guest_cmdline()}"
    b = Boot(f"ext4-{discovery}", vmm_argv(kernel_dir / "vmlinux.bin", cmdline, discovery, disk),
             BOOT_TIMEOUT, workdir / f"ext4-{discovery}.log")
    b.run()
    b.extra["image"] = image_after_boot(disk)
    return b


def icmp_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(ns, addr, count=3, wait=2.0):
    """ICMP echo from inside the namespace (a raw socket made there, so no
    ping(8) is needed); returns (replies, text like ping's)."""
    sock = ns.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    replies, lines = 0, []
    try:
        for seq in range(1, count + 1):
            payload = b"stratovirt-linux-virtio" + struct.pack("!d", time.time())
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, icmp_checksum(hdr + payload), ident, seq) + payload
            sent = time.monotonic()
            sock.sendto(pkt, (addr, 0))
            got = False
            while not got and time.monotonic() - sent < wait:
                sock.settimeout(max(0.01, wait - (time.monotonic() - sent)))
                try:
                    data, peer = sock.recvfrom(2048)
                except socket.timeout:
                    break
                ihl = (data[0] & 0x0F) * 4
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if peer[0] == addr and typ == 0 and rid == ident and rseq == seq:
                    got = True
                    replies += 1
                    lines.append(f"reply from {addr}: icmp_seq={seq} "
                                 f"time={(time.monotonic() - sent) * 1000:.1f} ms")
            if not got:
                lines.append(f"no reply to icmp_seq={seq} within {wait} s")
    finally:
        sock.close()
    lines.append(f"{count} packets transmitted, {replies} received")
    return replies, "\n".join(lines)


def boot_net(kernel_dir, discovery, workdir):
    """ext4 root + virtio-net in a namespace: ip=, netconsole, ping in rootdelay."""
    disk = make_rootfs(workdir / f"net-{discovery}.img")
    cmdline = (f"root=/dev/vda rw {guest_cmdline()} "
               f"ip={GUEST_IP}::{HOST_IP}:{NETMASK}::eth0:off "
               f"netconsole={NETCON_SRC_PORT}@{GUEST_IP}/eth0,{NETCON_PORT}@{HOST_IP}/{TAP_MAC} "
               f"rootdelay={ROOTDELAY}")
    with NetNs() as ns:
        ns.ip("link", "set", ns.tap, "address", TAP_MAC)
        ns.ip("addr", "add", f"{HOST_IP}/24", "dev", ns.tap)
        ns.ip("link", "set", "lo", "up")
        udp = ns.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((HOST_IP, NETCON_PORT))
        udp.settimeout(0.5)
        received = []
        stop = threading.Event()

        def listen():
            while not stop.is_set():
                try:
                    data, peer = udp.recvfrom(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                received.append((peer, data.decode("utf-8", "replace")))

        pings = []
        waiting = threading.Event()
        mounted = threading.Event()

        def pinger():
            # The kernel waits ROOTDELAY s after "Waiting ... before mounting root
            # device": ping it then, a few tries, until one gets replies.
            if not waiting.wait(BOOT_TIMEOUT):
                return
            deadline = time.monotonic() + ROOTDELAY - 5
            while time.monotonic() < deadline and not mounted.is_set():
                try:
                    replies, text = ping(ns, GUEST_IP, count=3, wait=2.0)
                except OSError as e:
                    replies, text = 0, f"ping failed: {e}"
                pings.append((replies, text))
                if replies:
                    return
                time.sleep(1)

        def on_line(line):
            if "before mounting root device" in line:
                waiting.set()
            elif VFS_MOUNTED in line or "Kernel panic" in line:
                mounted.set()
                waiting.set()

        extra = ["-netdev", f"tap,id=n0,ifname={ns.tap}",
                 "-device", f"virtio-net-device,netdev=n0,id=net0,mac={GUEST_MAC}"]
        b = Boot(f"net-{discovery}",
                 ns.wrap(vmm_argv(kernel_dir / "vmlinux.bin", cmdline, discovery, disk, extra)),
                 BOOT_TIMEOUT, workdir / f"net-{discovery}.log", on_line)
        threads = [threading.Thread(target=listen, daemon=True),
                   threading.Thread(target=pinger, daemon=True)]
        for t in threads:
            t.start()
        try:
            b.run()
        finally:
            waiting.set()
            mounted.set()
            threads[1].join(timeout=30)
            stop.set()
            threads[0].join(timeout=5)
            udp.close()
    b.extra["netconsole"] = received
    b.extra["pings"] = pings
    b.extra["image"] = image_after_boot(disk)
    b.notes.append(f"netconsole datagrams: {len(received)}; first: "
                   f"{[d for _, d in received[:3]]!r}")
    for replies, out in pings:
        b.notes.append(f"ping ({replies} replies):\n{out.strip()}")
    return b


# ---- Debian's stock cloud kernel ------------------------------------------------

def stock_kernel():
    """(vmlinuz, initrd or None, System.map or None) of the newest cloud kernel."""
    found = sorted(glob.glob("/boot/vmlinuz-*-cloud-amd64"),
                   key=lambda p: [int(x) if x.isdigit() else x
                                  for x in re.split(r"[.-]", p)])
    if not found:
        return None
    k = Path(found[-1])
    ver = k.name[len("vmlinuz-"):]
    initrd = Path(f"/boot/initrd.img-{ver}")
    smap = Path(f"/boot/System.map-{ver}")
    return k, (initrd if initrd.is_file() else None), (smap if smap.is_file() else None)


def install_stock_kernel():
    """apt-get install linux-image-cloud-amd64 when missing; None or why not."""
    if stock_kernel():
        return None
    if os.geteuid() != 0:
        return "linux-image-cloud-amd64 is not installed and installing it needs root"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "linux-image-cloud-amd64"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0 or not stock_kernel():
        return f"apt-get install linux-image-cloud-amd64 failed: {(r.stderr or r.stdout)[-500:]}"
    return None


def symbolize(rip, system_map):
    """'function+0xoff' for a kernel address (the stock boot uses nokaslr).

    Debian ships a stub System.map (the real one is in the -dbg package):
    then None.
    """
    if not system_map:
        return None
    best = None
    with open(system_map) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in ("t", "T", "w", "W"):
                continue
            addr = int(parts[0], 16)
            if addr <= rip and (best is None or addr > best[0]):
                best = (addr, parts[2])
    if not best or rip - best[0] > 0x100000:
        return None
    return f"{best[1]}+{rip - best[0]:#x}"


# Instructions that kvm_pvm's emulator is known not to handle
# (shared/reference/kvm-on-these-machines.md), by their first bytes.
KNOWN_UNEMULATED = [
    ("cc", "int3: the kernel's boot-time int3 self-test (int3_selftest() in "
           "arch/x86/kernel/alternative.c, which the test kernel patches out)"),
    ("9b", "fwait (fpu__drop(), which the test kernel patches out)"),
    ("48 0f c7", "cmpxchg16b"),
    ("0f c7", "cmpxchg8b/16b"),
    ("0f 01 ca", "clac (SMAP)"),
    ("0f 01 cb", "stac (SMAP)"),
    ("f3 0f b8", "popcnt"),
    ("f3 48 0f b8", "popcnt"),
    ("0f ae", "xrstor/xsave family"),
    ("48 0f ae", "xrstor/xsave family"),
]


def name_instruction(code):
    code = code.strip()
    for prefix, what in KNOWN_UNEMULATED:
        if code.startswith(prefix):
            return what
    return "an instruction this host cannot emulate"


def boot_stock(workdir):
    kernel, initrd, smap = stock_kernel()
    disk = make_rootfs(workdir / "stock.img")
    # The host workarounds of guest/cmdline.txt, and nokaslr so that a faulting
    # rip can be named from System.map.
    cmdline = f"root=/dev/vda rw {guest_cmdline()} nokaslr"
    b = Boot("stock", vmm_argv(kernel, cmdline, "acpi", disk, mem=512, initrd=initrd),
             STOCK_TIMEOUT, workdir / "stock.log")
    b.extra.update(kernel=kernel, initrd=initrd, system_map=smap)
    return b.run()


# ---- scheduling ---------------------------------------------------------------

BOOT_FUNCS = {
    "test_ext4_root": boot_ext4,
    "test_network": boot_net,
}


@pytest.fixture(scope="module")
def guest_kernel():
    """Build (or reuse from the cache) the guest kernel; its directory."""
    if os.environ.get("LINUX_VIRTIO_KERNEL_DIR"):
        kernel_dir = Path(os.environ["LINUX_VIRTIO_KERNEL_DIR"])
        assert (kernel_dir / "vmlinux.bin").is_file(), f"{kernel_dir}/vmlinux.bin missing"
        return kernel_dir
    build = GUEST_DIR / "build.sh"
    try:
        res = subprocess.run([str(build)], capture_output=True, text=True,
                             timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{build} did not finish in {BUILD_TIMEOUT} s")
    if res.returncode != 0:
        if "missing packages" in res.stderr:
            pytest.skip("cannot build the guest: " + res.stderr.strip().splitlines()[-1])
        pytest.fail(f"{build} failed ({res.returncode}):\n{res.stderr[-4000:]}")
    m = re.search(r"^KERNEL_DIR=(.*)$", res.stdout, re.M)
    assert m, res.stdout
    kernel_dir = Path(m.group(1))
    assert (kernel_dir / "vmlinux.bin").is_file(), f"{kernel_dir}/vmlinux.bin missing"
    return kernel_dir


def host_is_kvm_pvm():
    return os.path.isdir("/sys/module/kvm_pvm")


def known_stall(kernel_dir, discovery):
    """Why a boot of the test kernel cannot finish here (so it is not run), or None."""
    cmdline = guest_cmdline()
    if discovery == "acpi" and "no-kvmclock" in cmdline.split():
        return ("ACPI on with no-kvmclock: our FADT is hardware-reduced, so Linux sets up "
                "no PIT/legacy PIC timer (acpi_generic_reduced_hw_init) and, without "
                "kvm-clock, hangs calibrating the delay loop (jiffies never advance)")
    if (host_is_kvm_pvm() and kernel_has(kernel_dir, "CONFIG_PTP_1588_CLOCK_KVM")
            and "no-kvmclock" not in cmdline.split()):
        return (f"test kernel {kernel_dir} has CONFIG_PTP_1588_CLOCK_KVM=y: on this kvm_pvm "
                "host ptp_kvm_init() never returns from its vmcall (KVM_HC_CLOCK_PAIRING, "
                "kvm_hypercall2+0xb), so the boot stalls after rtc_cmos, before the root "
                "is mounted; disable it in guest/kernel.config (or set "
                "LINUX_VIRTIO_APPEND=no-kvmclock for the acpi=off runs)")
    return None


def kernel_has(kernel_dir, option):
    try:
        return f"{option}=y" in (kernel_dir / "config").read_text().splitlines()
    except OSError:
        return False


@pytest.fixture(scope="module")
def boots(request, tmp_path_factory):
    """Starts every boot the selected tests of this module need; key -> future."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not available")
    vmm = vmm_binary()
    if not os.access(vmm, os.X_OK):
        pytest.skip(f"VMM binary {vmm} not built (set STRATOVIRT_BIN)")
    for tool in ("mkfs.ext4", "dumpe2fs", "debugfs"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed (apt-get install e2fsprogs)")
    wanted = []
    for item in request.session.items:
        if item.module is not request.module:
            continue
        name = item.originalname
        if name in BOOT_FUNCS:
            wanted.append((name, item.callspec.params["discovery"]))
        elif name == "test_stock_cloud_kernel":
            wanted.append((name, "acpi"))
    kernel_dir = None
    if any(n in BOOT_FUNCS for n, _ in wanted):
        kernel_dir = request.getfixturevalue("guest_kernel")
    stock_why = None
    if (("test_stock_cloud_kernel", "acpi")) in wanted:
        stock_why = install_stock_kernel()
    logdir = os.environ.get("LINUX_VIRTIO_LOGDIR")
    if logdir:
        workdir = Path(logdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = tmp_path_factory.mktemp("linux-virtio")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL)
    futures = {}
    # The stock kernel first: it is the longest boot, the others fill the
    # second slot meanwhile.
    stalls = {}
    for name, disc in sorted(wanted, key=lambda k: (k[0] != "test_stock_cloud_kernel", k)):
        if name in BOOT_FUNCS and known_stall(kernel_dir, disc):
            stalls[(name, disc)] = known_stall(kernel_dir, disc)
        elif name in BOOT_FUNCS:
            futures[(name, disc)] = pool.submit(BOOT_FUNCS[name], kernel_dir, disc, workdir)
        elif stock_why is None:
            futures[(name, disc)] = pool.submit(boot_stock, workdir)
    yield {"futures": futures, "kernel_dir": kernel_dir, "stock_why": stock_why,
           "count": len(futures), "stalls": stalls}
    pool.shutdown(wait=True)


def result(boots, key, timeout):
    if key in boots["stalls"]:
        pytest.xfail(f"not booted: {boots['stalls'][key]}")
    # The boot may be queued behind the others: allow for the whole queue.
    return boots["futures"][key].result(timeout=timeout * boots["count"] + 120)


def expect_acpi_limits(request, boots, discovery):
    """The ACPI variant cannot work with a test kernel built without CONFIG_PCI."""
    kdir = boots["kernel_dir"]
    if discovery == "acpi" and not kernel_has(kdir, "CONFIG_PCI"):
        request.applymarker(pytest.mark.xfail(
            reason=f"test kernel {kdir} lacks CONFIG_PCI=y: Linux 6.1's ACPICA then "
                   "fails to load the DSDT ('ACPI Error: AE_BAD_PARAMETER, During Region "
                   "initialization'), so ACPI discovery of the LNRO0005 transports "
                   "cannot work (guest/kernel.config)", strict=False))


def check_discovery(b, discovery):
    cl = console_cmdline(b.output)
    assert cl, f"no 'Command line:' on the console\n{b.describe()}"
    if discovery == "acpi":
        assert "virtio_mmio.device=" not in cl, \
            f"ACPI on, yet the VMM put virtio_mmio.device= on the command line\n{b.describe()}"
        assert "ACPI Error" not in b.output, f"the kernel rejected our ACPI tables\n{b.describe()}"
    else:
        assert "virtio_mmio.device=512@0xf0100000:5" in cl, \
            f"acpi=off, yet no virtio_mmio.device= on the command line\n{b.describe()}"


def check_ext4_root(b):
    out = b.output
    assert BLK_PROBE.search(out), f"virtio_blk never probed vda\n{b.describe()}"
    assert EXT4_MOUNTED.search(out), f"ext4 on vda not mounted\n{b.describe()}"
    assert VFS_MOUNTED in out, f"root not mounted\n{b.describe()}"
    # The kernel loaded /sbin/init from the ext4 root: it did not fall through
    # to "No working init found".
    assert RUN_INIT in out and "No working init found" not in out, \
        f"/sbin/init not run from the ext4 root\n{b.describe()}"
    img = b.extra["image"]
    assert img["mount_count"] == 1, f"image not mounted rw by the guest: {img}\n{b.describe()}"
    assert img["marker"] == MARKER, f"image contents damaged: {img}"


def check_exit(b):
    assert not b.timed_out, f"guest did not end within {b.timeout} s\n{b.describe()}"
    assert "Kernel panic" in b.output, f"no panic (init cannot run here)?\n{b.describe()}"
    assert b.returncode == 0, f"VMM exit status {b.returncode} after the panic\n{b.describe()}"


# ---- tests ----------------------------------------------------------------------

@pytest.mark.parametrize("discovery", DISCOVERY)
def test_ext4_root(request, boots, discovery):
    expect_acpi_limits(request, boots, discovery)
    b = result(boots, ("test_ext4_root", discovery), BOOT_TIMEOUT)
    print(b.describe())
    check_discovery(b, discovery)
    check_ext4_root(b)
    check_exit(b)


@pytest.mark.parametrize("discovery", DISCOVERY)
def test_network(request, boots, discovery):
    if netns_unavailable():
        pytest.skip(netns_unavailable())
    expect_acpi_limits(request, boots, discovery)
    b = result(boots, ("test_network", discovery), BOOT_TIMEOUT)
    print(b.describe())
    check_discovery(b, discovery)
    out = b.output
    assert re.search(r"virtio_net virtio\d+ eth0|eth0: .*52:54:00:12:34:56|IP-Config: Complete",
                     out), f"no eth0\n{b.describe()}"
    assert "IP-Config: Complete" in out and f"addr={GUEST_IP}" in out, \
        f"ip= autoconfiguration did not configure eth0\n{b.describe()}"
    assert re.search(r"netconsole: network logging started", out), \
        f"netconsole did not start\n{b.describe()}"
    # netconsole: kernel log lines arrived at the listener in the namespace,
    # from the guest's address and port.
    got = b.extra["netconsole"]
    assert got, f"no netconsole datagram reached {HOST_IP}:{NETCON_PORT}\n{b.describe()}"
    peers = {p for p, _ in got}
    assert peers == {(GUEST_IP, NETCON_SRC_PORT)}, f"unexpected senders {peers}"
    text = "".join(d for _, d in got)
    assert "before mounting root device" in text and VFS_MOUNTED in text, \
        f"netconsole text lacks the rootdelay/mount lines:\n{text[-2000:]}\n{b.describe()}"
    # ping during rootdelay: the guest kernel answered.
    pings = b.extra["pings"]
    assert pings, f"never pinged (no rootdelay line?)\n{b.describe()}"
    replies, ping_out = pings[-1]
    assert replies > 0, \
        f"no ping replies from {GUEST_IP}\n{b.describe()}"
    check_ext4_root(b)
    check_exit(b)


def test_stock_cloud_kernel(boots):
    if boots["stock_why"]:
        pytest.skip(boots["stock_why"])
    b = result(boots, ("test_stock_cloud_kernel", "acpi"), STOCK_TIMEOUT)
    print(b.describe())
    out = b.output
    kernel = b.extra["kernel"]
    # What must work on any host: the boot protocol and our firmware tables.
    assert "Linux version" in out, f"{kernel} printed nothing\n{b.describe()}"
    assert re.search(r"BIOS-e820: \[mem 0x0000000000000000-", out), \
        f"no e820 map\n{b.describe()}"
    for sig in ("RSDP", "XSDT", "FACP", "DSDT", "APIC"):
        assert re.search(rf"ACPI: {sig} 0x[0-9A-F]+ .*STRATO", out), \
            f"ACPI table {sig} from the VMM not listed\n{b.describe()}"
    assert "virtio_mmio.device=" not in console_cmdline(out)
    if BLK_PROBE.search(out):
        # A host that runs guest user space: the initramfs loaded virtio_mmio
        # (ACPI LNRO0005) and virtio_blk.
        return
    last = [l for l in out.splitlines() if l.strip()][-1:] or ["(nothing)"]
    where = f"last console line: {last[0].strip()!r}, {b.seconds:.0f} s after start"
    m = re.search(r"emulation failure.*\n\s*rip=([0-9a-f]+)", b.stderr)
    if m:
        rip = int(m.group(1), 16)
        sym = symbolize(rip, b.extra["system_map"])
        code = re.search(r"code at gpa [0-9a-f]+:([0-9a-f ]+)", b.stderr)
        code = code.group(1).strip() if code else "?"
        pytest.skip(f"{kernel.name} boots with our VMM (e820 map, our ACPI tables incl. the "
                    f"STRATO DSDT listed) but this host's kvm_pvm cannot emulate "
                    f"{name_instruction(code)}: KVM emulation failure at rip {rip:#x}"
                    f"{' (' + sym + ')' if sym else ''}, code bytes {code}; {where}. It never "
                    "gets to its initramfs, which is what would load virtio_mmio.ko (a module "
                    "there) to find the LNRO0005 disk; even past that, guest user space "
                    "cannot make system calls on this host")
    if "Run /init as init process" in out:
        pytest.skip(f"{kernel.name} boots to its initramfs with ACPI, but guest user space "
                    "cannot make system calls on this host (kvm_pvm, no hardware "
                    "virtualization), so the initramfs cannot load virtio_mmio.ko (a module "
                    "in this kernel) and the LNRO0005 disk is never probed; " + where)
    pytest.fail(f"{kernel.name} stopped before its initramfs ran, without an emulation "
                f"failure: {where}\n{b.describe()}")
