# SPDX-License-Identifier: MulanPSL-2.0
"""virtio-balloon with a Linux guest whose user space runs (marker hwvirt).

On the project's kvm_pvm hosts these run inside the nested machine
(scripts/hwvirt.sh, tests/integration/hwvirt.py).  The guest is the demo/test
guest of guest/; its init runs guest/checks.d/balloon.sh, which prints
"SVBALLOON <step>" lines and waits for a line on the console between steps
while the host acts through QMP:

  inflate, deflate-on-oom  Linux's virtio_balloon driver is bound with
      DEFLATE_ON_OOM; the guest backs all its free memory (a tmpfs filled and
      emptied); QMP balloon 64 MiB below RAM: BALLOON_CHANGED falls to the
      target, query-balloon agrees and the VMM's RSS (/proc/PID/smaps_rollup)
      falls by about 64 MiB.  The guest then writes more than it has free:
      instead of the OOM killer the balloon gives pages back (BALLOON_CHANGED
      above the target) and the write completes; balloon back to full RAM.
  free page reporting  96 MiB written to a tmpfs and deleted: the VMM's RSS
      falls by most of it without any balloon target.

Environment: STRATOVIRT_BIN, STRATOVIRT_GUEST_CACHE, LINUX_USER_TIMEOUT.
"""
import time
from pathlib import Path

import pytest

from qmpclient import QmpVm
from test_linux_user import CHECK_LINE, TIMEOUT, build_guest_on_host, guest, guest_cmdline  # noqa: F401

pytestmark = [pytest.mark.hwvirt, pytest.mark.slow]

MIB = 1 << 20
RAM_MIB = 256


def hwvirt_host_prepare():
    """On the host, before L1 starts: the guest build (L1 has no network)."""
    build_guest_on_host()


def vmm_argv(vmm_bin, guest, checks, device):
    kdir, initrd = guest
    return [vmm_bin, "-machine", "microvm", "-smp", "1", "-m", str(RAM_MIB),
            "-kernel", kdir / "bzImage", "-initrd", initrd,
            "-append", f"{guest_cmdline()} sv.checks={checks}", "-serial", "stdio",
            "-device", device]


def rss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for ln in f:
            if ln.startswith("Rss:"):
                return int(ln.split()[1])
    raise AssertionError("no Rss line")


def describe(vm):
    return "\n".join(vm.lines[-30:]) + "\n--- stderr ---\n" + vm.stderr.decode(errors="replace")


def step(vm, name, start=0):
    i = vm.wait_line(lambda ln: f"SVBALLOON {name}" in ln, TIMEOUT, start)
    assert i is not None, f"no 'SVBALLOON {name}'\n{describe(vm)}"
    return i


def answer(vm):
    vm.proc.stdin.write(b"go\n")
    vm.proc.stdin.flush()


def finish(vm, name):
    i = vm.wait_line(lambda ln: "SVCHECK done" in ln, TIMEOUT)
    assert i is not None, describe(vm)
    found = {}
    for ln in vm.lines:
        m = CHECK_LINE.search(ln)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3))
    assert found.get(name, ("missing",))[0] == "ok", f"{name}: {found.get(name)}\n{describe(vm)}"
    assert vm.wait(TIMEOUT) == 0, describe(vm)
    return found[name][1]


def actual_events(q, until, timeout=TIMEOUT):
    """BALLOON_CHANGED values until until(actual) holds."""
    seen = []
    while not seen or not until(seen[-1]):
        ev = q.wait_event("BALLOON_CHANGED", timeout)
        assert ev is not None, f"no BALLOON_CHANGED reaching the goal; saw {seen}"
        seen.append(ev["data"]["actual"])
    return seen


def test_linux_balloon_inflate_and_deflate_on_oom(vmm_bin, guest, tmp_path, monkeypatch):
    monkeypatch.setenv("STRATOVIRT_LOG_LEVEL", "info")
    ram, target = RAM_MIB * MIB, (RAM_MIB - 64) * MIB
    argv = vmm_argv(vmm_bin, guest, "balloon", "virtio-balloon-device,deflate-on-oom=on")
    with QmpVm(argv, tmp_path / "qmp.sock") as vm, vm.qmp(timeout=TIMEOUT) as q:
        i = step(vm, "filled")
        assert q.cmd("query-balloon") == {"return": {"actual": ram}}
        rss0 = rss_kib(vm.proc.pid)
        assert q.cmd("balloon", {"value": target}) == {"return": {}}
        seen = actual_events(q, lambda a: a == target)
        assert seen == sorted(seen, reverse=True), seen
        assert q.cmd("query-balloon") == {"return": {"actual": target}}
        rss1 = rss_kib(vm.proc.pid)
        print(f"RSS {rss0} KiB before, {rss1} KiB after Linux inflated 64 MiB "
              f"({len(seen)} BALLOON_CHANGED)")
        assert rss0 - rss1 >= 56 * 1024, (rss0, rss1)

        answer(vm)  # the guest now writes more than it has free
        i = step(vm, "oom-filled", i)
        got = q.cmd("query-balloon")["return"]["actual"]
        seen = actual_events(q, lambda a: a > target) if got == target else [got]
        print(f"deflate-on-oom: actual {target} -> {got} bytes; events {seen[-3:]}")
        assert got > target, got
        assert not any("Out of memory: Killed process" in ln for ln in vm.lines), describe(vm)

        assert q.cmd("balloon", {"value": ram}) == {"return": {}}
        actual_events(q, lambda a: a == ram)
        assert q.cmd("query-balloon") == {"return": {"actual": ram}}
        answer(vm)
        detail = finish(vm, "balloon")
        print("guest:", detail)
        vm.err_reader.join(10)  # the VMM's stderr, read to its end
        assert b"virtio-balloon: driver ready (deflate-on-oom on, free page reporting off)" \
            in vm.stderr, describe(vm)


def test_linux_free_page_reporting(vmm_bin, guest, tmp_path):
    argv = vmm_argv(vmm_bin, guest, "balloon_report",
                    "virtio-balloon-device,free-page-reporting=on")
    with QmpVm(argv, tmp_path / "qmp.sock") as vm, vm.qmp(timeout=TIMEOUT) as q:
        i = step(vm, "filled")
        rss0 = rss_kib(vm.proc.pid)
        answer(vm)
        step(vm, "freed", i)
        # Linux reports free 2-4 MiB blocks about 2 s after they are freed
        end, rss1 = time.monotonic() + 60, rss0
        while time.monotonic() < end and rss0 - rss1 < 80 * 1024:
            time.sleep(1)
            rss1 = rss_kib(vm.proc.pid)
        print(f"RSS {rss0} KiB with 96 MiB in a tmpfs, {rss1} KiB after deleting it")
        assert rss0 - rss1 >= 80 * 1024, (rss0, rss1)
        # reported pages are still the guest's: the balloon did not move
        assert q.cmd("query-balloon") == {"return": {"actual": RAM_MIB * MIB}}
        answer(vm)
        finish(vm, "balloon_report")
