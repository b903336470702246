# shellcheck shell=bash
# What the two nested machines share (docs/hwvirt.md): sourced by
# scripts/hwvirt.sh and scripts/hwvirt-arm64.sh (the runner: options, the
# results share, the work folder, the command's script, one L1 boot watched
# for kernel faults and hangs, the host-wide lock, the retry) and by
# scripts/hwvirt/prepare.sh and scripts/hwvirt-arm64/prepare.sh (the L1
# initramfs: modules in dependency order, the packing).
#
# A runner sets hw_name (the prefix of its messages and work folder) and
# defines l1_start, which starts QEMU in the background (qpid=$!) with the
# locals of hw_run_l1 below: $log (the L1 kernel log file, its serial port),
# $chr (the chardev options of the command's stdio, id con), $ctl (the control
# share), shares (more QEMU options) and $work/scratch.img; then it calls
# hw_parse_args "$@", hw_results, hw_workdir, hw_write_run, hw_lock and
# hw_main.

EXIT_INFRA=97
EXIT_UNAVAILABLE=98
mem=${HWVIRT_MEM:-3072}
cpus=${HWVIRT_CPUS:-2}
hang=${HWVIRT_HANG:-60}
silence=${HWVIRT_SILENCE:-900}
tries=${HWVIRT_TRIES:-2}

usage() {
	echo "usage: $0 [--mem MIB] [--cpus N] [--] CMD [ARGS...]" >&2
	exit 2
}
say() { echo "$hw_name: $*" >&2; }
unavailable() {
	say "L1 cannot start: $*"
	exit $EXIT_UNAVAILABLE
}

# Options into mem and cpus; the command into the array hw_cmd.
hw_parse_args() {
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
	hw_cmd=("$@")
}

# HWVIRT_RESULTS as an absolute path in results (empty: none).
hw_results() {
	results=${HWVIRT_RESULTS:-}
	if [ -n "$results" ]; then
		mkdir -p "$results" && results=$(cd "$results" && pwd) || unavailable "cannot create HWVIRT_RESULTS=$results"
	fi
}

# The work folder, removed on exit (but the logs with HWVIRT_KEEP_LOGS=1).
hw_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$hw_name.XXXXXX")
	qpid=
	trap hw_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
hw_cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	if [ "${HWVIRT_KEEP_LOGS:-0}" = 1 ]; then
		rm -f "$work/scratch.img"
		say "logs kept in $work"
	else
		rm -rf "$work"
	fi
}

# The command, as a bash script run in L1: same directory, same environment,
# HWVIRT=1 and the lines given as arguments (more exports).
hw_write_run() {
	local name line
	{
		printf 'cd -- %q || exit 1\n' "$PWD"
		while IFS= read -r name; do
			case $name in
			PWD | OLDPWD | SHLVL | _ | HWVIRT_*) continue ;;
			esac
			printf 'export %s=%q\n' "$name" "${!name}"
		done < <(compgen -e)
		echo "export HWVIRT=1"
		for line in "$@"; do
			echo "$line"
		done
		[ -n "$results" ] && printf 'export HWVIRT_RESULTS=%q\n' "$results"
		printf 'exec'
		printf ' %q' "${hw_cmd[@]}"
		printf '\n'
	} >"$work/run"
	interactive=0
	[ -t 0 ] && [ -t 1 ] && interactive=1
}

# An RCU stall in L1 is fatal too: in every kept log that had one (3 of 23,
# 2026-12-01; "Possible timer handling issue" on the CPU that ran the L2
# guest, under QEMU 7.2's TCG) L1 never recovered, and the command sat
# silent until HWVIRT_SILENCE ran out (10-15 min).
fatal_re='Kernel panic|Oops|BUG:|general protection fault|corrupted stack end|rcu: INFO: rcu_(preempt|sched) (self-)?detected stalls?'

# One boot of L1.  Sets fault (empty when L1 worked) and rc.
hw_run_l1() {
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
	l1_start
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

# One nested machine at a time on this host, x86_64 or arm64: two TCG L1s on
# a small host slow each other past their hang limits (docs/hwvirt.md).
hw_lock() {
	local lock=${HWVIRT_LOCK:-/tmp/stratovirt-hwvirt.lock}
	if [ "$lock" != none ]; then
		exec {lockfd}>>"$lock" || unavailable "cannot open the lock file $lock"
		if ! flock -n "$lockfd"; then
			say "waiting for another nested machine to end (lock $lock)"
			flock "$lockfd"
		fi
	fi
}

# Boots L1 up to $tries times; exits with the command's status or 97.
hw_main() {
	rc=
	for ((try = 1; try <= tries; try++)); do
		hw_run_l1
		[ -z "$fault" ] && exit "$rc"
		say "infrastructure fault (not a result of the command): $fault"
		HWVIRT_KEEP_LOGS=1
		if [ $try -lt "$tries" ]; then
			say "retrying once"
		fi
	done
	say "L1 failed on all $tries tries; the command has no result"
	exit $EXIT_INFRA
}

# ---- the L1 initramfs (prepare.sh; they define die and log) -------------------

# hw_add_modules ROOT MODTREE LIST PKG: each module named in the file LIST
# (# comments) copied from MODTREE (a kernel's lib/modules/<release>/kernel)
# to ROOT/lib/modules, after the modules it depends on (depends= in its
# .modinfo), and its name appended to ROOT/etc/hwvirt-modules in that order
# (L1's init loads them so); the order also in hw_order.
hw_add_modules() {
	local root=$1 tree=$2 list=$3 pkg=$4 f n m
	declare -gA hw_path_of=() hw_done_mod=()
	while IFS= read -r f; do
		n=$(basename "$f" .ko)
		hw_path_of[${n//-/_}]=$f
	done < <(find "$tree" -name '*.ko')
	hw_order=()
	hw_pkg=$pkg
	for m in $(sed -e 's/#.*//' "$list"); do
		hw_add_module "$m"
	done
	for n in "${hw_order[@]}"; do
		cp "${hw_path_of[$n]}" "$root/lib/modules/$n.ko"
		echo "$n" >>"$root/etc/hwvirt-modules"
	done
}
hw_add_module() {
	local n=${1//-/_} dep
	[ -n "${hw_done_mod[$n]:-}" ] && return 0
	[ -n "${hw_path_of[$n]:-}" ] || die "module $n not in $hw_pkg"
	hw_done_mod[$n]=1
	for dep in $(tr '\0' '\n' <"${hw_path_of[$n]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
		hw_add_module "$dep"
	done
	hw_order+=("$n")
}

# hw_pack_initramfs ROOT OUT WHAT: root's passwd and group, then ROOT packed
# reproducibly (times 0, owner 0, sorted) into the gzip'ed cpio OUT; ROOT is
# removed.
hw_pack_initramfs() {
	local root=$1 out=$2
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	find "$root" -exec touch -h -d @0 {} +
	log "packing the $3 (${#hw_order[@]} modules)"
	(
		cd "$root"
		find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible
	) | gzip -6 -n >"$out"
	rm -rf "$root"
}
