#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/kcsan-check.sh — `make check-kcsan`: the concurrency selftests on
# the KCSAN variant of the debug kernel (scripts/debug-kernel.sh --kcsan,
# built once and cached, ~5-10 min), in one VM. Fails on any failed test and
# on any kernel splat vm.sh sees, a KCSAN report ("BUG: KCSAN: data-race
# in A / B", matched by vm.sh's BUG pattern) included. Ends with a summary
# of every KCSAN report on the console: the two functions, the accesses
# and the first frame of each stack, and whether vepoll is in them.
#
#   scripts/kcsan-check.sh [PROG...]   (default: the programs below)
#
# Console log: build/check/kcsan.console; test output: build/check/kcsan.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$SECONDS

progs=("$@")
((${#progs[@]})) || progs=(vepoll_stress vepoll_nest_mt vepoll_nest
	vepoll_forkstress vepoll_close_races vepoll_lifetime)

scripts/deps.sh --kernel-build
make -s -C selftests
eval "$(scripts/debug-kernel.sh --kcsan)"

mkdir -p build/check
console=build/check/kcsan.console
log=build/check/kcsan.log
# QEMU's direct ELF (PVH) boot of the debug kernels ends at once: bzImage.
status=0
VM_PVH=0 scripts/vm.sh --log "$console" --kernel-image "$KERNEL_IMAGE" \
	--kdir "$KDIR" --timeout 3000 --env VEPOLL_STRESS_SECONDS=5 -- \
	sh selftests/run_tests.sh "${progs[@]/#/selftests/build/}" 2>&1 |
	tee "$log" || status=$?

# Every report: header, then per access "<kind> to ... by task N on cpu C:"
# followed by its top frame; the variable is the address's symbol when
# KCSAN names one (a data-race in globals) or the two functions otherwise.
# vm.sh's closing "vm-dmesg:" lines repeat console lines: skipped.
reports=$(awk '
	/^vm-dmesg: / { next }
	{ sub(/^\[ *[0-9]+\.[0-9]+\] /, "") }
	/BUG: KCSAN:/ { n++; print "#" n ": " substr($0, index($0, "BUG: KCSAN:")); want = 0; next }
	n && /^(read|write|read-write|race at unknown origin).* by (task|interrupt)/ {
		print "    " $0; want = 1; next }
	n && want && /^ *[A-Za-z_.0-9]+\+0x/ { print "      " $1; want = 0; next }
	n && /^value changed:/ { print "    " $0 }
' "$console")
count=$(grep -c '^#' <<<"$reports" || true)
if ((count)); then
	echo "kcsan-check: $count KCSAN report(s) on the console:"
	printf '%s\n' "$reports"
	[[ $status -ne 0 ]] || status=120
else
	echo "kcsan-check: no KCSAN report"
fi
printf 'kcsan-check: %s in %d s (vm.sh status %d)\n' \
	"$( ((status)) && echo FAILED || echo passed)" $((SECONDS - start)) "$status"
exit "$status"
