#!/bin/bash
# Runs every test of the project.  Called by `make check` and .ci/run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

echo "== style (clang-format) and static analysis (cppcheck) =="
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
	-D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem src

# A build folder made by `make build` before the test packages were there
# has no unit tests: reconfigure so meson finds cmocka now, and refuse to go
# on if the unit tests are still missing.
setup_build() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
	if [ "$(meson test -C "$dir" --list 2>/dev/null | grep -c .)" -eq 0 ]; then
		echo "check: no unit tests in $dir (is libcmocka-dev installed?)" >&2
		exit 1
	fi
}

echo "== build (release) and unit tests =="
setup_build build
meson test -C build --print-errorlogs

echo "== unit tests under AddressSanitizer and UBSan =="
setup_build build-asan -Dstatic=false -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

# The static aarch64 binary and its unit tests under qemu-user (docs/aarch64.md):
# about 40 s from scratch on 2 cores, the arm64 packages fetched once.
echo "== aarch64 cross build and its unit tests under qemu-user =="
./scripts/build-aarch64.sh

# CI runs each fuzz target for 60 s (two at a time: about 8 minutes), a local
# make check for 20 s.
if [ "${CI:-}" = true ]; then : "${FUZZ_SECONDS:=60}"; else : "${FUZZ_SECONDS:=20}"; fi
echo "== fuzzing (libFuzzer, ${FUZZ_SECONDS}s per target, two at a time) =="
FUZZ_SECONDS=$FUZZ_SECONDS ./scripts/fuzz.sh

echo "== demo guest (cached) =="
guest/build.sh >/dev/null

echo "== nested machine for the hwvirt tests (cached; docs/hwvirt.md) =="
scripts/hwvirt/prepare.sh >/dev/null || echo "check: the nested machine cannot be prepared; the hwvirt tests will skip"

echo "== integration tests (hwvirt-marked ones inside the nested machine on kvm_pvm hosts) =="
/usr/bin/python3 -m pytest -v -rsxX tests/integration

# The same tests on the ASan/UBSan VMM (build-asan, through scripts/asan-vmm.sh:
# seccomp off there, see that script), leaving out the Linux boots, the
# nested-machine tests and the seccomp tests.  Every report
# goes to a file under $asan_logs; any file there fails the run.
echo "== integration tests on the ASan/UBSan VMM =="
asan_logs=$(mktemp -d /tmp/sv-asan-logs.XXXXXX)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16:log_path=$asan_logs/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$asan_logs/ubsan \
	STRATOVIRT_BIN=$repo/scripts/asan-vmm.sh SV_ASAN_VMM=$repo/build-asan/stratovirt \
	SVGUEST_ELF=$repo/build-asan/tests/guest/svguest.elf \
	SVGUEST_BIN=$repo/build-asan/tests/guest/svguest.bin \
	/usr/bin/python3 -m pytest -q -rsxX -m "not hwvirt" tests/integration \
	--ignore-glob='tests/integration/test_linux_*.py' \
	--ignore=tests/integration/test_seccomp.py
if [ -n "$(ls -A "$asan_logs")" ]; then
	echo "check: sanitizer reports from the VMM:" >&2
	cat "$asan_logs"/* >&2
	exit 1
fi
rm -rf "$asan_logs"

# aarch64 on a real KVM: the arm64 nested machine (QEMU virt TCG with EL2 and
# GICv3) runs the cross-built VMM of build-aarch64/ with the arm64 test guest
# (a cold guest kernel build is about 10 minutes on 2 cores, then cached).
echo "== arm64 nested machine: aarch64 Linux on KVM (docs/hwvirt.md) =="
guest/build-arm64.sh >/dev/null
HWVIRT_ARM64=1 /usr/bin/python3 -m pytest -v -rsxX tests/integration/test_hwvirt_arm64.py \
	tests/integration/test_arm64_linux.py
