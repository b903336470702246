# SPDX-License-Identifier: MulanPSL-2.0
"""Seccomp (docs/security.md): a filter on every thread, one per thread kind.

The trigger tests use stratovirt-sectest, the test build (meson option
seccomp_test_trigger, on by default) whose threads of the kind named by
STRATOVIRT_SECCOMP_TRIGGER call getppid(), which no filter allows, right
after installing their filter; the release binary has no such code.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

from qmpclient import QmpVm

REPO = Path(__file__).resolve().parents[2]
HOLD = "svtest=1 exit=i8042 tests=hold hold=1000000"
KINDS = ("main", "vcpu", "iothread", "supervisor")


@pytest.fixture(scope="session")
def sectest_bin(vmm_bin):
    p = Path(os.environ.get("STRATOVIRT_SECTEST_BIN", Path(vmm_bin).parent / "stratovirt-sectest"))
    if not p.exists():
        pytest.skip(f"test build {p} not found (meson -Dseccomp_test_trigger=true; "
                    "or set STRATOVIRT_SECTEST_BIN)")
    return p


def vm_argv(binary, guest_elf, *extra, append=HOLD):
    return [binary, "-machine", "microvm", "-smp", "2", "-m", "128", "-kernel", guest_elf,
            "-append", append, "-serial", "stdio", "-object", "iothread,id=io1",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", *extra]


PF_IO_WORKER, PF_USER_WORKER = 0x10, 0x4000


def kernel_worker(pid, tid):
    """A kernel worker in the thread group (kvm-nx-lpage-recovery, iou-wrk-*)."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    flags = int(stat.rsplit(")", 1)[1].split()[6])
    return bool(flags & (PF_IO_WORKER | PF_USER_WORKER))


def task_status(pid, workers=False):
    """{tid: (thread name, Seccomp mode, filters)} for every thread of pid.

    Kernel workers (which never run user code; they inherit the filter of the
    thread that made them) are left out unless workers is true.
    """
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        if not workers and kernel_worker(pid, task.name):
            continue
        fields = dict(ln.split(":\t", 1) for ln in (task / "status").read_text().splitlines()
                      if ":\t" in ln)
        out[int(task.name)] = (fields["Name"].strip(), int(fields["Seccomp"]),
                               int(fields.get("Seccomp_filters", "0")))
    return out


def running_vm(binary, guest_elf, tmp_path, *extra):
    vm = QmpVm(vm_argv(binary, guest_elf, *extra), tmp_path / "qmp.sock")
    # the guest ticks: every vCPU and the I/O thread are past their filters
    assert vm.wait_line(lambda ln: "TICK" in ln, 30) is not None, vm.lines
    return vm


def test_every_thread_has_its_filter(vmm_bin, guest_elf, kvm, tmp_path):
    vm = running_vm(vmm_bin, guest_elf, tmp_path)
    try:
        with vm.qmp() as q:
            assert q.cmd("query-status")["return"]["status"] == "running"
            st = task_status(vm.proc.pid)
            every = task_status(vm.proc.pid, workers=True)
    finally:
        vm.kill()
    # "grep Seccomp /proc/PID/task/*/status" shows 2 on every task, workers too
    assert all(mode == 2 and filters == 1 for _, mode, filters in every.values()), every
    names = sorted(n for n, _, _ in st.values())
    assert names == ["iothread-io1", "stratovirt", "vcpu0", "vcpu1"], st
    for tid, (name, mode, filters) in st.items():
        assert mode == 2, (name, st)
        # one filter each: no thread inherited another kind's (they are per thread)
        assert filters == 1, (name, st)


def test_disable_seccomp_installs_none(vmm_bin, guest_elf, kvm, tmp_path):
    vm = running_vm(vmm_bin, guest_elf, tmp_path, "-disable-seccomp")
    try:
        st = task_status(vm.proc.pid)
    finally:
        vm.kill()
    assert len(st) == 4 and all(mode == 0 for _, mode, _ in st.values()), st


@pytest.mark.parametrize("kind,thread", [("main", "main"), ("vcpu", "vcpu[01]"),
                                         ("iothread", "iothread-io1")])
def test_forbidden_syscall_ends_the_vmm(sectest_bin, guest_elf, kvm, tmp_path, kind, thread):
    log = tmp_path / "vmm.log"
    env = dict(os.environ, STRATOVIRT_SECCOMP_TRIGGER=kind)
    argv = [str(a) for a in vm_argv(sectest_bin, guest_elf, "-D", log)]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    # whichever thread of the kind gets there first
    line = (f"^stratovirt: seccomp: thread '{thread}' \\({kind} filter\\) made syscall getppid "
            r"\(110, arguments 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+\), which is not allowed: "
            r"exiting$")
    assert r.returncode == 159, (r.returncode, r.stderr)
    assert re.search(line, r.stderr, re.M), r.stderr
    # the same line in the -D log
    assert re.search(line, log.read_text(), re.M), log.read_text()
    # no guest code ran when a vCPU filter refused (it is installed before KVM_RUN)
    if kind == "vcpu":
        assert "SVTEST START" not in r.stdout, r.stdout


