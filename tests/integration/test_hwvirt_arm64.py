# SPDX-License-Identifier: MulanPSL-2.0
"""scripts/hwvirt-arm64.sh itself (docs/hwvirt.md, the arm64 section): what
the command sees inside the arm64 nested machine (working directory,
environment, the host's files, /tmp, the results share, a /dev/kvm that ran
kvm-ok's vCPU, the host's x86_64 sh and head through binfmt_misc), its exit
status, and an L1 crash reported as an infrastructure fault (exit 97) after
one retry.  Each call boots an arm64 L1 (about 20-30 s here)."""
from pathlib import Path

import pytest

import hwvirt_selftest as selftest
from hwvirt import arm64_gate as hwvirt_gate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HWVIRT = REPO / "scripts" / "hwvirt-arm64.sh"


@pytest.fixture(autouse=True)
def _asked_for(pytestconfig):
    why = hwvirt_gate(pytestconfig)
    if why:
        pytest.skip(why)


def test_command_sees_cwd_env_files_kvm_and_returns_status(tmp_path):
    # the host's files are read by the host's x86_64 sh and head(1), which
    # run only through qemu-x86_64 and binfmt_misc
    out = selftest.command_sees(HWVIRT, tmp_path, "cat /run/hwvirt/kvm-ok", arch="arm64",
                                timeout=900)
    assert "kvm-ok: OK api 12" in out, "kvm-ok ran no vCPU on L1's /dev/kvm"


def test_l1_crash_is_an_infrastructure_fault():
    selftest.crash_is_infrastructure_fault(HWVIRT, timeout=900)
