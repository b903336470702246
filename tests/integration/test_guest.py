# SPDX-License-Identifier: MulanPSL-2.0
"""Boot the freestanding test guest (tests/guest, docs/test-guest.md).

Our VMM boots both images of the guest, svguest.elf (PVH entry) and
svguest.bin (raw image, 64-bit Linux boot protocol), with 1 and 4 vCPUs, and
svguest32.elf (the PVH ELF converted to ELF32) with 1 and 2, and a bzImage
made around svguest-bz.bin (with and without junk in its loader-owned header
fields):

    stratovirt -machine microvm -smp N -m 256 -kernel svguest.{elf,bin} \
        -append "svtest=1 exit=i8042 strict=1 cpus=N mem=256 now=EPOCH" -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=4

and every check must print PASS, the guest must report fail=0, and the VMM
must exit 0 after the guest's i8042 reset. The same checks run under
qemu-system-x86_64 -M microvm (PVH ELF only: QEMU cannot load a raw image;
exit through isa-debug-exit, so QEMU's status 1 means success).
"""
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DEBUG_EXIT, parse_guest_output, run_vm

VM_TIMEOUT = 60
# Checks the guest runs by default that must PASS on a healthy VMM.
CHECKS = ["cmdline", "bootinfo", "serial", "rtc", "i8042", "mptable", "acpi", "smp"]
# QEMU's microvm has no i8042: the guest reports SKIP there.
QEMU_CHECKS = [c for c in CHECKS if c != "i8042"]


def guest_cmdline(cpus, exit_method, extra=""):
    line = f"svtest=1 exit={exit_method} cpus={cpus} mem=256 now={int(time.time())}"
    return f"{line} {extra}".strip()


def vmm_argv(vmm_bin, kernel, cpus, append):
    return [vmm_bin, "-machine", "microvm", "-smp", str(cpus), "-m", "256",
            "-kernel", kernel, "-append", append, "-serial", "stdio", *DEBUG_EXIT]


