# shellcheck shell=sh
# virtio-balloon checks of the demo/test guest, sourced by /init (docs/guest.md).
# The host drives them through QMP and answers on the console
# (tests/integration/test_balloon_linux.py); "SVBALLOON ..." lines go straight
# to /dev/console, each wait reads one line from it (at most 300 s).
#   balloon         the virtio_balloon driver is bound (features printed); fills
#                   free memory through a tmpfs and frees it again, so every
#                   page the balloon can take is one the host backs; prints
#                   "SVBALLOON filled" and waits (the host inflates); then
#                   writes sv.oom_mib MiB (default 8) more than is free:
#                   with deflate-on-oom the balloon gives pages back instead of
#                   the OOM killer running; prints "SVBALLOON oom-filled" and
#                   waits (the host deflates)
#   balloon_report  writes 96 MiB to a tmpfs, prints "SVBALLOON filled", waits;
#                   deletes it, prints "SVBALLOON freed", waits (free page
#                   reporting hands the freed pages to the host)
oom_mib=8
for arg in $(cat /proc/cmdline); do
	case $arg in
	sv.oom_mib=*) oom_mib=${arg#*=} ;;
	esac
done

balloon_meminfo() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' /proc/meminfo; }

balloon_dev() {
	for d in /sys/bus/virtio/drivers/virtio_balloon/virtio*; do
		[ -e "$d" ] && basename "$d" && return 0
	done
	return 1
}

balloon_fill() {
	mkdir -p /mnt/bfill
	grep -q ' /mnt/bfill ' /proc/mounts || mount -t tmpfs -o size=100% bfill /mnt/bfill
	dd if=/dev/zero of="/mnt/bfill/$1" bs=1M count="$2" 2>/dev/null
}

balloon_wait() {
	echo "SVBALLOON $1" >/dev/console
	read -r -t 300 _line || return 1
}

check_balloon() {
	dev=$(balloon_dev) || { echo "error=no-driver"; return 1; }
	feat=$(cat "/sys/bus/virtio/devices/$dev/features")
	echo "dev=$dev features=$feat"
	fill=$(($(balloon_meminfo MemFree) - 24))
	balloon_fill a "$fill" || { echo "error=fill"; return 1; }
	rm -f /mnt/bfill/a
	echo "filled=$fill"
	balloon_wait filled || { echo "error=no-host-answer"; return 1; }
	echo "free_after_inflate=$(balloon_meminfo MemFree)"
	more=$(($(balloon_meminfo MemFree) + oom_mib))
	balloon_fill b "$more" || { echo "error=oom-fill"; return 1; }
	echo "oom_filled=$more free=$(balloon_meminfo MemFree)"
	balloon_wait oom-filled || { echo "error=no-host-answer"; return 1; }
	rm -f /mnt/bfill/b
	[ "$(echo "$feat" | cut -c3)" = 1 ]
}

check_balloon_report() {
	dev=$(balloon_dev) || { echo "error=no-driver"; return 1; }
	feat=$(cat "/sys/bus/virtio/devices/$dev/features")
	echo "dev=$dev features=$feat"
	balloon_fill r 96 || { echo "error=fill"; return 1; }
	balloon_wait filled || { echo "error=no-host-answer"; return 1; }
	rm -f /mnt/bfill/r
	balloon_wait freed || { echo "error=no-host-answer"; return 1; }
	[ "$(echo "$feat" | cut -c6)" = 1 ]
}
