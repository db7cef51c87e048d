#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make -C lib check: the library and shim tests, in a guest with vepoll.ko
# loaded (scripts/vm.sh -- make -s -C lib check). Builds nothing; writes
# only under $TMPDIR (default /tmp).
#
#   1. test_lib against libvepoll.so, then against libvepoll.a
#   2. test_preload, an ordinary epoll program, with the shim preloaded
#   3. make install into a scratch DESTDIR; a C and a C++ program built
#      with pkg-config against it, run against the installed library
#   4. when vm.sh's VEPOLL_KO is set and the module can be reloaded: both
#      tests again with wait_cap_ms=300 (negative timeouts), then the
#      module is put back with its original parameters
#
# Ends with "lib: N passed, N failed, N skipped"; exit 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$(dirname "$here")
bin=$lib/build/tests
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vepoll-lib.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0
pass=0 fail=0 skip=0

# run NAME COMMAND...: one TAP program; its totals are added up.
run() {
	local name=$1 out rc
	shift
	echo "# ---- $name"
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	read -r p f s < <(awk '/^# Totals: pass:/ {
			for (i = 1; i <= NF; i++) { split($i, kv, ":"); t[kv[1]] = kv[2] }
			print t["pass"] + 0, t["fail"] + 0, t["skip"] + 0; found = 1 }
		END { if (!found) print 0, 0, 0 }' <<<"$out")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if ((rc != 0)); then
		echo "**** $name: exit status $rc"
		((f > 0)) || fail=$((fail + 1))
		status=1
	fi
}

if [[ ! -e /dev/vepoll ]]; then
	echo "lib/tests/run.sh: /dev/vepoll is missing: the tests need the module;" \
		"run them in the VM: scripts/vm.sh -- make -s -C lib check" >&2
	exit 1
fi

preload=$lib/libvepoll-preload.so
run test_lib "$bin/test_lib"
run test_lib_static "$bin/test_lib_static"
run test_preload env LD_PRELOAD="$preload" "$bin/test_preload"

# --- installation --------------------------------------------------------
# ok COMMAND...: one TAP line for install_check, described by $what.
n=0 failed=0 what=
# shellcheck disable=SC2317 # both are called through run()
ok() {
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - ${what}"
	else
		sed 's/^/# /' "$tmp/out"
		echo "not ok $n - ${what}"
		failed=$((failed + 1))
	fi
}

# shellcheck disable=SC2317
install_check() {
	local dest=$tmp/dest prefix=/usr/local pc out
	echo "TAP version 13"
	what="make install PREFIX=$prefix DESTDIR=..."
	ok make -s -C "$lib" install PREFIX="$prefix" DESTDIR="$dest"
	what="installed: libvepoll.a, libvepoll.so{,.0}, libvepoll-preload.so, vepoll.h, vepoll_uapi.h, vepoll.pc"
	ok test -f "$dest$prefix/lib/libvepoll.a" -a -f "$dest$prefix/lib/libvepoll.so.0" \
		-a -L "$dest$prefix/lib/libvepoll.so" -a -f "$dest$prefix/lib/libvepoll-preload.so" \
		-a -f "$dest$prefix/include/vepoll.h" -a -f "$dest$prefix/include/vepoll_uapi.h" \
		-a -f "$dest$prefix/lib/pkgconfig/vepoll.pc"
	pc="env PKG_CONFIG_PATH=$dest$prefix/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest pkg-config"
	# shellcheck disable=SC2005,SC2046,SC2116 # squeeze the blanks
	out=$(echo $($pc --cflags --libs vepoll 2>&1))
	what="pkg-config --cflags --libs vepoll: $out"
	ok test "$out" = "-I$dest$prefix/include -L$dest$prefix/lib -lvepoll"
	cat >"$tmp/prog.c" <<-'EOF'
		#include <stdio.h>
		#include <unistd.h>
		#include <vepoll.h>

		int main(void)
		{
			struct vepoll_event ev = { .events = VEPOLLOUT, .data = 9 };
			int ep = vepoll_create1(VEPOLL_CLOEXEC), p[2];

			if (ep < 0 || pipe(p))
				return 1;
			if (vepoll_ctl(ep, VEPOLL_CTL_ADD, p[1], &ev))
				return 2;
			ev.data = 0;
			return vepoll_wait(ep, &ev, 1, 1000) == 1 && ev.data == 9 ? 0 : 3;
		}
	EOF
	cp "$tmp/prog.c" "$tmp/prog.cc"
	sed -i 's/{ .events = VEPOLLOUT, .data = 9 }/{ VEPOLLOUT, 0, 9 }/' "$tmp/prog.cc"
	what="a C program built with pkg-config's flags"
	# shellcheck disable=SC2046 # pkg-config output is meant to be split
	ok gcc -Wall -Werror "$tmp/prog.c" -o "$tmp/prog" $($pc --cflags --libs vepoll)
	what="... runs against the installed libvepoll.so.0"
	ok env LD_LIBRARY_PATH="$dest$prefix/lib" "$tmp/prog"
	what="... and statically: libvepoll.a (pkg-config --static)"
	# shellcheck disable=SC2046
	ok gcc -Wall -Werror -static "$tmp/prog.c" -o "$tmp/prog-static" \
		$($pc --static --cflags vepoll) "$dest$prefix/lib/libvepoll.a" -pthread
	what="... which runs"
	ok "$tmp/prog-static"
	what="g++ -fsyntax-only -std=c++11 -pedantic with the installed headers"
	# shellcheck disable=SC2046
	ok g++ -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only \
		$($pc --cflags vepoll) "$tmp/prog.cc"
	what="a C++ program built with pkg-config's flags"
	# shellcheck disable=SC2046
	ok g++ -Wall -Werror "$tmp/prog.cc" -o "$tmp/progxx" $($pc --cflags --libs vepoll)
	what="... and runs"
	ok env LD_LIBRARY_PATH="$dest$prefix/lib" "$tmp/progxx"
	echo "1..$n"
	echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
	((failed == 0))
}
run install install_check

# --- negative timeouts, with a short wait_cap_ms --------------------------
reload() {
	rmmod vepoll 2>/dev/null && insmod "$VEPOLL_KO" "$@"
}
if [[ -n ${VEPOLL_KO:-} && $EUID == 0 ]] && [[ -d /sys/module/vepoll ]]; then
	# shellcheck disable=SC2086 # VEPOLL_PARAMS is a word list
	if reload ${VEPOLL_PARAMS:-} wait_cap_ms=300; then
		run "test_lib cap" "$bin/test_lib" cap 300
		run "test_preload cap" env LD_PRELOAD="$preload" "$bin/test_preload" cap 300
		# shellcheck disable=SC2086
		reload ${VEPOLL_PARAMS:-} || {
			echo "**** could not reload vepoll with '${VEPOLL_PARAMS:-}'"
			status=1
		}
	else
		echo "# SKIP wait-cap tests: cannot reload the module"
		skip=$((skip + 1))
	fi
else
	echo "# SKIP wait-cap tests: need root and VEPOLL_KO (set by scripts/vm.sh)"
	skip=$((skip + 1))
fi

((fail == 0)) || status=1
echo "lib: $pass passed, $fail failed, $skip skipped"
exit $status
