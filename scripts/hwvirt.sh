#!/bin/bash
# Runs a command inside the nested machine L1: QEMU TCG with -cpu max (AMD SVM
# with nested paging) booting Debian's own kernel, so the command gets a
# /dev/kvm with hardware-virtualization semantics (docs/hwvirt.md).
#
#   scripts/hwvirt.sh [--mem MIB] [--cpus N] [--] CMD [ARGS...]
#
# CMD runs in the current directory, with this environment, the host's file
# tree read-only at the same paths (writes land in a tmpfs overlay and are
# lost), /tmp on a scratch disk, and $HWVIRT_RESULTS writable and shared back.
# Its stdout and stderr come back on stdout; stdin is the terminal only when
# this script's stdin is one.
#
# Environment: HWVIRT_MEM (MiB, default 3072), HWVIRT_CPUS (default 2),
# HWVIRT_RESULTS (host directory shared read-write at the same path; default
# none), HWVIRT_HANG (seconds without an L1 heartbeat = hung, default 60),
# HWVIRT_SILENCE (seconds without output from CMD = hung, default 900, 0 = no
# limit), HWVIRT_TRIES (default 2), HWVIRT_SCRATCH_GB (default 16, sparse),
# HWVIRT_KEEP_LOGS=1 (keep the L1 kernel log), HWVIRT_LOCK (the lock file that
# keeps one L1 at a time on the host, default /tmp/stratovirt-hwvirt.lock;
# none = no lock), QEMU_BIN, STRATOVIRT_HWVIRT_CACHE.
#
# Exit status: CMD's; 97 when L1 crashed or hung on every try (an
# infrastructure fault, neither a pass nor a fail of CMD); 98 when L1 cannot
# start here (no qemu-system-x86_64, no SVM under TCG, no kernel package);
# 2 on a usage error.
set -uo pipefail

EXIT_INFRA=97
EXIT_UNAVAILABLE=98
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mem=${HWVIRT_MEM:-3072}
l1_args=${HWVIRT_L1_ARGS-kvm_amd.npt=0}
cpus=${HWVIRT_CPUS:-2}
hang=${HWVIRT_HANG:-60}
silence=${HWVIRT_SILENCE:-900}
tries=${HWVIRT_TRIES:-2}

usage() {
	echo "usage: $0 [--mem MIB] [--cpus N] [--] CMD [ARGS...]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=${2:-}; shift 2 || usage ;;
	--cpus) cpus=${2:-}; shift 2 || usage ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
[[ $mem =~ ^[0-9]+$ && $cpus =~ ^[0-9]+$ ]] || usage

say() { echo "hwvirt: $*" >&2; }
unavailable() {
	say "L1 cannot start: $*"
	exit $EXIT_UNAVAILABLE
}

qemu=${QEMU_BIN:-$(command -v qemu-system-x86_64 || true)}
[ -n "$qemu" ] && [ -x "$qemu" ] || unavailable "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v mkfs.ext4 >/dev/null || unavailable "mkfs.ext4 not installed (apt-get install e2fsprogs)"
prep=$("$repo/scripts/hwvirt/prepare.sh") || unavailable "scripts/hwvirt/prepare.sh failed"
kernel=$(sed -n 's/^L1_KERNEL=//p' <<<"$prep")
initrd=$(sed -n 's/^L1_INITRD=//p' <<<"$prep")

results=${HWVIRT_RESULTS:-}
if [ -n "$results" ]; then
	mkdir -p "$results" && results=$(cd "$results" && pwd) || unavailable "cannot create HWVIRT_RESULTS=$results"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hwvirt.XXXXXX")
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	if [ "${HWVIRT_KEEP_LOGS:-0}" = 1 ]; then
		rm -f "$work/scratch.img"
		say "logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The command, as a bash script run in L1: same directory, same environment.
{
	printf 'cd -- %q || exit 1\n' "$PWD"
	while IFS= read -r name; do
		case $name in
		PWD | OLDPWD | SHLVL | _ | HWVIRT_*) continue ;;
		esac
		printf 'export %s=%q\n' "$name" "${!name}"
	done < <(compgen -e)
	echo "export HWVIRT=1"
	[ -n "$results" ] && printf 'export HWVIRT_RESULTS=%q\n' "$results"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$work/run"

interactive=0
[ -t 0 ] && [ -t 1 ] && interactive=1

fatal_re='Kernel panic|Oops|BUG:|general protection fault|corrupted stack end'