@pytest.mark.parametrize("kind,what,call", [
    ("vcpu", "mmap-exec", "mmap (9"), ("main", "mmap-exec", "mmap (9"),
    ("iothread", "mmap-exec", "mmap (9"),
    ("vcpu", "ioctl", "ioctl (16"), ("main", "ioctl", "ioctl (16"),
    ("main", "socket-inet", "socket (41"), ("iothread", "socket-inet", "socket (41"),
    ("main", "open-creat", "openat (257"), ("vcpu", "madvise-free", "madvise (28"),
])
def test_refused_arguments_end_the_vmm(sectest_bin, guest_elf, kvm, kind, what, call):
    """The same syscalls with the arguments the VMM uses pass (the VM runs)."""
    env = dict(os.environ, STRATOVIRT_SECCOMP_TRIGGER=f"{kind}:{what}")
    r = subprocess.run([str(a) for a in vm_argv(sectest_bin, guest_elf)], env=env,
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 159, r.stderr
    assert f"({kind} filter) made syscall {call}, arguments " in r.stderr, r.stderr
    assert not Path("/nonexistent-seccomp-test").exists()


def test_forbidden_syscall_in_the_pidns_supervisor(sectest_bin, guest_elf, kvm, tmp_path):
    """-jail pidns=on: the parent has a filter too; its death takes the VM with it."""
    if os.geteuid() != 0:
        pytest.skip("-jail needs root")
    jail = tmp_path / "jail"
    jail.mkdir()
    env = dict(os.environ, STRATOVIRT_SECCOMP_TRIGGER="supervisor")
    argv = [str(a) for a in vm_argv(sectest_bin, guest_elf, "-jail", f"dir={jail},pidns=on")]
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 159, err
    assert re.search(r"^stratovirt: seccomp: thread 'supervisor' \(supervisor filter\) made "
                     r"syscall getppid \(110, ", err, re.M), err
    # the VM's process (pid 1 of the namespace) went with it: nobody holds stdout
    assert out == "" or "SVTEST" in out


def test_trigger_needs_the_test_build(vmm_bin, guest_elf, kvm, tmp_path):
    """The release binary ignores the variable: its filters hold, the VM runs."""
    assert b"STRATOVIRT_SECCOMP_TRIGGER" not in Path(vmm_bin).read_bytes()
    os.environ["STRATOVIRT_SECCOMP_TRIGGER"] = "vcpu"
    try:
        vm = running_vm(vmm_bin, guest_elf, tmp_path)
    finally:
        del os.environ["STRATOVIRT_SECCOMP_TRIGGER"]
    try:
        assert all(mode == 2 for _, mode, _ in task_status(vm.proc.pid).values())
    finally:
        vm.kill()


def test_trigger_off_runs_normally(sectest_bin, guest_elf, kvm):
    """Without the variable the test build behaves as the release one."""
    argv = [str(a) for a in vm_argv(sectest_bin, guest_elf,
                                    append="svtest=1 exit=debug tests=bootinfo")]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert "PASS bootinfo" in r.stdout, (r.stdout, r.stderr)
    assert "seccomp" not in r.stderr, r.stderr


def printed_policy(vmm_bin):
    out = subprocess.run([str(vmm_bin), "-print-seccomp-policy"], capture_output=True,
                         text=True, check=True, timeout=10).stdout
    policy = {k: set() for k in KINDS}
    for ln in out.splitlines():
        kind, name, _, _ = ln.split("\t")
        policy[kind].add(name)
    return policy


def documented_policy():
    """docs/security.md: a '### <kind> thread' heading, then a table with `syscall` first."""
    policy, kind = {}, None
    for ln in (REPO / "docs" / "security.md").read_text().splitlines():
        m = re.match(r"^### (\w+) thread", ln)
        if m:
            kind = m.group(1)
            policy[kind] = set()
            continue
        if ln.startswith("## "):
            kind = None
        m = re.match(r"^\| `(\w+)` \|", ln)
        if kind and m:
            policy[kind].add(m.group(1))
    return policy


def test_docs_list_exactly_the_compiled_policy(vmm_bin):
    printed = printed_policy(vmm_bin)
    assert documented_policy() == printed
    text = (REPO / "docs" / "security.md").read_text()
    total = len(set().union(*printed.values()))
    assert f"{total} distinct syscalls over all filters" in text
    for kind in KINDS:
        assert f"{kind}: {len(printed[kind])}" in text, kind


def test_arguments_are_filtered(vmm_bin):
    out = subprocess.run([str(vmm_bin), "-print-seccomp-policy"], capture_output=True,
                         text=True, check=True, timeout=10).stdout
    rows = {tuple(ln.split("\t")[:2]): ln.split("\t")[2] for ln in out.splitlines()}
    assert rows[("vcpu", "ioctl")].startswith("KVM_RUN") or "KVM_RUN" in rows[("vcpu", "ioctl")]
    assert "KVM_RUN" not in rows[("main", "ioctl")]
    for kind in ("main", "vcpu", "iothread"):
        assert "without PROT_EXEC" in rows[(kind, "mmap")]
        # one malloc arena (main(): M_ARENA_MAX), so nothing grows a heap with mprotect
        assert (kind, "mprotect") not in rows
        assert rows[(kind, "futex")] and rows[(kind, "madvise")] and rows[(kind, "ioctl")]
    assert rows[("main", "socket")] == "AF_UNIX"
    assert "O_CREAT" in rows[("main", "openat")]
    assert "execve" not in {name for _, name in rows}
    # the event loops' epoll timeouts are the timers; the supervisor's SIGCHLD the exit status
    names = {name for _, name in rows}
    assert not names & {"timerfd_settime", "timerfd_create", "wait4", "mprotect"}
    assert len(names) <= 30
