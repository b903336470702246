#!/bin/bash
# Build the arm64 demo/test guest kernel from Debian's linux-source-6.1 with
# the cross compiler gcc-aarch64-linux-gnu (the counterpart of
# guest/build-kernel.sh; docs/guest.md, docs/aarch64.md).
#
#   guest/build-kernel-arm64.sh      build (or reuse) and print the output dir
#
# Outputs, in ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/kernel-arm64-<hash>/:
#   Image        the arm64 kernel image (uncompressed, with the arm64 header)
#   vmlinux      the ELF kernel (symbols, for debugging)
#   config       the final .config
#   BUILD-INFO   source package, compiler, build time and duration
# <hash> covers the kernel source package version, guest/kernel-arm64.config,
# this script and the cross compiler's version.  When that directory holds
# every output the script only prints its path.  Progress goes to stderr;
# the last line on stdout is the output dir.  The build runs under nice and
# under a machine-wide lock, so two kernel builds never run at once.
#
# Environment: STRATOVIRT_GUEST_CACHE (cache root), KERNEL_TARBALL (default
# /usr/src/linux-source-6.1.tar.xz), KEEP_BUILD=1 keeps the build tree,
# JOBS (default $(nproc)), CROSS_COMPILE (default aarch64-linux-gnu-).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
tarball=${KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
fragment=$here/kernel-arm64.config
jobs=${JOBS:-$(nproc)}
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
outputs=(Image vmlinux config)

log() { echo "build-kernel-arm64: $*" >&2; }
die() { echo "build-kernel-arm64: error: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "kernel source $tarball not found (apt-get install linux-source-6.1)"
[ -r "$fragment" ] || die "config fragment $fragment not found"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (apt-get install gcc-aarch64-linux-gnu)"

src_id=""
if [ "$tarball" = /usr/src/linux-source-6.1.tar.xz ]; then
    src_id=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.1 2>/dev/null || true)
fi
[ -n "$src_id" ] || src_id=$(stat -c '%n %s %Y' "$tarball")
cc_id=$("${cross}gcc" --version | head -1)

hash=$(
    {
        echo "source: $src_id"
        echo "cc: $cc_id"
        for f in "$fragment" "$here/build-kernel-arm64.sh"; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/kernel-arm64-$hash

have_all() {
    local f
    for f in "${outputs[@]}"; do [ -s "$out/$f" ] || return 1; done
}

if have_all; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/kernel-arm64-$hash.lock"
log "waiting for the build lock $cache_root/kernel-arm64-$hash.lock"
flock 9
if have_all; then
    echo "$out"
    exit 0
fi
# One kernel build at a time on this machine (x86 or arm64, any helper).
exec 8>/tmp/kernel-build.lock
log "waiting for /tmp/kernel-build.lock (one kernel build at a time)"
flock 8

start=$(date +%s)
build=$cache_root/kernel-arm64-$hash.build
rm -rf "$build"
mkdir -p "$build"
log "extracting $tarball into $build ($src_id)"
tar -xJf "$tarball" -C "$build"
src=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -1)
[ -n "$src" ] && [ -f "$src/Makefile" ] || die "no kernel tree found in $tarball"

mk() { nice -n 10 make -C "$src" ARCH=arm64 CROSS_COMPILE="$cross" "$@" >&2; }

log "configuring: tinyconfig + $(basename "$fragment") + olddefconfig"
mk tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$fragment" >&2
mk olddefconfig

# Fail loudly when Kconfig silently dropped a requested option.
missing=0
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*)
            grep -qxF "$line" "$src/.config" || { log "config: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$src/.config" || echo unset)'"; missing=1; }
            ;;
        "# CONFIG_"*" is not set")
            opt=${line#\# }; opt=${opt%% *}
            if grep -qE "^$opt=" "$src/.config"; then log "config: wanted $opt off, it is on"; missing=1; fi
            ;;
    esac
done < "$fragment"
[ "$missing" = 0 ] || die "the final .config does not match $fragment"

log "building Image with -j$jobs (nice)"
mk -j"$jobs" Image

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/arch/arm64/boot/Image" "$tmp/Image"
cp "$src/vmlinux" "$tmp/vmlinux"
cp "$src/.config" "$tmp/config"

# The arm64 Image header: magic "ARM\x64" at offset 0x38.
[ "$(dd if="$tmp/Image" bs=1 skip=56 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 41524d64 ] \
    || die "arch/arm64/boot/Image has no arm64 header magic"

{
    echo "source: $src_id"
    echo "cc: $cc_id"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build seconds: $(($(date +%s) - start)) (-j$jobs)"
    echo "hash: $hash"
} > "$tmp/BUILD-INFO"
rm -rf "$out"
mv "$tmp" "$out"
[ "${KEEP_BUILD:-0}" = 1 ] || rm -rf "$build"
log "done: $out"
echo "$out"
