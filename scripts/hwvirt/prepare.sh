#!/bin/bash
# Fetches (or reuses from the cache) what the nested machine L1 of
# scripts/hwvirt.sh boots: Debian's kernel named in kernel-version, and a
# busybox initramfs with scripts/hwvirt/init and the modules of modules.txt.
#
# Prints, as its last two stdout lines:
#   L1_KERNEL=<cache>/kernel-<package>/vmlinuz
#   L1_INITRD=<cache>/initrd-<hash>/l1.cpio.gz
# Cache root: ${STRATOVIRT_HWVIRT_CACHE:-/var/cache/stratovirt-hwvirt}.  The
# kernel is fetched once per package name (apt-get download, then dpkg-deb -x;
# nothing is installed); the initramfs is rebuilt when its inputs change.
# Exit status 2 when something needed is missing here (no busybox-static, the
# package cannot be fetched): scripts/hwvirt.sh reports that as "L1 cannot
# start".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${STRATOVIRT_HWVIRT_CACHE:-/var/cache/stratovirt-hwvirt}
busybox=${BUSYBOX:-/bin/busybox}

log() { echo "hwvirt-prepare: $*" >&2; }
die() { echo "hwvirt-prepare: error: $*" >&2; exit 2; }
# shellcheck source=scripts/hwvirt/common.sh
. "$here/../hwvirt/common.sh" # hw_add_modules, hw_pack_initramfs

pkg=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/kernel-version" | head -n 1 | tr -d '[:space:]')
[[ $pkg =~ ^linux-image-[0-9a-z.+-]+$ ]] || die "no package name in $here/kernel-version"
mkdir -p "$cache_root" || die "cannot create $cache_root"

# ---- the kernel: vmlinuz, config and the module tree of the package --------
kdir=$cache_root/kernel-$pkg
if [ ! -s "$kdir/vmlinuz" ]; then
	exec 8>"$kdir.lock"
	flock 8
fi
if [ ! -s "$kdir/vmlinuz" ]; then
	tmp=$kdir.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/deb"
	log "fetching $pkg with apt-get download"
	# apt drops privileges to _apt for downloads; let it write there.
	chmod 777 "$tmp/deb"
	if ! (cd "$tmp/deb" && apt-get download "$pkg" >&2); then
		if [ "$(id -u)" = 0 ]; then
			apt-get update >&2 || true
		fi
		(cd "$tmp/deb" && apt-get download "$pkg" >&2) || die "cannot fetch $pkg (apt-get download)"
	fi
	deb=$(ls "$tmp"/deb/*.deb)
	dpkg-deb -x "$deb" "$tmp/x"
	kver=$(ls "$tmp/x/lib/modules")
	cp "$tmp/x/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	cp "$tmp/x/boot/config-$kver" "$tmp/config"
	mkdir -p "$tmp/modules"
	mv "$tmp/x/lib/modules/$kver" "$tmp/modules/$kver"
	{
		echo "package: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
		echo "kernel release: $kver"
		echo "sha256: $(sha256sum "$deb" | cut -c1-64)"
	} >"$tmp/BUILD-INFO"
	rm -rf "$tmp/x" "$tmp/deb"
	rm -rf "$kdir"
	mv "$tmp" "$kdir"
	log "kernel cached in $kdir"
fi
kver=$(ls "$kdir/modules")

# ---- the initramfs ------------------------------------------------------------
[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
bb_id=$(dpkg-query -W -f='${Package} ${Version}' busybox-static 2>/dev/null || true)
[ -n "$bb_id" ] || bb_id=$(sha256sum "$busybox" | cut -c1-64)
hash=$(
	{
		echo "busybox: $bb_id"
		cat "$kdir/BUILD-INFO"
		for f in init modules.txt prepare.sh; do
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
	"$busybox" --list-full | while read -r applet; do
		[ -e "$root/$applet" ] && continue
		mkdir -p "$root/$(dirname "$applet")"
		ln -s /bin/busybox "$root/$applet"
	done
	mknod -m 600 "$root/dev/console" c 5 1 || die "mknod /dev/console failed (run as root)"
	mknod -m 666 "$root/dev/null" c 1 3

	hw_add_modules "$root" "$kdir/modules/$kver/kernel" "$here/modules.txt" "$pkg"
	hw_pack_initramfs "$root" "$tmp/l1.cpio.gz" "L1 initramfs"
	printf '%s\n' "${hw_order[@]}" >"$tmp/MODULES"
	rm -rf "$idir"
	mv "$tmp" "$idir"
	log "initramfs cached in $idir"
fi
echo "L1_KERNEL=$kdir/vmlinuz"
echo "L1_INITRD=$initrd"
