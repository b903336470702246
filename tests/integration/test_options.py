# SPDX-License-Identifier: MulanPSL-2.0
"""Every accepted option is real, or refused (issue 6, "Options that must be
real or refused").

Options that are parsed but not implemented (-incoming, vsock) exit
1 with one exact line and leave nothing on the host; -cpu feature names, the
rng file, device ids and the virtio-mmio slot limit are checked before the VM
is built; errors echo values escaped and cut; -D errors also reach stderr;
the port-0xf4 debug exit exists only with -device isa-debug-exit.  Guests are
tiny raw images (loaded like vmlinux.bin, entered in 64-bit mode) written by
the tests.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import DEBUG_EXIT

HLT_LOOP = bytes([0xF4, 0xEB, 0xFD])  # 1: hlt; jmp 1b
DEBUG_EXIT_7 = bytes([0xB0, 0x07, 0xE6, 0xF4]) + HLT_LOOP  # out 0xf4 <- 7
# mov $0xe0000000, %rax; jmp *%rax: an emulation failure, logged at error level
JUMP_TO_MMIO = bytes([0x48, 0xB8, 0, 0, 0, 0xE0, 0, 0, 0, 0, 0xFF, 0xE0])
# CPUID.1:ECX bit 23 (popcnt) | 0x10 written to the debug exit: 0x11 seen, 0x10 hidden
POPCNT_TO_DEBUG_EXIT = bytes([
    0xB8, 0x01, 0x00, 0x00, 0x00,  # mov $1, %eax
    0x31, 0xC9,                    # xor %ecx, %ecx
    0x0F, 0xA2,                    # cpuid
    0x89, 0xC8,                    # mov %ecx, %eax
    0xC1, 0xE8, 0x17,              # shr $23, %eax
    0x83, 0xE0, 0x01,              # and $1, %eax
    0x0C, 0x10,                    # or $0x10, %al
    0xE6, 0xF4,                    # out %al, $0xf4
]) + HLT_LOOP


@pytest.fixture
def guest(tmp_path):
    def make(code, name="guest.bin"):
        p = tmp_path / name
        p.write_bytes(code)
        return p
    return make


def argv_for(vmm_bin, kernel, *extra):
    return [str(vmm_bin), "-machine", "microvm", "-m", "128", "-kernel", str(kernel),
            *[str(a) for a in extra]]


def run(argv, timeout=30):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not end in {timeout}s: {' '.join(map(str, argv))}")


def assert_refused(r, line):
    """Exit status 1 and exactly this one line on stderr."""
    assert r.returncode == 1, f"rc {r.returncode}: {r.stderr}"
    assert r.stderr == f"stratovirt: {line}\n", r.stderr


def host_cpu_vendor():
    with open("/proc/cpuinfo") as f:
        for ln in f:
            if ln.startswith("vendor_id"):
                return ln.split(":", 1)[1].strip()
    return ""


# ---- options parsed but not implemented --------------------------------------

REFUSED = [
    (["-incoming", "file:{dir}/tmpl"], "-incoming is not supported yet"),
]


@pytest.mark.parametrize("extra,line", REFUSED, ids=[r[1].split(" is ")[0] for r in REFUSED])
def test_unsupported_option_is_refused(vmm_bin, guest, tmp_path, extra, line):
    kernel = guest(HLT_LOOP)
    if isinstance(extra, dict):
        cfg = tmp_path / "vm.json"
        cfg.write_text(json.dumps(extra))
        extra = ["-config", str(cfg)]
    extra = [e.format(dir=tmp_path) for e in extra]
    before = sorted(os.listdir(tmp_path))
    r = run(argv_for(vmm_bin, kernel, "-pidfile", tmp_path / "vm.pid",
                     "-qmp", f"unix:{tmp_path}/qmp.sock,server,nowait",
                     "-serial", f"socket,path={tmp_path}/serial.sock,server,nowait", *extra))
    assert_refused(r, line)
    assert sorted(os.listdir(tmp_path)) == before, "the VMM created a file"


def test_refused_option_syntax_still_checked(vmm_bin, guest):
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-device", "vsock,id=v,guest-cid=2"))
    assert_refused(r, "invalid value '2' for -device vsock guest-cid: must be 3..4294967294")


# ---- -cpu host features ---------------------------------------------------------

@pytest.mark.parametrize("item", ["+bogus", "-bogus", "bogus=on", "bogus=off"])
def test_unknown_cpu_feature_in_every_form(vmm_bin, guest, item):
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-cpu", f"host,{item}"))
    assert_refused(r, f"invalid value '{item}' for -cpu: unknown CPU feature 'bogus'")


def test_cpu_feature_the_host_lacks(vmm_bin, kvm, guest):
    """+feat asks for a feature: KVM never offers AMD's svm on Intel, nor vmx on AMD."""
    vendor = host_cpu_vendor()
    if vendor not in ("GenuineIntel", "AuthenticAMD"):
        pytest.skip(f"unknown CPU vendor {vendor!r}")
    feat = "svm" if vendor == "GenuineIntel" else "vmx"
    for item in (f"+{feat}", f"{feat}=on"):
        r = run(argv_for(vmm_bin, guest(DEBUG_EXIT_7), *DEBUG_EXIT, "-cpu", f"host,{item}"))
        assert_refused(r, f"-cpu: CPU feature '{feat}' is asked for (+{feat} or {feat}=on) "
                          "but this host (KVM) does not offer it")


