#!/bin/bash
# Builds the demo guest (cached) and boots it on our VMM with its console on
# this terminal.  Extra arguments go to stratovirt.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vmm=${STRATOVIRT_BIN:-$repo/build/stratovirt}

out=$("$repo/guest/build.sh")
kdir=$(sed -n 's/^KERNEL_DIR=//p' <<<"$out")
initrd=$(sed -n 's/^INITRD=//p' <<<"$out")
cmdline=$(cat "$repo/guest/cmdline.txt")

# kvm_pvm cannot run guest user space: boot the same guest in the nested
# machine, whose KVM can (docs/hwvirt.md).  DEMO_DIRECT=1 boots here anyway.
if [ -d /sys/module/kvm_pvm ] && [ "${HWVIRT:-0}" != 1 ] && [ "${DEMO_DIRECT:-0}" != 1 ]; then
	echo "demo: this host's KVM (kvm_pvm) cannot run guest user space; booting the guest inside the nested machine (scripts/hwvirt.sh, ~10 s more; Ctrl-A x leaves it)" >&2
	exec "$repo/scripts/hwvirt.sh" "$repo/scripts/demo.sh" "$@"
fi

echo "demo: booting $kdir/vmlinux.bin with 2 vCPUs, 256 MiB (Ctrl-C ends the VM)" >&2
exec "$vmm" -machine microvm -smp 2 -m 256 -kernel "$kdir/vmlinux.bin" -initrd "$initrd" \
	-append "$cmdline" -serial stdio "$@"
