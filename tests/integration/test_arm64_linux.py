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

Environment: STRATOVIRT_AARCH64_BIN (default build-aarch64/stratovirt),
SVGUEST_ARM64_IMAGE and SVGUEST_ARM64_INITRD (default: guest/build-arm64.sh's
cached outputs), ARM64_LINUX_TIMEOUT (seconds per boot, default 300).
"""
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

import conftest

pytestmark = [pytest.mark.hwvirt_arm64, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("ARM64_LINUX_TIMEOUT", "300"))
STALL = float(os.environ.get("ARM64_LINUX_STALL", "120"))
CMDLINE = "console=ttyAMA0 reboot=k panic=1"
CHECK_LINE = re.compile(r"SVCHECK (\S+) (ok|fail)\b ?(.*)")


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
    found = {}
    for line in res.lines:
        i = line.find("SVCHECK ")
        m = CHECK_LINE.match(line[i:]) if i >= 0 else None
        if m:
            found[m.group(1)] = (m.group(2), dict(p.partition("=")[::2]
                                                  for p in m.group(3).split()))
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
