# SPDX-License-Identifier: MulanPSL-2.0
"""scripts/hwvirt-arm64.sh itself (docs/hwvirt.md, the arm64 section): what
the command sees inside the arm64 nested machine (working directory,
environment, the host's files, /tmp, the results share, a /dev/kvm that ran
kvm-ok's vCPU, the host's x86_64 sh and head through binfmt_misc), its exit
status, and an L1 crash reported as an infrastructure fault (exit 97) after
one retry.  Each call boots an arm64 L1 (about 20-30 s here)."""
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from hwvirt import arm64_gate as hwvirt_gate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HWVIRT = REPO / "scripts" / "hwvirt-arm64.sh"
EXIT_INFRA, EXIT_UNAVAILABLE = 97, 98


@pytest.fixture(autouse=True)
def _asked_for(pytestconfig):
    why = hwvirt_gate(pytestconfig)
    if why:
        pytest.skip(why)


def hwvirt(args, env=None, timeout=900):
    if os.environ.get("HWVIRT") == "1":
        pytest.skip("already inside a nested machine")
    res = subprocess.run([str(HWVIRT), *args], capture_output=True, text=True,
                         cwd=REPO / "tests", env=dict(os.environ, **(env or {})),
                         timeout=timeout)
    if res.returncode == EXIT_UNAVAILABLE:
        pytest.skip(f"the arm64 nested machine cannot start here: {res.stderr.strip()[-300:]}")
    return res


def test_command_sees_cwd_env_files_kvm_and_returns_status(tmp_path):
    results = tmp_path / "results"
    token = uuid.uuid4().hex
    script = (
        'echo "cwd=$PWD"; echo "token=$SVT_TOKEN"; echo "inside=$HWVIRT $HWVIRT_ARCH"; '
        'test -c /dev/kvm && echo kvm=yes; test -c /dev/vhost-net && echo vhost=yes; '
        'cat /run/hwvirt/kvm-ok; '
        'head -c 20 "$REPO_README"; echo; '
        'touch "$REPO_README" 2>/dev/null; echo overlay-write=$?; '
        'echo hi > /tmp/x && echo tmp=ok; '
        'echo "$SVT_TOKEN" > "$HWVIRT_RESULTS/out.txt"; exit 7')
    res = hwvirt(["sh", "-c", script],
                 env={"SVT_TOKEN": token, "REPO_README": str(REPO / "README.md"),
                      "HWVIRT_RESULTS": str(results)})
    out = res.stdout
    assert res.returncode == 7, f"{res.returncode}\n{out}\n{res.stderr}"
    assert f"cwd={REPO / 'tests'}" in out
    assert f"token={token}" in out and "inside=1 arm64" in out
    assert "kvm=yes" in out and "vhost=yes" in out
    assert "kvm-ok: OK api 12" in out, "kvm-ok ran no vCPU on L1's /dev/kvm"
    # the host's files at their paths, read by the host's x86_64 head(1)
    # (which runs only through qemu-x86_64 and binfmt_misc)
    assert "# StratoVirt in C" in out
    assert "overlay-write=0" in out and "tmp=ok" in out
    assert (results / "out.txt").read_text().strip() == token
    assert "\r" not in out, "pipe mode must give byte-exact output"


def test_l1_crash_is_an_infrastructure_fault():
    res = hwvirt(["sh", "-c", "echo c > /proc/sysrq-trigger; sleep 60"],
                 env={"HWVIRT_TRIES": "2"})
    assert res.returncode == EXIT_INFRA, f"{res.returncode}\n{res.stderr}"
    assert res.stderr.count("infrastructure fault") == 2, res.stderr
    assert "retrying once" in res.stderr and "Kernel panic" in res.stderr
