#!/bin/bash
# Build the StratoVirt demo/test guest kernel from Debian's linux-source-6.1.
#
#   guest/build-kernel.sh            build (or reuse) and print the output dir
#
# Outputs, in ${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}/kernel-<hash>/:
#   bzImage      compressed kernel (Linux x86 boot protocol)
#   vmlinux      ELF kernel with the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)
#   vmlinux.bin  objcopy -O binary vmlinux (raw image, load at 0x1000000)
#   config       the final .config
# <hash> covers the kernel source package version, guest/kernel.config,
# guest/patches/*.patch, this script and the compiler version. When that
# directory already holds every output, the script only prints its path.
# All progress goes to stderr; the last line on stdout is the output dir.
#
# Environment: STRATOVIRT_GUEST_CACHE (cache root), KERNEL_TARBALL
# (default /usr/src/linux-source-6.1.tar.xz), KEEP_BUILD=1 keeps the build tree,
# JOBS (default $(nproc)).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${STRATOVIRT_GUEST_CACHE:-/var/cache/stratovirt-guest}
tarball=${KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
fragment=$here/kernel.config
jobs=${JOBS:-$(nproc)}
outputs=(bzImage vmlinux vmlinux.bin config)

log() { echo "build-kernel: $*" >&2; }
die() { echo "build-kernel: error: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "kernel source $tarball not found (apt-get install linux-source-6.1)"
[ -r "$fragment" ] || die "config fragment $fragment not found"

# Identify the source: the Debian package version when the tarball is the
# packaged one, else path + size + mtime of the tarball.
src_id=""
if [ "$tarball" = /usr/src/linux-source-6.1.tar.xz ]; then
    src_id=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.1 2>/dev/null || true)
fi
[ -n "$src_id" ] || src_id=$(stat -c '%n %s %Y' "$tarball")

shopt -s nullglob
patches=("$here"/patches/*.patch)
shopt -u nullglob

hash=$(
    {
        echo "source: $src_id"
        echo "cc: $(gcc --version | head -1)"
        for f in "$fragment" "${patches[@]}" "$here/build-kernel.sh"; do
            echo "file: ${f#"$here"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-16
)
out=$cache_root/kernel-$hash

have_all() {
    local f
    for f in "${outputs[@]}"; do [ -s "$out/$f" ] || return 1; done
}

if have_all; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/kernel-$hash.lock"
log "waiting for the build lock $cache_root/kernel-$hash.lock"
flock 9
if have_all; then  # someone else built it while we waited
    echo "$out"
    exit 0
fi

build=$cache_root/kernel-$hash.build
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
if grep -qE '^[[:space:]]*int3_selftest\(\);' "$src/arch/x86/kernel/alternative.c"; then
    die "int3_selftest() is still called in arch/x86/kernel/alternative.c"
fi

mk() { make -C "$src" ARCH=x86_64 "$@" >&2; }

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

log "building with -j$jobs"
mk -j"$jobs" bzImage vmlinux

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$src/vmlinux" "$tmp/vmlinux"
objcopy -O binary "$src/vmlinux" "$tmp/vmlinux.bin"
cp "$src/.config" "$tmp/config"

# The PVH entry is an ELF note owned by "Xen" of type 18 (PHYS32_ENTRY).
readelf -n "$tmp/vmlinux" | grep -A1 -E '^ +Xen' | grep -qE '0x00000012|PHYS32' \
    || die "vmlinux has no PVH (XEN_ELFNOTE_PHYS32_ENTRY) note"

{
    echo "source: $src_id"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "hash: $hash"
} > "$tmp/BUILD-INFO"
rm -rf "$out"
mv "$tmp" "$out"
[ "${KEEP_BUILD:-0}" = 1 ] || rm -rf "$build"
log "done: $out"
echo "$out"
