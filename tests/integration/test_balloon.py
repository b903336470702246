# SPDX-License-Identifier: MulanPSL-2.0
"""virtio-balloon with our test guest (tests/guest/checks/virtio_balloon.c).

The guest touches balloon_mib MiB (and balloon_report_mib MiB more when free
page reporting is offered) and follows the target QMP `balloon` sets: it
inflates with those frames, reports the second region free (once the host
sends 'r' on the serial port), and deflates when the target goes back up;
it ends when the host sends 'e'.  The host checks BALLOON_CHANGED and
query-balloon at each step and that the VMM's resident memory
(/proc/PID/smaps_rollup) falls by about what the guest gave back.  Hostile
buffers (PFNs outside RAM, huge descriptors, odd lengths, ...) must put the
device into NEEDS_RESET and leave the VMM running.
"""
import json

import pytest

from conftest import DEBUG_EXIT, parse_guest_output, run_vm
from qmpclient import QmpVm

MIB = 1 << 20
RAM_MIB = 256
TIMEOUT = 180


def rss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for ln in f:
            if ln.startswith("Rss:"):
                return int(ln.split()[1])
    raise AssertionError("no Rss line in smaps_rollup")


def argv_for(vmm_bin, guest_elf, append, extra):
    return [vmm_bin, "-machine", "microvm", "-smp", "1", "-m", str(RAM_MIB), "-kernel", guest_elf,
            "-append", f"svtest=1 exit=i8042 mem={RAM_MIB} {append}", "-serial", "stdio",
            *DEBUG_EXIT, *extra]


def wait_actual(q, want, timeout=60):
    """BALLOON_CHANGED events until one says `want`; returns all their values."""
    seen = []
    while not seen or seen[-1] != want:
        ev = q.wait_event("BALLOON_CHANGED", timeout)
        assert ev is not None, f"no BALLOON_CHANGED with actual={want}; saw {seen}"
        assert set(ev["data"]) == {"actual"}, ev
        seen.append(ev["data"]["actual"])
    return seen


def line_after(vm, prefix, start=0, timeout=TIMEOUT):
    i = vm.wait_line(lambda ln: ln.startswith(prefix), timeout, start)
    assert i is not None, f"no '{prefix}' line:\n" + "\n".join(vm.lines[-10:]) + \
        "\n" + vm.stderr.decode(errors="replace")
    return i


