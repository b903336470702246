#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 30), FUZZ_JOBS (default 2) at a time, starting from
# the seeds in tests/fuzz/corpus/<target>/ and the corpus kept in
# build-fuzz/corpus/<target>/.  One summary line per target:
#   fuzz: <target> <secs>s execs=N cov=N ft=N corpus=N crashes=N
# (execs: libFuzzer's stat::number_of_executed_units; cov/ft: its final
# coverage counters), and the same lines in build-fuzz/summary.txt.  Any
# crash fails the script and leaves the reproducer in build-fuzz/crashes/.
# FUZZ_TARGETS="fuzz_qmp fuzz_blk" runs only those; FUZZ_OUT (default
# build-fuzz) is the folder for the binaries, corpora and crashes.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${FUZZ_OUT:-build-fuzz}
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
mkdir -p "$out/crashes"
cc=(clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-D_GNU_SOURCE -Isrc)

"${cc[@]}" tests/fuzz/fuzz_boot.c src/arch/x86_64/{boot,bzimage,elf,mptable,acpi,aml}.c \
	src/machine/memory.c -o "$out/fuzz_boot"
# fuzz_boot starts from one good image of each kernel format (boot_seeds.c).
clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc tests/fuzz/boot_seeds.c tests/unit/boot/boot_test_util.c \
	src/machine/memory.c -o "$out/boot_seeds"
mkdir -p "$out/seeds/fuzz_boot"
"$out/boot_seeds" "$out/seeds/fuzz_boot"
"${cc[@]}" tests/fuzz/fuzz_virtq.c src/virtio/queue.c src/machine/memory.c -o "$out/fuzz_virtq"
"${cc[@]}" tests/fuzz/fuzz_vhost_user.c src/virtio/vhost_user.c -o "$out/fuzz_vhost_user"
# the virtio devices through the real transport, with the unit tests' fakes
vcommon=(-Itests/unit/virtio tests/unit/virtio/fakes.c src/virtio/mmio.c src/virtio/queue.c
	src/machine/memory.c)
"${cc[@]}" tests/fuzz/fuzz_vsock.c "${vcommon[@]}" src/virtio/vsock.c src/util/sockpath.c \
	-o "$out/fuzz_vsock"
"${cc[@]}" -DFUZZ_DEV_BLK tests/fuzz/fuzz_virtio.c "${vcommon[@]}" src/virtio/blk.c \
	src/virtio/ratelimit.c -luring -o "$out/fuzz_blk"
"${cc[@]}" -DFUZZ_DEV_NET tests/fuzz/fuzz_virtio.c tests/fuzz/fake_tap.c "${vcommon[@]}" \
	src/virtio/{net,vhost,vhost_net}.c -o "$out/fuzz_net"
"${cc[@]}" -DFUZZ_DEV_CONSOLE tests/fuzz/fuzz_virtio.c "${vcommon[@]}" src/virtio/console.c \
	src/util/{chardev,sockpath,hostpath}.c -o "$out/fuzz_console"
"${cc[@]}" -DFUZZ_DEV_RNG tests/fuzz/fuzz_virtio.c "${vcommon[@]}" src/virtio/rng.c \
	src/virtio/ratelimit.c -o "$out/fuzz_rng"
"${cc[@]}" -DFUZZ_DEV_BALLOON tests/fuzz/fuzz_virtio.c "${vcommon[@]}" src/virtio/balloon.c \
	src/qmp/events.c -ljansson -o "$out/fuzz_balloon"
"${cc[@]}" tests/fuzz/fuzz_mmio.c "${vcommon[@]}" -o "$out/fuzz_mmio"
"${cc[@]}" tests/fuzz/fuzz_ports.c src/machine/{bus,memory}.c \
	src/devices/{serial8250,i8042,cmos_rtc}.c src/util/utc.c -o "$out/fuzz_ports"
