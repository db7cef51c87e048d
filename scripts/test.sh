#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: everything that proves vepoll, on a fresh Debian 12 machine.
#
#   1. make lint (W=1, sparse, checkpatch --strict)
#   2. build the module, the selftests and the demo
#   3. boot Debian's kernel in QEMU, load vepoll.ko, run the selftests
#      (`make -C selftests run_tests`) and the demo; any failed test, or a
#      kernel warning, BUG or oops on the guest console, fails the run
#
# Installs what it needs (scripts/deps.sh). Prints one closing line:
# "selftests: N passed, N failed, N skipped".
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$SECONDS

step() { printf '\n==== %s\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "make lint"
make -s lint

step "build"
kdir=$(scripts/kdir.sh)
make -s KDIR="$kdir" modules
make -s -C selftests
make -s -C examples

mkdir -p build
log=build/selftests.log
step "selftests in the VM ($(basename "$(dirname "$kdir")"))"
status=0
scripts/vm.sh --log build/vm-selftests.console -- \
	make -s -C selftests run_tests 2>&1 | tee "$log" || status=1
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "demo in the VM"
scripts/vm.sh --log build/vm-demo.console -- examples/vepoll_demo ||
	status=1

# Sum the kselftest totals of every program.
read -r pass fail skip < <(awk '
	/# Totals: pass:/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass") p += kv[2]
			if (kv[1] == "fail") f += kv[2]
			if (kv[1] == "skip") s += kv[2]
		}
	}
	END { print p + 0, f + 0, s + 0 }' "$log")
[ "$pass" -gt 0 ] || status=1
[ "$fail" -eq 0 ] || status=1

printf '\nwall time: %d s\n' $((SECONDS - start))
echo "selftests: $pass passed, $fail failed, $skip skipped"
exit $status
