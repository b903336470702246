#!/bin/bash
# Builds the static aarch64 binary with Debian's cross compiler and runs the
# unit tests of that build under qemu-user (docs/aarch64.md).
#   scripts/build-aarch64.sh [--no-test]
# BUILD (default build-aarch64; relative to the checkout, or absolute) is the
# meson build folder; the arm64 -dev packages are fetched once into $BUILD-sysroot with apt-get download, using a
# private apt state: the host's dpkg architectures are left as they are.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${BUILD:-build-aarch64}
case $build in
/*) sysroot=${build}-sysroot ;;
*) sysroot=$repo/${build}-sysroot ;;
esac
run_tests=true
[ "${1:-}" = --no-test ] && run_tests=false

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
# the cross libc is only a Recommends of the compiler
[ -e /usr/aarch64-linux-gnu/lib/crti.o ] || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v dtc >/dev/null || need+=(device-tree-compiler)
if [ ${#need[@]} -gt 0 ]; then
	echo "build-aarch64: installing ${need[*]}"
	apt-get install -y "${need[@]}" >/dev/null
fi

pkgs=(libjansson-dev libjansson4 liburing-dev liburing2 libseccomp-dev libseccomp2
	libfdt-dev libfdt1 libcmocka-dev libcmocka0)
if [ ! -f "$sysroot/.done" ]; then
	echo "build-aarch64: fetching arm64 ${pkgs[*]} into $sysroot"
	rm -rf "$sysroot"
	apt_dir=$sysroot/.apt
	mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
	: >"$apt_dir/state/status"
	apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures=arm64
		-o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status"
		-o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
	apt-get "${apt_opts[@]}" update >/dev/null
	(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]/%/:arm64}" >/dev/null)
	for deb in "$apt_dir/debs"/*.deb; do
		dpkg-deb -x "$deb" "$sysroot"
	done
	rm -rf "$apt_dir"
	touch "$sysroot/.done"
fi

libdir=$sysroot/usr/lib/aarch64-linux-gnu
cat >"$sysroot/sysroot.ini" <<INI
# Written by scripts/build-aarch64.sh: the arm64 libraries unpacked here.
[properties]
sys_root = '$sysroot'
pkg_config_libdir = '$libdir/pkgconfig'
lib_dirs = ['$libdir']

[built-in options]
c_args = ['-I$sysroot/usr/include']
c_link_args = ['-L$libdir']

[binaries]
# the unit tests link cmocka dynamically: the cross libc and these libraries
exe_wrapper = ['env', 'QEMU_LD_PREFIX=/usr/aarch64-linux-gnu', 'LD_LIBRARY_PATH=$libdir', 'qemu-aarch64-static']
INI

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" | tail -n 3
else
	meson setup "$build" --cross-file cross/aarch64-linux-gnu.ini \
		--cross-file "$sysroot/sysroot.ini" | tail -n 3
fi
ninja -C "$build"
# readelf (binutils) rather than file(1), which a fresh machine lacks
elf_hdr=$(readelf -h "$build/stratovirt")
case "$elf_hdr" in
*AArch64*) echo "build-aarch64: $build/stratovirt is an AArch64 executable" ;;
*) echo "build-aarch64: $build/stratovirt is not an AArch64 binary" >&2; exit 1 ;;
esac
if $run_tests; then
	meson test -C "$build" --print-errorlogs
fi
