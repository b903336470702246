# SPDX-License-Identifier: MulanPSL-2.0
"""A hostile virtio driver (tests/guest/checks/virtio_hostile.c, hostile=1, and
tests/guest/checks/virtio_storm.c, storm=1).

The guest posts one malformed chain of each kind to a virtio-blk device;
after each the device must report DEVICE_NEEDS_RESET without completing the
chain, another device (virtio-rng, or a second disk) must keep serving, and
after a reset the disk must work again. The VMM must keep running (the guest
ends the run itself, with an i8042 reset, so the VMM exits 0) and log one
reason per malformed chain.
"""
import os
import subprocess
import threading
import time

import pytest

from conftest import parse_guest_output, run_vm
from test_virtio import drive_args, make_image, rng_args, vmm_base

VM_TIMEOUT = 120

# Malformed kind (guest) -> the reason the VMM must log for it (src/virtio).
KINDS = {
    "addr_outside_ram": "buffer address/length outside guest RAM",
    "addr_wrap": "buffer address/length outside guest RAM",
    "head_out_of_range": "available ring head index out of range",
    "next_out_of_range": "descriptor index out of range",
    "loop": "descriptor chain longer than its table",
    "avail_idx_jump": "available index moved by more than the queue size",
    "too_many_segments": "chain has more segments than the device accepts",
    "indirect_out_of_range": "indirect table outside guest RAM",
    "indirect_bad_len": "indirect table length not a multiple of 16",
    "indirect_with_next": "indirect descriptor with NEXT set",
    "nested_indirect": "nested indirect descriptor",
    "indirect_not_negotiated": "INDIRECT_DESC not negotiated",
    "writable_header": "header shorter than 16 bytes",
    "zero_length_header": "header shorter than 16 bytes",
    "readable_after_writable": "device-readable descriptor after a writable one",
    "missing_status": "without a status byte",
}


def run_hostile(vmm_bin, guest_bin, tmp_path, extra_args, log=None):
    img = make_image(tmp_path / "disk.img", 256)
    append = "svtest=1 exit=i8042 tests=virtio_hostile hostile=1"
    argv = vmm_base(vmm_bin, guest_bin, append) + drive_args(img, "v2") + extra_args
    if log:
        argv += ["-D", str(log)]
    env = dict(os.environ, STRATOVIRT_LOG_LEVEL="error")
    return run_vm(argv, timeout=VM_TIMEOUT, env=env)


def check_result(res, log_text):
    rep = parse_guest_output(res.lines)
    info = res.describe()
    assert not res.timed_out, f"VM did not end in time\n{info}"
    assert rep.done, f"guest did not finish (VMM died?)\n{info}"
    for kind in KINDS:
        status = rep.results.get(f"virtio_hostile_{kind}")
        assert status and status[0] == "PASS", f"kind {kind}: {status}\n{info}"
    assert rep.results.get("virtio_hostile", ("?",))[0] == "PASS", info
    assert rep.failed == 0, info
    assert res.rc == 0, f"VMM exit status {res.rc}\n{info}"
    for kind, reason in KINDS.items():
        assert reason in log_text, f"log lacks the reason for {kind}: {reason!r}\n{log_text}"
    assert log_text.count("needs reset") >= len(KINDS), log_text


def test_hostile_rng_bystander(vmm_bin, kvm, guest_bin, tmp_path):
    res = run_hostile(vmm_bin, guest_bin, tmp_path, rng_args())
    assert "bystander virtio-rng" in res.output, res.describe()
    check_result(res, res.stderr)


def test_hostile_disk_bystander_logfile(vmm_bin, kvm, guest_bin, tmp_path):
    """No rng: the second disk is the bystander; reasons go to the -D log file."""
    other = make_image(tmp_path / "other.img", 256)
    log = tmp_path / "vmm.log"
    res = run_hostile(vmm_bin, guest_bin, tmp_path, drive_args(other, "v2", drive_id="d1"),
                      log=log)
    assert "bystander virtio-blk" in res.output, res.describe()
    assert log.exists(), f"no log file {log}\n{res.describe()}"
    check_result(res, log.read_text())


# ---- storms (tests/guest/checks/virtio_storm.c, storm=1) ---------------------

STORM_PHASES = ("ro_regs", "queue_sel", "unmapped", "rewrite", "kicks", "no_reset")
# What the VMM's resident memory may grow by during the storms. Guest RAM the
# guest touches counts too (a few pages here); measured growth is about 0.
RSS_GROWTH_BOUND_KIB = 16 * 1024


def vm_rss_kib(pid):
    try:
        for ln in open(f"/proc/{pid}/status"):
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    except OSError:
        pass
    return None


