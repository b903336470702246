#!/bin/bash
# Build the busybox initramfs of the StratoVirt demo/test guest, for x86_64
# or arm64: a static busybox, guest/init, guest/checks.d and the test agents
# (guest/agent/*.c) built static.
#
#   guest/build-initrd.sh [x86_64|arm64]   build (or reuse) and print the initrd path
#
# Output: ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/initrd-<hash>/initrd.cpio.gz
# (x86_64, the default) or initrd-arm64-<hash>/initrd.cpio.gz (arm64); newc
# cpio, gzip, the same bytes for the same inputs.
#   x86_64: the host's busybox-static ($BUSYBOX, default /bin/busybox); the
#           agents svagent, svvsock and svpwrbtn built with gcc -static.
#   arm64:  Debian's arm64 busybox-static, fetched once (apt-get download with
#           a private apt state, scripts/hwvirt-arm64/fetch-deb.sh) into
#           <cache>/busybox-static-arm64/; svagent and svvsock cross-built with
#           aarch64-linux-gnu-gcc -static ($CROSS_COMPILE).
# <hash> covers the busybox-static package version, the compiler's version,
# guest/init, guest/agent/*.c, guest/checks.d/*.sh (more checks, put in
# /etc/svcheck.d) and this script. When the file exists the script only
# prints its path. Progress goes to stderr; the last line on stdout is the
# initrd path. Needs root (or fakeroot) for the /dev/console node.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
arch=${1:-x86_64}
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
case $arch in
x86_64)
    cross=
    prefix=initrd
    agents=(agent:svagent vsock:svvsock pwrbtn:svpwrbtn)
    ;;
arm64)
    cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
    prefix="initrd-arm64"
    agents=(agent:svagent vsock:svvsock)
    ;;
*)
    echo "usage: $0 [x86_64|arm64]" >&2
    exit 2
    ;;
esac

log() { echo "build-initrd ($arch): $*" >&2; }
die() { echo "build-initrd ($arch): error: $*" >&2; exit 1; }

command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
command -v "${cross}gcc" >/dev/null ||
    die "${cross}gcc not found (apt-get install ${cross:+gcc-aarch64-linux-gnu libc6-dev-arm64-cross}${cross:-build-essential})"
mkdir -p "$cache_root"

if [ "$arch" = x86_64 ]; then
    busybox=${BUSYBOX:-/bin/busybox}
    [ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
    # ldd exits 1 on a static binary, so read its output rather than a
    # pipeline status (pipefail); `file` is not on a fresh machine.
    ldd_out=$(ldd "$busybox" 2>&1 || true)
    case "$ldd_out" in
    *"not a dynamic executable"* | *"statically linked"*) ;;
    *) die "$busybox is not statically linked (apt-get install busybox-static)" ;;
    esac
    bb_id=$(dpkg-query -W -f='${Package} ${Version}' busybox-static 2>/dev/null || true)
    [ -n "$bb_id" ] || bb_id=$(sha256sum "$busybox" | cut -c1-64)
    bb_id="busybox: $bb_id"
else
    # Debian's arm64 busybox-static, fetched once.
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
fi

hash=$(
    {
        echo "$bb_id"
        echo "cc: $("${cross}gcc" --version | head -1)"
        for f in "$here/init" "$here"/agent/*.c "$here/build-initrd.sh" "$here"/checks.d/*.sh; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/$prefix-$hash
initrd=$out/initrd.cpio.gz

if [ -s "$initrd" ]; then
    echo "$initrd"
    exit 0
fi

exec 9>"$cache_root/$prefix-$hash.lock"
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
# more checks, one file per device family, sourced by init
mkdir -p "$root/etc/svcheck.d"
for f in "$here"/checks.d/*.sh; do
    [ -e "$f" ] && install -m 0644 "$f" "$root/etc/svcheck.d/"
done
# linux-libc-dev-arm64-cross 6.1.4's linux/vm_sockets.h uses struct sockaddr
# without including sys/socket.h (the host's newer header does).
for a in "${agents[@]}"; do
    "${cross}gcc" -static -O2 -std=gnu11 -Wall -Wextra -Werror ${cross:+-include sys/socket.h} \
        -o "$root/bin/${a#*:}" "$here/agent/${a%%:*}.c" || die "cannot build guest/agent/${a%%:*}.c"
    "${cross}strip" "$root/bin/${a#*:}"
done
# One symlink per applet, where busybox itself would install it: for arm64
# the list from the arm64 busybox under qemu-user when there is one, else
# from the host's busybox of the same Debian version.
if [ "$arch" = x86_64 ]; then
    applets=$("$busybox" --list-full)
elif command -v qemu-aarch64-static >/dev/null; then
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
# The kernel opens /dev/console for init before anything is mounted.
mknod -m 600 "$root/dev/console" c 5 1 || die "mknod /dev/console failed (run as root)"
mknod -m 666 "$root/dev/null" c 1 3
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

# Fixed timestamps so the same inputs give the same bytes.
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
