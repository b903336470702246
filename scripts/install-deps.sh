#!/bin/bash
# Installs the Debian 12 packages needed to build and test the VMM.
# Usage: scripts/install-deps.sh [build|test|demo]   (as root; a no-op when all are present)
set -euo pipefail

build=(build-essential meson ninja-build pkg-config libjansson-dev libseccomp-dev liburing-dev)
test=(libcmocka-dev libfdt-dev device-tree-compiler gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static python3-pytest acpica-tools qemu-system-x86 iproute2 e2fsprogs clang
      libclang-rt-14-dev clang-format cppcheck iputils-ping busybox-static
      golang-go golang-github-digitalocean-go-qemu-dev socat strace)
case "${1:-test}" in
build | demo) want=("${build[@]}") ;;
test) want=("${build[@]}" "${test[@]}") ;;
*) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
	{ apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
