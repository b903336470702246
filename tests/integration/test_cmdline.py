# SPDX-License-Identifier: MulanPSL-2.0
"""Bad command lines must fail fast, with one clear line, leaving nothing behind.

The binary is taken from STRATOVIRT_BIN, else build/stratovirt at the top of
the tree.  No guest is ever started: every line here is rejected before the
VM is built (or, for a missing kernel file, while it is built).
"""
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("STRATOVIRT_BIN",
                     os.path.join(HERE, "..", "..", "build", "stratovirt"))
if not os.path.isabs(BIN):
    BIN = os.path.abspath(BIN)

pytestmark = pytest.mark.skipif(not os.path.exists(BIN),
                                reason=f"no stratovirt binary at {BIN}")


def run(args, timeout=20):
    return subprocess.run([BIN] + args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def env(tmp_path):
    kernel = tmp_path / "vmlinux.bin"
    kernel.write_bytes(b"\0" * 4096)
    return {
        "dir": tmp_path,
        "kernel": str(kernel),
        "pidfile": str(tmp_path / "sv.pid"),
        "qmp": str(tmp_path / "qmp.sock"),
    }


def base(env, kernel=True):
    args = ["-kernel", env["kernel"]] if kernel else []
    return args + ["-pidfile", env["pidfile"],
                   "-qmp", f"unix:{env['qmp']},server,nowait"]


def check_rejected(env, args, fragments):
    res = run(args)
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert res.returncode != 0, f"accepted: {args}"
    assert res.returncode < 128, f"crashed ({res.returncode}): {res.stderr}"
    assert len(lines) == 1, f"expected one error line, got: {res.stderr!r}"
    line = lines[0]
    assert line.startswith("stratovirt: "), line
    for frag in fragments:
        assert frag in line, f"{frag!r} not in {line!r}"
    assert not os.path.exists(env["pidfile"]), "pidfile left behind"
    assert not os.path.exists(env["qmp"]), "QMP socket left behind"
    leftovers = [p.name for p in env["dir"].iterdir() if p.name != "vmlinux.bin"
                 and not p.name.endswith(".json")]
    assert not leftovers, f"files left behind: {leftovers}"


# (extra arguments, fragments the error line must contain)
BAD_LINES = [
    (["-foo"], ["unknown option '-foo'"]),
    (["--no-such-option"], ["'--no-such-option'"]),
    (["-smp", "0"], ["-smp", "'0'"]),
    (["-smp", "255"], ["-smp", "'255'"]),
    (["-smp", "cpus=4,maxcpus=2"], ["-smp", "maxcpus"]),
    (["-smp", "cpus=4,sockets=1,cores=3,threads=1"], ["-smp"]),
    (["-smp", "cpus=2,books=2"], ["-smp", "'books'"]),
    (["-m", "1"], ["-m", "'1'"]),
    (["-m", "1T"], ["-m", "'1T'"]),
    (["-m", "lots"], ["-m", "'lots'"]),
    (["-machine", "pc"], ["-machine", "'pc'"]),
    (["-machine", "microvm,foo=bar"], ["-machine", "'foo'"]),
    (["-machine", "microvm,mem-share=perhaps"], ["mem-share", "'perhaps'"]),
    (["-drive", "file=/tmp/x.img"], ["-drive", "id="]),
    (["-drive", "id=a,file=/tmp/x.img,format=qcow2"], ["-drive format", "'qcow2'"]),
    (["-drive", "id=a,file=/tmp/x.img,iothread=nope"], ["'nope'"]),
    (["-device", "virtio-blk-device,drive=nope,id=b0"], ["virtio-blk-device", "'nope'"]),
    (["-device", "virtio-blk-pci,drive=a"], ["'virtio-blk-pci'"]),
    (["-netdev", "tap,id=n0,ifname=tap0",
      "-device", "virtio-net-device,netdev=n0,mac=01:02:03:04:05:06"],
     ["mac", "'01:02:03:04:05:06'"]),
    (["-device", "virtio-net-device,netdev=nope,id=n"], ["virtio-net-device", "'nope'"]),
    (["-netdev", "user,id=n0"], ["-netdev", "'user'"]),
    (["-device", "vhost-vsock-device,id=v0,guest-cid=2"], ["guest-cid", "'2'"]),
    (["-serial", "stdio", "-daemonize"], ["-serial stdio", "-daemonize"]),
    (["-serial", "vc"], ["-serial", "'vc'"]),
    (["-mon", "chardev=nope,id=m,mode=control"], ["-mon", "'nope'"]),
    (["-cpu", "qemu64"], ["-cpu", "'qemu64'"]),
    (["-object", "rng-egd,id=r0"], ["-object", "'rng-egd'"]),
    (["-device", "virtio-rng-device,rng=r9"], ["virtio-rng-device", "'r9'"]),
    (["-iothread", "id=a", "-object", "iothread,id=a"], ["duplicate id 'a'"]),
    (["-chardev", "socket,id=c0"], ["-chardev", "path="]),
    (["-incoming", "tcp:0:4444"], ["-incoming", "'tcp:0:4444'"]),
    (["-uuid", "not-a-uuid"], ["-uuid", "'not-a-uuid'"]),
    (["-balloon", "deflate-on-oom=maybe"], ["-balloon", "'maybe'"]),
    (["-rng", "random_file=/dev/urandom,bytes_per_sec=1"], ["bytes_per_sec", "'1'"]),
    (["-config", "/nonexistent/sv.json"], ["-config", "/nonexistent/sv.json"]),
    (["stray-word"], ["'stray-word'"]),
    (["-append"], ["missing value for -append"]),
    (["-kernel"], ["missing value for -kernel"]),
    # checked once the VM is being built: still one line, nothing left behind
    (["-cpu", "host,-bogus"], ["-cpu", "'bogus'"]),
    (["-drive", "id=d0,file=/nonexistent/disk.img"], ["/nonexistent/disk.img"]),
    (["-initrd", "/nonexistent/initrd.img"], ["/nonexistent/initrd.img"]),
]


@pytest.mark.parametrize("extra,fragments", BAD_LINES,
                         ids=[" ".join(b[0])[:60] for b in BAD_LINES])
def test_bad_command_line(env, extra, fragments):
    check_rejected(env, base(env) + extra, fragments)


def test_bad_qmp_address(env):
    args = ["-kernel", env["kernel"], "-pidfile", env["pidfile"],
            "-qmp", "tcp:127.0.0.1:4444,server,nowait"]
    check_rejected(env, args, ["-qmp", "'tcp:127.0.0.1:4444"])


def test_no_kernel(env):
    check_rejected(env, base(env, kernel=False) + ["-smp", "1"], ["-kernel"])


def test_json_unknown_key(env):
    cfg = env["dir"] / "bad.json"
    cfg.write_text(json.dumps({"machine-config": {"vcpu_count": 1, "vcpus": 2}}))
    check_rejected(env, base(env) + ["-config", str(cfg)], ["-config", "'vcpus'"])


def test_json_syntax_error(env):
    cfg = env["dir"] / "broken.json"
    cfg.write_text('{"machine-config": {"vcpu_count": 1,}')
    check_rejected(env, base(env) + ["-config", str(cfg)], ["-config"])


def test_missing_kernel_file(env):
    """Fails while the VM is built: still one line, and nothing left behind."""
    args = base(env, kernel=False) + ["-kernel", str(env["dir"] / "missing.bin")]
    res = run(args)
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert res.returncode != 0
    assert res.returncode < 128, res.stderr
    assert lines, "no error message"
    assert not os.path.exists(env["pidfile"])
    assert not os.path.exists(env["qmp"])


@pytest.mark.parametrize("flag", ["--help", "-h", "-help"])
def test_help(flag):
    res = run([flag])
    assert res.returncode == 0, res.stderr
    for opt in ["-kernel", "-append", "-drive", "-netdev", "-device", "-qmp",
                "-api-channel", "-smp", "-m ", "-machine", "-serial", "-chardev",
                "-mon", "-object", "-incoming", "-pidfile", "-daemonize",
                "-disable-seccomp", "-config", "-D ", "-S "]:
        assert opt in res.stdout, f"--help does not list {opt}"


@pytest.mark.parametrize("flag", ["--version", "-version"])
def test_version(flag):
    res = run([flag])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip(), "no version printed"
    assert "StratoVirt" in res.stdout
