#!/bin/bash
# Runs a command inside the arm64 nested machine L1: QEMU TCG's virt machine
# with EL2 (virtualization=on, GICv3 or GICv2, -cpu max) booting Debian's own
# arm64 kernel, whose built-in KVM (VHE) gives the command a /dev/kvm that runs
# aarch64 guests (docs/hwvirt.md, "The arm64 nested machine").  The
# counterpart of scripts/hwvirt.sh, with the same interface; what they share
# is in scripts/hwvirt/common.sh.
#
#   scripts/hwvirt-arm64.sh [--mem MIB] [--cpus N] [--] CMD [ARGS...]
#
# CMD runs in the current directory, with this environment, the host's file
# tree read-only at the same paths (writes land in a tmpfs overlay and are
# lost), /tmp on a scratch disk, and $HWVIRT_RESULTS writable and shared back.
# Its stdout and stderr come back on stdout; stdin is the terminal only when
# this script's stdin is one.  The host's x86_64 programs (bash, python3, ...)
# run in L1 through qemu-x86_64 (binfmt_misc), slowly; aarch64 programs such
# as the cross-built VMM run natively.
#
# Environment: HWVIRT_MEM (MiB, default 3072), HWVIRT_CPUS (default 2),
# HWVIRT_RESULTS (host directory shared read-write at the same path; default
# none), HWVIRT_HANG (seconds without an L1 heartbeat = hung, default 60),
# HWVIRT_SILENCE (seconds without output from CMD = hung, default 900, 0 = no
# limit), HWVIRT_TRIES (default 2), HWVIRT_SCRATCH_GB (default 16, sparse),
# HWVIRT_KEEP_LOGS=1 (keep the L1 kernel log), HWVIRT_LOCK (the lock file that
# keeps one L1 at a time on the host, default /tmp/stratovirt-hwvirt.lock;
# none = no lock; the same lock as scripts/hwvirt.sh's), HWVIRT_ARM64_GIC
# (the virt machine's GIC version, 3 or 2, default 3: with 2, L1's KVM runs
# its guests on a vgic-v2; CMD sees it as HWVIRT_ARM64_GIC),
# QEMU_AARCH64_BIN, STRATOVIRT_HWVIRT_ARM64_CACHE.
#
# Exit status: CMD's; 97 when L1 crashed or hung on every try (an
# infrastructure fault, neither a pass nor a fail of CMD); 98 when L1 cannot
# start here (no qemu-system-aarch64, no working /dev/kvm in L1, no kernel package);
# 2 on a usage error.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
parts=$repo/scripts/hwvirt-arm64
hw_name=hwvirt-arm64
# shellcheck source=scripts/hwvirt/common.sh
. "$repo/scripts/hwvirt/common.sh"
gic=${HWVIRT_ARM64_GIC:-3}
hw_parse_args "$@"
[[ $gic =~ ^[23]$ ]] || { echo "$0: HWVIRT_ARM64_GIC=$gic: 2 or 3" >&2; exit 2; }

# What the host needs, installed with apt-get when run as root.
need=()
[ -n "${QEMU_AARCH64_BIN:-}" ] || command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/crti.o ] || need+=(libc6-dev-arm64-cross)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends "${need[@]}" >&2; } ||
		unavailable "cannot install ${need[*]}"
fi
qemu=${QEMU_AARCH64_BIN:-$(command -v qemu-system-aarch64 || true)}
[ -n "$qemu" ] && [ -x "$qemu" ] ||
	unavailable "${QEMU_AARCH64_BIN:-qemu-system-aarch64} not found or not executable (apt-get install qemu-system-arm)"
command -v mkfs.ext4 >/dev/null || unavailable "mkfs.ext4 not installed (apt-get install e2fsprogs)"
prep=$("$parts/prepare.sh") || unavailable "scripts/hwvirt-arm64/prepare.sh failed"
kernel=$(sed -n 's/^L1_KERNEL=//p' <<<"$prep")
initrd=$(sed -n 's/^L1_INITRD=//p' <<<"$prep")

hw_results
hw_workdir
hw_write_run "export HWVIRT_ARCH=arm64" "export HWVIRT_ARM64_GIC=$gic"

# The virt machine has one PL011: the L1 kernel log goes there (ttyAMA0),
# the command's stdio over a virtio console (hvc0).
l1_start() {
	"$qemu" -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" \
		-M "virt,virtualization=on,gic-version=$gic" \
		-nodefaults -display none -no-reboot \
		-serial "file:$log" \
		-chardev "$chr" -device virtio-serial-pci -device virtconsole,chardev=con \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyAMA0 panic=-1 oops=panic" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$ctl,mount_tag=hwctl,security_model=none" \
		-drive "file=$work/scratch.img,if=none,id=scratch,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=scratch \
		"${shares[@]}" <&0 &
	qpid=$!
}

hw_lock
hw_main
