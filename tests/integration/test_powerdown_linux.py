# SPDX-License-Identifier: MulanPSL-2.0
"""QMP system_powerdown with a Linux guest whose user space runs (marker hwvirt).

On the project's kvm_pvm hosts these run inside the nested machine
(scripts/hwvirt.sh, tests/integration/hwvirt.py).  The guest is the demo/test
guest of guest/: its init starts /bin/svpwrbtn (guest/agent/pwrbtn.c), which
waits for Linux's ACPI button driver to report a press of \\_SB.PWRB (PNP0C0C)
and then powers the guest off through ACPI S5.

  checks  sv.checks=pwrbtn (guest/checks.d/pwrbtn.sh): the guest lists the
          button, the GED (ACPI0013) and its "ACPI:Ged" interrupt, says
          "SVPWRBTN waiting"; system_powerdown answers POWERDOWN then {}; the
          watcher prints the press (the netlink event of button/power
          PNP0C0C:00, type 0x80) with the GED's interrupt count; SHUTDOWN
          guest-shutdown follows and the VMM exits 0.
  demo    the same press ends the demo (a shell on the console, no checks).
  acpi=off  the demo without ACPI tables, so without a button:
          system_powerdown is a GenericError naming acpi=off, no POWERDOWN
          event, and the guest runs on (quit ends it).

Environment: STRATOVIRT_BIN, STRATOVIRT_GUEST_CACHE, LINUX_USER_TIMEOUT.
"""
import re
import time

import pytest

from qmpclient import QmpVm
from test_linux_user import TIMEOUT, build_guest_on_host, guest, guest_cmdline  # noqa: F401

pytestmark = [pytest.mark.hwvirt, pytest.mark.slow]

PRESS = re.compile(r"svpwrbtn press source=netlink:button/power:PNP0C0C:00:0x80 "
                   r"ged_irqs=(\d+) poweroff")
NO_BUTTON = ("system_powerdown: the machine has no power button "
             "(-machine acpi=off leaves out the ACPI tables and their GED)")


def hwvirt_host_prepare():
    """On the host, before L1 starts: the guest build (L1 has no network)."""
    build_guest_on_host()


def vmm_argv(vmm_bin, guest, append, machine="microvm"):
    kdir, initrd = guest
    return [vmm_bin, "-machine", machine, "-smp", "1", "-m", "256",
            "-kernel", kdir / "bzImage", "-initrd", initrd,
            "-append", f"{guest_cmdline()} {append}", "-serial", "stdio"]


def describe(vm):
    return "\n".join(vm.lines[-40:]) + "\n--- stderr ---\n" + vm.stderr.decode(errors="replace")


def line(vm, text, timeout=TIMEOUT, start=0):
    i = vm.wait_line(lambda ln: text in ln, timeout, start)
    assert i is not None, f"no '{text}'\n{describe(vm)}"
    return i, vm.lines[i][vm.lines[i].find(text):]


def press_and_power_off(vm, start):
    """system_powerdown: POWERDOWN, {}, the guest's press line, SHUTDOWN, exit 0."""
    with vm.qmp() as q:
        t0 = time.monotonic()
        q.send({"execute": "system_powerdown", "id": "pd"})
        ev = q.recv()
        assert ev is not None and ev.get("event") == "POWERDOWN" and ev["data"] == {}, ev
        assert q.reply() == {"return": {}, "id": "pd"}
        i, press = line(vm, "svpwrbtn press", 60, start)
        t1 = time.monotonic()
        m = PRESS.search(press)
        assert m, f"{press}\n{describe(vm)}"
        assert int(m.group(1)) >= 1, press  # the GED's interrupt reached the guest
        ev = q.wait_event("SHUTDOWN", 60)
        assert ev is not None and ev["data"] == {"guest": True, "reason": "guest-shutdown"}, \
            f"{ev}\n{describe(vm)}"
    assert vm.wait(60) == 0, describe(vm)
    t2 = time.monotonic()
    print(f"system_powerdown to the guest's press line {1000 * (t1 - t0):.0f} ms, "
          f"to the VMM's exit {1000 * (t2 - t0):.0f} ms; {press}")


def test_system_powerdown_powers_off_linux(vmm_bin, guest, tmp_path):
    with QmpVm(vmm_argv(vmm_bin, guest, "sv.checks=pwrbtn sv.pwrwait=120"),
               tmp_path / "qmp.sock") as vm:
        _, devs = line(vm, "SVPWRBTN devices")
        assert re.search(r"button=1 ged=1 ged_irq=\d+ input=1 watcher=\d+", devs), \
            f"{devs}\n{describe(vm)}"
        line(vm, "svpwrbtn ready netlink=")
        i, _ = line(vm, "SVPWRBTN waiting")
        press_and_power_off(vm, i)
        assert not any("SVCHECK pwrbtn" in ln for ln in vm.lines), describe(vm)


def test_system_powerdown_ends_the_demo(vmm_bin, guest, tmp_path):
    with QmpVm(vmm_argv(vmm_bin, guest, ""), tmp_path / "qmp.sock") as vm:
        line(vm, "StratoVirt demo guest")
        i, _ = line(vm, "svpwrbtn ready netlink=")
        press_and_power_off(vm, i)


def test_system_powerdown_refused_with_acpi_off_linux(vmm_bin, guest, tmp_path):
    with QmpVm(vmm_argv(vmm_bin, guest, "", machine="microvm,acpi=off"),
               tmp_path / "qmp.sock") as vm:
        line(vm, "StratoVirt demo guest")
        # Without ACPI Linux registers no acpi_event family: nothing to watch.
        line(vm, "svpwrbtn error=no-acpi-netlink-and-no-evdev")
        with vm.qmp() as q:
            rep = q.cmd("system_powerdown")
            assert rep == {"error": {"class": "GenericError", "desc": NO_BUTTON}}, rep
            assert q.cmd("query-status")["return"]["status"] == "running"
            assert not [e for e in q.events if e["event"] == "POWERDOWN"], q.events
            assert q.cmd("quit") == {"return": {}}
        assert vm.wait(60) == 0, describe(vm)
