# SPDX-License-Identifier: MulanPSL-2.0
"""The checks of a nested-machine script itself, shared by test_hwvirt.py
(scripts/hwvirt.sh, x86_64 L1) and test_hwvirt_arm64.py
(scripts/hwvirt-arm64.sh, arm64 L1); docs/hwvirt.md."""
import os
import subprocess
import uuid

import pytest

from hwvirt import EXIT_INFRA, EXIT_UNAVAILABLE, REPO


def run(script, args, env=None, timeout=600):
    """Run script (hwvirt.sh or hwvirt-arm64.sh) with args in tests/; skip
    inside a nested machine and where L1 cannot start (exit 98)."""
    if os.environ.get("HWVIRT") == "1":
        pytest.skip("already inside a nested machine")
    res = subprocess.run([str(script), *args], capture_output=True, text=True,
                         cwd=REPO / "tests", env=dict(os.environ, **(env or {})),
                         timeout=timeout)
    if res.returncode == EXIT_UNAVAILABLE:
        pytest.skip(f"{script.name}: the nested machine cannot start here: "
                    f"{res.stderr.strip()[-300:]}")
    return res


def command_sees(script, tmp_path, extra="", arch=None, timeout=600):
    """CMD's working directory, environment (HWVIRT=1, HWVIRT_ARCH=arch when
    given), /dev/kvm and /dev/vhost-net, the host's files read through the
    host's sh and head, an overlay that takes writes, /tmp, the results share
    and CMD's exit status, with byte-exact output.  extra is shell run before
    the checks' own; returns CMD's stdout for the caller's own asserts."""
    results = tmp_path / "results"
    token = uuid.uuid4().hex
    readme = REPO / "README.md"
    cmd = (
        'echo "cwd=$PWD"; echo "token=$SVT_TOKEN"; '
        'echo "inside=$HWVIRT${HWVIRT_ARCH:+ $HWVIRT_ARCH}"; '
        'test -c /dev/kvm && echo kvm=yes; test -c /dev/vhost-net && echo vhost=yes; '
        f'{extra}; '
        'head -c 20 "$REPO_README"; echo; '
        'touch "$REPO_README" 2>/dev/null; echo overlay-write=$?; '
        'echo hi > /tmp/x && echo tmp=ok; '
        'echo "$SVT_TOKEN" > "$HWVIRT_RESULTS/out.txt"; exit 7')
    res = run(script, ["sh", "-c", cmd], timeout=timeout,
              env={"SVT_TOKEN": token, "REPO_README": str(readme),
                   "HWVIRT_RESULTS": str(results)})
    out = res.stdout
    assert res.returncode == 7, f"{res.returncode}\n{out}\n{res.stderr}"
    assert f"cwd={REPO / 'tests'}" in out
    assert f"token={token}" in out
    assert f"inside=1{' ' + arch if arch else ''}\n" in out, out
    assert "kvm=yes" in out and "vhost=yes" in out
    assert "# StratoVirt in C" in out          # the host's files at their paths
    assert "overlay-write=0" in out and "tmp=ok" in out
    assert (results / "out.txt").read_text().strip() == token
    assert "\r" not in out, "pipe mode must give byte-exact output"
    return out


def crash_is_infrastructure_fault(script, timeout=600):
    """An L1 panic (sysrq c) on both tries: exit 97, reported twice."""
    res = run(script, ["sh", "-c", "echo c > /proc/sysrq-trigger; sleep 60"],
              env={"HWVIRT_TRIES": "2"}, timeout=timeout)
    assert res.returncode == EXIT_INFRA, f"{res.returncode}\n{res.stderr}"
    assert res.stderr.count("infrastructure fault") == 2, res.stderr
    assert "retrying once" in res.stderr and "Kernel panic" in res.stderr
