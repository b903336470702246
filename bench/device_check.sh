#!/bin/bash
# Quick start-up and memory check on a machine with hardware virtualization.
# Usage: bench/device_check.sh VMM GUEST_ELF [RUNS]
# Prints whether /dev/kvm is hardware-backed, then the guest-first-instruction
# time as logged by the VMM, exec-to-exit, and the VMM's memory overhead.
set -u
vmm=$1 guest=$2 runs=${3:-20}
echo "host: $(uname -r), $(nproc) cpus; kvm modules: $(ls /sys/module | grep -E '^kvm' | tr '\n' ' ')"
grep -m1 -o -E 'vmx|svm' /proc/cpuinfo | head -1 | sed 's/^/cpu flag: /'
[ -c /dev/kvm ] || { echo "no /dev/kvm"; exit 0; }
tmp=$(mktemp -d)
for i in $(seq "$runs"); do
	s=$(date +%s%N)
	STRATOVIRT_LOG_LEVEL=info "$vmm" -m 128 -kernel "$guest" -append mode=first 2>"$tmp/log" >/dev/null
	rc=$?
	e=$(date +%s%N)
	m=$(sed -n 's/.*boot marker .* at \([0-9.]*\) ms.*/\1/p' "$tmp/log")
	echo "run $i rc=$rc marker_ms=$m exec_to_exit_ms=$(((e - s) / 1000))e-3"
done
printf '\xf4\xeb\xfd' >"$tmp/hlt.bin"
"$vmm" -m 128 -kernel "$tmp/hlt.bin" &
pid=$!
sleep 1
python3 - "$pid" <<'PY'
import sys
rss = ram = 0
size = 0
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        size = (hi - lo) // 1024
    elif f[0] == "Rss:":
        if size < 131072:
            rss += int(f[1])
        else:
            ram += int(f[1])
print(f"memory: rss outside guest RAM {rss} KiB, guest RAM rss {ram} KiB")
PY
kill $pid; wait $pid
rm -rf "$tmp"