@pytest.mark.hwvirt
def test_cpu_features_reach_the_guest(vmm_bin, kvm, guest):
    """The guest reads CPUID.1 popcnt: -popcnt / popcnt=off hide it, +popcnt keeps it.

    hwvirt: under kvm_pvm the guest's CPUID shows the host's feature bits
    whatever KVM_SET_CPUID2 says, so this runs in the nested machine there.
    """
    if os.path.exists("/sys/module/kvm_pvm") and os.environ.get("HWVIRT") != "1":
        pytest.skip("kvm_pvm: the guest's CPUID ignores KVM_SET_CPUID2 (hwvirt test)")
    kernel = guest(POPCNT_TO_DEBUG_EXIT)
    plain = run(argv_for(vmm_bin, kernel, *DEBUG_EXIT))
    if plain.returncode == 0x10:
        pytest.skip("KVM does not offer popcnt on this host")
    assert plain.returncode == 0x11, plain.stderr
    for cpu, rc in (("host,-popcnt", 0x10), ("host,popcnt=off", 0x10),
                    ("host,+popcnt", 0x11), ("host,popcnt=on", 0x11),
                    ("host,-popcnt,+popcnt", 0x11), ("host,+popcnt,popcnt=off", 0x10)):
        r = run(argv_for(vmm_bin, kernel, *DEBUG_EXIT, "-cpu", cpu))
        assert r.returncode == rc, f"-cpu {cpu}: rc {r.returncode:#x}\n{r.stderr}"


# ---- rng source -----------------------------------------------------------------

def test_rng_source_must_be_a_readable_device_or_file(vmm_bin, guest, tmp_path):
    kernel = guest(HLT_LOOP)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = run(argv_for(vmm_bin, kernel, "-rng", f"random_file={tmp_path}"))
    assert_refused(r, f"invalid value '{tmp_path}' for -rng random_file: "
                      "not a character device or regular file")
    r = run(argv_for(vmm_bin, kernel, "-object", f"rng-random,id=r0,filename={fifo}",
                     "-device", "virtio-rng-device,rng=r0"), timeout=10)
    assert_refused(r, f"invalid value '{fifo}' for -object rng-random filename: "
                      "not a character device or regular file")
    r = run(argv_for(vmm_bin, kernel, "-rng", f"random_file={tmp_path}/missing"))
    assert_refused(r, f"invalid value '{tmp_path}/missing' for -rng random_file: "
                      "No such file or directory")
    cfg = tmp_path / "rng.json"
    cfg.write_text(json.dumps({"rng": {"random_file": str(tmp_path)}}))
    r = run(argv_for(vmm_bin, kernel, "-config", cfg))
    assert_refused(r, f"invalid value '{tmp_path}' for JSON rng.random_file: "
                      "not a character device or regular file")