SPELLINGS = {
    "device": (["-device", "virtio-balloon-device,id=balloon0,deflate-on-oom=on,"
                           "free-page-reporting=on"], None, 1, 1, 64),
    "device-mem-share": (["-machine", "microvm,mem-share=on", "-device",
                          "virtio-balloon-device,free-page-reporting=on"], None, 1, 0, 64),
    "early": (["-balloon", "deflate-on-oom=true"], None, 0, 1, 16),
    "json": ([], {"balloon": {"deflate_on_oom": False, "free_page_reporting": True}}, 1, 0, 16),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_inflate_report_deflate(vmm_bin, guest_elf, kvm, tmp_path, spelling):
    extra, jcfg, reporting, oom, mib = SPELLINGS[spelling]
    extra = list(extra)
    if jcfg:
        (tmp_path / "vm.json").write_text(json.dumps(jcfg))
        extra += ["-config", str(tmp_path / "vm.json")]
    rmib = 32 if reporting else 0
    append = (f"tests=virtio_balloon balloon_mib={mib} balloon_report_mib={rmib} "
              f"balloon_reporting={reporting} balloon_oom={oom}")
    ram, target = RAM_MIB * MIB, (RAM_MIB - mib) * MIB
    with QmpVm(argv_for(vmm_bin, guest_elf, append, extra), tmp_path / "qmp.sock") as vm, \
            vm.qmp(timeout=TIMEOUT) as q:
        assert q.cmd("query-balloon") == {"return": {"actual": ram}}
        i = line_after(vm, "SVTEST BALLOON-READY")
        assert vm.lines[i] == f"SVTEST BALLOON-READY touched={mib} report={rmib}"
        rss0 = rss_kib(vm.proc.pid)

        assert q.cmd("balloon", {"value": target}) == {"return": {}}
        i = line_after(vm, "SVTEST BALLOON-INFLATED", i)
        assert vm.lines[i] == f"SVTEST BALLOON-INFLATED actual={mib * 256}"
        seen = wait_actual(q, target)
        assert seen == sorted(seen, reverse=True) and seen[0] < ram, seen
        assert q.cmd("query-balloon") == {"return": {"actual": target}}
        rss1 = rss_kib(vm.proc.pid)
        print(f"{spelling}: RSS {rss0} KiB before, {rss1} KiB after inflating {mib} MiB")
        # what the guest gave is gone from the VMM's memory (a few MiB of slack)
        assert rss0 - rss1 >= (mib - 2) * 1024, (rss0, rss1)
        assert rss0 - rss1 <= (mib + 4) * 1024, (rss0, rss1)

        if reporting:
            vm.proc.stdin.write(b"r")
            vm.proc.stdin.flush()
            i = line_after(vm, "SVTEST BALLOON-REPORTED", i)
            rss2 = rss_kib(vm.proc.pid)
            print(f"{spelling}: RSS {rss2} KiB after reporting {rmib} MiB free")
            assert rss1 - rss2 >= (rmib - 2) * 1024, (rss1, rss2)
            # reported pages stay the guest's: the balloon did not move
            assert q.cmd("query-balloon") == {"return": {"actual": target}}

        assert q.cmd("balloon", {"value": ram}) == {"return": {}}
        i = line_after(vm, "SVTEST BALLOON-DEFLATED", i)
        assert vm.lines[i] == "SVTEST BALLOON-DEFLATED actual=0"
        wait_actual(q, ram)
        assert q.cmd("query-balloon") == {"return": {"actual": ram}}
        zeros = f"INFO virtio_balloon released pages read back as zero: {mib * 256} of " \
                f"{mib * 256}"
        assert zeros in vm.lines, vm.lines[-6:]
        vm.proc.stdin.write(b"e")
        vm.proc.stdin.flush()
        line_after(vm, "SVTEST DONE", i)
        assert "SVTEST DONE pass=1 fail=0" in vm.lines, vm.lines[-6:]
        assert vm.wait(60) == 0, vm.stderr.decode(errors="replace")


def test_balloon_argument_errors(vmm_bin, guest_elf, kvm, tmp_path):
    argv = argv_for(vmm_bin, guest_elf, "tests=hold hold=1000000",
                    ["-device", "virtio-balloon-device", "-S"])
    with QmpVm(argv, tmp_path / "qmp.sock") as vm, vm.qmp() as q:
        ram = RAM_MIB * MIB
        for value, desc in ((ram + 1, "Invalid parameter 'value': must be at most the guest "
                                      f"memory size ({ram} bytes)"),
                            (0, "Invalid parameter 'value': must be a positive number of bytes"),
                            (-MIB, "Invalid parameter 'value': must be a positive number of "
                                   "bytes"),
                            ("1G", "Invalid parameter type for 'value', expected: integer")):
            rep = q.cmd("balloon", {"value": value})
            assert rep == {"error": {"class": "GenericError", "desc": desc}}, rep
        assert q.cmd("balloon", {})["error"]["desc"] == "Parameter 'value' is missing"
        # a target while nobody drives the device is kept; the guest has not moved
        assert q.cmd("balloon", {"value": ram // 2}) == {"return": {}}
        assert q.cmd("query-balloon") == {"return": {"actual": ram}}
        assert q.events == []


# Kind (guest) -> the reason the VMM must log for it.
HOSTILE = {
    "pfn_outside_ram": "PFN 0xf0000 on the inflate queue is outside guest RAM",
    "deflate_pfn_outside_ram": "PFN 0xf0000 on the deflate queue is outside guest RAM",
    "huge_descriptor": "buffer address/length outside guest RAM",
    "odd_length": "inflate buffer of 6 bytes is not a whole number of 32-bit PFNs",
    "writable_inflate": "a device-writable buffer on the inflate queue",
    "oversized_array": "inflate buffer of 2097152 bytes is over 1048576 bytes",
    "report_readable": "a device-readable buffer on the free page reporting queue",
    "report_outside_ram": "buffer address/length outside guest RAM",
}


def test_hostile_buffers(vmm_bin, guest_elf, kvm, tmp_path):
    append = "tests=virtio_balloon_hostile balloon_hostile=1"
    extra = ["-device", "virtio-balloon-device,free-page-reporting=on"]
    res = run_vm(argv_for(vmm_bin, guest_elf, append, extra), timeout=TIMEOUT)
    rep = parse_guest_output(res.lines)
    info = res.describe()
    assert not res.timed_out and rep.done, info
    for kind in HOSTILE:
        status = rep.results.get(f"virtio_balloon_hostile_{kind}")
        assert status and status[0] == "PASS", f"{kind}: {status}\n{info}"
    assert rep.results["virtio_balloon_hostile"][0] == "PASS", info
    assert rep.failed == 0, info
    assert res.rc == 0, info
    for kind, reason in HOSTILE.items():
        assert reason in res.stderr, f"{kind}: '{reason}' not logged\n{info}"
