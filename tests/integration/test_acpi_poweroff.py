# SPDX-License-Identifier: MulanPSL-2.0
"""The ACPI power-off (docs/boot.md, "ACPI power-off"): the FADT's sleep
control register (port 0x600) and the DSDT's \\_S5 package.

The test guest's acpi check notes both; exit=acpi_s5 (tests/guest/lib/exit.c)
first writes two values that must not end the VM (SLP_TYP of S5 without
SLP_EN, SLP_EN with another SLP_TYP), prints `INFO acpi_s5: still running`,
then writes SLP_TYP|SLP_EN, which must end the VMM with exit status 0.  If the
VM survives that, the guest falls back to the debug-exit port with its fail
count + 1, so a missing power-off is a nonzero status, never a pass.
"""
import time

import pytest

from conftest import DEBUG_EXIT, parse_guest_output, run_vm
from qmpclient import QmpVm

VM_TIMEOUT = 60


def argv(vmm_bin, kernel, append, machine="microvm", extra=()):
    return [vmm_bin, "-machine", machine, "-smp", "1", "-m", "128", "-kernel", kernel,
            "-append", f"svtest=1 exit=acpi_s5 cpus=1 mem=128 now={int(time.time())} {append}",
            "-serial", "stdio", *DEBUG_EXIT, *extra]


@pytest.mark.parametrize("image", ["elf", "bin"])
def test_vmm_exits_0_on_acpi_s5(vmm_bin, kvm, request, image):
    kernel = request.getfixturevalue(f"guest_{image}")
    res = run_vm(argv(vmm_bin, kernel, "tests=acpi strict=1"), timeout=VM_TIMEOUT)
    rep = parse_guest_output(res.lines)
    assert not res.timed_out, res.describe()
    assert rep.done and rep.failed == 0, res.describe()
    assert rep.results.get("acpi", ("",))[0] == "PASS", res.describe()
    assert "INFO acpi: _S5 SLP_TYPa 5, sleep control port 0x600" in res.output, res.describe()
    # The two other values were written and ignored: the guest ran on.
    assert "INFO acpi_s5: still running after writing 0x14 and 0x38" in res.output, \
        res.describe()
    assert "FAIL acpi_s5" not in res.output, res.describe()
    assert res.rc == 0, res.describe()


def test_acpi_s5_sends_guest_shutdown_event(vmm_bin, guest_elf, kvm, tmp_path):
    sock = tmp_path / "qmp.sock"
    with QmpVm(argv(vmm_bin, guest_elf, "tests=acpi,hold hold=10", extra=["-S"]), sock) as vm, \
            vm.qmp() as q:
        q.cmd("cont")
        ev = q.wait_event("SHUTDOWN", 120)
        assert ev is not None and ev["data"] == {"guest": True, "reason": "guest-shutdown"}
        assert vm.wait(60) == 0


def test_acpi_off_has_no_poweroff(vmm_bin, kvm, guest_elf):
    """-machine acpi=off: no tables, so the guest finds no sleep register and
    falls back to the debug port with a failure (Linux, likewise, has no
    power-off method there: docs/boot.md)."""
    res = run_vm(argv(vmm_bin, guest_elf, "tests=cmdline", machine="microvm,acpi=off"),
                 timeout=VM_TIMEOUT)
    assert not res.timed_out, res.describe()
    assert "FAIL acpi_s5: no FADT sleep control port" in res.output, res.describe()
    assert res.rc == 1, res.describe()
