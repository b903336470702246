#!/bin/bash
# Build the busybox initramfs of the arm64 demo/test guest (the counterpart
# of guest/build-initrd.sh): Debian's arm64 busybox-static, the same
# guest/init and guest/checks.d, and the test agents (guest/agent/*.c)
# cross-built with aarch64-linux-gnu-gcc -static.
#
#   guest/build-initrd-arm64.sh      build (or reuse) and print the initrd path
#
# Output: ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/initrd-arm64-<hash>/initrd.cpio.gz
# (newc cpio, gzip).  <hash> covers the arm64 busybox-static version, the
# cross compiler's version, guest/init, guest/agent/*.c, guest/checks.d/*.sh
# and this script.  The arm64 busybox-static is fetched once (apt-get download
# with a private apt state, scripts/hwvirt-arm64/fetch-deb.sh) into
# <cache>/busybox-static-arm64/.  Progress goes to stderr; the last line on
# stdout is the initrd path.  Needs root (or fakeroot) for /dev/console.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}

log() { echo "build-initrd-arm64: $*" >&2; }
die() { echo "build-initrd-arm64: error: $*" >&2; exit 1; }

command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
mkdir -p "$cache_root"

# ---- Debian's arm64 busybox-static, fetched once -------------------------
bbdir=$cache_root/busybox-static-arm64
if [ ! -s "$bbdir/BUILD-INFO" ]; then
    exec 8>"$bbdir.lock"
    flock 8
    if [ ! -s "$bbdir/BUILD-INFO" ]; then
        rm -rf "$bbdir.tmp"
        mkdir -p "$bbdir.tmp/deb"
        log "fetching busybox-static for arm64"
        "$repo/scripts/hwvirt-arm64/fetch-deb.sh" "$bbdir.tmp/deb" busybox-static \
            || die "cannot fetch busybox-static for arm64"
        deb=$(ls "$bbdir.tmp"/deb/*.deb)
        dpkg-deb -x "$deb" "$bbdir.tmp/x"
        install -m 0755 "$bbdir.tmp/x/bin/busybox" "$bbdir.tmp/busybox"
        echo "busybox: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture)" \
            >"$bbdir.tmp/BUILD-INFO"
        rm -rf "$bbdir.tmp/deb" "$bbdir.tmp/x" "$bbdir"
        mv "$bbdir.tmp" "$bbdir"
    fi
    exec 8>&-
fi
busybox=$bbdir/busybox
bb_id=$(cat "$bbdir/BUILD-INFO")

hash=$(
    {
        echo "$bb_id"
        echo "cc: $("${cross}gcc" --version | head -1)"
        for f in "$here/init" "$here"/agent/*.c "$here/build-initrd-arm64.sh" "$here"/checks.d/*.sh; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/initrd-arm64-$hash
initrd=$out/initrd.cpio.gz

if [ -s "$initrd" ]; then
    echo "$initrd"
    exit 0
fi

exec 9>"$cache_root/initrd-arm64-$hash.lock"
flock 9
if [ -s "$initrd" ]; then
    echo "$initrd"
    exit 0
fi

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,mnt}
chmod 1777 "$root/tmp"
install -m 0755 "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
mkdir -p "$root/etc/svcheck.d"
for f in "$here"/checks.d/*.sh; do
    [ -e "$f" ] && install -m 0644 "$f" "$root/etc/svcheck.d/"
done
"${cross}gcc" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/svagent" "$here/agent/agent.c" \
    || die "cannot cross-build the test agent"
# linux-libc-dev-arm64-cross 6.1.4's linux/vm_sockets.h uses struct sockaddr
# without including sys/socket.h (the host's newer header does).
"${cross}gcc" -static -O2 -std=gnu11 -Wall -Wextra -Werror -include sys/socket.h \
    -o "$root/bin/svvsock" "$here/agent/vsock.c" \
    || die "cannot cross-build the vsock test program"
"${cross}strip" "$root/bin/svagent" "$root/bin/svvsock"
# One symlink per applet, where busybox itself would install it: the list
# from the arm64 busybox under qemu-user when there is one, else from the
# host's busybox of the same Debian version.
if command -v qemu-aarch64-static >/dev/null; then
    applets=$(qemu-aarch64-static "$busybox" --list-full)
elif [ -x /bin/busybox ]; then
    applets=$(/bin/busybox --list-full)
else
    die "cannot list the busybox applets (apt-get install qemu-user-static or busybox-static)"
fi
[ -n "$applets" ] || die "empty busybox applet list"
echo "$applets" | while read -r applet; do
    [ -e "$root/$applet" ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
done
mknod -m 600 "$root/dev/console" c 5 1 || die "mknod /dev/console failed (run as root)"
mknod -m 666 "$root/dev/null" c 1 3
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

find "$root" -exec touch -h -d @0 {} +
log "packing $(find "$root" | wc -l) entries"
(
    cd "$root"
    find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible
) | gzip -9 -n > "$tmp/initrd.cpio.gz"
rm -rf "$root"
echo "$bb_id" > "$tmp/BUILD-INFO"
rm -rf "$out"
mv "$tmp" "$out"
log "done: $initrd"
echo "$initrd"
