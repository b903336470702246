#!/bin/bash
# Build the StratoVirt demo/test guest kernel from Debian's linux-source-6.1,
# for x86_64 or, cross-built with gcc-aarch64-linux-gnu, for arm64
# (docs/guest.md, docs/aarch64.md).
#
#   guest/build-kernel.sh [x86_64|arm64]   build (or reuse) and print the output dir
#
# Outputs, in ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/kernel-<hash>/
# (x86_64, the default) or kernel-arm64-<hash>/ (arm64):
#   bzImage      x86_64: compressed kernel (Linux x86 boot protocol)
#   vmlinux      x86_64: ELF kernel with the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY);
#                arm64: the ELF kernel (symbols, for debugging)
#   vmlinux.bin  x86_64: objcopy -O binary vmlinux (raw image, load at 0x1000000)
#   Image        arm64: the kernel image (uncompressed, with the arm64 header)
#   config       the final .config
#   BUILD-INFO   source package, compiler, build time and duration
# <hash> covers the kernel source package version, the config fragment
# (guest/kernel.config, guest/kernel-arm64.config), guest/patches/*.patch
# (x86_64 only), this script and the compiler's version. When that directory
# already holds every output, the script only prints its path. All progress
# goes to stderr; the last line on stdout is the output dir. The build runs
# under nice and under a machine-wide lock, so two kernel builds never run
# at once.
#
# Environment: STRATOVIRT_GUEST_CACHE (cache root), KERNEL_TARBALL
# (default /usr/src/linux-source-6.1.tar.xz), KEEP_BUILD=1 keeps the build tree,
# JOBS (default $(nproc)), CROSS_COMPILE (arm64; default aarch64-linux-gnu-).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arch=${1:-x86_64}
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
tarball=${KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
jobs=${JOBS:-$(nproc)}
patches=()
case $arch in
x86_64)
    fragment=$here/kernel.config
    cross=
    prefix=kernel
    outputs=(bzImage vmlinux vmlinux.bin config)
    shopt -s nullglob
    patches=("$here"/patches/*.patch)
    shopt -u nullglob
    ;;
arm64)
    fragment=$here/kernel-arm64.config
    cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
    prefix=kernel-arm64
    outputs=(Image vmlinux config)
    ;;
*)
    echo "usage: $0 [x86_64|arm64]" >&2
    exit 2
    ;;
esac

log() { echo "build-kernel ($arch): $*" >&2; }
die() { echo "build-kernel ($arch): error: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "kernel source $tarball not found (apt-get install linux-source-6.1)"
[ -r "$fragment" ] || die "config fragment $fragment not found"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (apt-get install ${cross:+gcc-aarch64-linux-gnu}${cross:-build-essential})"

# Identify the source: the Debian package version when the tarball is the
# packaged one, else path + size + mtime of the tarball.
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
        for f in "$fragment" "${patches[@]}" "$here/build-kernel.sh"; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/$prefix-$hash

have_all() {
    local f
    for f in "${outputs[@]}"; do [ -s "$out/$f" ] || return 1; done
}

if have_all; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/$prefix-$hash.lock"
log "waiting for the build lock $cache_root/$prefix-$hash.lock"
flock 9
if have_all; then  # someone else built it while we waited
    echo "$out"
    exit 0
fi
# One kernel build at a time on this machine (any architecture, any user).
exec 8>/tmp/kernel-build.lock
log "waiting for /tmp/kernel-build.lock (one kernel build at a time)"
flock 8

start=$(date +%s)
build=$cache_root/$prefix-$hash.build
rm -rf "$build"
mkdir -p "$build"
log "extracting $tarball into $build ($src_id)"
tar -xJf "$tarball" -C "$build"
src=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -1)
[ -n "$src" ] && [ -f "$src/Makefile" ] || die "no kernel tree found in $tarball"

for p in "${patches[@]}"; do
    log "applying $(basename "$p")"
    patch -d "$src" -p1 --forward --batch --no-backup-if-mismatch < "$p" >&2 \
        || die "patch $p does not apply to $src_id"
done
# The patch must really have removed the int3 self-test call (see docs/guest.md).
if [ "$arch" = x86_64 ] && grep -qE '^[[:space:]]*int3_selftest\(\);' "$src/arch/x86/kernel/alternative.c"; then
    die "int3_selftest() is still called in arch/x86/kernel/alternative.c"
fi

mk() { nice -n 10 make -C "$src" ARCH="$arch" ${cross:+CROSS_COMPILE="$cross"} "$@" >&2; }

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

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
if [ "$arch" = x86_64 ]; then
    log "building bzImage vmlinux with -j$jobs (nice)"
    mk -j"$jobs" bzImage vmlinux
    cp "$src/arch/x86/boot/bzImage" "$tmp/bzImage"
    cp "$src/vmlinux" "$tmp/vmlinux"
    objcopy -O binary "$src/vmlinux" "$tmp/vmlinux.bin"
    # The PVH entry is an ELF note owned by "Xen" of type 18 (PHYS32_ENTRY).
    readelf -n "$tmp/vmlinux" | grep -A1 -E '^ +Xen' | grep -qE '0x00000012|PHYS32' \
        || die "vmlinux has no PVH (XEN_ELFNOTE_PHYS32_ENTRY) note"
else
    log "building Image with -j$jobs (nice)"
    mk -j"$jobs" Image
    cp "$src/arch/arm64/boot/Image" "$tmp/Image"
    cp "$src/vmlinux" "$tmp/vmlinux"
    # The arm64 Image header: magic "ARM\x64" at offset 0x38.
    [ "$(dd if="$tmp/Image" bs=1 skip=56 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 41524d64 ] \
        || die "arch/arm64/boot/Image has no arm64 header magic"
fi
cp "$src/.config" "$tmp/config"

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
