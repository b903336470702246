# SPDX-License-Identifier: MulanPSL-2.0
"""virtio devices driven by the test guest's own drivers (docs/test-guest.md).

The guest (tests/guest/virtio, checks virtio_*) finds the virtio-mmio
transports by probing, checks that the DSDT (ACPI on) or the command line
(acpi=off) describes each, and drives the devices; the host side checks what
reached the host: the disk image after the VM exits, the console socket,
frames on a tap inside a network namespace made by the test.

Disk layout shared with tests/guest/checks/virtio_blk.c (sectors of 512):
every sector of the image starts with its number (u64 LE), byte i >= 8 is
(s*131 + i*7 + 1) & 0xff; the guest reads 0..63, writes its own pattern to
64..71, write-zeroes 128..135 and discards 192..199.
"""
import os
import socket
import struct
import threading
import time

import pytest

from conftest import DEBUG_EXIT, parse_guest_output, run_vm  # the netns fixture is there too

VM_TIMEOUT = 90
SECTOR = 512
IMG_SECTORS = 2048
GUEST_WRITE = range(64, 72)
ZEROED = list(range(128, 136)) + list(range(192, 200))
SERIAL = "svtest-disk-01"
NET_MAC = "52:54:00:12:34:56"
ETHERTYPE = 0x88B5


# ---- helpers ----------------------------------------------------------------

def host_sector(s):
    return struct.pack("<Q", s) + bytes((s * 131 + i * 7 + 1) & 0xFF for i in range(8, SECTOR))


def guest_sector(s):
    return (struct.pack("<Q", s ^ 0x0054534555475653)
            + bytes((s * 13 + i * 3 + 0x55) & 0xFF for i in range(8, SECTOR)))


def make_image(path, sectors=IMG_SECTORS):
    with open(path, "wb") as f:
        for s in range(sectors):
            f.write(host_sector(s))
    return path


def vmm_base(vmm_bin, kernel, append, acpi=True):
    machine = "microvm" if acpi else "microvm,acpi=off"
    return [vmm_bin, "-machine", machine, "-smp", "1", "-m", "256", "-kernel", kernel,
            "-append", append, "-serial", "stdio", *DEBUG_EXIT]


def guest_append(tests, extra="", acpi=True):
    line = f"svtest=1 exit=i8042 tests={','.join(tests)} discovery={'acpi' if acpi else 'cmdline'}"
    return f"{line} {extra}".strip()


def rng_args():
    return ["-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-device,rng=rng0"]


def drive_args(path, spelling, drive_id="d0", readonly=False, serial=None):
    ro = "on" if readonly else "off"
    if spelling == "early":
        opts = f"id={drive_id},file={path},readonly={ro}"
        if serial:
            opts += f",serial={serial}"
        return ["-drive", opts]
    dev = f"virtio-blk-device,drive={drive_id},id=blk-{drive_id}"
    if serial:
        dev += f",serial={serial}"
    return ["-drive", f"id={drive_id},file={path},readonly={ro},direct=off,if=none,format=raw",
            "-device", dev]


def assert_guest(res, expected):
    rep = parse_guest_output(res.lines)
    info = res.describe()
    assert not res.timed_out, f"VM did not end in time\n{info}"
    assert rep.started and rep.done, f"guest did not run to the end\n{info}"
    for name in expected:
        status = rep.results.get(name)
        assert status and status[0] == "PASS", f"check {name}: {status}\n{info}"
    assert rep.failed == 0, f"guest reported failures\n{info}"
    assert res.rc == 0, f"VMM exit status {res.rc}\n{info}"
    return rep


# ---- virtio-blk -------------------------------------------------------------

@pytest.mark.parametrize("acpi", [True, False], ids=["acpi", "noacpi"])
@pytest.mark.parametrize("spelling", ["v2", "early"])
def test_blk_data(vmm_bin, kvm, guest_bin, tmp_path, spelling, acpi):
    img = make_image(tmp_path / "disk.img")
    append = guest_append(["virtio_discovery", "virtio_blk"], f"blk_serial={SERIAL}", acpi)
    argv = vmm_base(vmm_bin, guest_bin, append, acpi) + drive_args(img, spelling, serial=SERIAL)
    res = run_vm(argv, timeout=VM_TIMEOUT)
    assert_guest(res, ["virtio_discovery", "virtio_blk"])
    assert f'id "{SERIAL}"' in res.output, res.describe()

    # The guest flushed before exiting: everything is in the file now.
    data = img.read_bytes()
    assert len(data) == IMG_SECTORS * SECTOR
    for s in range(IMG_SECTORS):
        got = data[s * SECTOR:(s + 1) * SECTOR]
        if s in GUEST_WRITE:
            want = guest_sector(s)
        elif s in ZEROED:
            want = bytes(SECTOR)
        else:
            want = host_sector(s)
        assert got == want, f"sector {s} of the image is wrong after the run\n{res.describe()}"


