# SPDX-License-Identifier: MulanPSL-2.0
"""No acknowledged, flushed write is lost when the VMM is killed.

The test guest's virtio_blk_durable check (docs/test-guest.md) writes
sequence-numbered records, one per sector, flushes every 8 and prints
`SVTEST DURABLE n` once the FLUSH of record n is acknowledged. The VMM is
killed with SIGKILL at a random moment (RUNS times, each run continuing the
sequence where the image stops); after each kill, every record up to the last
n announced (the last `capacity` of them: the disk wraps) must be on the
image, whole, at its sector, as that record or a later one of the same
sector. Both I/O back ends: io_uring (the default) and aio=off.
"""
import os
import random
import signal
import struct
import subprocess
import threading
import time

import pytest

from test_virtio import vmm_base

SECTOR = 512
SECTORS = 256  # 128 KiB: the ring wraps many times
RUNS = int(os.environ.get("SV_DATA_SAFETY_RUNS", "50"))  # per back end: 100 kills in all


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def record(seq, sector):
    body = b"SVDURABL" + struct.pack("<QQ", seq, sector) + \
        bytes((seq * 7 + i) & 0xFF for i in range(24, SECTOR - 4))
    return body + struct.pack("<I", fnv1a(body))


def read_records(path):
    """{sector: seq} of every whole record on the image (others: absent)."""
    data = open(path, "rb").read()
    out = {}
    for s in range(len(data) // SECTOR):
        r = data[s * SECTOR:(s + 1) * SECTOR]
        if r[:8] != b"SVDURABL":
            continue
        seq, sector = struct.unpack_from("<QQ", r, 8)
        assert sector == s, f"record {seq} for sector {sector} found at sector {s}"
        assert r == record(seq, sector), f"sector {s}: record {seq} is torn or corrupt"
        out[s] = seq
    return out


def run_once(argv, delay):
    """Starts the VMM, kills it `delay` s after its first DURABLE line; the last n seen."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    last = [0]
    first = threading.Event()
    lines = []

    def reader():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            lines.append(line)
            if line.startswith("SVTEST DURABLE "):
                last[0] = int(line.split()[2])
                first.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    ok = first.wait(30)
    if ok:
        time.sleep(delay)
    seen = last[0]  # read before the kill: what the guest saw acknowledged so far
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t.join(5)
    err = proc.stderr.read().decode("utf-8", "replace")
    assert ok, f"no DURABLE line\nserial: {lines[-20:]}\nstderr: {err}"
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
    return max(seen, last[0])


@pytest.mark.slow
@pytest.mark.parametrize("aio", ["io_uring", "off"])
def test_sigkill_keeps_flushed_writes(vmm_bin, guest_elf, kvm, tmp_path, aio):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(SECTORS * SECTOR))
    rnd = random.Random(0x5afe + len(aio))
    start, total, checked = 1, 0, 0
    for run in range(RUNS):
        append = f"svtest=1 exit=i8042 tests=virtio_blk_durable durable_start={start}"
        argv = vmm_base(vmm_bin, guest_elf, append) + [
            "-drive", f"id=d0,file={img},if=none,format=raw,aio={aio}",
            "-device", "virtio-blk-device,drive=d0,id=blk0"]
        acked = run_once(argv, rnd.uniform(0.0, 0.3))
        on_disk = read_records(img)
        for seq in range(max(start, acked - SECTORS + 1), acked + 1):
            got = on_disk.get(seq % SECTORS)
            assert got is not None and got >= seq and got % SECTORS == seq % SECTORS, \
                f"run {run}: record {seq} acknowledged and flushed, sector {seq % SECTORS} " \
                f"holds {got}"
            checked += 1
        total += acked - start + 1
        start = max(on_disk.values()) + 1
    print(f"data safety ({aio}): {RUNS} kills, {total} records written and flushed, "
          f"{checked} checked on the image")
    assert total > RUNS * 8
