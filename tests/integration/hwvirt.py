# SPDX-License-Identifier: MulanPSL-2.0
"""Running the integration tests marked `hwvirt` inside the nested machine.

Tests that need guest user space carry `@pytest.mark.hwvirt`.  Where the
host's KVM can run guest user space (hardware virtualization), or when this
pytest already runs inside the nested machine (HWVIRT=1, set by
scripts/hwvirt.sh), they run as they are.  On a kvm_pvm host
(/sys/module/kvm_pvm) each selected hwvirt test is replaced by a proxy; the
first proxy to run starts one inner run

    scripts/hwvirt.sh python3 -m pytest --rootdir=<rootdir> <the node ids>

and every proxy then reports what its test did there: passed, failed (with
the inner failure text), skipped or xfailed (with the inner reason).  When L1
crashes or hangs (hwvirt.sh exit 97, run here with HWVIRT_TRIES=1) a fresh L1
runs the tests not yet done, starting with the one that was running; a test
running at two such faults, and every test when L1 cannot start (exit 98),
skips with that cause: neither a pass nor a failure.

Tests marked `hwvirt_arm64` need an aarch64 KVM: they are delegated the same
way to the arm64 nested machine (scripts/hwvirt-arm64.sh), always, unless
this pytest runs inside it (HWVIRT_ARCH=arm64, set by that script), on an
aarch64 host with a usable /dev/kvm, or with HWVIRT_MODE=direct; inside the
x86_64 nested machine they skip (one L1 cannot start another).  Those also
marked `arm64_gicv2` run in an arm64 L1 of their own whose GIC is a GICv2
(HWVIRT_ARM64_GIC=2).  The machines never run at once: each starts when its
first test runs.  They run
only when asked for (arm64_gate): HWVIRT_ARM64=1, or "arm64" in a path or
node id on pytest's command line; a plain `pytest tests/integration` (make
check) skips them, saying so.

HWVIRT_MODE: auto (default), direct (never delegate), nested (always).
HWVIRT_PYTEST_TIMEOUT: seconds for the whole inner run (default 3000).
Before L1 starts, a test module may define hwvirt_host_prepare() to do on
the host what L1 cannot (L1 has no network: apt-get, guest builds).
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXIT_INFRA, EXIT_UNAVAILABLE = 97, 98
REPORT_ENV = "PYTEST_HWVIRT_REPORT"


def needs_nested():
    """Whether hwvirt tests must be delegated to the nested machine."""
    if os.environ.get("HWVIRT") == "1":
        return False
    mode = os.environ.get("HWVIRT_MODE", "auto")
    if mode == "direct":
        return False
    if mode == "nested":
        return True
    return os.path.exists("/sys/module/kvm_pvm")


def arm64_gate(config):
    """None when the arm64 nested tests were asked for, else the skip reason."""
    if os.environ.get("HWVIRT_ARM64") == "1" or os.environ.get("HWVIRT_ARCH") == "arm64":
        return None
    if any("arm64" in str(a) for a in config.args):
        return None
    return ("arm64 nested-machine tests run only when asked for: name their file "
            "(tests/integration/test_arm64_linux.py, test_hwvirt_arm64.py) or set "
            "HWVIRT_ARM64=1 (each boots an arm64 L1; a cold guest kernel build takes ~12 min)")


def arm64_route():
    """Where hwvirt_arm64 tests run: "direct", "nested" or a skip reason."""
    if os.environ.get("HWVIRT_ARCH") == "arm64" or os.environ.get("HWVIRT_MODE") == "direct":
        return "direct"
    if os.environ.get("HWVIRT") == "1":
        return ("an aarch64 KVM test cannot run inside the x86_64 nested machine "
                "(scripts/hwvirt.sh); run it from the host")
    if (os.uname().machine == "aarch64" and os.access("/dev/kvm", os.R_OK | os.W_OK)
            and os.environ.get("HWVIRT_MODE") != "nested"):
        return "direct"
    return "nested"


class NestedRun:
    """One inner pytest run in L1 for a list of node ids, started lazily."""

    def __init__(self, config, items, script="hwvirt.sh", env=None):
        self.config = config
        self.script = script
        self.env = env or {}
        self.nodeids = [it.nodeid for it in items]
        self.modules = []
        for it in items:
            mod = getattr(it, "module", None)
            if mod is not None and mod not in self.modules:
                self.modules.append(mod)
        self.done = False
        self.reports = {}       # nodeid -> list of report dicts
        self.infra = {}         # nodeid -> skip reason (L1 could not give a result)
        self.skip_all = None    # reason every proxy skips with
        self.fail_all = None    # message every proxy fails with
        self.rc = None
        self.log = None

    def _echo(self, line):
        capman = self.config.pluginmanager.getplugin("capturemanager")
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        if capman and tr:
            with capman.global_and_fixture_disabled():
                tr.write_line(f"  [L1] {line}")

    def run(self):
        if self.done:
            return
        self.done = True
        for mod in self.modules:
            prep = getattr(mod, "hwvirt_host_prepare", None)
            if prep is None:
                continue
            try:
                prep()
            except pytest.skip.Exception as e:
                self.skip_all = f"host preparation for the nested run skipped: {e}"
                return
            except Exception as e:  # noqa: BLE001 - reported on every proxy
                self.fail_all = f"host preparation for the nested run failed: {e!r}"
                return
        results = Path(tempfile.mkdtemp(prefix="hwvirt-pytest-"))
        self.log = results / "pytest.log"
        timeout = float(os.environ.get("HWVIRT_PYTEST_TIMEOUT", "3000"))
        deadline = time.monotonic() + timeout
        remaining = list(self.nodeids)
        faults = {}
        last = ""
        while remaining:
            report = results / f"report-{len(faults)}-{len(remaining)}.jsonl"
            self.rc, last = self._inner(remaining, results, report, deadline)
            finished = {}
            if report.exists():
                for line in report.read_text().splitlines():
                    r = json.loads(line)
                    finished.setdefault(r["nodeid"], []).append(r)
            for nid, reps in finished.items():
                if any(r["when"] == "teardown" for r in reps):
                    self.reports[nid] = reps
            remaining = [n for n in remaining if n not in self.reports]
            if self.rc != EXIT_INFRA or not remaining or time.monotonic() > deadline:
                break
            # L1 crashed or hung: again, from the test that was running; a
            # test that was running at two faults is given up (skipped).
            cur = remaining[0]
            faults[cur] = faults.get(cur, 0) + 1
            self._echo(f"L1 infrastructure fault during {cur}; restarting L1 for "
                       f"the {len(remaining)} test(s) not yet done")
            if faults[cur] >= 2:
                self.infra[cur] = ("infrastructure fault: the nested machine crashed or hung "
                                   f"twice while this test ran (not a test result); log {self.log}")
                remaining.pop(0)
        for nid in remaining:
            if self.rc == EXIT_UNAVAILABLE:
                self.infra[nid] = (f"the nested machine (scripts/{self.script}) cannot start "
                                   f"here: {last}")
            elif self.rc == EXIT_INFRA:
                self.infra[nid] = ("infrastructure fault: the nested machine crashed or hung "
                                   f"(not a test result); log {self.log}")
            elif time.monotonic() > deadline:
                self.infra[nid] = None
                self.fail_all = f"the nested run did not finish in {timeout:.0f} s; log {self.log}"

    def _inner(self, nodeids, results, report, deadline):
        """One L1 boot running pytest on nodeids; returns (status, last line)."""
        env = dict(os.environ, HWVIRT_RESULTS=str(results), HWVIRT_TRIES="1",
                   **{REPORT_ENV: str(report)}, **self.env)
        # pytest -v prints a line as each test starts and ends, and no test
        # inside L1 runs for minutes: 10 min of silence is a hung L1 (the
        # script's default of 15 min is for any command)
        env.setdefault("HWVIRT_SILENCE", "600")
        argv = [str(REPO / "scripts" / self.script), sys.executable, "-m", "pytest",
                "-p", "no:cacheprovider", "-v", "-rsxX", "--color=no",
                f"--rootdir={self.config.rootpath}", *nodeids]
        self._echo(f"running {len(nodeids)} test(s) in the nested machine "
                   f"(scripts/{self.script} python3 -m pytest ...; log {self.log})")
        start = time.monotonic()
        last = ""
        with open(self.log, "a") as log:
            proc = subprocess.Popen(argv, cwd=self.config.rootpath, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace")
            for line in proc.stdout:
                log.write(line)
                log.flush()
                line = line.rstrip()
                if line:
                    last = line
                if any(w in line for w in ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL",
                                           "XPASS")) or line.startswith("hwvirt:"):
                    self._echo(line)
                if time.monotonic() > deadline:
                    proc.kill()
                    break
            rc = proc.wait()
        self._echo(f"nested run ended with status {rc} after {time.monotonic() - start:.0f} s")
        return rc, last

    def outcome(self, nodeid):
        self.run()
        if self.skip_all:
            pytest.skip(self.skip_all)
        if self.fail_all:
            pytest.fail(self.fail_all, pytrace=False)
        if nodeid in self.infra:
            if self.infra[nodeid]:
                pytest.skip(self.infra[nodeid])
        reps = self.reports.get(nodeid)
        if not reps:
            pytest.fail(f"{nodeid} did not report from the nested machine (inner pytest "
                        f"status {self.rc}); log {self.log}", pytrace=False)
        for r in reps:
            if r["outcome"] == "failed":
                what = "" if r["when"] == "call" else f"error in {r['when']}: "
                pytest.fail(f"{what}(in the nested machine)\n{clip(r['longrepr'])}",
                            pytrace=False)
        for r in reps:
            if r.get("wasxfail") is not None and r["outcome"] == "skipped":
                pytest.xfail(f"(in the nested machine) {r['wasxfail']}")
            if r["outcome"] == "skipped":
                pytest.skip(f"(in the nested machine) {r['reason']}")


def clip(text, head=2000, tail=6000):
    """The start (the command and exit status) and the end of a long report."""
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n[... {len(text) - head - tail} characters left out ...]\n{text[-tail:]}"


class HwvirtProxy(pytest.Item):
    """Stands for one hwvirt test that runs inside the nested machine."""

    def __init__(self, *, nested, **kw):
        super().__init__(**kw)
        self.nested = nested

    def runtest(self):
        self.nested.outcome(self.nodeid)

    def reportinfo(self):
        return self.path, None, self.name

    def repr_failure(self, excinfo):
        return str(excinfo.value)


def delegate_items(session, config, items):
    """Replaces the selected hwvirt items by proxies when the host needs L1."""
    arm64 = [it for it in items if it.get_closest_marker("hwvirt_arm64")]
    route = (arm64_gate(config) or arm64_route()) if arm64 else "direct"
    if route == "nested":
        gicv2 = [it for it in arm64 if it.get_closest_marker("arm64_gicv2")]
        gicv3 = [it for it in arm64 if it not in gicv2]
        if gicv3:
            _proxy(config, items, gicv3, NestedRun(config, gicv3, "hwvirt-arm64.sh"))
        if gicv2:
            _proxy(config, items, gicv2, NestedRun(config, gicv2, "hwvirt-arm64.sh",
                                                   env={"HWVIRT_ARM64_GIC": "2"}))
    elif route != "direct":
        for it in arm64:
            it.add_marker(pytest.mark.skip(reason=route))
    if not needs_nested():
        return
    wanted = [it for it in items if it.get_closest_marker("hwvirt")
              and not it.get_closest_marker("hwvirt_arm64")]
    if wanted:
        _proxy(config, items, wanted, NestedRun(config, wanted))


def _proxy(config, items, wanted, nested):
    """Each item of wanted is replaced in items by a proxy of nested."""
    for i, it in enumerate(items):
        if it in wanted and not isinstance(it, HwvirtProxy):
            proxy = HwvirtProxy.from_parent(it.parent, name=it.name, nested=nested)
            for m in it.iter_markers():
                proxy.own_markers.append(m)
                proxy.keywords[m.name] = m
            items[i] = proxy


def write_report(report):
    """Inner run: one JSON line per test phase for the outer proxies."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    reason = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
    rec = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
           "longrepr": report.longreprtext if report.failed else "",
           "reason": reason, "wasxfail": getattr(report, "wasxfail", None),
           "duration": report.duration}
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")
