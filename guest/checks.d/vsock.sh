# shellcheck shell=sh
# vsock checks of the demo/test guest, sourced by /init (docs/guest.md).
# The host drives them (tests/integration/test_vhost_vsock.py, bench/vsock.py).
#   vsock  svvsock serve: listens on port 1024, says "SVVSOCK listening" on
#          /dev/console, echoes sv.vsock_conns connections (default 100) one
#          after the other; then svvsock echo to the host (CID 2) port
#          sv.vsock_hostport (default 5000): sv.vsock_bytes (default 1 MiB)
#          sent and checked on their way back
#   vsockbench  svvsock bench: listens on port 1024, says "SVVSOCK listening"
#          and serves bench/vsock.py's send/recv/ping commands until "quit"
vsock_conns=100 vsock_hostport=5000 vsock_bytes=1048576
for arg in $(cat /proc/cmdline); do
	case $arg in
	sv.vsock_conns=*) vsock_conns=${arg#*=} ;;
	sv.vsock_hostport=*) vsock_hostport=${arg#*=} ;;
	sv.vsock_bytes=*) vsock_bytes=${arg#*=} ;;
	esac
done

check_vsock() {
	served=$(svvsock serve 1024 "$vsock_conns") || { echo "$served"; return 1; }
	t0=$(cut -d' ' -f1 /proc/uptime)
	out=$(svvsock echo 2 "$vsock_hostport" "$vsock_bytes")
	st=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$served $(echo "$out" | sed 's/\([a-z_]*\)=/to_host_\1=/g')" \
		"to_host_seconds=$(awk "BEGIN {print $t1 - $t0}")"
	return $st
}

check_vsockbench() { svvsock bench 1024; }
