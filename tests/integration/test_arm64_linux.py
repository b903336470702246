# SPDX-License-Identifier: MulanPSL-2.0
"""The aarch64 VMM boots the arm64 test guest on a real KVM (issue 11).

Every test here is marked `hwvirt_arm64`: it needs an aarch64 KVM.  On an
x86_64 host conftest.py runs them inside the arm64 nested machine
(scripts/hwvirt-arm64.sh, docs/hwvirt.md), one VM at a time; on an aarch64
host with /dev/kvm they run directly.  The VMM is the static aarch64 binary
of scripts/build-aarch64.sh; the guest is guest/build-arm64.sh's kernel Image
and busybox initramfs, whose init (guest/init) runs the checks named by
sv.checks= and prints `SVCHECK <name> ok|fail key=value...` lines.

  boot        1 and 2 vCPUs: `nproc` from user space matches -smp
  console     the shell on the PL011 (ttyAMA0) answers a typed command;
              `poweroff -f` and `reboot -f` typed there end the VMM with 0
              (PSCI SYSTEM_OFF / SYSTEM_RESET)
  ext4 root   root=/dev/vda rw on virtio-blk: the guest writes a file and
              syncs, the host finds it in the image
  virtio-net  the guest (ip= on its command line) pings the host end of a tap
              and fetches 1 MiB over TCP from it (test_linux_user's checks)
  QMP         stop/cont/query-status with STOP and RESUME (the shell's answer
              waits for cont), system_powerdown refused (no power button on
              this machine), quit with SHUTDOWN, exit status 0
  hot-plug    Kata's disk sequence (test_qmp_linux's helpers, the guest's
              hotplug check): blockdev-add, device_add into slots 1-3, the
              guest reads /dev/vdX whole (capacity and SHA-256), device_del
              with DEVICE_DELETED, the guest sees the capacity fall to 0
  RTC         the PL031's since_epoch and the guest's `date +%s` within 3 s
              of the host's time when the shell prints them
  GICv2       (marker arm64_gicv2: an L1 of its own with HWVIRT_ARM64_GIC=2)
              the VMM falls back to an in-kernel GICv2: 2 vCPUs, the guest's
              interrupts on GIC-0; -smp 9 is refused

Environment: STRATOVIRT_AARCH64_BIN (default build-aarch64/stratovirt),
SVGUEST_ARM64_IMAGE and SVGUEST_ARM64_INITRD (default: guest/build-arm64.sh's
cached outputs), ARM64_LINUX_TIMEOUT (seconds per boot, default 300).
"""
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import conftest
from conftest import NetNs, netns_unavailable
from qmpclient import Qmp, QmpVm
from test_linux_user import Sender, assert_ping_and_tcp, checks, tap_net_check
from test_qmp_linux import describe as qmp_describe, disk_images, finish, kata_disk_round

pytestmark = [pytest.mark.hwvirt_arm64, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("ARM64_LINUX_TIMEOUT", "300"))
STALL = float(os.environ.get("ARM64_LINUX_STALL", "120"))
CMDLINE = "console=ttyAMA0 reboot=k panic=1"


def vmm_path():
    return Path(os.environ.get("STRATOVIRT_AARCH64_BIN", REPO / "build-aarch64" / "stratovirt"))


def build_guest():
    """guest/build-arm64.sh: (Image, initrd) paths; a cold build ~10 min."""
    res = subprocess.run([str(REPO / "guest" / "build-arm64.sh")], capture_output=True,
                         text=True, timeout=3 * 3600)
    if res.returncode != 0:
        raise RuntimeError(f"guest/build-arm64.sh failed ({res.returncode}):\n"
                           f"{res.stderr[-3000:]}")
    vals = dict(re.findall(r"^(KERNEL_DIR|INITRD)=(.*)$", res.stdout, re.M))
    return Path(vals["KERNEL_DIR"]) / "Image", Path(vals["INITRD"])


