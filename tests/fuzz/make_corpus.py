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

# ---- fuzz_virtq.c: [queue size log2][flags: 1 indirect, 2 event_idx, 4 restart][guest RAM] ----
# RAM: descriptor table at 0, avail ring at 0x1000, used ring at 0x2000,
# buffers from 0x3000, indirect tables from 0x8000.
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def vdesc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def virtq_ram(qsize, descs, avail_idx, ring, used_event=0, used_idx=0, used_flags=0,
              avail_flags=0, extra=()):
    ram = bytearray(0x9000)
    table = b"".join(descs)
    ram[0:len(table)] = table
    ram[0x1000:0x1004] = struct.pack("<HH", avail_flags, avail_idx)
    for i, head in enumerate(ring):
        ram[0x1004 + 2 * i:0x1006 + 2 * i] = struct.pack("<H", head)
    ram[0x1004 + 2 * qsize:0x1006 + 2 * qsize] = struct.pack("<H", used_event)
    ram[0x2000:0x2004] = struct.pack("<HH", used_flags, used_idx)
    for addr, data in extra:
        ram[addr:addr + len(data)] = data
    return bytes(ram).rstrip(b"\0")


def virtq_seed(log2, flags, ram):
    return bytes([log2, flags]) + ram


# a readable header, a writable buffer and a writable status byte (a block request)
put("fuzz_virtq", "chain", virtq_seed(3, 0, virtq_ram(
    8, [vdesc(0x3000, 16, F_NEXT, 1), vdesc(0x3100, 512, F_NEXT | F_WRITE, 2),
        vdesc(0x3400, 1, F_WRITE)], 1, [0])))
# two chains, one direct and one through an indirect table of three, with
# INDIRECT_DESC and EVENT_IDX negotiated (used_event = 1)
put("fuzz_virtq", "indirect", virtq_seed(3, 3, virtq_ram(
    8, [vdesc(0x3000, 64, F_NEXT, 1), vdesc(0x3100, 256, F_WRITE),
        vdesc(0x8000, 48, F_INDIRECT)], 2, [0, 2], used_event=1,
    extra=[(0x8000, vdesc(0x4000, 16, F_NEXT, 1) + vdesc(0x4100, 4096, F_NEXT | F_WRITE, 2) +
            vdesc(0x5100, 1, F_WRITE))])))
# indices about to wrap: used->idx and last_avail at 0xfffe (restart flag),
# avail->idx at 2, so four chains are taken across the 16-bit wrap of a
# four-entry ring
put("fuzz_virtq", "wrap", virtq_seed(2, 6, virtq_ram(
    4, [vdesc(0x3000, 32), vdesc(0x3100, 32, F_WRITE), vdesc(0x3200, 8, F_NEXT, 3),
        vdesc(0x3300, 8, F_WRITE)], 2, [0, 3, 1, 2], used_event=0xffff, used_idx=0xfffe)))
