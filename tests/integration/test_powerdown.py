# SPDX-License-Identifier: MulanPSL-2.0
"""QMP system_powerdown and the ACPI power button, seen by the bare-metal test
guest (docs/qmp.md, docs/boot.md "ACPI power button").

The guest's acpi check finds the GED (ACPI0013) in the DSDT: its GSI and its
event register port.  power_button (tests/guest/checks/power_button.c)
routes that GSI through the IOAPIC to a vector, interrupts off, says
"SVTEST POWER-BUTTON-READY", and polls the register; on the power button
bit it checks the vector is pending in its local APIC (the interrupt came),
that writing 0 clears nothing and that writing the bit back clears it.
Then exit=acpi_s5 powers off through the sleep control register, so the
VMM sends SHUTDOWN guest-shutdown and exits 0: the whole press-to-power-off
path a Linux guest takes (test_powerdown_linux.py does that with Linux).
"""
import time

import pytest

from conftest import DEBUG_EXIT, parse_guest_output
from qmpclient import QmpVm

READY = "SVTEST POWER-BUTTON-READY gsi=23 port=0x602"
NO_BUTTON = ("system_powerdown: the machine has no power button "
             "(-machine acpi=off leaves out the ACPI tables and their GED)")


def argv(vmm_bin, kernel, append, machine="microvm", extra=()):
    return [vmm_bin, "-machine", machine, "-smp", "1", "-m", "128", "-kernel", kernel,
            "-append", f"svtest=1 cpus=1 mem=128 now={int(time.time())} {append}",
            "-serial", "stdio", *DEBUG_EXIT, *extra]


def describe(vm):
    return "\n".join(vm.lines[-30:]) + "\n--- stderr ---\n" + vm.stderr.decode(errors="replace")


def ready(vm):
    assert vm.wait_line(lambda ln: READY in ln, 60) is not None, describe(vm)
    assert any("INFO acpi: GED GSI 23, event port 0x602, power button PNP0C0C" in ln
               for ln in vm.lines), describe(vm)


def press(q):
    """system_powerdown: POWERDOWN first, then the reply."""
    q.send({"execute": "system_powerdown", "id": 7})
    ev = q.recv()
    assert ev is not None and ev.get("event") == "POWERDOWN" and ev["data"] == {}, ev
    assert "seconds" in ev["timestamp"], ev
    assert q.reply() == {"return": {}, "id": 7}


def powered_off(vm, q):
    ev = q.wait_event("SHUTDOWN", 60)
    assert ev is not None and ev["data"] == {"guest": True, "reason": "guest-shutdown"}, \
        f"{ev}\n{describe(vm)}"
    assert vm.wait(60) == 0, describe(vm)
    rep = parse_guest_output(vm.lines)
    assert rep.results.get("power_button", ("",))[0] == "PASS", describe(vm)
    assert rep.done and rep.failed == 0, describe(vm)
    assert any("INFO power_button: pressed, register 0x01, vector 0x40 pending" in ln
               for ln in vm.lines), describe(vm)


def test_system_powerdown_presses_the_button(vmm_bin, guest_elf, kvm, tmp_path):
    with QmpVm(argv(vmm_bin, guest_elf, "tests=acpi,power_button exit=acpi_s5 strict=1"),
               tmp_path / "qmp.sock") as vm, vm.qmp() as q:
        ready(vm)
        t0 = time.monotonic()
        press(q)
        powered_off(vm, q)
        print(f"system_powerdown to the VMM's exit: {1000 * (time.monotonic() - t0):.1f} ms")


def test_press_while_paused_is_seen_after_cont(vmm_bin, guest_elf, kvm, tmp_path):
    """The edge reaches the in-kernel IOAPIC while the vCPUs are stopped."""
    with QmpVm(argv(vmm_bin, guest_elf, "tests=acpi,power_button exit=acpi_s5"),
               tmp_path / "qmp.sock") as vm, vm.qmp() as q:
        ready(vm)
        assert q.cmd("stop") == {"return": {}}
        press(q)
        time.sleep(0.3)
        assert not any("power_button: pressed" in ln for ln in vm.lines), describe(vm)
        assert q.cmd("cont") == {"return": {}}
        powered_off(vm, q)


def test_no_press_fails_the_check(vmm_bin, guest_elf, kvm, tmp_path):
    """Without system_powerdown the guest's check fails: it cannot pass by itself."""
    with QmpVm(argv(vmm_bin, guest_elf, "tests=acpi,power_button pwrwait=1"),
               tmp_path / "qmp.sock") as vm:
        ready(vm)
        assert vm.wait(60) == 1, describe(vm)
        rep = parse_guest_output(vm.lines)
        status, reason = rep.results.get("power_button", ("", ""))
        assert status == "FAIL" and "no press in 1 s" in reason, describe(vm)


@pytest.mark.parametrize("machine", ["microvm,acpi=off"])
def test_system_powerdown_without_acpi_is_an_error(vmm_bin, guest_elf, kvm, tmp_path, machine):
    with QmpVm(argv(vmm_bin, guest_elf, "tests=hold hold=50", machine=machine),
               tmp_path / "qmp.sock") as vm, vm.qmp() as q:
        assert vm.wait_line(lambda ln: "TICK 1" in ln, 30) is not None, describe(vm)
        rep = q.cmd("system_powerdown")
        assert rep == {"error": {"class": "GenericError", "desc": NO_BUTTON}}, rep
        assert not [e for e in q.events if e["event"] == "POWERDOWN"], q.events
        assert q.cmd("query-status")["return"]["running"] is True
        assert q.cmd("quit") == {"return": {}}
        assert vm.wait(30) == 0, describe(vm)
