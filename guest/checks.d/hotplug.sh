# shellcheck shell=sh
# Hot-plug checks of the demo/test guest, sourced by /init (docs/guest.md).
# The host drives them through QMP (tests/integration/test_qmp_linux.py);
# "SVHOTPLUG ..." lines go straight to /dev/console, one per event.
#   hotplug  sv.hotplug=N rounds: waits (at most 120 s) for one of vdb..vdd
#            to get a non-zero capacity (polled every sv.hotplug_poll=
#            seconds, default 0.1), prints "SVHOTPLUG seen dev=vdX" at once,
#            then "SVHOTPLUG add dev=vdX sectors=N bytes=N sha256=HEX" (the
#            whole disk read after dropping the page cache), waits for that
#            disk's capacity to fall to 0, prints "SVHOTPLUG del dev=vdX"
#   hotnet   prints "SVHOTPLUG net-wait" and reads a line from the console
#            (the host has hot-plugged the NIC), puts sv.ip=ADDR/24 on eth0,
#            pings sv.peer, prints "SVHOTPLUG net-pinged received=N" and
#            reads a line (the host has unplugged it); then eth0's carrier
#            must be 0
hotplug_rounds=1 hotplug_ip=10.0.2.15 hotplug_poll=0.1
for arg in $(cat /proc/cmdline); do
	case $arg in
	sv.hotplug=*) hotplug_rounds=${arg#*=} ;;
	sv.ip=*) hotplug_ip=${arg#*=} ;;
	sv.hotplug_poll=*) hotplug_poll=${arg#*=} ;;
	esac
done

hotplug_say() { echo "SVHOTPLUG $*" >/dev/console; }

# the capacity of disk $1 in sectors (a shell builtin read: no fork)
hotplug_size() {
	read -r _sz <"/sys/block/$1/size" 2>/dev/null || _sz=0
	echo "$_sz"
}

# whole seconds since boot in _up (builtins only)
hotplug_uptime() {
	read -r _up _ </proc/uptime
	_up=${_up%.*}
}

# the first of vdb..vdd whose capacity is not 0, within $1 s
hotplug_find() {
	hotplug_uptime
	_end=$((_up + $1))
	while hotplug_uptime && [ "$_up" -lt "$_end" ]; do
		for _d in vdb vdc vdd; do
			read -r _sz <"/sys/block/$_d/size" 2>/dev/null || continue
			[ "$_sz" != 0 ] && echo "$_d" && return 0
		done
		sleep "$hotplug_poll"
	done
	return 1
}

check_hotplug() {
	i=0
	while [ "$i" -lt "$hotplug_rounds" ]; do
		dev=$(hotplug_find 120) || { echo "round=$i error=no-disk-appeared"; return 1; }
		hotplug_say "seen dev=$dev"
		sectors=$(hotplug_size "$dev")
		echo 3 >/proc/sys/vm/drop_caches
		sum=$(svagent sha256 "/dev/$dev") || { echo "round=$i dev=$dev $sum"; return 1; }
		hotplug_say "add dev=$dev sectors=$sectors $sum"
		hotplug_uptime
		_end=$((_up + 120))
		while [ "$(hotplug_size "$dev")" != 0 ]; do
			hotplug_uptime
			[ "$_up" -lt "$_end" ] ||
				{ echo "round=$i dev=$dev error=not-removed"; return 1; }
			sleep "$hotplug_poll"
		done
		hotplug_say "del dev=$dev"
		i=$((i + 1))
	done
	echo "rounds=$i"
}

check_hotnet() {
	hotplug_say net-wait
	read -r -t 120 _line || { echo "error=no-host-answer"; return 1; }
	if ! ip addr add "$hotplug_ip/24" dev eth0 || ! ip link set eth0 up; then
		echo "error=ip"
		return 1
	fi
	out=$(ping -c 3 -W 2 "$peer" 2>&1)
	got=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	hotplug_say "net-pinged received=${got:-0}"
	read -r -t 120 _line || { echo "error=no-host-answer"; return 1; }
	sleep 0.5
	carrier=$(cat /sys/class/net/eth0/carrier 2>/dev/null)
	echo "peer=$peer received=${got:-0} carrier_after=$carrier"
	[ "${got:-0}" -gt 0 ] && [ "$carrier" = 0 ]
}
