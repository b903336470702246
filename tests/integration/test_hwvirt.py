# SPDX-License-Identifier: MulanPSL-2.0
"""scripts/hwvirt.sh itself (docs/hwvirt.md): what the command sees inside
the nested machine, its exit status, and an L1 crash reported as an
infrastructure fault (exit 97) after one retry.  Each call boots L1 (about
10 s here)."""
import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

import hwvirt_selftest as selftest
from hwvirt import EXIT_UNAVAILABLE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HWVIRT = REPO / "scripts" / "hwvirt.sh"


def test_command_sees_cwd_env_files_kvm_and_returns_status(tmp_path):
    out = selftest.command_sees(HWVIRT, tmp_path, "cat /sys/module/kvm_amd/parameters/npt")
    # kvm_amd.npt=0 by default (HWVIRT_L1_ARGS): L1's KVM uses shadow paging
    assert "\nN\n" in out, out


def test_l1_crash_is_an_infrastructure_fault():
    selftest.crash_is_infrastructure_fault(HWVIRT)


def test_second_call_waits_for_the_lock(tmp_path):
    """A call while another L1 holds the lock waits for it, then runs."""
    if os.environ.get("HWVIRT") == "1":
        pytest.skip("already inside the nested machine")
    lock = tmp_path / "l1.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen([str(HWVIRT), "sh", "-c", "echo ran-after-lock"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, HWVIRT_LOCK=str(lock)))
        time.sleep(5)
        assert proc.poll() is None, "hwvirt.sh ran while the lock was held"
    out, err = proc.communicate(timeout=600)
    if proc.returncode == EXIT_UNAVAILABLE:
        pytest.skip(f"the nested machine cannot start here: {err.strip()[-300:]}")
    assert "waiting for another nested machine" in err, err
    assert proc.returncode == 0 and "ran-after-lock" in out, f"{proc.returncode}\n{err}"