# every entry of a 256-entry ring: 128 chains of two, notifications suppressed
big = [vdesc(0x3000 + 0x40 * (i // 2), 0x20, F_NEXT if i % 2 == 0 else F_WRITE,
             i + 1 if i % 2 == 0 else 0) for i in range(256)]
put("fuzz_virtq", "full-ring", virtq_seed(8, 0, virtq_ram(
    256, big, 128, [2 * i for i in range(128)], avail_flags=1)))

# ---- fuzz_vhost_user.c: what the back end sends, in order ----
# The front end asks GET_FEATURES, [GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES],
# SET_OWNER, SET_FEATURES, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_KICK,
# SET_VRING_ENABLE, GET_VRING_BASE; with REPLY_ACK every SET_* is acked.
VU_REPLY = 0x5  # version 1 | reply


def vu_msg(req, payload=b"", flags=VU_REPLY):
    return struct.pack("<III", req, flags, len(payload)) + payload


def vu_ack(req, status=0):
    return vu_msg(req, struct.pack("<Q", status))


VU_SETS = [3, 2, 8, 9, 12, 18]  # SET_OWNER, SET_FEATURES, VRING_NUM/ADDR/KICK/ENABLE
F_PROTO = 1 << 30
F_V1 = 1 << 32
put("fuzz_vhost_user", "reply-ack",
    vu_msg(1, struct.pack("<Q", F_PROTO | F_V1)) + vu_msg(15, struct.pack("<Q", 1 << 3 | 1)) +
    vu_ack(16) + b"".join(vu_ack(r) for r in VU_SETS) + vu_msg(11, struct.pack("<II", 1, 0)))
put("fuzz_vhost_user", "no-protocol",
    vu_msg(1, struct.pack("<Q", F_V1)) + vu_msg(11, struct.pack("<II", 1, 42)))
put("fuzz_vhost_user", "refused",
    vu_msg(1, struct.pack("<Q", F_PROTO | F_V1)) + vu_msg(15, struct.pack("<Q", 1 << 3)) +
    vu_ack(16) + vu_ack(3) + vu_ack(2) + vu_ack(8, 1))
put("fuzz_vhost_user", "bad-base",
    vu_msg(1, struct.pack("<Q", F_PROTO | F_V1)) + vu_msg(15, struct.pack("<Q", 1 << 3)) +
    vu_ack(16) + b"".join(vu_ack(r) for r in VU_SETS) + vu_msg(11, struct.pack("<II", 0, 0x10000)))

# ---- fuzz_vsock.c: tx packets, each [u16 length][44-byte header][payload] ----
# Guest CID 3; the host listens on port 1.  src_cid's low byte (3) also sets
# the target's selector bits 1|2 (src = guest, dst = host): no rewrite.
OP_REQUEST, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST = \
    1, 2, 3, 4, 5, 6, 7


def vs_pkt(op, sport=1024, dport=1, payload=b"", flags=0, buf_alloc=262144, fwd_cnt=0,
           src=3, dst=2, typ=1):
    hdr = struct.pack("<QQIIIHHIII", src, dst, sport, dport, len(payload), typ, op, flags,
                      buf_alloc, fwd_cnt)
    pkt = hdr + payload
    return struct.pack("<H", len(pkt)) + pkt


put("fuzz_vsock", "stream", vs_pkt(OP_REQUEST) + vs_pkt(OP_RW, payload=b"hello host\n") +
    vs_pkt(OP_CREDIT_REQUEST) + vs_pkt(OP_CREDIT_UPDATE, fwd_cnt=4096) +
    vs_pkt(OP_RW, payload=bytes(range(256)) * 16) + vs_pkt(OP_SHUTDOWN, flags=2) +
    vs_pkt(OP_SHUTDOWN, flags=3) + vs_pkt(OP_RST))
put("fuzz_vsock", "two-conns", vs_pkt(OP_REQUEST, 1024) + vs_pkt(OP_REQUEST, 1025) +
    vs_pkt(OP_RW, 1025, payload=b"b" * 100) + vs_pkt(OP_RW, 1024, payload=b"a" * 100) +
    vs_pkt(OP_RST, 1024) + vs_pkt(OP_SHUTDOWN, 1025, flags=1) + vs_pkt(OP_RW, 1025, payload=b"x"))
put("fuzz_vsock", "refused", vs_pkt(OP_REQUEST, 2000, 7) + vs_pkt(OP_RW, 2001) +
    vs_pkt(OP_RESPONSE, 2002) + vs_pkt(OP_REQUEST, 2003, typ=2) + vs_pkt(0, 2004) +
    vs_pkt(OP_REQUEST, 2005, src=5))
put("fuzz_vsock", "no-credit", vs_pkt(OP_REQUEST, buf_alloc=0) +
    vs_pkt(OP_RW, payload=b"z" * 4000) + vs_pkt(OP_CREDIT_UPDATE, buf_alloc=65536) +
    vs_pkt(OP_REQUEST))

# ---- fuzz_json (fuzz_config.c -DFUZZ_CONFIG_JSON): a -config file ----
# docs/json-config.md.  Some seeds name files every Linux host has, so
# config_validate's host-file checks pass and the later checks are reached.
def jdoc(name, doc):
    put("fuzz_json", name, json.dumps(doc, indent=2).encode() + b"\n")


jdoc("doc-example", {
    "boot-source": {"kernel_image_path": "/path/vmlinux.bin",
                    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda",
                    "initrd_fs_path": "/path/initrd.img"},
    "machine-config": {"type": "MicroVm", "vcpu_count": 2, "mem_size": 268435456,
                       "mem_path": "/dev/hugepages", "mem_share": False, "dump_guest_core": True},
    "drive": [{"drive_id": "rootfs", "path_on_host": "/path/rootfs.ext4", "read_only": False,
               "direct": False, "serial_num": "root", "iothread": "iothread1", "iops": 200}],
    "net": [{"iface_id": "net0", "host_dev_name": "tap0", "mac": "12:34:56:78:9A:BC",
             "iothread": "iothread1"}],
    "console": [{"console_id": "charconsole0", "socket_path": "/tmp/console.sock"}],
    "serial": {"stdio": True},
    "iothread": [{"id": "iothread1"}],
    "rng": {"random_file": "/dev/urandom", "bytes_per_sec": 1000000}})
jdoc("minimal", {"boot-source": {"kernel_image_path": "/etc/passwd", "boot_args": ""},
                 "machine-config": {"vcpu_count": 1, "mem_size": "512M"}})
jdoc("devices", {
    "boot-source": {"kernel_image_path": "/etc/passwd", "boot_args": "console=hvc0 quiet",
                    "initrd_fs_path": "/etc/hosts"},
    "machine-config": {"type": "microvm", "vcpu_count": 4, "mem_size": "1G", "mem_share": True,
                       "dump_guest_core": False},
    "iothread": [{"id": "io1"}, {"id": "io2"}],
    "drive": [{"drive_id": "root", "path_on_host": "/etc/passwd", "read_only": True},
              {"drive_id": "data", "path_on_host": "/etc/hosts", "read_only": True,
               "direct": True, "serial_num": "DATA0123456789ABCDEF", "iothread": "io2",
               "iops": 1000000}],
    "net": [{"iface_id": "eth0", "tap_fd": 4, "mac": "52:54:00:12:34:56", "iothread": "io1",
             "vhost_type": "vhost-kernel"},
            {"iface_id": "eth1", "host_dev_name": "tap1", "vhost_type": "vhost-kernel",
             "vhost_fd": 5}],
    "console": [{"console_id": "con0", "socket_path": "/tmp/sv-fuzz-con0.sock"},
                {"console_id": "con1", "socket_path": "/tmp/sv-fuzz-con1.sock"}],
    "vsock": {"vsock_id": "vsock0", "guest_cid": 3, "uds_path": "/tmp/sv-fuzz-v.sock"},
    "balloon": {"deflate_on_oom": True, "free_page_reporting": True},
    "rng": {"random_file": "/dev/urandom", "bytes_per_sec": 64},
    "serial": {"stdio": False}})
jdoc("vhost-vsock", {
    "boot-source": {"kernel_image_path": "/etc/passwd"},
    "machine-config": {"vcpu_count": 254, "mem_size": 134217728, "mem_path": "/tmp"},
    "vsock": {"vsock_id": "v", "guest_cid": 4294967294},
    "balloon": {"deflate_on_oom": False},
    "rng": {"random_file": "/dev/null"}})
jdoc("errors", {"machine-config": {"vcpus": 2, "mem_size": "-1"}, "drive": [{"drive_id": 1}],
                "net": {"iface_id": "x"}, "vsock": {"guest_cid": 2}})

# ---- fuzz_cmdline (fuzz_config.c): argv words separated by NUL ----
# docs/command-line.md and README.md, in both StratoVirt spellings.  The
# target skips any input with "config" in a word (-config has the JSON one).
def argv(name, line):
    words = line.split()
    assert not any("config" in w for w in words)
    put("fuzz_cmdline", name, b"\0".join(w.encode() for w in words))


argv("early", "-kernel vmlinux.bin -append console=ttyS0 pci=off reboot=k panic=1 root=/dev/vda "
     "-drive file=rootfs.ext4,id=rootfs,readonly=off -api-channel unix:/tmp/sv.sock -serial stdio")
argv("v2-kata", "-name sandbox-ID -uuid 4cb19522-1e18-439a-883a-f9b2a3a95f5e -smp 1 -m 2048 "
     "-kernel vmlinux -append reboot=k panic=1 pci=off acpi=off quiet "
     "-qmp unix:/run/vc/qmp.socket,server,nowait -D -disable-seccomp "
     "-machine type=microvm,dump-guest-core=off,mem-share=on -initrd initrd.img "
     "-object rng-random,id=objrng0,filename=/dev/urandom "
     "-device virtio-rng-device,rng=objrng0,id=virtio-rng0 "
     "-drive id=rootfs,file=rootfs.img,readonly=on,direct=off "
     "-device virtio-blk-device,drive=rootfs,id=virtio-blk0 "
     "-netdev tap,id=eth0,fds=4:5 -device virtio-net-device,netdev=eth0,id=eth0,"
     "mac=02:42:ac:11:00:02")
argv("readme", "-machine microvm -smp 2 -m 256 -kernel vmlinux.bin -initrd initrd.img "
     "-append console=ttyS0 reboot=k panic=1 -serial stdio")
# host files that exist, so validation goes past the file checks
argv("v2-full", "-machine type=microvm,dump-guest-core=on,mem-share=on,acpi=off,accel=kvm,usb=off "
     "-smp cpus=4,maxcpus=4,sockets=2,dies=1,clusters=1,cores=2,threads=1 -m 1G "
     "-cpu host,-avx2,+sse4.1,x2apic=off,popcnt=on -kernel /etc/passwd -initrd /etc/hosts "
     "-append console=hvc0 -name guest=vm1,debug-threads=on "
     "-object iothread,id=io1 -iothread id=io2 "
     "-drive id=d1,file=/etc/passwd,readonly=on,direct=off,serial=abc,iothread=io1,iops=100,"
     "if=none,format=raw,aio=io_uring "
     "-drive id=d2,file=/etc/hosts,readonly=on,throttling.iops-total=50,aio=off "
     "-device virtio-blk-device,drive=d1,id=blk1,iothread=io2,serial=xyz "
     "-netdev tap,id=n0,ifname=tap0,vhost=on -netdev tap,id=n1,fd=4,vhost=off "
     "-device virtio-net-device,netdev=n0,id=net0,mac=52:54:00:12:34:56,iothread=io1 "
     "-chardev socket,id=c0,path=/tmp/sv-fuzz-c0.sock,server,nowait "
     "-chardev socket,id=m0,path=/tmp/sv-fuzz-m0.sock,server,wait=off "
     "-device virtio-serial-device,id=vs0 -device virtconsole,chardev=c0,id=con0,nr=1 "
     "-mon chardev=m0,id=mon0,mode=control "
     "-device virtio-vsock-device,id=v0,guest-cid=3,uds-path=/tmp/sv-fuzz-v.sock "
     "-device virtio-balloon-device,id=b0,deflate-on-oom=on,free-page-reporting=on "
     "-object rng-random,id=r0,filename=/dev/urandom "
     "-device virtio-rng-device,rng=r0,id=rng0,max-bytes=1000,period=1000 "
     "-device isa-debug-exit,iobase=0xf4,iosize=4,id=dbg "
     "-serial file,path=/dev/null -D /dev/null -pidfile /tmp/sv-fuzz.pid -S "
     "-rlimit nofile=1024,memlock=64M -mem-prealloc")
argv("early-full", "-kernel /etc/passwd -append console=ttyS0 reboot=k -smp 2 -m 268435456 "
     "-drive id=rootfs,file=/etc/passwd,readonly=on,direct=off,serial=s1 "
     "-drive id=data,file=/etc/hosts,readonly=on "
     "-netdev id=net0,netdev=tap0,mac=12:34:56:78:9A:BC -netdev id=net1,netdev=tap1,fds=4 "
     "-chardev id=console0,path=/tmp/sv-fuzz-console.sock "
     "-rng random_file=/dev/urandom,bytes_per_sec=1000000 -balloon deflate-on-oom=true "
     "-iothread id=iothread1 -api-channel unix:/tmp/sv-fuzz-api.sock "
     "-serial socket,path=/tmp/sv-fuzz-serial.sock,server,nowait -daemonize")
argv("vhost", "-machine microvm,mem-share=on -m 512M -kernel /etc/passwd -mem-path /tmp "
     "-chardev socket,id=fs0,path=/tmp/sv-fuzz-vfs.sock "
     "-device vhost-user-fs-device,id=fs,chardev=fs0,tag=myfs,queue-size=256 "
     "-device vhost-vsock-device,id=vsock-id,guest-cid=5,vhostfd=3 "
     "-netdev tap,id=t0,fds=4:5,vhostfds=6:7 -device virtio-net-device,netdev=t0 "
     "-jail dir=/tmp,uid=1000,gid=1000,mountns=on,netns=on,pidns=on -serial pty")
argv("version", "-version")
argv("help", "-h")
argv("incoming", "-kernel /etc/passwd -incoming file:/tmp -serial chardev:c0 "
     "-chardev pty,id=c0 -device vsock,id=vs,guest-cid=9")
# 31 connections: their RESPONSEs use up the 32 rx buffers (one of them too
# short for a header), so later replies are owed
put("fuzz_vsock", "many-conns", b"".join(vs_pkt(OP_REQUEST, 3000 + i) for i in range(31)) +
    vs_pkt(OP_CREDIT_REQUEST, 3000))
