#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The files are in the repository; this script says how they were made and
remakes them after an input format changes (python3 tests/fuzz/make_corpus.py).
Each seed is one well-formed conversation, so the fuzzer starts past the
magic values: a request of each kind per virtio device, a driver setting up
a queue for the transport, port accesses, QMP sessions, initrds.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
HDR = 0xE000  # fuzz_virtio.c: free ring-area bytes for headers


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_virtio.c: ops ----
def mem(off, data):
    return bytes([0]) + struct.pack("<HB", off, len(data)) + data


def desc(addr, length, write=False, ring=False):
    """One descriptor: ring=True puts addr in the first 64 KiB (headers)."""
    sel = (6 if ring else 0) | (0x08 if write else 0)
    a = addr if ring else (addr - 0x10000) >> 4
    return bytes([sel]) + struct.pack("<HH", a, length)


def chain(q, *descs):
    return bytes([1, q, len(descs) - 1]) + b"".join(descs)


def run():
    return bytes([5])


def host(data):
    return bytes([7]) + struct.pack("<H", len(data)) + data


ALL = b"\xff\xff\xff\xff"


def blk_req(t, sector, data_len, data_write):
    ops = mem(HDR, struct.pack("<IIQ", t, 0, sector))
    ds = [desc(HDR, 16, ring=True)]
    if data_len:
        ds.append(desc(0x10000, data_len, write=data_write))
    ds.append(desc(HDR + 0x100, 1, write=True, ring=True))
    return ops + chain(0, *ds) + run()


put("fuzz_blk", "write-read", ALL + blk_req(1, 0, 512, False) + blk_req(0, 0, 512, True))
put("fuzz_blk", "flush", ALL + blk_req(1, 8, 4096, False) + blk_req(4, 0, 0, False))
put("fuzz_blk", "get-id", ALL + blk_req(8, 0, 20, True))
put("fuzz_blk", "discard", ALL + mem(HDR + 0x200, struct.pack("<QII", 0, 8, 0)) +
    mem(HDR, struct.pack("<IIQ", 11, 0, 0)) +
    chain(0, desc(HDR, 16, ring=True), desc(HDR + 0x200, 16, ring=True),
          desc(HDR + 0x100, 1, write=True, ring=True)) + run())

put("fuzz_rng", "read", ALL + chain(0, desc(0x10000, 64, write=True)) + run())
put("fuzz_rng", "two", ALL + chain(0, desc(0x10000, 16, write=True),
                                    desc(0x20000, 4000, write=True)) + run())

NETHDR = bytes(12)
FRAME = bytes.fromhex("ffffffffffff525400123456") + b"\x08\x06" + bytes(28)
put("fuzz_net", "rx", ALL + chain(0, desc(0x10000, 1526, write=True)) + host(NETHDR + FRAME) +
    run())
put("fuzz_net", "tx", ALL + mem(HDR, NETHDR + FRAME) + chain(1, desc(HDR, 12 + len(FRAME), ring=True)) +
    run())
put("fuzz_net", "ctrl", ALL + mem(HDR, bytes([0, 0, 1])) +
    chain(2, desc(HDR, 2, ring=True), desc(HDR + 2, 1, ring=True),
          desc(HDR + 0x100, 1, write=True, ring=True)) + run())

put("fuzz_console", "tx", ALL + mem(HDR, b"hello\n") + chain(1, desc(HDR, 6, ring=True)) + run())
put("fuzz_console", "rx", ALL + chain(0, desc(0x10000, 256, write=True)) + host(b"typed\n") + run())

put("fuzz_balloon", "inflate-deflate", ALL + mem(HDR, struct.pack("<II", 0x80, 0x81)) +
    chain(0, desc(HDR, 8, ring=True)) + run() + chain(1, desc(HDR, 8, ring=True)) + run())
put("fuzz_balloon", "report", ALL + chain(3, desc(0x80000, 0x2000, write=True)) + run())
put("fuzz_balloon", "config", ALL + bytes([3]) + struct.pack("<HBQ", 0x104, 2, 256) + run())

# ---- fuzz_mmio.c: [off u16][size/dir][value u32][ring byte] ----


def reg(off, val, write=True, size=2):
    return struct.pack("<HB", off, size | (0x80 if write else 0)) + struct.pack("<I", val) + b"\0"


init = (reg(0x70, 0) + reg(0x70, 3) + reg(0x14, 1) + reg(0x10, 0, False) + reg(0x24, 1) +
        reg(0x20, 1) + reg(0x70, 0xb) + reg(0x30, 0) + reg(0x38, 16) + reg(0x80, 0x1000) +
        reg(0x90, 0x2000) + reg(0xa0, 0x3000) + reg(0x44, 1) + reg(0x70, 0xf))
