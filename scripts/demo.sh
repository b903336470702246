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

echo "demo: booting $kdir/vmlinux.bin with 2 vCPUs, 256 MiB (Ctrl-C ends the VM)" >&2
exec "$vmm" -machine microvm -smp 2 -m 256 -kernel "$kdir/vmlinux.bin" -initrd "$initrd" \
	-append "$cmdline" -serial stdio "$@"
