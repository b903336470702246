#!/bin/bash
# Fetches (or reuses from the cache) Debian's arm64 QEMU for the arm64 nested
# machine L1 (scripts/hwvirt-arm64.sh): the host's qemu-system-aarch64 is an
# x86_64 program, which L1 runs only under qemu-x86_64 (user-mode emulation,
# whose KVM ioctls would reach an arm64 /dev/kvm with x86 structures), so
# bench/linux_boot.py --arch arm64 runs Debian's arm64 build of the same
# QEMU version instead, with its own loader and libraries.
#
#   bench/qemu-arm64.sh        fetch once, check, print the paths
#
# Prints, as its last three stdout lines:
#   QEMU_ARM64_LOADER=<dir>/lib/ld-linux-aarch64.so.1
#   QEMU_ARM64_LIBRARY_PATH=<dir>/lib/aarch64-linux-gnu:<dir>/usr/lib/aarch64-linux-gnu
#   QEMU_ARM64_BIN=<dir>/usr/bin/qemu-system-aarch64
# to be run as `LOADER --library-path LIBRARY_PATH BIN ARGS...` (nothing is
# installed; the arm64 libc6 is among the libraries).  <dir> is
# ${STRATOVIRT_HWVIRT_ARM64_CACHE:-/var/cache/stratovirt-hwvirt-arm64}/qemu-system-arm:
# qemu-system-arm and the library packages it depends on, recursively
# (scripts/hwvirt-arm64/fetch-deb.sh --with-libs: apt-get download with a
# private apt state), unpacked with dpkg-deb -x, fetched once (whatever
# version the archive has then, recorded in BUILD-INFO with each .deb's
# SHA-256).  Every shared library QEMU needs is checked to be in the tree,
# and `qemu-system-aarch64 --version` is run under qemu-aarch64-static when
# the host has it.  Exit status 2 when something is missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_root=${STRATOVIRT_HWVIRT_ARM64_CACHE:-/var/cache/stratovirt-hwvirt-arm64}
dir=$cache_root/qemu-system-arm

log() { echo "qemu-arm64: $*" >&2; }
die() { echo "qemu-arm64: error: $*" >&2; exit 2; }

loader=$dir/lib/ld-linux-aarch64.so.1
libpath=$dir/lib/aarch64-linux-gnu:$dir/usr/lib/aarch64-linux-gnu
bin=$dir/usr/bin/qemu-system-aarch64

# needed_missing: the sonames that QEMU and its libraries need (recursively)
# and that the tree does not hold.
needed_missing() {
	local todo=("$1") seen=" " f so p found
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for so in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case $seen in *" $so "*) continue ;; esac
			seen="$seen$so "
			found=
			for p in "$dir/lib/aarch64-linux-gnu" "$dir/usr/lib/aarch64-linux-gnu"; do
				[ -e "$p/$so" ] && found=$p/$so && break
			done
			if [ -n "$found" ]; then
				todo+=("$(readlink -f "$found")")
			else
				echo "$so"
			fi
		done
	done
}

if [ ! -s "$dir/BUILD-INFO" ]; then
	command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
	command -v readelf >/dev/null || die "readelf not found (apt-get install binutils)"
	mkdir -p "$cache_root" || die "cannot create $cache_root"
	exec 7>"$dir.lock"
	flock 7
	if [ ! -s "$dir/BUILD-INFO" ]; then
		tmp=$dir.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp/deb" "$tmp/x"
		log "fetching qemu-system-arm and its libraries (arm64)"
		"$repo/scripts/hwvirt-arm64/fetch-deb.sh" --with-libs "$tmp/deb" qemu-system-arm ||
			die "cannot fetch qemu-system-arm for arm64"
		{
			for deb in "$tmp"/deb/*.deb; do
				dpkg-deb -x "$deb" "$tmp/x" || die "cannot unpack $deb"
				echo "package: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture) sha256 $(sha256sum "$deb" | cut -c1-64)"
			done
		} >"$tmp/x/BUILD-INFO"
		rm -rf "$dir"
		mv "$tmp/x" "$dir"
		rm -rf "$tmp"
	fi
	exec 7>&-
fi

[ -x "$bin" ] || die "$bin missing (remove $dir to fetch again)"
[ -e "$loader" ] || die "$loader missing (remove $dir to fetch again)"
missing=$(needed_missing "$bin" | tr '\n' ' ')
[ -z "$missing" ] || die "libraries missing in $dir: $missing"
if command -v qemu-aarch64-static >/dev/null; then
	ver=$(qemu-aarch64-static "$loader" --library-path "$libpath" "$bin" --version | head -n 1) ||
		die "$bin does not run (under qemu-aarch64-static)"
	log "$ver"
fi
echo "QEMU_ARM64_LOADER=$loader"
echo "QEMU_ARM64_LIBRARY_PATH=$libpath"
echo "QEMU_ARM64_BIN=$bin"