def hwvirt_host_prepare():
    """On the host, before the arm64 L1 starts (it has no network and runs
    the host's x86_64 programs slowly): the guest build and the VMM."""
    image, initrd = build_guest()
    os.environ["SVGUEST_ARM64_IMAGE"] = str(image)
    os.environ["SVGUEST_ARM64_INITRD"] = str(initrd)
    if not vmm_path().exists() and "STRATOVIRT_AARCH64_BIN" not in os.environ:
        subprocess.run([str(REPO / "scripts" / "build-aarch64.sh"), "--no-test"], cwd=REPO,
                       check=True, capture_output=True, timeout=3600)
    if not vmm_path().exists():
        pytest.skip(f"no aarch64 VMM at {vmm_path()} (scripts/build-aarch64.sh; "
                    "or set STRATOVIRT_AARCH64_BIN)")


@pytest.fixture(scope="session")
def arm64_vmm():
    p = vmm_path()
    if not p.exists():
        pytest.skip(f"no aarch64 VMM at {p} (scripts/build-aarch64.sh; or set "
                    "STRATOVIRT_AARCH64_BIN)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable")
    return p


@pytest.fixture(scope="session")
def arm64_guest():
    image = os.environ.get("SVGUEST_ARM64_IMAGE")
    initrd = os.environ.get("SVGUEST_ARM64_INITRD")
    if image and initrd and Path(image).exists() and Path(initrd).exists():
        return Path(image), Path(initrd)
    return build_guest()


def vmm(binary, image, append, smp=1, mem=256, initrd=None, extra=()):
    argv = [binary, "-machine", "microvm", "-smp", str(smp), "-m", str(mem),
            "-kernel", image]
    if initrd:
        argv += ["-initrd", initrd]
    return argv + ["-append", f"{CMDLINE} {append}".strip(), "-serial", "stdio", *extra]


def run_vm(argv, respond=None):
    return conftest.run_vm(argv, timeout=TIMEOUT, respond=respond, stall=STALL)


def assert_checks(res, names):
    """The named checks passed and the VMM exited 0; name -> {key: value}."""
    found = checks(res)
    assert any("SVCHECK start" in l for l in res.lines), \
        f"the guest's init never started its checks\n{res.describe()}"
    for n in names:
        assert n in found, f"no SVCHECK line for {n}\n{res.describe()}"
        assert found[n][0] == "ok", f"check {n} failed: {found[n][1]}\n{res.describe()}"
    assert res.rc == 0, f"VMM exit status {res.rc} after the guest ended\n{res.describe()}"
    return {n: found[n][1] for n in names}


@pytest.mark.parametrize("smp,end", [(1, "reboot"), (2, "poweroff")],
                         ids=["smp1-reboot", "smp2-poweroff"])
def test_boot_nproc(arm64_vmm, arm64_guest, smp, end):
    image, initrd = arm64_guest
    res = run_vm(vmm(arm64_vmm, image, f"sv.checks=nproc sv.end={end}", smp=smp,
                     initrd=initrd))
    got = assert_checks(res, ["nproc"])
    assert got["nproc"]["value"] == str(smp), res.describe()


@pytest.mark.parametrize("end", ["poweroff", "reboot"])
def test_console_shell(arm64_vmm, arm64_guest, end):
    """The shell on ttyAMA0 answers a typed command; `<end> -f` ends the VMM with 0."""
    image, initrd = arm64_guest
    res = run_vm(vmm(arm64_vmm, image, "", initrd=initrd),
                 respond={"type 'exit'": "echo sv-$((6*7))-answer\n",
                          "sv-42-answer": f"{end} -f\n"})
    assert "ttyAMA0" in res.output, f"the kernel did not find the PL011\n{res.describe()}"
    assert any(l.startswith("sv-42-answer") for l in res.lines), \
        f"the shell did not answer\n{res.describe()}"
    assert not res.timed_out and res.rc == 0, \
        f"VMM did not exit 0 after `{end} -f`\n{res.describe()}"