"${cc[@]}" tests/fuzz/fuzz_initrd.c tests/unit/boot/boot_test_util.c \
	src/arch/x86_64/{boot,bzimage,elf,mptable,acpi,aml}.c src/machine/memory.c \
	-o "$out/fuzz_initrd"
"${cc[@]}" tests/fuzz/fuzz_image.c src/arch/aarch64/image.c src/machine/memory.c \
	-o "$out/fuzz_image"
# QMP: framing, session, dispatcher and handlers on the unit tests' fakes
"${cc[@]}" -DSV_VERSION='"fuzz"' -Itests/unit/qmp tests/fuzz/fuzz_qmp.c tests/unit/qmp/stubs.c \
	src/qmp/{framing,session,dispatch,events,fdtable}.c src/machine/qmp_vm.c \
	src/arch/x86_64/info.c src/virtio/qmp_{device,blk,net,balloon}.c src/config/kvlist.c \
	src/util/{log,hostpath}.c -ljansson \
	-o "$out/fuzz_qmp"
# the config module checks -cpu names against src/arch/x86_64/cpu_features.c
config_src=(src/config/*.c src/util/hostpath.c src/arch/x86_64/cpu_features.c)
"${cc[@]}" tests/fuzz/fuzz_config.c "${config_src[@]}" -ljansson -o "$out/fuzz_cmdline"
"${cc[@]}" -DFUZZ_CONFIG_JSON tests/fuzz/fuzz_config.c "${config_src[@]}" -ljansson \
	-o "$out/fuzz_json"

all=(fuzz_boot fuzz_initrd fuzz_image fuzz_virtq fuzz_mmio fuzz_blk fuzz_net fuzz_console fuzz_rng
	fuzz_balloon fuzz_vsock fuzz_vhost_user fuzz_ports fuzz_qmp fuzz_cmdline fuzz_json)
read -r -a targets <<<"${FUZZ_TARGETS:-${all[*]}}"

# Runs one target; writes its summary line to $out/<target>.summary.
run_one() {
	local t=$1 rc=0 seeds=() execs cov ft corp crashes
	mkdir -p "$out/corpus/$t"
	[ -d "$out/seeds/$t" ] && seeds+=("$out/seeds/$t")
	[ -d "tests/fuzz/corpus/$t" ] && seeds+=("tests/fuzz/corpus/$t")
	rm -f "$out/crashes/$t-"*
	"$out/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
		"$out/corpus/$t" "${seeds[@]}" >"$out/$t.out" 2>"$out/$t.log" || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
	cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' \
		"$out/$t.log" | tail -1)
	ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$cov")
	corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$cov")
	cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$cov")
	crashes=$(find "$out/crashes" -name "$t-*" | wc -l)
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	echo "fuzz: $t ${secs}s execs=${execs:-0} cov=${cov:-0} ft=${ft:-0} corpus=${corp:-0}" \
		"crashes=$crashes" >"$out/$t.summary"
	return "$rc"
}

echo "fuzz: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
failed=()
pids=()
names=()
reap() {
	local i=$1
	if ! wait "${pids[$i]}"; then
		failed+=("${names[$i]}")
	fi
	cat "$out/${names[$i]}.summary"
}
for t in "${targets[@]}"; do
	if [ "${#pids[@]}" -ge "$jobs" ]; then
		reap 0
		pids=("${pids[@]:1}")
		names=("${names[@]:1}")
	fi
	run_one "$t" &
	pids+=($!)
	names+=("$t")
done
for i in "${!pids[@]}"; do
	reap "$i"
done
for t in "${targets[@]}"; do
	cat "$out/$t.summary"
done >"$out/summary.txt"
for t in "${failed[@]}"; do
	echo "fuzz: $t failed; its log:" >&2
	tail -40 "$out/$t.log" >&2
done
[ "${#failed[@]}" -eq 0 ] || exit 1
echo "fuzz: no crashes (summary in $out/summary.txt)"
