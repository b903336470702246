#!/bin/bash
# Build the busybox initramfs of the StratoVirt demo/test guest.
#
#   guest/build-initrd.sh            build (or reuse) and print the initrd path
#
# Output: ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/initrd-<hash>/initrd.cpio.gz
# (newc cpio, gzip). <hash> covers the busybox-static package version, the
# gcc version, guest/init, guest/agent/agent.c (the test agent, built here
# with gcc -static as /bin/svagent), guest/checks.d/*.sh (more checks, put
# in /etc/svcheck.d) and this script. When the file exists the script only prints its
# path. Progress goes to stderr; the last line on stdout is the initrd path.
# Needs root (or fakeroot) for the /dev/console node.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
busybox=${BUSYBOX:-/bin/busybox}

log() { echo "build-initrd: $*" >&2; }
die() { echo "build-initrd: error: $*" >&2; exit 1; }

[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
# ldd exits 1 on a static binary, so read its output rather than a pipeline
# status (pipefail); `file` is not on a fresh machine.
ldd_out=$(ldd "$busybox" 2>&1 || true)
case "$ldd_out" in
*"not a dynamic executable"* | *"statically linked"*) ;;
*) die "$busybox is not statically linked (apt-get install busybox-static)" ;;
esac
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"

bb_id=$(dpkg-query -W -f='${Package} ${Version}' busybox-static 2>/dev/null || true)
[ -n "$bb_id" ] || bb_id=$(sha256sum "$busybox" | cut -c1-64)

hash=$(
    {
        echo "busybox: $bb_id"
        echo "cc: $(gcc --version | head -1)"
        for f in "$here/init" "$here/agent/agent.c" "$here/agent/vsock.c" "$here/agent/pwrbtn.c" "$here/build-initrd.sh" \
            "$here"/checks.d/*.sh; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/initrd-$hash
initrd=$out/initrd.cpio.gz

if [ -s "$initrd" ]; then
    echo "$initrd"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/initrd-$hash.lock"
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
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/svagent" "$here/agent/agent.c" \
    || die "cannot build the test agent (apt-get install build-essential)"
strip "$root/bin/svagent"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/svvsock" "$here/agent/vsock.c" \
    || die "cannot build the vsock test program"
strip "$root/bin/svvsock"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/svpwrbtn" "$here/agent/pwrbtn.c" \
    || die "cannot build the power-button watcher"
strip "$root/bin/svpwrbtn"
# One symlink per applet, where busybox itself would install it.
"$busybox" --list-full | while read -r applet; do
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
echo "busybox: $bb_id" > "$tmp/BUILD-INFO"
rm -rf "$out"
mv "$tmp" "$out"
log "done: $initrd"
echo "$initrd"
