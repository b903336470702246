#!/bin/bash
# Runs a command inside the nested machine L1: QEMU TCG with -cpu max (AMD SVM
# with nested paging) booting Debian's own kernel, so the command gets a
# /dev/kvm with hardware-virtualization semantics (docs/hwvirt.md).
#
#   scripts/hwvirt.sh [--mem MIB] [--cpus N] [--] CMD [ARGS...]
#
# CMD runs in the current directory, with this environment, the host's file
# tree read-only at the same paths (writes land in a tmpfs overlay and are
# lost), /tmp on a scratch disk, and $HWVIRT_RESULTS writable and shared back.
# Its stdout and stderr come back on stdout; stdin is the terminal only when
# this script's stdin is one.
#
# Environment: HWVIRT_MEM (MiB, default 3072), HWVIRT_CPUS (default 2),
# HWVIRT_RESULTS (host directory shared read-write at the same path; default
# none), HWVIRT_HANG (seconds without an L1 heartbeat = hung, default 60),
# HWVIRT_SILENCE (seconds without output from CMD = hung, default 900, 0 = no
# limit), HWVIRT_TRIES (default 2), HWVIRT_SCRATCH_GB (default 16, sparse),
# HWVIRT_KEEP_LOGS=1 (keep the L1 kernel log), HWVIRT_LOCK (the lock file that
# keeps one L1 at a time on the host, default /tmp/stratovirt-hwvirt.lock;
# none = no lock), QEMU_BIN, STRATOVIRT_HWVIRT_CACHE.
#
# Exit status: CMD's; 97 when L1 crashed or hung on every try (an
# infrastructure fault, neither a pass nor a fail of CMD); 98 when L1 cannot
# start here (no qemu-system-x86_64, no SVM under TCG, no kernel package);
# 2 on a usage error.
#
# What it shares with scripts/hwvirt-arm64.sh is in scripts/hwvirt/common.sh.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hw_name=hwvirt
# shellcheck source=scripts/hwvirt/common.sh
. "$repo/scripts/hwvirt/common.sh"
l1_args=${HWVIRT_L1_ARGS-kvm_amd.npt=0}
hw_parse_args "$@"

qemu=${QEMU_BIN:-$(command -v qemu-system-x86_64 || true)}
[ -n "$qemu" ] && [ -x "$qemu" ] || unavailable "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v mkfs.ext4 >/dev/null || unavailable "mkfs.ext4 not installed (apt-get install e2fsprogs)"
prep=$("$repo/scripts/hwvirt/prepare.sh") || unavailable "scripts/hwvirt/prepare.sh failed"
kernel=$(sed -n 's/^L1_KERNEL=//p' <<<"$prep")
initrd=$(sed -n 's/^L1_INITRD=//p' <<<"$prep")

hw_results
hw_workdir
hw_write_run

# The q35 machine: the command's stdio on ttyS0, the L1 kernel log on ttyS1.
l1_start() {
	"$qemu" -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" -M q35 \
		-nodefaults -display none -no-reboot \
		-chardev "$chr" -serial chardev:con -serial "file:$log" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS1 panic=-1 oops=panic mitigations=off random.trust_cpu=on $l1_args" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$ctl,mount_tag=hwctl,security_model=none" \
		-drive "file=$work/scratch.img,if=virtio,format=raw,cache=unsafe" \
		"${shares[@]}" <&0 &
	qpid=$!
}

hw_lock
hw_main
