#!/bin/bash
# Fetches (or reuses from the cache) what the arm64 nested machine L1 of
# scripts/hwvirt-arm64.sh boots: Debian's arm64 kernel named in
# kernel-version, and an initramfs with the arm64 busybox-static,
# scripts/hwvirt-arm64/init, kvm-ok (kvm-ok.c, cross-built), qemu-x86_64
# (from the arm64 qemu-user-static: runs the host's x86_64 programs in L1)
# and the modules of modules.txt.  The counterpart of scripts/hwvirt/prepare.sh.
#
# Prints, as its last two stdout lines:
#   L1_KERNEL=<cache>/kernel-<package>/vmlinuz
#   L1_INITRD=<cache>/initrd-<hash>/l1.cpio.gz
# Cache root: ${STRATOVIRT_HWVIRT_ARM64_CACHE:-/var/cache/stratovirt-hwvirt-arm64}.
# Packages are fetched for arm64 with fetch-deb.sh (apt-get download with a
# private apt state; nothing is installed) and unpacked with dpkg-deb -x;
# busybox-static and qemu-user-static once each (whatever version the
# archive has then, recorded in their BUILD-INFO), the kernel once per
# package name.  Exit status 2 when something needed is missing here: the
# caller reports that as "L1 cannot start".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${STRATOVIRT_HWVIRT_ARM64_CACHE:-/var/cache/stratovirt-hwvirt-arm64}
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}

log() { echo "hwvirt-arm64-prepare: $*" >&2; }
die() { echo "hwvirt-arm64-prepare: error: $*" >&2; exit 2; }
# shellcheck source=scripts/hwvirt/common.sh
. "$here/../hwvirt/common.sh" # hw_add_modules, hw_pack_initramfs

pkg=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/kernel-version" | head -n 1 | tr -d '[:space:]')
[[ $pkg =~ ^linux-image-[0-9a-z.+-]+-arm64$ ]] || die "no arm64 package name in $here/kernel-version"
mkdir -p "$cache_root" || die "cannot create $cache_root"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# fetch_unpacked NAME PACKAGE: <cache>/NAME/x holds the unpacked arm64
# package, <cache>/NAME/BUILD-INFO its version and the .deb's SHA-256.
fetch_unpacked() {
	local dir=$cache_root/$1 p=$2 tmp deb
	[ -s "$dir/BUILD-INFO" ] && return 0
	exec 7>"$dir.lock"
	flock 7
	if [ ! -s "$dir/BUILD-INFO" ]; then
		tmp=$dir.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp/deb"
		log "fetching $p (arm64)"
		"$here/fetch-deb.sh" "$tmp/deb" "$p" || die "cannot fetch $p for arm64"
		deb=$(ls "$tmp"/deb/*.deb)
		dpkg-deb -x "$deb" "$tmp/x"
		{
			echo "package: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture)"
			echo "sha256: $(sha256sum "$deb" | cut -c1-64)"
		} >"$tmp/BUILD-INFO"
		rm -rf "$tmp/deb" "$dir"
		mv "$tmp" "$dir"
	fi
	exec 7>&-
}

# ---- the kernel: Image, config and the module tree of the package ------------
kdir=$cache_root/kernel-$pkg
if [ ! -s "$kdir/vmlinuz" ]; then
	fetch_unpacked "kernel-$pkg.fetch" "$pkg"
	f=$cache_root/kernel-$pkg.fetch
	kver=$(ls "$f/x/lib/modules")
	tmp=$kdir.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/modules"
	cp "$f/x/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	cp "$f/x/boot/config-$kver" "$tmp/config"
	mv "$f/x/lib/modules/$kver" "$tmp/modules/$kver"
	{
		cat "$f/BUILD-INFO"
		echo "kernel release: $kver"
	} >"$tmp/BUILD-INFO"
	rm -rf "$kdir" "$f"
	mv "$tmp" "$kdir"
	log "kernel cached in $kdir"
fi
kver=$(ls "$kdir/modules")
grep -qx 'CONFIG_KVM=y' "$kdir/config" || die "$pkg has no built-in KVM (CONFIG_KVM=y)"

# ---- arm64 busybox and qemu-x86_64 ---------------------------------------------
fetch_unpacked busybox-static busybox-static
busybox=$cache_root/busybox-static/x/bin/busybox
[ -s "$busybox" ] || die "no bin/busybox in the arm64 busybox-static package"
if [ ! -s "$cache_root/qemu-x86_64/qemu-x86_64" ]; then
	fetch_unpacked qemu-user-static.fetch qemu-user-static
	f=$cache_root/qemu-user-static.fetch
	[ -s "$f/x/usr/bin/qemu-x86_64-static" ] || die "no qemu-x86_64-static in the arm64 qemu-user-static"
	rm -rf "$cache_root/qemu-x86_64.tmp"
	mkdir -p "$cache_root/qemu-x86_64.tmp"
	cp "$f/x/usr/bin/qemu-x86_64-static" "$cache_root/qemu-x86_64.tmp/qemu-x86_64"
	cp "$f/BUILD-INFO" "$cache_root/qemu-x86_64.tmp/BUILD-INFO"
	rm -rf "$f" "$cache_root/qemu-x86_64"
	mv "$cache_root/qemu-x86_64.tmp" "$cache_root/qemu-x86_64"
fi
qemu_user=$cache_root/qemu-x86_64/qemu-x86_64

# ---- the initramfs ----------------------------------------------------------------
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
hash=$(
	{
		cat "$cache_root/busybox-static/BUILD-INFO" "$cache_root/qemu-x86_64/BUILD-INFO" "$kdir/BUILD-INFO"
		echo "cc: $("${cross}gcc" --version | head -n 1)"
		for f in init modules.txt prepare.sh kvm-ok.c; do
			echo "file: $f"
			cat "$here/$f"
		done
		echo "file: common.sh"
		cat "$here/../hwvirt/common.sh"
	} | sha256sum | cut -c1-16
)
idir=$cache_root/initrd-$hash
initrd=$idir/l1.cpio.gz
if [ ! -s "$initrd" ]; then
	exec 9>"$idir.lock"
	flock 9
fi
if [ ! -s "$initrd" ]; then
	tmp=$idir.tmp
	rm -rf "$tmp"
	root=$tmp/root
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,mnt,lib/modules}
	install -m 0755 "$busybox" "$root/bin/busybox"
	install -m 0755 "$here/init" "$root/init"
	install -m 0755 "$qemu_user" "$root/qemu-x86_64"
	"${cross}gcc" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/kvm-ok" "$here/kvm-ok.c" ||
		die "cannot cross-build kvm-ok.c"
	"${cross}strip" "$root/bin/kvm-ok"
	# the applets' links are made by init (busybox --install -s)
	mknod -m 600 "$root/dev/console" c 5 1 || die "mknod /dev/console failed (run as root)"
	mknod -m 666 "$root/dev/null" c 1 3

	hw_add_modules "$root" "$kdir/modules/$kver/kernel" "$here/modules.txt" "$pkg"
	hw_pack_initramfs "$root" "$tmp/l1.cpio.gz" "arm64 L1 initramfs"
	printf '%s\n' "${hw_order[@]}" >"$tmp/MODULES"
	rm -rf "$idir"
	mv "$tmp" "$idir"
	log "initramfs cached in $idir"
fi
echo "L1_KERNEL=$kdir/vmlinuz"
echo "L1_INITRD=$initrd"
