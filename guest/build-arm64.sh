#!/bin/bash
# Build (or reuse from the cache) the arm64 demo/test guest: the kernel Image
# (guest/build-kernel.sh arm64: Debian's linux-source-6.1 cross-built with
# guest/kernel-arm64.config) and the busybox initramfs
# (guest/build-initrd.sh arm64: the same guest/init and checks as x86_64).
#
# Prints, as its last two stdout lines:
#   KERNEL_DIR=<dir with Image, vmlinux, config>
#   INITRD=<path of initrd.cpio.gz>
# Cache root: ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
# (kernel-arm64-<hash>/, initrd-arm64-<hash>/).  Missing Debian packages are
# installed with apt-get when run as root; GUEST_NO_APT=1 only reports them.
# A cold kernel build takes about 10 minutes on 2 cores (nice, one kernel
# build at a time on the machine); a warm call about a second.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

deps=(linux-source-6.1 gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
    make bc bison flex libssl-dev xz-utils cpio gzip util-linux qemu-user-static)
missing=()
for p in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && [ "${GUEST_NO_APT:-0}" != 1 ]; then
        echo "build-arm64.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
            || { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
    else
        echo "build-arm64.sh: error: missing packages: ${missing[*]} (apt-get install them as root)" >&2
        exit 1
    fi
fi

kernel_dir=$("$here/build-kernel.sh" arm64 | tail -n 1)
initrd=$("$here/build-initrd.sh" arm64 | tail -n 1)
[ -s "$kernel_dir/Image" ] || { echo "build-arm64.sh: error: kernel build gave no Image" >&2; exit 1; }
[ -s "$initrd" ] || { echo "build-arm64.sh: error: initrd build gave no file" >&2; exit 1; }
echo "KERNEL_DIR=$kernel_dir"
echo "INITRD=$initrd"