def test_blk_elf_entry(vmm_bin, kvm, guest_elf, tmp_path):
    """The same data path from the PVH entry."""
    img = make_image(tmp_path / "disk.img")
    append = guest_append(["virtio_discovery", "virtio_blk"])
    res = run_vm(vmm_base(vmm_bin, guest_elf, append) + drive_args(img, "v2"),
                 timeout=VM_TIMEOUT)
    assert_guest(res, ["virtio_discovery", "virtio_blk"])


@pytest.mark.parametrize("spelling", ["v2", "early"])
def test_blk_readonly(vmm_bin, kvm, guest_bin, tmp_path, spelling):
    img = make_image(tmp_path / "ro.img")
    before = img.read_bytes()
    append = guest_append(["virtio_blk_ro", "virtio_blk"], "blk_ro=1")
    argv = vmm_base(vmm_bin, guest_bin, append) + drive_args(img, spelling, readonly=True)
    res = run_vm(argv, timeout=VM_TIMEOUT)
    assert_guest(res, ["virtio_blk_ro", "virtio_blk"])
    assert img.read_bytes() == before, "a read-only image changed"


@pytest.mark.parametrize("disks", [0, 1, 2])
def test_blk_empty_slots(vmm_bin, kvm, guest_bin, tmp_path, disks):
    argv = []
    for i in range(disks):
        argv += drive_args(make_image(tmp_path / f"d{i}.img", 256), "v2", drive_id=f"d{i}")
    append = guest_append(["virtio_discovery", "virtio_blk_slots"],
                          f"blk_slots=4 blk_disks={disks}")
    res = run_vm(vmm_base(vmm_bin, guest_bin, append) + argv, timeout=VM_TIMEOUT)
    assert_guest(res, ["virtio_discovery", "virtio_blk_slots"])


# ---- virtio-rng -------------------------------------------------------------

@pytest.mark.parametrize("acpi", [True, False], ids=["acpi", "noacpi"])
def test_rng(vmm_bin, kvm, guest_bin, acpi):
    append = guest_append(["virtio_discovery", "virtio_rng"], acpi=acpi)
    res = run_vm(vmm_base(vmm_bin, guest_bin, append, acpi) + rng_args(), timeout=VM_TIMEOUT)
    assert_guest(res, ["virtio_discovery", "virtio_rng"])


# ---- virtio-console ---------------------------------------------------------

class ConsolePeer(threading.Thread):
    """Connects to the chardev socket, sends ping-console, reads a line."""

    def __init__(self, path, timeout=60):
        super().__init__(daemon=True)
        self.path, self.timeout = str(path), timeout
        self.received, self.error = b"", None

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            while not os.path.exists(self.path):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.path} never appeared")
                time.sleep(0.05)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            for _ in range(100):
                try:
                    s.connect(self.path)
                    break
                except (ConnectionRefusedError, FileNotFoundError):
                    time.sleep(0.05)
            s.sendall(b"ping-console\n")
            s.settimeout(max(1.0, deadline - time.monotonic()))
            while b"\n" not in self.received:
                chunk = s.recv(4096)
                if not chunk:
                    break
                self.received += chunk
            s.close()
        except Exception as e:  # reported by the test
            self.error = e


@pytest.mark.parametrize("acpi", [True, False], ids=["acpi", "noacpi"])
def test_console(vmm_bin, kvm, guest_bin, tmp_path, acpi):
    sock = tmp_path / "con.sock"
    peer = ConsolePeer(sock)
    peer.start()
    append = guest_append(["virtio_discovery", "virtio_console"], acpi=acpi)
    argv = vmm_base(vmm_bin, guest_bin, append, acpi) + [
        "-device", "virtio-serial-device",
        "-chardev", f"socket,id=con0,path={sock},server,nowait",
        "-device", "virtconsole,chardev=con0,id=console0"]
    res = run_vm(argv, timeout=VM_TIMEOUT)
    peer.join(timeout=10)
    assert_guest(res, ["virtio_discovery", "virtio_console"])
    assert peer.error is None, f"console peer: {peer.error}\n{res.describe()}"
    assert peer.received == b"hello-from-guest\n", f"got {peer.received!r}\n{res.describe()}"