# ---- ids and limits -------------------------------------------------------------

DUPLICATES = [
    (["-drive", "id=d0,file={img}", "-drive", "id=d0,file={img}"],
     "duplicate id 'd0' for -drive"),
    (["-drive", "id=d0,file={img}", "-device", "virtio-blk-device,drive=d0,id=x",
      "-object", "rng-random,id=r0,filename=/dev/urandom",
      "-device", "virtio-rng-device,rng=r0,id=x"],
     "duplicate id 'x' for -device virtio-rng-device"),
    (["-drive", "id=a,file={img}", "-chardev", "id=a,path={dir}/con.sock"],
     "duplicate device id 'a': a virtio-blk-device and a virtconsole have it "
     "(an id= left out is the back end's id)"),
    (["-object", "iothread,id=o", "-object", "rng-random,id=o,filename=/dev/urandom"],
     "duplicate id 'o' for -object rng-random: an iothread has it"),
    (["-chardev", "pty,id=c", "-chardev", "pty,id=c"], "duplicate id 'c' for -chardev"),
]


@pytest.mark.parametrize("extra,line", DUPLICATES, ids=[d[1][:40] for d in DUPLICATES])
def test_duplicate_ids(vmm_bin, guest, tmp_path, extra, line):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(4096))
    extra = [e.format(img=img, dir=tmp_path) for e in extra]
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), *extra))
    assert_refused(r, line)
    assert not (tmp_path / "con.sock").exists()


def test_backend_ids_have_their_own_spaces(vmm_bin, kvm, guest, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(4096))
    r = run(argv_for(vmm_bin, guest(DEBUG_EXIT_7), *DEBUG_EXIT, "-drive", f"id=a,file={img}",
                     "-chardev", "pty,id=a", "-iothread", "id=a",
                     "-device", "virtio-blk-device,drive=a,id=blk0,iothread=a"))
    assert r.returncode == 7, r.stderr


def drives(tmp_path, n):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(4096))
    out = []
    for i in range(n):
        out += ["-drive", f"id=d{i},file={img},readonly=on"]
    return out


def test_virtio_slot_limit(vmm_bin, kvm, guest, tmp_path):
    """16 virtio-mmio slots, 2 always taken by empty NIC slots: 14 disks."""
    kernel = guest(DEBUG_EXIT_7)
    r = run(argv_for(vmm_bin, kernel, *DEBUG_EXIT, *drives(tmp_path, 14)))
    assert r.returncode == 7, r.stderr
    r = run(argv_for(vmm_bin, kernel, *DEBUG_EXIT, *drives(tmp_path, 15)))
    assert_refused(r, "too many virtio devices: 15 disks, 0 NICs, 0 consoles and 0 rng need "
                      "17 virtio-mmio slots (disks take at least 4, NICs at least 2), at most 16")
    r = run(argv_for(vmm_bin, kernel, *DEBUG_EXIT, *drives(tmp_path, 13),
                     "-rng", "random_file=/dev/urandom",
                     "-chardev", f"id=c0,path={tmp_path}/c0.sock"))
    assert_refused(r, "too many virtio devices: 13 disks, 0 NICs, 1 consoles and 1 rng need "
                      "17 virtio-mmio slots (disks take at least 4, NICs at least 2), at most 16")
    assert not (tmp_path / "c0.sock").exists()


def test_usb_on_is_refused(vmm_bin, guest):
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-machine", "microvm,usb=on"))
    assert_refused(r, "invalid value 'on' for -machine usb: only off is supported (no USB)")


# ---- how errors are written -----------------------------------------------------

