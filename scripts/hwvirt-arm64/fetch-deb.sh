#!/bin/bash
# Downloads arm64 Debian packages into a directory without touching the
# host's dpkg architectures or apt state: apt-get with a private state and
# cache directory and -o APT::Architecture=arm64, over the host's sources.
#
#   scripts/hwvirt-arm64/fetch-deb.sh DESTDIR PACKAGE...
#
# Leaves PACKAGE_VERSION_arm64.deb files in DESTDIR.  Used by
# scripts/hwvirt-arm64/prepare.sh (the L1 kernel, busybox-static) and
# guest/build-initrd-arm64.sh (busybox-static).  Exit status 2 when apt
# cannot fetch a package.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 DESTDIR PACKAGE..." >&2; exit 2; }
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
(cd "$dest" && apt-get "${opts[@]}" download "${@/%/:arm64}" >&2) ||
	{ echo "fetch-deb: cannot download $* for arm64" >&2; exit 2; }