put("fuzz_mmio", "init", init + reg(0x50, 0) + reg(0x60, 0, False) + reg(0x64, 1))
put("fuzz_mmio", "config", init + reg(0x100, 0x12345678) + reg(0x10c, 0, False) + reg(0xfc, 0, False))
put("fuzz_mmio", "badsel", init + reg(0x30, 7) + reg(0x38, 4096) + reg(0x44, 1) + reg(0x50, 9) +
    reg(0x1f0, 1))

# ---- fuzz_ports.c: [port index][len/dir][value][host input] ----


def port(i, v, write=True, host_in=0):
    return bytes([i, 0x80 if write else 0, v, host_in])


put("fuzz_ports", "serial", port(3, 0x80) + port(0, 1) + port(1, 0) + port(3, 3) + port(1, 0xf) +
    port(0, ord("A")) + port(5, 0, False, 0x41) + port(0, 0, False) + port(2, 0, False) +
    port(4, 0x10) + port(0, 0x55) + port(0, 0, False))
put("fuzz_ports", "i8042", port(10, 0x20) + port(9, 0, False) + port(10, 0x60) + port(9, 0x47) +
    port(10, 0xaa) + port(9, 0, False) + port(10, 0xd1) + port(9, 0xdf) + port(10, 0, False))
put("fuzz_ports", "rtc", port(11, 0x0a) + port(12, 0, False) + port(11, 0x0b) + port(12, 0x82) +
    port(11, 0x00) + port(12, 0x59) + port(11, 0x0b) + port(12, 0x02) + port(11, 0x0c) +
    port(12, 0, False) + port(11, 0x8f) + port(12, 0, False))

# ---- fuzz_qmp.c: [chunking][fd every][client bytes] ----


def qmp(*cmds):
    return "".join(json.dumps(c) for c in cmds).encode()


CAP = {"execute": "qmp_capabilities"}
put("fuzz_qmp", "status", b"\0\0" + qmp(CAP, {"execute": "query-status", "id": 1},
                                      {"execute": "stop"}, {"execute": "cont"},
                                      {"execute": "query-cpus-fast"}))
put("fuzz_qmp", "blk", b"\x07\0" + qmp(
    CAP, {"execute": "blockdev-add", "arguments": {"node-name": "d1", "driver": "file",
                                                   "filename": "/dev/null", "read-only": True}},
    {"execute": "device_add", "arguments": {"driver": "virtio-blk-mmio", "id": "v1", "drive": "d1"}},
    {"execute": "device_del", "arguments": {"id": "v1"}},
    {"execute": "blockdev-del", "arguments": {"node-name": "d1"}}))
put("fuzz_qmp", "net-fd", b"\x05\x01" + qmp(
    CAP, {"execute": "getfd", "arguments": {"fdname": "t"}},
    {"execute": "netdev_add", "arguments": {"type": "tap", "id": "n1", "fd": "t"}},
    {"execute": "device_add", "arguments": {"driver": "virtio-net-mmio", "id": "e1", "netdev": "n1",
                                            "mac": "52:54:00:12:34:56"}},
    {"execute": "closefd", "arguments": {"fdname": "t"}},
    {"execute": "device_del", "arguments": {"id": "e1"}},
    {"execute": "netdev_del", "arguments": {"id": "n1"}}))
put("fuzz_qmp", "balloon", b"\x03\0" + qmp(
    CAP, {"execute": "balloon", "arguments": {"value": 134217728}}, {"execute": "query-balloon"},
    {"execute": "query-version"}, {"execute": "query-commands"}, {"execute": "quit"}) + b"x")
put("fuzz_qmp", "malformed", b"\x01\0" + b'{"execute":"qmp_capabilities"} [1,2] "str" 12 '
    b'{"execute":1} {"execute":"x","arguments":[]} {"a":"\\u00e9\\"}"} }')

# ---- fuzz_initrd.c: [kind][RAM MiB][initrd_addr_max x4][repeat][initrd] ----
put("fuzz_initrd", "bzimage", b"\x00\x10\xff\xff\xff\x37\x00hello-initrd")
put("fuzz_initrd", "pvh", b"\x01\x10\xff\xff\xff\x37\x08pvh-initrd")
put("fuzz_initrd", "too-big", b"\x00\x01\xff\xff\xff\x00\xffXY")
put("fuzz_initrd", "low-limit", b"\x00\x1f\xff\xff\x3f\x00\x10abc")

# ---- fuzz_image.c: an arm64 Image (64-byte header, magic "ARM\x64" at 0x38) ----
def arm64_image(text_offset, image_size, flags, body):
    return (b"MZ\0\0\0\0\0\0" + struct.pack("<QQQQQQ", text_offset, image_size, flags, 0, 0, 0)
            + b"ARM\x64" + b"\0\0\0\0" + body)


put("fuzz_image", "modern", arm64_image(0, 0x10000, 0xa, b"\x1f\x20\x03\xd5" * 64))
put("fuzz_image", "text-offset", arm64_image(0x80000, 0x2000, 0x2, b"kernel" * 20))
put("fuzz_image", "pre-3.17", arm64_image(0, 0, 0, b"old"))