def qemu_argv(qemu_bin, kernel, cpus, append, acpi="on"):
    return [qemu_bin, "-M", f"microvm,x-option-roms=off,rtc=on,acpi={acpi}",
            "-enable-kvm", "-cpu", "host,-arch-capabilities", "-m", "256",
            "-smp", str(cpus), "-display", "none", "-nodefaults", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", kernel, "-append", append]


def assert_all_pass(res, expected):
    rep = parse_guest_output(res.lines)
    info = res.describe()
    assert not res.timed_out, f"VM did not end in {VM_TIMEOUT}s\n{info}"
    assert rep.started, f"no SVTEST START\n{info}"
    assert rep.done, f"no SVTEST DONE\n{info}"
    assert rep.failed == 0, f"guest reported failures\n{info}"
    for name in expected:
        status = rep.results.get(name)
        assert status and status[0] == "PASS", f"check {name}: {status}\n{info}"
    return rep


@pytest.fixture(params=["elf", "bin"])
def guest_image(request):
    """Both images of the guest; each fixture skips if its file is missing."""
    return request.getfixturevalue("guest_elf" if request.param == "elf" else "guest_bin")


@pytest.fixture
def guest_elf32(guest_elf):
    """svguest32.elf: the PVH ELF as ELF32, built next to svguest.elf."""
    p = Path(os.environ.get("SVGUEST_ELF32", guest_elf.with_name("svguest32.elf")))
    if not p.exists():
        pytest.skip(f"test guest svguest32.elf not found at {p} (set SVGUEST_ELF32)")
    assert p.read_bytes()[4] == 1, f"{p} is not ELFCLASS32"
    return p


@pytest.fixture
def guest_bz_raw(guest_elf):
    """svguest-bz.bin: the guest linked at 1 MiB + 0x200, a bzImage's 64-bit part."""
    p = guest_elf.with_name("svguest-bz.bin")
    if not p.exists():
        pytest.skip(f"test guest svguest-bz.bin not found at {p}")
    return p


# Setup header fields (offsets in the file) that the boot protocol has the
# loader write; a bzImage built with junk there checks that none comes through.
LOADER_JUNK = {
    0x1fa: ("<H", 0x1234),              # vid_mode
    0x208: ("<I", 0xffffffff),          # realmode_swtch
    0x210: ("<B", 0x21),                # type_of_loader
    0x211: ("<B", 0xff),                # loadflags: LOADED_HIGH and every loader bit
    0x212: ("<H", 0xffff),              # setup_move_size
    0x214: ("<I", 0xffffffff),          # code32_start
    0x218: ("<I", 0xfffff000),          # ramdisk_image
    0x21c: ("<I", 0x00100000),          # ramdisk_size
    0x220: ("<I", 0xffffffff),          # bootsect_kludge
    0x224: ("<H", 0xfe00),              # heap_end_ptr
    0x226: ("<B", 0xff),                # ext_loader_ver
    0x227: ("<B", 0xff),                # ext_loader_type
    0x228: ("<I", 0xfffff000),          # cmd_line_ptr
    0x23c: ("<I", 0xffffffff),          # hardware_subarch
    0x240: ("<Q", 0xffffffffffffffff),  # hardware_subarch_data
    0x250: ("<Q", 0xfffffffffffff000),  # setup_data
}


def make_bzimage(pm_part, junk):
    """A protocol 2.15 bzImage around a 64-bit image linked at 1 MiB + 0x200."""
    setup = bytearray(5 * 512)
    fields = {
        0x1f1: ("<B", 4),            # setup_sects
        0x1fe: ("<H", 0xaa55),       # boot_flag
        0x200: ("<H", 0x66eb),       # jump to 0x268, the header's end
        0x202: ("<4s", b"HdrS"),
        0x206: ("<H", 0x020f),       # version
        0x211: ("<B", 0x01),         # loadflags: LOADED_HIGH
        0x22c: ("<I", 0x7fffffff),   # initrd_addr_max
        0x230: ("<I", 0x200000),     # kernel_alignment
        0x236: ("<H", 0x0001),       # xloadflags: XLF_KERNEL_64
        0x238: ("<I", 2047),         # cmdline_size
        0x258: ("<Q", 0x100000),     # pref_address
        0x260: ("<I", 0x1000000),    # init_size: image and bss fit in 16 MiB
    }
    if junk:
        fields.update(LOADER_JUNK)
        setup[0:0x1f1] = b"\xff" * 0x1f1   # boot sector, where boot_params' other fields lie
    for off, (fmt, val) in fields.items():
        struct.pack_into(fmt, setup, off, val)
    return bytes(setup) + b"\0" * 0x200 + pm_part


# ---- our VMM ---------------------------------------------------------------

@pytest.mark.parametrize("cpus", [1, 4])
def test_vmm_all_checks(vmm_bin, kvm, guest_image, cpus):
    append = guest_cmdline(cpus, "i8042", "strict=1")
    res = run_vm(vmm_argv(vmm_bin, guest_image, cpus, append), timeout=VM_TIMEOUT)
    assert_all_pass(res, CHECKS)
    assert "FAIL reset" not in res.output, res.describe()
    assert res.rc == 0, f"VMM exit status {res.rc} after the i8042 reset\n{res.describe()}"


@pytest.mark.parametrize("cpus", [1, 2])
def test_vmm_elf32_pvh(vmm_bin, kvm, guest_elf32, cpus):
    """An ELF32 with a PVH note boots through its 32-bit entry and runs every check."""
    append = guest_cmdline(cpus, "i8042", "strict=1")
    res = run_vm(vmm_argv(vmm_bin, guest_elf32, cpus, append), timeout=VM_TIMEOUT)
    assert_all_pass(res, CHECKS)
    assert any(ln.startswith("INFO boot=pvh ") for ln in res.lines), res.describe()
    assert res.rc == 0, res.describe()


def test_vmm_elf32_without_pvh_note_is_refused(vmm_bin, kvm, guest_elf32, tmp_path):
    """An ELF32 has no 64-bit entry: without its PVH note there is nothing to enter."""
    kernel = tmp_path / "nonote32.elf"
    subprocess.run(["objcopy", "-R", ".note.Xen", str(guest_elf32), str(kernel)], check=True)
    res = run_vm(vmm_argv(vmm_bin, kernel, 1, "svtest=1"), timeout=VM_TIMEOUT)
    assert res.rc == 1, res.describe()
    assert (f"cannot load kernel '{kernel}': ELF: 32-bit image without a PVH entry note"
            in res.stderr), res.describe()
    assert "SVTEST" not in res.output, res.describe()


@pytest.mark.parametrize("junk", [False, True], ids=["clean", "junk-loader-fields"])
def test_vmm_bzimage_loader_fields(vmm_bin, kvm, guest_bz_raw, tmp_path, junk):
    """A bzImage's loader-owned header fields are the VMM's, never the file's.

    The guest's bootinfo check walks setup_data, checks the initrd range and
    hardware_subarch, and prints the fields; with junk in the file (setup_data
    pointing above 4 GiB, a bogus initrd, subarch 0xffffffff, ...) the values
    must still be the loader's.
    """
    kernel = tmp_path / "svguest.bzImage"
    kernel.write_bytes(make_bzimage(guest_bz_raw.read_bytes(), junk))
    append = guest_cmdline(1, "i8042", "strict=1")
    res = run_vm(vmm_argv(vmm_bin, kernel, 1, append), timeout=VM_TIMEOUT)
    assert_all_pass(res, CHECKS)
    info = [ln for ln in res.lines if ln.startswith("INFO boot_params:")]
    assert info == ["INFO boot_params: type_of_loader 0xff loadflags 0x1 heap_end_ptr 0x0 "
                    "hardware_subarch 0x0 setup_data 0x0 ramdisk 0x0+0x0"], res.describe()
    assert res.rc == 0, res.describe()


def test_vmm_serial_input(vmm_bin, kvm, guest_elf):
    append = guest_cmdline(1, "i8042", "strict=1 serial_in=1 tests=serial,serial_in")
    res = run_vm(vmm_argv(vmm_bin, guest_elf, 1, append), timeout=VM_TIMEOUT,
                 respond={"SVTEST READY-FOR-INPUT": "ping\n"})
    assert_all_pass(res, ["serial", "serial_in"])
    assert res.rc == 0, res.describe()


@pytest.mark.parametrize("image", ["elf", "bin"])
def test_vmm_exits_0_on_i8042_reset(vmm_bin, kvm, request, image):
    kernel = request.getfixturevalue(f"guest_{image}")
    append = guest_cmdline(1, "i8042", "tests=cmdline")
    res = run_vm(vmm_argv(vmm_bin, kernel, 1, append), timeout=VM_TIMEOUT)
    assert_all_pass(res, ["cmdline"])
    assert "FAIL reset" not in res.output, res.describe()
    assert res.rc == 0, res.describe()


def test_vmm_debug_exit_status(vmm_bin, kvm, guest_elf):
    """exit=debug: a guest with one failure ends the VMM with a nonzero status."""
    append = guest_cmdline(1, "debug", "tests=cmdline,no_such_check")
    res = run_vm(vmm_argv(vmm_bin, guest_elf, 1, append), timeout=VM_TIMEOUT)
    rep = parse_guest_output(res.lines)
    assert not res.timed_out, res.describe()
    assert rep.done and rep.failed == 1, res.describe()
    assert rep.results.get("no_such_check", ("",))[0] == "FAIL", res.describe()
    assert res.rc not in (0, None), res.describe()


@pytest.mark.parametrize("image", ["elf", "bin"])
def test_vmm_mode_first(vmm_bin, kvm, request, image):
    """mode=first: the entry stub exits through port 0xf4 with 0 at once."""
    kernel = request.getfixturevalue(f"guest_{image}")
    res = run_vm(vmm_argv(vmm_bin, kernel, 1, "mode=first"), timeout=VM_TIMEOUT)
    assert not res.timed_out, res.describe()
    assert res.rc == 0, res.describe()
    assert "SVTEST" not in res.output, res.describe()


# ---- QEMU, the reference ---------------------------------------------------

@pytest.mark.parametrize("cpus", [1, 4])
@pytest.mark.parametrize("acpi", ["on", "off"])
def test_qemu_all_checks(qemu_bin, kvm, guest_elf, cpus, acpi):
    append = guest_cmdline(cpus, "debug", "acpi=off" if acpi == "off" else "")
    res = run_vm(qemu_argv(qemu_bin, guest_elf, cpus, append, acpi), timeout=VM_TIMEOUT)
    expected = [c for c in QEMU_CHECKS if not (c == "acpi" and acpi == "off")]
    rep = assert_all_pass(res, expected)
    if acpi == "off":
        assert rep.results.get("acpi", ("",))[0] == "SKIP", res.describe()
    assert res.rc == 1, f"isa-debug-exit status {res.rc}, 1 means 0 written\n{res.describe()}"


def test_qemu_elf32_pvh(qemu_bin, kvm, guest_elf32):
    """The reference: QEMU boots the same ELF32 through its PVH note."""
    append = guest_cmdline(1, "debug")
    res = run_vm(qemu_argv(qemu_bin, guest_elf32, 1, append), timeout=VM_TIMEOUT)
    assert_all_pass(res, QEMU_CHECKS)
    assert res.rc == 1, res.describe()


def test_qemu_serial_input(qemu_bin, kvm, guest_elf):
    append = guest_cmdline(1, "debug", "serial_in=1 tests=serial,serial_in")
    res = run_vm(qemu_argv(qemu_bin, guest_elf, 1, append), timeout=VM_TIMEOUT,
                 respond={"SVTEST READY-FOR-INPUT": "ping\n"})
    assert_all_pass(res, ["serial", "serial_in"])
    assert res.rc == 1, res.describe()


def test_qemu_mode_first(qemu_bin, kvm, guest_elf):
    res = run_vm(qemu_argv(qemu_bin, guest_elf, 1, "mode=first"), timeout=VM_TIMEOUT)
    assert not res.timed_out, res.describe()
    assert res.rc == 1, res.describe()
    assert "SVTEST" not in res.output, res.describe()