def test_ext4_root_write(arm64_vmm, arm64_guest, tmp_path):
    image, initrd = arm64_guest
    tree = tmp_path / "tree"
    tree.mkdir()
    with open(initrd, "rb") as f:
        data = subprocess.run(["gzip", "-dc"], stdin=f, capture_output=True,
                              check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=data, cwd=tree, check=True)
    img = tmp_path / "root.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(img), "64M"],
                   check=True, capture_output=True)
    token = uuid.uuid4().hex
    res = run_vm(vmm(arm64_vmm, image,
                     f"root=/dev/vda rw init=/init sv.checks=write sv.token={token} "
                     "sv.end=poweroff",
                     extra=["-drive", f"id=rootfs,file={img}",
                            "-device", "virtio-blk-device,drive=rootfs,id=blk0"]))
    assert "VFS: Mounted root (ext4 filesystem)" in res.output, res.describe()
    assert_checks(res, ["write"])
    got = subprocess.run(["debugfs", "-R", "cat /svcheck.txt", str(img)],
                         capture_output=True, text=True)
    assert got.stdout.strip() == token, f"the host read {got.stdout!r} from the image"


# ---- virtio-net ----------------------------------------------------------------

def test_network_ping_and_tcp(arm64_vmm, arm64_guest):
    """virtio-net on a tap: the guest pings the tap's end and reads 1 MiB."""
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    image, initrd = arm64_guest
    payload = os.urandom(1 << 20)
    with NetNs() as ns:
        extra, append = tap_net_check(ns)
        sender = Sender(ns, payload)
        sender.start()
        res = run_vm(ns.wrap(vmm(arm64_vmm, image, f"{append} sv.end=poweroff", initrd=initrd,
                                 extra=extra)))
        sender.join(timeout=10)
    assert_ping_and_tcp(res, sender, payload)


# ---- QMP -------------------------------------------------------------------------

def type_line(vm, text):
    vm.proc.stdin.write(text.encode() + b"\n")
    vm.proc.stdin.flush()


def shell_vm(binary, image, initrd, sock, smp=1):
    """The demo guest's shell on ttyAMA0, with a QMP socket, once it prompts."""
    vm = QmpVm(vmm(binary, image, "", smp=smp, initrd=initrd), sock)
    if vm.wait_line(lambda ln: "type 'exit'" in ln, TIMEOUT) is None:
        vm.kill()
        raise AssertionError(f"the guest's shell did not start\n{qmp_describe(vm)}")
    return vm


def test_qmp_lifecycle(arm64_vmm, arm64_guest, tmp_path):
    """stop/cont/query-status with events, system_powerdown refused, quit."""
    image, initrd = arm64_guest
    sock = tmp_path / "qmp.sock"
    with shell_vm(arm64_vmm, image, initrd, sock) as vm, Qmp(sock) as q:
        assert q.cmd("query-status")["return"] == {"running": True, "singlestep": False,
                                                   "status": "running"}
        assert q.cmd("stop") == {"return": {}}
        assert q.wait_event("STOP") is not None
        assert q.cmd("query-status")["return"]["status"] == "paused"
        # typed while the vCPU is stopped: the answer waits for cont
        type_line(vm, "echo sv-$((6*7))-answer")
        assert vm.wait_line(lambda ln: ln.startswith("sv-42-answer"), 2) is None, \
            f"the guest answered while stopped\n{qmp_describe(vm)}"
        assert q.cmd("cont") == {"return": {}}
        assert q.wait_event("RESUME") is not None
        assert vm.wait_line(lambda ln: ln.startswith("sv-42-answer"), 30) is not None, \
            qmp_describe(vm)
        assert q.cmd("query-status")["return"]["status"] == "running"
        rep = q.cmd("system_powerdown")
        assert rep.get("error", {}).get("class") == "GenericError", rep
        assert rep["error"]["desc"] == ("system_powerdown is not supported yet on aarch64: "
                                        "the machine has no power button"), rep
        assert [e for e in q.events if e["event"] == "POWERDOWN"] == []
        q.send({"execute": "quit", "id": "q"})
        ev = q.wait_event("SHUTDOWN", 30)
        assert ev is not None and ev["data"] == {"guest": False, "reason": "host-qmp-quit"}, ev
        assert q.reply() == {"return": {}, "id": "q"}
        assert vm.wait(30) == 0, qmp_describe(vm)
    assert not sock.exists()