# One boot of L1.  Sets fault (empty when L1 worked) and rc.
run_l1() {
	local ctl=$work/ctl log=$work/l1.log out=$work/out.log chr shares=()
	rm -rf "$ctl" "$log" "$out"
	mkdir -p "$ctl"
	cp "$work/run" "$ctl/run"
	[ -n "$results" ] && echo "$results" >"$ctl/results"
	# L1's /tmp is its scratch disk: a working directory or checkout under
	# the host's /tmp is shown at the same path (host copy under an overlay).
	local p rest
	for p in "$PWD" "$repo"; do
		case "$p" in
		/tmp/?*) rest=${p#/tmp/} && echo "/tmp/${rest%%/*}" ;;
		esac
	done | sort -u >"$ctl/tmpdirs"
	rm -f "$work/scratch.img"
	truncate -s "${HWVIRT_SCRATCH_GB:-16}G" "$work/scratch.img"
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1,nodiscard "$work/scratch.img" ||
		unavailable "mkfs.ext4 of the scratch disk failed"
	if [ $interactive = 1 ]; then
		echo tty >"$ctl/mode"
		stty size 2>/dev/null | awk '{print "rows " $1 " cols " $2}' >"$ctl/ttysize"
		# Ctrl-C goes to the command; Ctrl-A x quits QEMU.
		chr="stdio,id=con,mux=on,signal=off"
		shares+=(-mon chardev=con,mode=readline)
	else
		echo pipe >"$ctl/mode"
		chr="stdio,id=con,logfile=$out"
	fi
	[ -n "$results" ] && shares+=(-virtfs "local,path=$results,mount_tag=hwres,security_model=none")
	: >"$log"
	: >"$out"
	"$qemu" -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" -M q35 \
		-nodefaults -display none -no-reboot \
		-chardev "$chr" -serial chardev:con -serial "file:$log" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS1 panic=-1 oops=panic mitigations=off random.trust_cpu=on $l1_args" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$ctl,mount_tag=hwctl,security_model=none" \
		-drive "file=$work/scratch.img,if=virtio,format=raw,cache=unsafe" \
		"${shares[@]}" <&0 &
	qpid=$!
	fault=
	local now last
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		if grep -Eq "$fatal_re" "$log" && grep -E "$fatal_re" "$log" | grep -qv 'soft lockup'; then
			sleep 2 # let the oops finish printing
			fault="L1 kernel: $(grep -E "$fatal_re" "$log" | grep -v 'soft lockup' | head -n 1)"
			break
		fi
		now=$(date +%s)
		last=$(stat -c %Y "$log")
		if [ $((now - last)) -gt "$hang" ]; then
			fault="L1 hung: no kernel output or heartbeat for $hang s"
			break
		fi
		if [ $interactive = 0 ] && [ "$silence" -gt 0 ] && [ -s "$ctl/mode" ] &&
			grep -q 'running the command' "$log"; then
			last=$(stat -c %Y "$out")
			if [ $((now - last)) -gt "$silence" ]; then
				fault="no output from the command for $silence s (L1 or the command hung)"
				break
			fi
		fi
	done
	if [ -n "$fault" ]; then
		kill "$qpid" 2>/dev/null
	fi
	wait "$qpid"
	local qrc=$?
	qpid=
	if [ -z "$fault" ]; then
		if [ -s "$ctl/setup-error" ]; then
			unavailable "$(cat "$ctl/setup-error")"
		elif [ -s "$ctl/rc" ]; then
			rc=$(cat "$ctl/rc")
			return
		elif ! grep -q 'hwvirt-l1:' "$log" && [ $qrc -ne 0 ]; then
			unavailable "$qemu exited with status $qrc before L1 ran: $(tail -n 3 "$log")"
		elif grep -Eq "$fatal_re" "$log"; then
			fault="L1 kernel: $(grep -E "$fatal_re" "$log" | head -n 1)"
		else
			fault="L1 ended without the command's exit status (QEMU status $qrc)"
		fi
	fi
	cp "$log" "$work/l1-try$try.log"
}

# One nested machine at a time on this host: two TCG L1s on a small host
# slow each other past their hang limits (docs/hwvirt.md).
lock=${HWVIRT_LOCK:-/tmp/stratovirt-hwvirt.lock}
if [ "$lock" != none ]; then
	exec {lockfd}>>"$lock" || unavailable "cannot open the lock file $lock"
	if ! flock -n "$lockfd"; then
		say "waiting for another nested machine to end (lock $lock)"
		flock "$lockfd"
	fi
fi

rc=
for ((try = 1; try <= tries; try++)); do
	run_l1
	[ -z "$fault" ] && exit "$rc"
	say "infrastructure fault (not a result of the command): $fault"
	HWVIRT_KEEP_LOGS=1
	if [ $try -lt "$tries" ]; then
		say "retrying once"
	fi
done
say "L1 failed on all $tries tries; the command has no result"
exit $EXIT_INFRA
