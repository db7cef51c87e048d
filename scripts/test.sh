#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's test command (also `make check`, and what CI runs): everything
# that proves vepoll, on a fresh Debian 12 machine, as root. Needs only bash
# to start: it installs the rest first (scripts/deps.sh).
#
#   1. make lint (W=1, sparse, checkpatch --strict)
#   2. build the module, the selftests (64-bit and 32-bit) and the demo;
#      make install + make uninstall into an empty DESTDIR must leave it
#      empty; make deb (build/deb/vepoll-dkms_VERSION_all.deb)
#   3. Debian's kernel in QEMU: the selftests, 64-bit then 32-bit (and the
#      race tests again at 4 vCPUs), the demo, libvepoll's and the
#      preload shim's tests, and Python's epoll
#      and selectors suites run on the shim, against the loaded vepoll.ko;
#      then DKMS: scripts/dkms.sh builds and installs the module for that
#      kernel on the host, and the .ko DKMS installed is the one loaded in
#      the VM (checked by its GNU build id) for a short selftest run
#   4. the debug lane: a kernel built from Debian's linux-source with
#      KASAN, lockdep, UBSAN, kmemleak and debug objects (scripts/
#      debug-kernel.sh, cached), the same selftests, then a kmemleak scan
#
# Any failed test, or a kernel warning, BUG, oops, KASAN, UBSAN, lockdep or
# kmemleak report on a guest console, fails the run. Ends with one line:
# "selftests: N passed, N failed, N skipped".
#
#   scripts/test.sh [--no-debug | --debug-only]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$SECONDS
lanes=all
case ${1:-} in
--no-debug) lanes=debian ;;
--debug-only) lanes=debug ;;
"") ;;
*)
	echo "usage: scripts/test.sh [--no-debug | --debug-only]" >&2
	exit 2
	;;
esac

status=0
logs=()
mkdir -p build/check
step() { printf '\n==== %s (%d s)\n' "$*" $((SECONDS - start)); }

# run NAME VM-ARGS... -- COMMAND: one VM run, its output kept for the tally.
run() {
	local name=$1 log=build/check/$1.log
	shift
	step "$name"
	logs+=("$log")
	if ! scripts/vm.sh --log "build/check/$name.console" "$@" 2>&1 |
		tee "$log"; then
		echo "**** $name: FAILED"
		status=1
	fi
}

# Everything every lane needs, in one apt-get run, before anything else:
# on a fresh machine there is no make or compiler before this.
step "dependencies"
deps=()
[ "$lanes" = debug ] || deps+=(--python-suites --dkms --deb)
[ "$lanes" = debian ] || deps+=(--kernel-build)
scripts/deps.sh "${deps[@]}"

step "make lint"
make -s lint || status=1

step "build"
make -s KDIR="$(scripts/kdir.sh)" modules
make -s -C selftests
make -s -C selftests ARCH_FLAGS=-m32 OUT=build32
make -s -C examples
make -s -C lib

if [ "$lanes" != debug ]; then
	step "make install, make uninstall (DESTDIR)"
	dest=$(mktemp -d)
	if make -s install DESTDIR="$dest" >/dev/null &&
		make -s uninstall DESTDIR="$dest" >/dev/null &&
		[ -z "$(ls -A "$dest")" ]; then
		echo "install/uninstall: DESTDIR left empty"
	else
		echo "**** install/uninstall: FAILED; left in $dest:"
		find "$dest" -mindepth 1
		status=1
	fi
	rm -rf "$dest"
	step "make deb"
	scripts/deb.sh || status=1
fi

if [ "$lanes" != debug ]; then
	run selftests --timeout 1800 -- make -s -C selftests run_tests
	run selftests-32bit --timeout 1800 -- \
		make -s -C selftests OUT=build32 run_tests
	# The races again, with more interleavings: 4 vCPUs under TCG.
	run selftests-smp4 --smp 4 --timeout 1800 -- sh selftests/run_tests.sh \
		selftests/build/vepoll_lifetime selftests/build/vepoll_stress \
		selftests/build/vepoll_nest_mt
	run demo --timeout 300 -- examples/vepoll_demo
	run lib --timeout 900 -- make -s -C lib check
	step "real programs on the preload shim (quick)"
	scripts/realprograms.sh --quick || status=1

	# DKMS, for the kernel vm.sh boots (the newest with image and headers).
	kver=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
		sed 's/^vmlinuz-//' | sort -V | while read -r v; do
		[ ! -e "/lib/modules/$v/build/Makefile" ] || echo "$v"
	done | tail -n 1)
	step "DKMS: build and install for $kver"
	if scripts/dkms.sh --kernel "$kver"; then
		VEPOLL_KO=$(find "/lib/modules/$kver/updates/dkms" -name 'vepoll.ko*' |
			head -n 1)
		export VEPOLL_KO
		run dkms --timeout 600 -- scripts/ko-check.sh \
			sh selftests/run_tests.sh selftests/build/vepoll_abi \
			selftests/build/vepoll_create
		unset VEPOLL_KO
	else
		echo "**** DKMS build/install for $kver: FAILED"
		status=1
	fi
fi

if [ "$lanes" != debian ]; then
	step "debug kernel (built once, then cached)"
	eval "$(scripts/debug-kernel.sh)"
	# QEMU's direct ELF (PVH) boot of this kernel ends at once: use bzImage.
	export VM_PVH=0
	run debug-selftests --kernel-image "$KERNEL_IMAGE" --kdir "$KDIR" \
		--timeout 3000 --env VEPOLL_STRESS_SECONDS=5 -- \
		'make -s -C selftests run_tests; rc=$?; scripts/kmemleak-check.sh || rc=1; exit $rc'
fi

# Sum the kselftest totals of every program of every run.
read -r pass fail skip < <(cat "${logs[@]}" /dev/null | awk '
	/# Totals: pass:/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass") p += kv[2]
			if (kv[1] == "fail") f += kv[2]
			if (kv[1] == "skip") s += kv[2]
		}
	}
	END { print p + 0, f + 0, s + 0 }')
[ "$pass" -gt 0 ] || status=1
[ "$fail" -eq 0 ] || status=1

printf '\nwall time: %d s\n' $((SECONDS - start))
echo "selftests: $pass passed, $fail failed, $skip skipped"
exit $status
