#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 30).  Any crash fails the script and leaves the
# reproducer in build-fuzz/crashes/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=build-fuzz
secs=${FUZZ_SECONDS:-30}
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
# the vsock device through the real transport, with the unit tests' fakes
"${cc[@]}" -Itests/unit/virtio tests/fuzz/fuzz_vsock.c tests/unit/virtio/fakes.c src/virtio/vsock.c \
	src/virtio/mmio.c src/virtio/queue.c src/machine/memory.c src/util/sockpath.c \
	-o "$out/fuzz_vsock"
# the config module checks -cpu names against src/machine/cpu_features.c
config_src=(src/config/*.c src/util/hostpath.c src/machine/cpu_features.c)
"${cc[@]}" tests/fuzz/fuzz_config.c "${config_src[@]}" -ljansson -o "$out/fuzz_cmdline"
"${cc[@]}" -DFUZZ_CONFIG_JSON tests/fuzz/fuzz_config.c "${config_src[@]}" -ljansson \
	-o "$out/fuzz_json"

for t in fuzz_boot fuzz_virtq fuzz_vhost_user fuzz_vsock fuzz_cmdline fuzz_json; do
	mkdir -p "$out/corpus/$t"
	echo "fuzz: $t for ${secs}s"
	seeds=()
	[ -d "$out/seeds/$t" ] && seeds=("$out/seeds/$t")
	"$out/$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
		"$out/corpus/$t" "${seeds[@]}" 2>"$out/$t.log" || { tail -40 "$out/$t.log"; exit 1; }
	grep -E "stat::number_of_executed_units" "$out/$t.log" || true
done
echo "fuzz: no crashes"
