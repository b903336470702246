#!/bin/bash
# Runs every test of the project.  Called by `make check` and .ci/run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

echo "== style (clang-format) and static analysis (cppcheck) =="
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
	-D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem src

echo "== build (release) and unit tests =="
[ -f build/build.ninja ] || meson setup build
ninja -C build
meson test -C build --print-errorlogs

echo "== unit tests under AddressSanitizer and UBSan =="
[ -f build-asan/build.ninja ] || meson setup build-asan -Dstatic=false -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

echo "== fuzzing (libFuzzer, ${FUZZ_SECONDS:=20}s per target) =="
FUZZ_SECONDS=$FUZZ_SECONDS ./scripts/fuzz.sh

echo "== demo guest (cached) =="
guest/build.sh >/dev/null

echo "== integration tests =="
/usr/bin/python3 -m pytest -v -rs tests/integration