def run_storm(vmm_bin, guest_bin, tmp_path, cpus, kicks=None, timeout=VM_TIMEOUT):
    """Runs the storm phases; samples VmRSS every 10 ms, tagged with the phase."""
    img = make_image(tmp_path / "disk.img", 256)
    append = f"svtest=1 exit=i8042 tests=virtio_storm storm=1 cpus={cpus}"
    if kicks is not None:
        append += f" storm_kicks={kicks}"
    argv = [str(a) for a in vmm_base(vmm_bin, guest_bin, append) + drive_args(img, "v2")
            + rng_args()]
    argv[argv.index("-smp") + 1] = str(cpus)
    env = dict(os.environ, STRATOVIRT_LOG_LEVEL="error")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    lines, phase, samples, times, err = [], [None], [], {}, []

    def read_out():
        for raw in iter(proc.stdout.readline, b""):
            ln = raw.decode("utf-8", "replace").strip()
            lines.append(ln)
            for p in STORM_PHASES:
                if ln == f"INFO virtio_storm_{p} start":
                    phase[0] = p
                    times[p] = [time.monotonic(), None]
                    samples.append((p, vm_rss_kib(proc.pid)))
                elif ln == f"INFO virtio_storm_{p} done":
                    times[p][1] = time.monotonic()
                    samples.append((p, vm_rss_kib(proc.pid)))
                    phase[0] = "after"

    def read_err():
        err.append(proc.stderr.read().decode("utf-8", "replace"))

    readers = [threading.Thread(target=read_out, daemon=True),
               threading.Thread(target=read_err, daemon=True)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        rss = vm_rss_kib(proc.pid)
        if phase[0]:
            samples.append((phase[0], rss))
        time.sleep(0.01)
    timed_out = proc.poll() is None
    if timed_out:
        proc.kill()
    rc = proc.wait()
    for t in readers:
        t.join(timeout=5)
    proc.stdin.close()
    return rc, timed_out, lines, "".join(err), samples, times


def check_storm(rc, timed_out, lines, err, samples, times, cpus):
    info = "\n".join(lines) + "\n--- stderr ---\n" + err[-4000:]
    rep = parse_guest_output(lines)
    assert not timed_out, info
    # the disk was left half-initialised and needing reset: the VMM still ends cleanly
    assert rc == 0, f"VMM exit status {rc}\n{info}"
    assert rep.done and rep.failed == 0, info
    for p in STORM_PHASES:
        assert rep.results.get(f"virtio_storm_{p}", ("?",))[0] == "PASS", f"{p}\n{info}"
    assert rep.results.get("virtio_storm", ("?",))[0] == "PASS", info
    rewrite = next(ln for ln in lines
                   if ln.startswith("INFO virtio_storm_rewrite ") and " rounds, " in ln)
    if cpus > 1:
        assert "by the second vCPU" in rewrite, rewrite
        assert int(rewrite.split(", ")[-1].split()[0]) > 0, rewrite
    else:
        assert "same vCPU between kick and completion" in rewrite, rewrite
    assert "DRIVER_OK without FEATURES_OK" in err, err[-4000:]
    # one line per broken ring at most, no log flood from a million kicks
    rounds = int(rewrite.split(": ", 1)[1].split()[0])
    assert err.count("\n") <= rounds + 50, err.count("\n")
    # the VMM's memory stays bounded through every phase
    samples = [(p, rss) for p, rss in samples if rss is not None]
    base = [rss for p, rss in samples if p == STORM_PHASES[0]]
    assert base, samples[:5]
    peak = {p: max((rss for q, rss in samples if q == p), default=0) for p in STORM_PHASES}
    growth = max(peak.values()) - base[0]
    print(f"storm cpus={cpus}: VmRSS {base[0]} KiB at start, peak per phase {peak}, "
          f"growth {growth} KiB; seconds per phase "
          + ", ".join(f"{p} {b - a:.2f}" for p, (a, b) in times.items() if b))
    print(rewrite)
    assert growth <= RSS_GROWTH_BOUND_KIB, (base[0], peak)


def test_storms_two_vcpus(vmm_bin, kvm, guest_bin, tmp_path):
    """A million kicks; the second vCPU rewrites the rings while the device reads them."""
    res = run_storm(vmm_bin, guest_bin, tmp_path, cpus=2)
    check_storm(*res, cpus=2)
    kicks = next(ln for ln in res[2] if ln.startswith("INFO virtio_storm_kicks 1"))
    assert kicks.startswith("INFO virtio_storm_kicks 1000000 kicks of queue 0"), kicks


def test_storms_one_vcpu(vmm_bin, kvm, guest_bin, tmp_path):
    """One vCPU: the rings are rewritten by it between the kick and the completion."""
    res = run_storm(vmm_bin, guest_bin, tmp_path, cpus=1, kicks=10000)
    check_storm(*res, cpus=1)
