#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/bench.sh — vepoll vs. epoll vs. poll(2), measured in the VM.
#
# usage: scripts/bench.sh [--quick] [--profile] [--clocksource NAME] [--smp N]
#                         [--verbose] [--timeout SEC] [-- BENCH_ARGS...]
#   --quick        short smoke run (3 repetitions, short samples, 200 ms idle)
#   --profile      instead of the benchmark, run bench/profile.sh in the VM:
#                  perf stat/record (software cpu-clock: TCG has no PMU)
#                  around the hot loops; the reports go to
#                  build/bench/profile.txt
#   --clocksource NAME
#                  the guest's clocksource (default tsc, with tsc=reliable;
#                  "default" keeps the kernel's choice, hpet under TCG, where
#                  every kernel clock read is an emulated MMIO access)
#   --smp N        guest CPUs (default 1; with 2, a wakeup that crosses
#                  vCPUs costs TCG about one guest tick, 4 ms, and the
#                  ping-pong measures that, not the implementations)
#   --verbose      stream the VM console while it runs
#   --timeout SEC  kill the VM after SEC seconds (default 600)
#   BENCH_ARGS     passed to bench/build/vepoll_bench (e.g. --reps 9), or
#                  with --profile to bench/profile.sh (LOOP:IMPL[:N]...)
#
# Installs what it needs (scripts/deps.sh; --profile also linux-perf),
# builds vepoll.ko and bench/build/vepoll_bench, boots Debian's kernel in
# QEMU (scripts/vm.sh) and runs the benchmark there. The guest sees the
# repository read-only, so the benchmark prints its results between marker
# lines on the console and this script cuts them out on the host:
#   build/bench/results.json, build/bench/results.csv  machine-readable
#   build/bench/results.txt                           the table
#   build/bench/console.log                           the whole console
# Environment: VEPOLL_SRC=DIR benchmarks the module built from DIR (say, an
# export of another commit) instead of the tree's own, as for vm.sh.
# Exit status: 0, or the failing step's (vm.sh's exit codes, see --help).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

quick=0 profile=0 verbose=0 timeout=600 clocksource=tsc smp=1
bench_args=()
while (($#)); do
	case $1 in
	--quick) quick=1 ;;
	--profile) profile=1 ;;
	--verbose) verbose=1 ;;
	--timeout | --clocksource | --smp)
		(($# >= 2)) || { echo "bench.sh: $1 needs an argument" >&2; exit 2; }
		case $1 in
		--timeout) timeout=$2 ;;
		--clocksource) clocksource=$2 ;;
		--smp) smp=$2 ;;
		esac
		shift
		;;
	--) shift && bench_args=("$@") && break ;;
	-h | --help)
		sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*)
		echo "bench.sh: unknown argument: $1 (try --help)" >&2
		exit 2
		;;
	esac
	shift
done
((quick)) && bench_args=(--quick "${bench_args[@]}")

# Debian's perf matches the 6.1 kernel the VM boots.
if ((profile)); then
	scripts/deps.sh linux-perf
else
	scripts/deps.sh
fi

kdir=$(scripts/kdir.sh)
export VEPOLL_SRC=${VEPOLL_SRC:-$top}
make -s -C "$VEPOLL_SRC" KDIR="$kdir" modules
make -s -C bench

out=$top/build/bench
mkdir -p "$out"
log=$out/console.log
if ((profile)); then
	cmd=(sh bench/profile.sh "${bench_args[@]}")
	log=$out/profile-console.log
else
	cmd=(bench/build/vepoll_bench "${bench_args[@]}")
fi

# Real machines read the clock from the TSC; TCG's HPET, the guest
# kernel's default there, makes each ktime_get() an emulated MMIO access
# costing about a microsecond, which would weigh on whichever
# implementation reads the clock more often.
vm=(scripts/vm.sh --timeout "$timeout" --smp "$smp" --log "$log")
case $clocksource in
default) ;;
tsc) vm+=(--append "clocksource=tsc tsc=reliable") ;;
*) vm+=(--append "clocksource=$clocksource") ;;
esac

echo "bench.sh: running ${cmd[*]} in the VM (console: $log)" >&2
st=0
if ((verbose)); then
	"${vm[@]}" -- "${cmd[@]}" || st=$?
else
	"${vm[@]}" -- "${cmd[@]}" >/dev/null 2>"$out/vm.stderr" || st=$?
	if ((st)); then
		cat "$out/vm.stderr" >&2
		tail -n 40 "$log" >&2
	fi
fi
((st == 0)) || { echo "bench.sh: the VM run failed (exit $st)" >&2; exit "$st"; }

# extract NAME FILE: the lines between the benchmark's marker lines.
extract() {
	awk -v b="----- vepoll-bench $1 begin -----" -v e="----- vepoll-bench $1 end -----" '
		$0 == e { inside = 0 }
		inside { print }
		$0 == b { inside = 1; found = 1 }
		END { exit !found }' "$log" >"$2.tmp" ||
		{ echo "bench.sh: no '$1' block in $log" >&2; rm -f "$2.tmp"; exit 1; }
	mv -f "$2.tmp" "$2"
}

if ((profile)); then
	extract profile "$out/profile.txt"
	cat "$out/profile.txt"
	echo
	echo "bench.sh: profile: $out/profile.txt"
	exit 0
fi

extract table "$out/results.txt"
extract json "$out/results.json"
extract csv "$out/results.csv"
python3 -m json.tool "$out/results.json" >/dev/null ||
	{ echo "bench.sh: $out/results.json is not valid JSON" >&2; exit 1; }

cat "$out/results.txt"
echo
echo "bench.sh: results: $out/results.json"
echo "bench.sh: results: $out/results.csv"
