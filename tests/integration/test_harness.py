# SPDX-License-Identifier: MulanPSL-2.0
"""The test harness's own failure reporting (conftest.run_vm, hwvirt.clip):
a silent VM is ended as stalled with its threads listed, and a long nested
report keeps its start (the command and exit status) as well as its end."""
import sys

import conftest
import hwvirt


def test_silent_process_is_ended_as_stalled():
    argv = [sys.executable, "-c", "import time; print('one line', flush=True); time.sleep(60)"]
    res = conftest.run_vm(argv, timeout=50, stall=1.5)
    assert res.stalled and res.timed_out and res.rc is None
    assert res.seconds < 20, res.describe()
    assert res.lines == ["one line"]
    assert "state=" in res.threads and "syscall=" in res.threads, res.threads
    assert "stalled: True" in res.describe()


def test_talking_process_is_not_stalled():
    prog = "import time\nfor i in range(6):\n    print(i, flush=True); time.sleep(0.5)\n"
    res = conftest.run_vm([sys.executable, "-c", prog], timeout=30, stall=2)
    assert not res.stalled and not res.timed_out and res.rc == 0
    assert res.lines == [str(i) for i in range(6)] and res.threads == ""


def test_vcpus_in_kvm_run():
    run = "vcpu0 state=S wchan=kvm_vcpu_block syscall=16 0x14 0xae80 0x0 0x0 0x0 0x0"
    on_cpu = "vcpu1 state=R wchan=0 syscall=running"
    futex = "vcpu1 state=S wchan=futex_wait_queue syscall=202 0x7f 0x80 0x2 0x0 0x0 0x0"
    main = "stratovirt state=S wchan=do_epoll_wait syscall=232 0x3 0x7ff 0x40 0x0 0x0 0x0"
    assert conftest.vcpus_in_kvm_run("\n".join([main, run, on_cpu]))
    assert not conftest.vcpus_in_kvm_run("\n".join([main, run, futex]))
    assert not conftest.vcpus_in_kvm_run(main)


def test_clip_keeps_head_and_tail():
    text = "exit status: 1\n" + "x" * 20000 + "\nlast line"
    out = hwvirt.clip(text)
    assert out.startswith("exit status: 1") and out.endswith("last line")
    assert len(out) < 9000 and "characters left out" in out
    assert hwvirt.clip("short") == "short"
