#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench/profile.sh — where vepoll's time goes; run in the VM by
# `scripts/bench.sh --profile` (vepoll.ko loaded, the tree read-only).
#
# usage: sh bench/profile.sh [LOOP:IMPL[:N]]...
#   default: wait-hot:vepoll:1000 wait-hot:epoll:1000
#            ctl-churn:vepoll ctl-churn:epoll
#            ping-pong:vepoll ping-pong:epoll
#   LOOP is a --loop name of bench/build/vepoll_bench (wait-hot, ctl-churn,
#   mass-ready, batch, batch-single, wait-empty, wait-one, ...).
#
# For each loop: `perf stat` (TCG has no PMU: software counters only),
# then `perf record -a -g -e cpu-clock` (hrtimer sampling, which TCG
# supports) and two reports restricted to the benchmark's samples: self
# time per symbol, and inclusive ("children") time per symbol. Kernel and
# module symbols come from /proc/kallsyms (root in the guest).
# Everything goes to stdout between marker lines, for bench.sh to cut out.
set -u

B=bench/build/vepoll_bench
SECS=${PROFILE_SECONDS:-3}
data=/tmp/vepoll-perf.data

[ $# -gt 0 ] || set -- wait-hot:vepoll:1000 wait-hot:epoll:1000 \
	ctl-churn:vepoll ctl-churn:epoll ping-pong:vepoll ping-pong:epoll

echo "----- vepoll-bench profile begin -----"
echo "kernel $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
	"$(nproc) vCPUs, perf $(perf version 2>/dev/null | cut -d' ' -f3)"
printf 'events available:'
for d in /sys/bus/event_source/devices/*; do printf ' %s' "${d##*/}"; done
echo
for spec in "$@"; do
	loop=${spec%%:*}
	rest=${spec#*:}
	impl=${rest%%:*}
	n=1000
	[ "$rest" = "$impl" ] || n=${rest#*:}

	echo
	what="$loop, $impl"
	[ "$loop" != wait-hot ] || what="$what, N=$n"
	echo "==================== $what ===================="
	echo "--- perf stat ($SECS s; software events and tracepoints):"
	perf stat -e task-clock,context-switches,page-faults \
		-e sched:sched_wakeup,timer:hrtimer_start,timer:hrtimer_cancel \
		-- $B --loop "$loop" --impl "$impl" --n "$n" --seconds "$SECS" 2>&1 |
		grep -v -e '^ *$' -e 'seconds time elapsed'
	echo "--- perf record -a -g -e cpu-clock ($SECS s):"
	perf record -q -a -g -e cpu-clock -B -N -o "$data" \
		-- $B --loop "$loop" --impl "$impl" --n "$n" --seconds "$SECS" 2>&1
	echo "--- self time, % of the benchmark's samples (>= 0.7%):"
	perf report -i "$data" --comm vepoll_bench --percentage relative \
		--no-children --sort dso,sym -g none --percent-limit 0.7 \
		--stdio 2>/dev/null | grep -v -e '^#' -e '^ *$'
	echo "--- inclusive time of kernel functions (children, self), % of the benchmark's samples (>= 1.5%):"
	perf report -i "$data" --comm vepoll_bench --percentage relative \
		--children --sort sym -g none --percent-limit 1.5 \
		--stdio 2>/dev/null | grep -F '[k]' | grep -v '\[k\] 0x'
	rm -f "$data"
done
echo "----- vepoll-bench profile end -----"