def test_logged_error_also_on_stderr(vmm_bin, kvm, guest, tmp_path):
    log = tmp_path / "vmm.log"
    r = run(argv_for(vmm_bin, guest(JUMP_TO_MMIO), "-D", log))
    assert r.returncode == 1, r.stderr
    logged = [ln.split(" error: ", 1)[1] for ln in log.read_text().splitlines()
              if " error: " in ln]
    assert logged, log.read_text()
    for msg in logged:
        assert f"stratovirt: {msg}" in r.stderr.splitlines(), (msg, r.stderr)


def test_control_characters_are_escaped(vmm_bin, guest):
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-smp", "2\x01\x1b[2J\x7f"))
    assert_refused(r, "invalid value '2\\x01\\x1b[2J\\x7f' for -smp cpus: must be 1..254")
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-name", "vm", "-uuid", "x\ty"))
    assert_refused(r, "invalid value 'x\\x09y' for -uuid: must be a UUID (8-4-4-4-12 hex digits)")


def test_long_values_are_cut(vmm_bin, guest):
    r = run(argv_for(vmm_bin, guest(HLT_LOOP), "-smp", "9" * 5000))
    assert_refused(r, "invalid value '" + "9" * 128 + "...' for -smp cpus: must be 1..254")


@pytest.mark.parametrize("opt,val,line", [
    ("-smp", "-1", "invalid value '-1' for -smp cpus: must be 1..254"),
    ("-m", "-256", "invalid value '-256' for -m size: must be 128M..512G"),
    ("-smp", "cpus=-4", "invalid value '-4' for -smp cpus: must be 1..254"),
])
def test_negative_number_is_invalid_not_missing(vmm_bin, guest, opt, val, line):
    assert_refused(run(argv_for(vmm_bin, guest(HLT_LOOP), opt, val)), line)


def test_mem_bare_bytes(vmm_bin, kvm, guest):
    kernel = guest(DEBUG_EXIT_7)
    r = run([str(vmm_bin), "-kernel", str(kernel), "-m", "1048576"])
    assert_refused(r, "invalid value '1048576' for -m size: read as bytes (1 MiB), "
                      "below the 128 MiB minimum")
    r = run([str(vmm_bin), "-kernel", str(kernel), "-m", "268435456", *DEBUG_EXIT])
    assert r.returncode == 7, r.stderr
    assert r.stderr == "stratovirt: note: -m 268435456 read as bytes (256 MiB)\n", r.stderr
    r = run([str(vmm_bin), "-kernel", str(kernel), "-m", "256", *DEBUG_EXIT])
    assert r.returncode == 7 and r.stderr == "", r.stderr


# ---- the debug exit is opt-in ----------------------------------------------------

def test_port_f4_does_nothing_without_the_device(vmm_bin, kvm, guest):
    """The guest writes 7 to port 0xf4 and halts: the VM runs on until SIGTERM."""
    p = subprocess.Popen(argv_for(vmm_bin, guest(DEBUG_EXIT_7)), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(2.0)
        assert p.poll() is None, f"the guest chose the exit status {p.returncode}"
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err


def test_debug_exit_device_ends_the_vm_with_the_value(vmm_bin, kvm, guest):
    kernel = guest(DEBUG_EXIT_7)
    for spelling in ("isa-debug-exit,iobase=0xf4,iosize=4", "isa-debug-exit"):
        r = run(argv_for(vmm_bin, kernel, "-device", spelling))
        assert r.returncode == 7, (spelling, r.stderr)


def test_debug_exit_other_ports_refused(vmm_bin, guest):
    kernel = guest(DEBUG_EXIT_7)
    r = run(argv_for(vmm_bin, kernel, "-device", "isa-debug-exit,iobase=0x501,iosize=2"))
    assert_refused(r, "invalid value '0x501' for -device isa-debug-exit iobase: "
                      "only 0xf4 is supported")
    r = run(argv_for(vmm_bin, kernel, "-device", "isa-debug-exit,iobase=0xf4,iosize=1"))
    assert_refused(r, "invalid value '1' for -device isa-debug-exit iosize: only 4 is supported")
