# SPDX-License-Identifier: MulanPSL-2.0
"""A hostile virtio driver (tests/guest/checks/virtio_hostile.c, hostile=1).

The guest posts one malformed chain of each kind to a virtio-blk device;
after each the device must report DEVICE_NEEDS_RESET without completing the
chain, another device (virtio-rng, or a second disk) must keep serving, and
after a reset the disk must work again. The VMM must keep running (the guest
ends the run itself, with an i8042 reset, so the VMM exits 0) and log one
reason per malformed chain.
"""
import os

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