# ---- virtio-net -------------------------------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class NetPeer(threading.Thread):
    """Waits for the guest's broadcast, then sends it frames until stopped.

    The guest posts its receive buffers before it sends, so once its frame
    is on the tap it can take ours; repeating covers a frame lost to timing.
    """

    def __init__(self, sock, guest_mac, timeout=60):
        super().__init__(daemon=True)
        self.sock, self.guest_mac, self.timeout = sock, mac_bytes(guest_mac), timeout
        self.guest_frame, self.sent, self.error = None, 0, None
        self.stop = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            self.sock.settimeout(0.2)
            while self.guest_frame is None and not self.stop.is_set():
                if time.monotonic() > deadline:
                    raise TimeoutError("no frame from the guest")
                try:
                    frame = self.sock.recv(65536)
                except socket.timeout:
                    continue
                if (len(frame) >= 14 and struct.unpack("!H", frame[12:14])[0] == ETHERTYPE
                        and frame[6:12] == self.guest_mac):
                    self.guest_frame = frame
            reply = (self.guest_mac + bytes.fromhex("020000000001")
                     + struct.pack("!H", ETHERTYPE) + b"svtest-host-to-guest")
            reply += bytes(max(0, 60 - len(reply)))
            while not self.stop.is_set() and self.sent < 20:
                self.sock.send(reply)
                self.sent += 1
                self.stop.wait(0.5)
        except Exception as e:
            self.error = e


@pytest.mark.parametrize("acpi", [True, False], ids=["acpi", "noacpi"])
@pytest.mark.parametrize("spelling", ["v2", "early"])
def test_net(vmm_bin, kvm, guest_bin, netns, spelling, acpi):
    sock = netns.packet_socket()
    peer = NetPeer(sock, NET_MAC)
    peer.start()
    if spelling == "v2":
        net = ["-netdev", f"tap,id=net0,ifname={netns.tap}",
               "-device", f"virtio-net-device,netdev=net0,id=net0,mac={NET_MAC}"]
    else:
        net = ["-netdev", f"id=net0,netdev={netns.tap},mac={NET_MAC}"]
    append = guest_append(["virtio_discovery", "virtio_net"], f"net_mac={NET_MAC}", acpi)
    argv = netns.wrap(vmm_base(vmm_bin, guest_bin, append, acpi) + net)
    try:
        res = run_vm(argv, timeout=VM_TIMEOUT)
    finally:
        peer.stop.set()
        peer.join(timeout=5)
        sock.close()
    assert_guest(res, ["virtio_discovery", "virtio_net"])
    assert peer.error is None, f"net peer: {peer.error}\n{res.describe()}"
    f = peer.guest_frame
    assert f[:6] == b"\xff" * 6, f"guest frame not broadcast: {f.hex()}"
    assert f[14:14 + 20] == b"svtest-guest-to-host", f"guest payload: {f[14:40]!r}"
    assert "SVTEST NET-READY" in res.output


# ---- I/O threads ------------------------------------------------------------

def test_blk_and_net_on_iothreads(vmm_bin, kvm, guest_bin, tmp_path, netns):
    """The same guest checks pass with the disk and the NIC on I/O threads."""
    img = make_image(tmp_path / "disk.img")
    sock = netns.packet_socket()
    peer = NetPeer(sock, NET_MAC)
    peer.start()
    append = guest_append(["virtio_blk", "virtio_net"],
                          f"blk_serial={SERIAL} net_mac={NET_MAC}")
    argv = netns.wrap(vmm_base(vmm_bin, guest_bin, append, True) +
                      ["-object", "iothread,id=io1", "-iothread", "id=io2",
                       "-drive", f"id=d0,file={img},if=none,format=raw,direct=off",
                       "-device", f"virtio-blk-device,drive=d0,id=blk0,iothread=io1,serial={SERIAL}",
                       "-netdev", f"tap,id=net0,ifname={netns.tap},iothread=io2",
                       "-device", f"virtio-net-device,netdev=net0,id=net0,mac={NET_MAC}"])
    try:
        res = run_vm(argv, timeout=VM_TIMEOUT)
    finally:
        peer.stop.set()
        peer.join(timeout=5)
        sock.close()
    assert_guest(res, ["virtio_blk", "virtio_net"])
    assert peer.guest_frame is not None
    assert img.read_bytes()[64 * SECTOR:65 * SECTOR] == guest_sector(64)
