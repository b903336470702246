# SPDX-License-Identifier: MulanPSL-2.0
"""Many VMs started and stopped at once leave nothing behind.

VMS test-guest VMs run at the same time, ROUNDS times, inside one network
namespace, each with a QMP socket, a pidfile, a disk, an rng, and a NIC on a
tap of its own that the VMM creates. A third end by themselves (the guest's
i8042 reset: exit 0), a third by QMP `quit` (exit 0) and a third by SIGTERM
(exit 0). After each round: every VMM exited with status 0, no tap is left in
the namespace, no QMP socket or pidfile is left on disk and no unix socket
bound under the round's directory is left in the namespace's kernel table
(/proc/net/unix). At the end this process holds no more fds or threads than
before and has no child process left (every VMM reaped: the memory of each
is back); each VMM's memory was within a bound while it ran (VmRSS).

50 VMs x 10 rounds, as the issue asks: about 4.5 s a round on the 2-core
development host (each VM is mostly its guest's boot, 60-80 ms of KVM_RUN
on that host's software KVM), 45 s in all; SV_PARALLEL_VMS and
SV_PARALLEL_ROUNDS change it.
"""
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import NetNs
from qmpclient import Qmp, wait_path

VMS = int(os.environ.get("SV_PARALLEL_VMS", "50"))
ROUNDS = int(os.environ.get("SV_PARALLEL_ROUNDS", "10"))
RSS_BOUND_KIB = 96 * 1024  # a 128 MiB guest, little of it touched, plus the VMM


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def own_counts():
    return (len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task")))


def children():
    """Processes whose parent is this one (a VMM not reaped would be one)."""
    me, out = os.getpid(), []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                stat = open(f"/proc/{p}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.append(int(p))
    return out


def bound_unix_sockets(ns, under):
    """Paths of the unix sockets under `under` that the namespace's kernel still holds."""
    out = subprocess.run(["ip", "netns", "exec", ns.name, "cat", "/proc/net/unix"],
                         capture_output=True, text=True, check=True).stdout
    return [ln.split()[-1] for ln in out.splitlines()[1:]
            if len(ln.split()) > 7 and ln.split()[-1].startswith(str(under))]


def taps(ns):
    out = subprocess.run(["ip", "netns", "exec", ns.name, "ip", "-o", "link", "show"],
                         capture_output=True, text=True, check=True).stdout
    return sorted(ln.split(":")[1].strip().split("@")[0] for ln in out.splitlines())


class Vm:
    def __init__(self, ns, vmm_bin, guest_elf, d, i, how):
        self.how = how
        self.sock = d / f"q{i}.sock"
        self.pidfile = d / f"vm{i}.pid"
        img = d / f"disk{i}.img"
        img.write_bytes(bytes(64 * 1024))
        tests = "virtio_discovery" if how == "guest" else "hold"
        append = f"svtest=1 exit=i8042 tests={tests} hold=100000000"
        argv = [vmm_bin, "-machine", "microvm", "-smp", "1", "-m", "128", "-kernel", guest_elf,
                "-append", append, "-serial", "file:" + str(d / f"serial{i}.txt"),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-qmp", f"unix:{self.sock},server,nowait", "-pidfile", str(self.pidfile),
                "-drive", f"id=d0,file={img},if=none,format=raw",
                "-device", "virtio-blk-device,drive=d0,id=blk0",
                "-object", "rng-random,id=rng0,filename=/dev/urandom",
                "-device", "virtio-rng-device,rng=rng0",
                "-netdev", f"tap,id=n0,ifname=svp{i}",
                "-device", "virtio-net-device,netdev=n0,id=net0"]
        self.proc = subprocess.Popen(ns.wrap(argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.max_rss = 0
        self.err = b""

    def stop(self):
        if self.how == "quit":
            if wait_path(self.sock, 30, self.proc):
                # connects the moment the path appears: the VMM shows it
                # only once it listens (test_host_files.py checks that)
                with Qmp(self.sock, timeout=30) as q:
                    q.cmd("quit")
        elif self.how == "sigterm":
            if wait_path(self.pidfile, 30, self.proc):
                time.sleep(0.05)
            self.proc.send_signal(signal.SIGTERM)

    def finish(self, timeout):
        try:
            _, self.err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.err = self.proc.communicate()
        return self.proc.returncode


@pytest.mark.slow
def test_parallel_start_stop(vmm_bin, guest_elf, kvm, tmp_path):
    before = own_counts()
    t0 = time.monotonic()
    with NetNs() as ns:
        base_links = taps(ns)
        for rnd in range(ROUNDS):
            d = tmp_path / f"round{rnd}"
            d.mkdir()
            hows = ["guest", "quit", "sigterm"]
            vms = [Vm(ns, vmm_bin, guest_elf, d, i, hows[i % 3]) for i in range(VMS)]
            watching = [True]

            def watch():
                while watching[0]:
                    for v in vms:
                        if v.proc.poll() is None:
                            v.max_rss = max(v.max_rss, rss_kib(v.proc.pid))
                    time.sleep(0.2)

            w = threading.Thread(target=watch, daemon=True)
            w.start()
            stoppers = [threading.Thread(target=v.stop) for v in vms if v.how != "guest"]
            for t in stoppers:
                t.start()
            for t in stoppers:
                t.join(120)
            statuses = [v.finish(120) for v in vms]
            watching[0] = False
            w.join(5)
            bad = [(i, v.how, s, v.err.decode()[-300:]) for i, (v, s) in
                   enumerate(zip(vms, statuses)) if s != 0]
            assert not bad, f"round {rnd}: VMMs with a wrong exit status: {bad}"
            heavy = [(i, v.max_rss) for i, v in enumerate(vms) if v.max_rss > RSS_BOUND_KIB]
            assert not heavy, f"round {rnd}: VmRSS over {RSS_BOUND_KIB} KiB: {heavy}"
            left = [p.name for p in d.iterdir() if p.suffix in (".sock", ".pid")]
            assert not left, f"round {rnd}: left behind: {left}"
            assert taps(ns) == base_links, f"round {rnd}: taps left: {taps(ns)}"
            held = bound_unix_sockets(ns, d)
            assert not held, f"round {rnd}: unix sockets still bound: {held}"
    after = own_counts()
    assert not children(), f"child processes left: {children()}"
    assert after[0] <= before[0], f"test process fds {before[0]} -> {after[0]}"
    assert after[1] <= before[1], f"test process threads {before[1]} -> {after[1]}"
    print(f"parallel: {VMS} VMs x {ROUNDS} rounds in {time.monotonic() - t0:.1f} s, all exited "
          "0, no taps/sockets/pidfiles/children left")