def test_kata_disk_hotplug(arm64_vmm, arm64_guest, tmp_path):
    """Kata's blockdev-add + device_add into slots 1-3, the guest reads the
    disk, device_del with DEVICE_DELETED, the guest sees it gone."""
    image, initrd = arm64_guest
    rounds, images = 3, disk_images(tmp_path, 3)
    sock = tmp_path / "qmp.sock"
    argv = vmm(arm64_vmm, image, f"sv.checks=hotplug sv.hotplug={rounds} sv.end=poweroff",
               initrd=initrd)
    with QmpVm(argv, sock) as vm:
        assert vm.wait_line(lambda ln: "SVCHECK start" in ln, TIMEOUT) is not None, \
            qmp_describe(vm)
        pos = 0
        for i in range(rounds):
            pos, _, _ = kata_disk_round(vm, sock, i, 1 + i, images[i], pos)
        finish(vm, ["hotplug"])


# ---- PL031 ----------------------------------------------------------------------

def test_rtc_gives_host_time(arm64_vmm, arm64_guest, tmp_path):
    """The PL031 (read directly and through the guest clock it set at boot)
    agrees with the host's time within 3 s."""
    image, initrd = arm64_guest
    with shell_vm(arm64_vmm, image, initrd, tmp_path / "qmp.sock") as vm:
        type_line(vm, "echo sv-rtc-$((1+1)) $(cat /sys/class/rtc/rtc0/since_epoch) "
                      "$(date +%s) $(cat /sys/class/rtc/rtc0/name)")
        i = vm.wait_line(lambda ln: ln.startswith("sv-rtc-2 "), 30)
        host = time.time()
        assert i is not None, qmp_describe(vm)
        words = vm.lines[i].split()
        assert len(words) >= 4 and words[1].isdigit() and words[2].isdigit(), vm.lines[i]
        rtc, date = int(words[1]), int(words[2])
        assert "pl031" in vm.lines[i], f"rtc0 is not the PL031: {vm.lines[i]}"
        assert abs(rtc - host) <= 3, f"PL031 {rtc}, host {host:.1f}"
        assert abs(date - host) <= 3, f"guest date {date}, host {host:.1f}"
        type_line(vm, "poweroff -f")
        assert vm.wait(30) == 0, qmp_describe(vm)


# ---- GICv2 ----------------------------------------------------------------------

@pytest.mark.arm64_gicv2
def test_gicv2_fallback_boot(arm64_vmm, arm64_guest, tmp_path):
    """Where KVM has no GICv3 the VMM creates a GICv2: Linux runs on it with
    2 vCPUs; more than 8 vCPUs are refused."""
    if os.environ.get("HWVIRT_ARM64_GIC") != "2":
        pytest.skip("needs a host whose GIC is a GICv2 (KVM_DEV_TYPE_ARM_VGIC_V3 absent): the "
                    "arm64 L1 with HWVIRT_ARM64_GIC=2 (hwvirt.py starts one for this test)")
    image, initrd = arm64_guest
    env = dict(os.environ, STRATOVIRT_LOG_LEVEL="info")
    res = conftest.run_vm([str(a) for a in vmm(arm64_vmm, image, "", smp=2, initrd=initrd)],
                          timeout=TIMEOUT, stall=STALL, env=env,
                          respond={"type 'exit'": "echo sv-gic-$((1+1)) $(nproc) "
                                                  "$(grep -c GIC-0 /proc/interrupts)\n",
                                   "sv-gic-2 ": "poweroff -f\n"})
    assert "in-kernel GICv2" in res.stderr, res.describe()
    line = next((ln for ln in res.lines if ln.startswith("sv-gic-2 ")), None)
    assert line is not None, res.describe()
    _, nproc, gic_irqs = line.split()[:3]
    assert nproc == "2", line
    assert int(gic_irqs) > 0, f"no interrupt of the guest on GIC-0: {line}\n{res.describe()}"
    assert not res.timed_out and res.rc == 0, res.describe()
    bad = subprocess.run([str(a) for a in vmm(arm64_vmm, image, "", smp=9, initrd=initrd)],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert bad.returncode != 0
    assert "KVM has no GICv3" in bad.stderr and "-smp 9" in bad.stderr, bad.stderr
