#!/bin/sh
# The VMM built with ASan and UBSan (build-asan/stratovirt, or $SV_ASAN_VMM),
# as STRATOVIRT_BIN for the sanitizer pass of the integration tests in
# scripts/check.sh.  The sanitizer runtime makes syscalls the seccomp
# allow-lists refuse (sigaltstack as a thread ends; clone and ptrace for
# LeakSanitizer's scan at exit), so the filters are off in this pass:
# -disable-seccomp goes first.  The filters are tested on the release build
# (tests/integration/test_seccomp.py), which that pass leaves out.
#
# Under -jail the VMM chroots into an empty directory: LeakSanitizer's scan at
# exit needs /proc there and cannot run ("LeakSanitizer has encountered a
# fatal error", and the process hangs in its report), so leak checks are off
# for a jailed VMM.  Its other reports cannot reach log_path either: the
# sanitizer says so on stderr and the process dies, which fails the test.
here=$(cd "$(dirname "$0")" && pwd)
for a in "$@"; do
	if [ "$a" = -jail ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		export ASAN_OPTIONS
		break
	fi
done
exec "${SV_ASAN_VMM:-$here/../build-asan/stratovirt}" -disable-seccomp "$@"
