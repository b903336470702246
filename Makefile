# Thin wrapper over meson for the README's two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
PYTEST ?= /usr/bin/python3 -m pytest

.PHONY: all build demo check check-aarch64 unit integration fuzz bench format clean

all: build

build:
	./scripts/install-deps.sh build
	[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	ninja -C $(BUILD)

# Boot the demo Linux guest (built from Debian's linux-source-6.1, cached).
demo: build
	./scripts/demo.sh

# Every test: unit tests under ASan/UBSan, then the integration tests on the
# normal build (test guest, Linux boots, command line, lifecycle, virtio).
check:
	./scripts/install-deps.sh test
	./scripts/check.sh

# The static aarch64 binary (cross-built) and its unit tests under qemu-user
# (docs/aarch64.md); also a step of `make check`.
check-aarch64:
	./scripts/build-aarch64.sh

unit: build
	meson test -C $(BUILD) --print-errorlogs

bench: build
	/usr/bin/python3 bench/startup.py
	/usr/bin/python3 bench/virtio.py

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

fuzz:
	./scripts/fuzz.sh
