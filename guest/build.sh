#!/bin/bash
# Build (or reuse from the cache) the StratoVirt demo/test guest:
# kernel (bzImage, vmlinux, vmlinux.bin) and busybox initramfs.
#
# Prints, as its last two stdout lines:
#   KERNEL_DIR=<dir with bzImage, vmlinux, vmlinux.bin, config>
#   INITRD=<path of initrd.cpio.gz>
# Cache root: ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}.
# Missing Debian packages (guest/deps.txt) are installed with apt-get when run
# as root; set GUEST_NO_APT=1 to only report them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mapfile -t deps < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/deps.txt")
missing=()
for p in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && [ "${GUEST_NO_APT:-0}" != 1 ]; then
        echo "build.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
            || { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
    else
        echo "build.sh: error: missing packages: ${missing[*]} (apt-get install them as root)" >&2
        exit 1
    fi
fi

kernel_dir=$("$here/build-kernel.sh" x86_64 | tail -n 1)
initrd=$("$here/build-initrd.sh" x86_64 | tail -n 1)
[ -d "$kernel_dir" ] || { echo "build.sh: error: kernel build gave no directory" >&2; exit 1; }
[ -s "$initrd" ] || { echo "build.sh: error: initrd build gave no file" >&2; exit 1; }
echo "KERNEL_DIR=$kernel_dir"
echo "INITRD=$initrd"
