# shellcheck shell=sh
# Network measurements of the demo/test guest, sourced by /init (docs/guest.md).
#   tcprate   svagent tcpget of sv.tcp=IP:PORT (all the bytes the peer sends),
#             with the time it took (bench/vhost.py)
check_tcprate() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	out=$(svagent tcpget "${tcp%:*}" "${tcp##*:}") || { echo "$out"; return 1; }
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$out seconds=$(awk "BEGIN {print $t1 - $t0}")"
}
