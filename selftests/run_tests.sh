#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh PROG... - run kselftest programs, as kselftest's runner.sh
# does: a top-level TAP plan over the programs, each program's own TAP
# output nested under "# ", one "ok"/"not ok" line per program; a 32-bit
# program is named "NAME (32-bit)". Exit status 1 if any program failed or
# timed out, else 0 (exit code 4, kselftest's SKIP, counts as a pass).
#
# Writes nothing into the tree (it may be read-only); each program runs in
# its own directory. Environment:
#   VEPOLL_TEST_TIMEOUT   seconds a program may run (default 900)

timeout_s=${VEPOLL_TEST_TIMEOUT:-900}
skip_rc=4
timeout_rc=124

# Output streams through sed to fd 4 (the real stdout) while the exit
# status of the program, not of the pipeline, comes back on fd 3 (the trick
# of kselftest's runner.sh: POSIX sh has no pipefail).
exec 4>&1
run_prefixed()
{
	{ { "$@" 2>&1 3>&- 4>&-; echo $? >&3; } | sed -u -e 's/^/# /' >&4; } 3>&1
}

# " (32-bit)" for an ELF32 program (EI_CLASS, byte 4 of the header, is 1).
bits_label()
{
	case $(od -An -tx1 -j4 -N1 "$1" 2>/dev/null) in
	*01*) echo " (32-bit)" ;;
	esac
}

echo "TAP version 13"
echo "1..$#"
num=0
failed=0
for prog in "$@"; do
	num=$((num + 1))
	name=$(basename "$prog")
	hdr="selftests: vepoll: $name$(bits_label "$prog")"
	echo "# $hdr"
	if [ ! -x "$prog" ]; then
		echo "# Warning: $prog is missing or not executable (run make first)"
		echo "not ok $num $hdr"
		failed=1
		continue
	fi
	dir=$(dirname "$prog")
	if command -v timeout >/dev/null 2>&1; then
		rc=$(cd "$dir" && run_prefixed timeout -k 10 "$timeout_s" \
			"./$name")
	else
		rc=$(cd "$dir" && run_prefixed "./$name")
	fi
	case $rc in
	0)
		echo "ok $num $hdr" ;;
	"$skip_rc")
		echo "ok $num $hdr # SKIP" ;;
	"$timeout_rc")
		echo "not ok $num $hdr # TIMEOUT $timeout_s seconds"
		failed=1 ;;
	*)
		echo "not ok $num $hdr # exit=$rc"
		failed=1 ;;
	esac
done
exit $failed
