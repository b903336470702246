#!/bin/bash
# Downloads arm64 Debian packages into a directory without touching the
# host's dpkg architectures or apt state: apt-get with a private state and
# cache directory and -o APT::Architecture=arm64, over the host's sources.
#
#   scripts/hwvirt-arm64/fetch-deb.sh [--with-libs] DESTDIR PACKAGE...
#
# Leaves PACKAGE_VERSION_arm64.deb files in DESTDIR.  --with-libs also
# fetches the shared-library packages (named lib* or zlib1g) that the
# PACKAGEs depend on and, recursively, what those depend on (Depends and
# Pre-Depends; library names only), so that a dynamic program can run from
# the unpacked tree with its own loader.  Used by
# scripts/hwvirt-arm64/prepare.sh (the L1 kernel, busybox-static),
# guest/build-initrd.sh arm64 (busybox-static) and bench/qemu-arm64.sh
# (QEMU).  Exit status 2 when apt cannot fetch a package.
set -euo pipefail

with_libs=0
[ "${1:-}" = --with-libs ] && with_libs=1 && shift
[ $# -ge 2 ] || { echo "usage: $0 [--with-libs] DESTDIR PACKAGE..." >&2; exit 2; }
dest=$1
shift
mkdir -p "$dest"
apt_dir=$(mktemp -d "${TMPDIR:-/tmp}/fetch-arm64.XXXXXX")
trap 'rm -rf "$apt_dir"' EXIT
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
: >"$apt_dir/state/status"
opts=(-o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status"
	-o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root -q)
apt-get "${opts[@]}" update >&2 || { echo "fetch-deb: apt-get update (arm64) failed" >&2; exit 2; }
pkgs=("$@")
if [ $with_libs = 1 ]; then
	dep_opts=(--no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances)
	mapfile -t libs < <(apt-cache "${opts[@]}" depends "${dep_opts[@]}" "$@" |
		sed -n 's/^ *\(Pre\)\{0,1\}Depends: //p' | grep -E '^(lib|zlib)' | sort -u)
	[ ${#libs[@]} -eq 0 ] ||
		mapfile -t libs < <(apt-cache "${opts[@]}" depends --recurse "${dep_opts[@]}" "${libs[@]}" |
			grep -E '^(lib|zlib)' | sort -u)
	pkgs+=("${libs[@]}")
fi
(cd "$dest" && apt-get "${opts[@]}" download "${pkgs[@]/%/:arm64}" >&2) ||
	{ echo "fetch-deb: cannot download $* for arm64" >&2; exit 2; }
