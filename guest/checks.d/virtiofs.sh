# shellcheck shell=sh
# virtio-fs checks of the demo/test guest, sourced by /init (docs/guest.md).
#   sv.fstag=TAG   the virtio-fs tag (default svfs)
#   virtiofs  mount -t virtiofs TAG: sha256 of known.bin, writes from-guest.txt
#             (sv.token), counts the entries of many/, unmounts
#   fsroot    the root file system is virtiofs (root=TAG rootfstype=virtiofs)
#   fsread    mounts TAG, reads big.bin sequentially (1 MiB reads) twice and
#             gives the second read's time, the virtio interrupts taken
#             meanwhile and the clock source (bench/vhost.py, which also
#             times it itself between the SVFSREAD start/end console lines)
fstag=svfs
for arg in $(cat /proc/cmdline); do
	case $arg in
	sv.fstag=*) fstag=${arg#*=} ;;
	esac
done

check_virtiofs() {
	mkdir -p /mnt/vfs
	if ! mount -t virtiofs "$fstag" /mnt/vfs; then
		echo "tag=$fstag error=mount"
		return 1
	fi
	sum=$(sha256sum /mnt/vfs/known.bin | cut -d' ' -f1)
	echo "$token" >/mnt/vfs/from-guest.txt && sync
	files=$(ls /mnt/vfs/many | wc -l)
	umount /mnt/vfs
	echo "tag=$fstag sha256=$sum files=$files"
	[ -n "$sum" ]
}

check_fsroot() {
	t=$(awk '$2 == "/" {print $1 ":" $3}' /proc/mounts | tail -n 1)
	echo "root=$t"
	[ "${t#*:}" = virtiofs ]
}

# seconds since boot, 10 ms resolution
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# interrupts taken so far by the virtio devices (the CPU columns added up)
virtio_irqs() {
	awk '/virtio/ {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i} END {print n + 0}' \
		/proc/interrupts
}

check_fsread() {
	mkdir -p /mnt/vfs
	mount -t virtiofs "$fstag" /mnt/vfs || { echo "tag=$fstag error=mount"; return 1; }
	dd if=/mnt/vfs/big.bin of=/dev/null bs=1M 2>/dev/null
	i0=$(virtio_irqs)
	echo "SVFSREAD start" >/dev/console
	t0=$(uptime_s)
	recs=$(dd if=/mnt/vfs/big.bin of=/dev/null bs=1M 2>&1 | sed -n 's/ records out//p')
	t1=$(uptime_s)
	echo "SVFSREAD end" >/dev/console
	i1=$(virtio_irqs)
	bytes=$(stat -c %s /mnt/vfs/big.bin)
	clk=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
	umount /mnt/vfs
	echo "bytes=$bytes records=$recs seconds=$(awk "BEGIN {print $t1 - $t0}")" \
		"irqs=$((i1 - i0)) clocksource=$clk"
	[ "$bytes" -gt 0 ]
}
