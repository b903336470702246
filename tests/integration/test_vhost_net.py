# SPDX-License-Identifier: MulanPSL-2.0
"""-netdev tap,vhost=on: the kernel's vhost-net where /dev/vhost-net exists,
the VMM's own data path otherwise, and a log line saying which.

On this host (no /dev/vhost-net) the test guest's virtio_net check runs with
vhost=on and must see its frames go through the tap as without it, and the
log must name the fallback; where /dev/vhost-net exists the same run must say
the kernel serves the rings.  The hwvirt tests (inside the nested machine,
which has /dev/vhost-net) boot guest/'s Linux: ping of the tap's end and a
100 MiB TCP transfer with its SHA-256, with vhost on and off.
"""
import os

import pytest

from conftest import netns_unavailable, NetNs, run_vm
from test_virtio import NET_MAC, NetPeer, assert_guest, guest_append, vmm_base
# the Linux guest of the hwvirt tests, built on the host before L1 starts
from test_linux_user import guest, hwvirt_host_prepare  # noqa: F401

VM_TIMEOUT = 90
LOG_ENV = dict(os.environ, STRATOVIRT_LOG_LEVEL="info")
HAVE_VHOST = os.access("/dev/vhost-net", os.R_OK | os.W_OK)


def run_net_guest(vmm_bin, guest_bin, netns, netdev_opts, env=LOG_ENV):
    sock = netns.packet_socket()
    peer = NetPeer(sock, NET_MAC)
    peer.start()
    net = ["-netdev", f"tap,id=net0,ifname={netns.tap}{netdev_opts}",
           "-device", f"virtio-net-device,netdev=net0,id=net0,mac={NET_MAC}"]
    append = guest_append(["virtio_net"], f"net_mac={NET_MAC}")
    try:
        res = run_vm(netns.wrap(vmm_base(vmm_bin, guest_bin, append) + net),
                     timeout=VM_TIMEOUT, env=env)
    finally:
        peer.stop.set()
        peer.join(timeout=5)
        sock.close()
    return res, peer


@pytest.mark.parametrize("opts", [",vhost=on", ",vhost=off", ""], ids=["on", "off", "default"])
def test_vhost_option_data_path(vmm_bin, kvm, guest_bin, netns, opts):
    res, peer = run_net_guest(vmm_bin, guest_bin, netns, opts)
    assert_guest(res, ["virtio_net"])
    assert peer.error is None, f"net peer: {peer.error}\n{res.describe()}"
    assert peer.guest_frame[14:14 + 20] == b"svtest-guest-to-host", res.describe()
    fallback = "vhost=on but /dev/vhost-net: " in res.stderr
    kernel = "vhost=on: kernel vhost-net data path" in res.stderr
    if opts != ",vhost=on":
        assert not fallback and not kernel, res.describe()
    elif HAVE_VHOST:
        assert kernel and "vhost-net serves the rings of tap" in res.stderr, res.describe()
    else:
        assert fallback and "user-space data path" in res.stderr, res.describe()


def test_vhostfd_not_open(vmm_bin, guest_bin, netns):
    """An inherited vhostfd that does not work is a start-up error, not a fallback."""
    res = run_vm(netns.wrap(vmm_base(vmm_bin, guest_bin, "") +
                            ["-netdev", f"tap,id=net0,ifname={netns.tap},vhostfd=200",
                             "-device", "virtio-net-device,netdev=net0"]), timeout=20)
    assert res.rc == 1, res.describe()
    assert "netdev 'net0': vhostfd=200 is not a usable vhost-net fd: VHOST_SET_OWNER" \
        in res.stderr, res.describe()


@pytest.mark.parametrize("opts,msg", [
    (",vhostfd=3,vhost=off", "vhostfd= needs vhost=on"),
    (",vhostfd=3,vhostfds=4", "give either vhostfd= or vhostfds=, not both"),
    (",vhostfds=x", "invalid value 'x' for -netdev vhostfds"),
    (",vhost=maybe", "invalid value 'maybe' for -netdev vhost"),
])
def test_vhost_option_errors(vmm_bin, guest_bin, opts, msg):
    res = run_vm([vmm_bin, "-kernel", guest_bin, "-netdev", f"tap,id=n0,ifname=t0{opts}",
                  "-device", "virtio-net-device,netdev=n0"], timeout=20)
    assert res.rc == 1 and msg in res.stderr, res.describe()


def test_qmp_netdev_add_vhost(vmm_bin, guest_elf, kvm, netns, tmp_path, monkeypatch):
    """QMP netdev_add "vhost":true takes the same path as vhost=on, with its log line."""
    from qmpclient import QmpVm
    from test_qmp import base
    monkeypatch.setenv("STRATOVIRT_LOG_LEVEL", "info")
    sock = tmp_path / "qmp.sock"
    argv = base(vmm_bin, guest_elf)
    with QmpVm(argv, sock, wrap=netns.wrap) as vm:
        with vm.qmp() as q:
            assert q.cmd("netdev_add", {"type": "tap", "id": "n1", "ifname": netns.tap,
                                        "vhost": True}) == {"return": {}}
            assert q.cmd("device_add", {"id": "nic1", "driver": "virtio-net-mmio",
                                        "netdev": "n1", "addr": "0x0"}) == {"return": {}}
            q.cmd("quit")
        vm.wait(20)
    err = vm.stderr.decode(errors="replace")
    if HAVE_VHOST:
        assert "netdev 'n1': vhost=on: kernel vhost-net data path" in err, err
    else:
        assert "netdev 'n1': vhost=on but /dev/vhost-net: " in err, err


# ---- Linux in the nested machine -------------------------------------------------

@pytest.mark.hwvirt
@pytest.mark.slow
@pytest.mark.parametrize("vhost", ["on", "off"])
def test_linux_ping_and_100mib(vmm_bin, guest, vhost):  # noqa: F811
    from test_linux_user import TIMEOUT, Sender, assert_ping_and_tcp, tap_net_check, vmm
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    if vhost == "on" and not HAVE_VHOST:
        pytest.skip("/dev/vhost-net is missing (the nested machine has it)")
    kdir, initrd = guest
    payload = os.urandom(100 << 20)
    with NetNs() as ns:
        extra, append = tap_net_check(ns, f",vhost={vhost}")
        sender = Sender(ns, payload)
        sender.start()
        res = run_vm(ns.wrap(vmm(vmm_bin, kdir / "bzImage", append, initrd=initrd,
                                 extra=extra)), timeout=TIMEOUT * 2, env=LOG_ENV)
        sender.join(timeout=10)
    assert_ping_and_tcp(res, sender, payload)
    served = "vhost-net serves the rings of tap" in res.stderr
    assert served == (vhost == "on"), res.describe()
    print(f"vhost={vhost}: ping + 100 MiB, VM run {res.seconds:.1f} s")
