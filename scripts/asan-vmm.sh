#!/bin/sh
# The VMM built with ASan and UBSan (build-asan/stratovirt, or $SV_ASAN_VMM),
# as STRATOVIRT_BIN for the sanitizer pass of the integration tests in
# scripts/check.sh.  The sanitizer runtime makes syscalls the seccomp
# allow-lists refuse (sigaltstack as a thread ends; clone and ptrace for
# LeakSanitizer's scan at exit), so the filters are off in this pass:
# -disable-seccomp goes first.  The filters are tested on the release build
# (tests/integration/test_seccomp.py), which that pass leaves out.
here=$(cd "$(dirname "$0")" && pwd)
exec "${SV_ASAN_VMM:-$here/../build-asan/stratovirt}" -disable-seccomp "$@"
