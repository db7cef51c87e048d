#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/realprograms.sh — unmodified programs on vepoll, through the
# preload shim (lib/libvepoll-preload.so), in the VM.
#
# usage: scripts/realprograms.sh [--quick] [--native] [--rounds N]
#                                [--param NAME=VALUE]...
#   --quick    only Python's test_epoll and test_selectors (no asyncio, no
#              redis, no nginx): a few minutes, part of the README's test
#              command
#   --native   also run the Python suites on native epoll, as a baseline
#   --rounds N redis and nginx rounds per side (default 3)
#   --param    module parameter, passed to scripts/vm.sh
#
# Installs what it needs (scripts/deps.sh --python-suites, and without
# --quick --redis --nginx: libpython3.11-testsuite, redis-server,
# redis-tools, nginx, apache2-utils),
# builds lib/, then in one VM:
#   1. Debian's /usr/bin/python3 -m test -v test_epoll test_selectors
#      [test_asyncio], with the shim preloaded, in /tmp; first a check that
#      the shim gives Python a vepoll instance (its fdinfo has vepoll-id:)
#      and, after, the shim's counters (VEPOLL_PRELOAD_STATS) of every
#      Python process: vepoll served every epoll call, native epoll none
#   2. asyncio's three pty tests (EPollEventLoopTests) on the shim: an
#      event loop watching a pty master
#   3. (not --quick) redis-server on loopback, native epoll and then the
#      shim, in alternating rounds, each driven by redis-benchmark (SET,
#      GET); checks /proc/PID/fdinfo of the shimmed server for vepoll-id:
#      and compares the median requests/s
#   4. (not --quick) nginx with 4 workers and accept_mutex off (its
#      default), native epoll and then the shim, in alternating rounds,
#      each driven by ab -k -c 32 for 8 s; checks that every shimmed
#      worker holds a VEPOLLEXCLUSIVE watch (its instance's fdinfo), that
#      no request failed and nginx logged no error, and compares the
#      median requests/s
# Logs go to build/realprograms/. Prints a summary; exits 1 if a Python
# test fails for a reason not explained in lib/README.md (KNOWN below),
# if any epoll call escaped vepoll, or if redis or nginx did not work on
# the shim.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
preload=$top/lib/libvepoll-preload.so
py=/usr/bin/python3

# Python tests that fail under the shim, and why (lib/README.md has more):
# none at present.
declare -A KNOWN=()

# ---------------------------------------------------------------- guest side
# These run inside the VM (scripts/vm.sh runs this script again there) and
# print REAL-* marker lines that the host side reads from the console log.

guest_python() { # MODE(shim|native) SUITE...
	local mode=$1 stats=/tmp/vepoll-stats.$1 rc=0
	shift
	export TMPDIR=/tmp
	cd /tmp
	rm -f "$stats"
	if [[ $mode == shim ]]; then
		# Python's select.epoll must be a vepoll instance.
		if LD_PRELOAD=$preload "$py" -c 'import select
e = select.epoll()
print(open("/proc/self/fdinfo/%d" % e.fileno()).read())' | grep -q '^vepoll-id:'; then
			echo "REAL-PY-FDINFO ok"
		else
			echo "REAL-PY-FDINFO missing"
		fi
		LD_PRELOAD=$preload VEPOLL_PRELOAD_STATS=$stats \
			"$py" -m test -v "$@" || rc=$?
	else
		"$py" -m test -v "$@" || rc=$?
	fi
	echo "REAL-PY-EXIT $mode $rc"
	if [[ -e $stats ]]; then
		awk '{ for (i = 1; i < NF; i += 2) s[$i] += $(i + 1); n++ }
			END { printf "REAL-PY-STATS processes %d creates %d ctls %d waits %d events %d native_creates %d native_ctls %d native_waits %d\n",
				n, s["creates"], s["ctls"], s["waits"], s["events"],
				s["native_creates"], s["native_ctls"], s["native_waits"] }' "$stats"
	fi
}

# Event loops on a pty master (opened from /dev/ptmx, so FMODE_NONOTIFY):
# asyncio's pty tests. (tmux and script(1) would be others, but they use
# poll(2): tmux sets libevent's EVENT_NOEPOLL on Linux.)
guest_pty() {
	local stats=/tmp/vepoll-stats.pty rc=0
	export TMPDIR=/tmp
	cd /tmp
	rm -f "$stats"
	LD_PRELOAD=$preload VEPOLL_PRELOAD_STATS=$stats "$py" -m unittest -v \
		test.test_asyncio.test_events.EPollEventLoopTests.test_read_pty_output \
		test.test_asyncio.test_events.EPollEventLoopTests.test_write_pty \
		test.test_asyncio.test_events.EPollEventLoopTests.test_bidirectional_pty ||
		rc=$?
	echo "REAL-PTY-ASYNCIO $rc $(awk '{ for (i = 1; i < NF; i += 2) s[$i] += $(i + 1) }
		END { print s["ctls"] + 0, s["native_ctls"] + 0 }' "$stats" 2>/dev/null)"
}

redis_port=6399

redis_start() { # MODE
	rm -f /tmp/redis.stats
	if [[ $1 == shim ]]; then
		LD_PRELOAD=$preload VEPOLL_PRELOAD_STATS=/tmp/redis.stats \
			redis-server --port $redis_port --bind 127.0.0.1 --save '' \
			--appendonly no --dir /tmp --logfile /tmp/redis.log &
	else
		redis-server --port $redis_port --bind 127.0.0.1 --save '' \
			--appendonly no --dir /tmp --logfile /tmp/redis.log &
	fi
	redis_pid=$!
	for _ in $(seq 100); do
		redis-cli -p $redis_port ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	echo "REAL-REDIS-ERROR $1: the server did not answer"
	return 1
}

redis_stop() {
	kill "$redis_pid" 2>/dev/null || true
	wait "$redis_pid" 2>/dev/null || true
}

guest_redis() { # ROUNDS
	local rounds=$1 r mode fd n=30000 val
	# vm.sh's init brings loopback up; make sure.
	ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
	for ((r = 1; r <= rounds; r++)); do
		for mode in native shim; do
			redis_start $mode || continue
			if [[ $mode == shim ]]; then
				# vepoll, not epoll, serves the server's event loop.
				fd=$(grep -l '^vepoll-id:' /proc/"$redis_pid"/fdinfo/* 2>/dev/null | head -n1 || true)
				echo "REAL-REDIS-FDINFO $r ${fd:-missing}"
				val=$(redis-cli -p $redis_port set realprograms "r$r" >/dev/null &&
					redis-cli -p $redis_port get realprograms)
				echo "REAL-REDIS-SETGET $r $val"
			fi
			# The client is native in both runs: only the server differs.
			redis-benchmark -p $redis_port -c 50 -n $n -t set,get --csv |
				awk -F'"' -v m=$mode -v r=$r '$2 == "SET" || $2 == "GET" {
					print "REAL-REDIS", m, r, $2, $4 }' ||
				echo "REAL-REDIS-ERROR $mode: redis-benchmark failed"
			redis_stop
			if [[ $mode == shim && -e /tmp/redis.stats ]]; then
				echo "REAL-REDIS-STATS $(cat /tmp/redis.stats)"
			fi
		done
	done
}

nginx_port=8089
nginx_dir=/tmp/nginx
nginx_start() { # MODE
	local d=$nginx_dir i
	rm -rf $d
	mkdir -p $d/html
	echo vepoll >$d/html/index.html
	# accept_mutex off (nginx's default) and several workers: each worker
	# adds the listening socket with EPOLLEXCLUSIVE.
	cat >$d/nginx.conf <<-EOF
	worker_processes 4;
	pid $d/nginx.pid;
	error_log $d/error.log;
	events { worker_connections 512; accept_mutex off; }
	http {
		access_log off;
		client_body_temp_path $d/body; proxy_temp_path $d/proxy;
		fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi;
		scgi_temp_path $d/scgi;
		server { listen 127.0.0.1:$nginx_port; root $d/html; }
	}
	EOF
	local args=(-p "$d" -c "$d/nginx.conf" -e "$d/error.log" -g 'daemon off;')
	if [[ $1 == shim ]]; then
		LD_PRELOAD=$preload nginx "${args[@]}" &
	else
		nginx "${args[@]}" &
	fi
	nginx_pid=$!
	for ((i = 0; i < 100; i++)); do
		ab -q -n 1 http://127.0.0.1:$nginx_port/ >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "REAL-NGINX-ERROR $1: nginx did not answer"
	return 1
}

nginx_stop() {
	kill -QUIT "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
}

# Workers of the shimmed nginx, and how many hold a VEPOLLEXCLUSIVE watch
# (bit 28 of the mask in their instance's fdinfo).
nginx_exclusive() {
	local w n=0 total=0 line ev
	for w in $(pgrep -P "$nginx_pid"); do
		total=$((total + 1))
		while read -r line; do
			ev=$(awk '{ print $4 }' <<<"$line")
			if (((0x$ev & 0x10000000) != 0)); then
				n=$((n + 1))
				break
			fi
		done < <(grep -h '^tfd:' /proc/"$w"/fdinfo/* 2>/dev/null || true)
	done
	echo "$n $total"
}

guest_nginx() { # ROUNDS
	local rounds=$1 r mode rps failed
	ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
	for ((r = 1; r <= rounds; r++)); do
		for mode in native shim; do
			nginx_start $mode || continue
			if [[ $mode == shim ]]; then
				echo "REAL-NGINX-EXCL $r $(nginx_exclusive)"
			fi
			# A bounded time, keep-alive, 32 clients; ab is native in both.
			ab -k -q -c 32 -t 8 -n 1000000 http://127.0.0.1:$nginx_port/ \
				>/tmp/ab.out 2>&1 || echo "REAL-NGINX-ERROR $mode: ab failed"
			rps=$(awk '/^Requests per second:/ { print $4 }' /tmp/ab.out)
			failed=$(awk '/^Failed requests:/ { print $3 }' /tmp/ab.out)
			echo "REAL-NGINX $mode $r ${rps:-0} ${failed:-none}" \
				"$(grep -c '^Non-2xx' /tmp/ab.out || true)"
			nginx_stop
			echo "REAL-NGINX-ERRLOG $mode $r" \
				"$(grep -cE '\[(emerg|alert|crit|error)\]' $nginx_dir/error.log || true)"
		done
	done
}

if [[ ${1:-} == --in-guest ]]; then
	shift
	what=$1
	shift
	case $what in
	python) guest_python "$@" ;;
	pty) guest_pty ;;
	redis) guest_redis "$@" ;;
	nginx) guest_nginx "$@" ;;
	esac
	exit 0
fi

# ----------------------------------------------------------------- host side
quick=0 native=0 rounds=3 vmargs=()
while (($#)); do
	case $1 in
	--quick) quick=1 ;;
	--native) native=1 ;;
	--rounds)
		rounds=${2:?--rounds needs a number}
		shift
		;;
	--param)
		vmargs+=(--param "${2:?--param needs NAME=VALUE}")
		shift
		;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*)
		echo "realprograms.sh: unknown argument $1 (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

cd "$top"
start=$SECONDS
out=build/realprograms
mkdir -p "$out"

deps=(--python-suites)
((quick)) || deps+=(--redis --nginx)
"$top/scripts/deps.sh" "${deps[@]}"

make -s -C lib

suites=(test_epoll test_selectors)
((quick)) || suites+=(test_asyncio)
cmd="scripts/realprograms.sh --in-guest python shim ${suites[*]}"
((native == 0)) || cmd+="; scripts/realprograms.sh --in-guest python native ${suites[*]}"
cmd+="; scripts/realprograms.sh --in-guest pty"
((quick)) || cmd+="; scripts/realprograms.sh --in-guest redis $rounds"
((quick)) || cmd+="; scripts/realprograms.sh --in-guest nginx $rounds"
log=$out/run.log
timeout=900
((quick)) || timeout=3600
echo "realprograms.sh: in the VM: ${suites[*]}$( ((quick)) || echo ', redis, nginx') (log: $log)"
vmrc=0
scripts/vm.sh "${vmargs[@]}" --timeout $timeout --log "$out/console.log" \
	-- "$cmd" >"$log" 2>&1 || vmrc=$?
sed -i 's/\r//g' "$log"
status=0
fail() {
	echo "FAIL: $*"
	status=1
}

echo
echo "==== Python ($py -m test ${suites[*]})"
# Per suite, from unittest's verbose output on stdin: "Ran N tests" and
# its verdict. A suite is the last "[i/n] test_x" header seen.
py_summary() {
	awk '
		match($0, /\[ *[0-9]+\/[0-9]+\] (test_[a-z_0-9]+)/) {
			s = substr($0, RSTART, RLENGTH); sub(/.*\] /, "", s); cur = s; next }
		/^Ran [0-9]+ tests? in/ { ran[cur] = $2; next }
		/^(OK|FAILED)( \(.*\))?$/ && cur != "" { verdict[cur] = $0; order[++n] = cur; cur = "" }
		END {
			for (i = 1; i <= n; i++)
				printf "  %-16s %5d tests  %s\n", order[i], ran[order[i]], verdict[order[i]]
		}'
}
sed -n '1,/REAL-PY-EXIT shim/p' "$log" | py_summary
if ((native)); then
	echo "  native epoll baseline:"
	sed -n '/REAL-PY-EXIT shim/,/REAL-PY-EXIT native/p' "$log" | py_summary
fi

if grep -q '^REAL-PY-FDINFO ok' "$log"; then
	echo "  select.epoll() under the shim is a vepoll instance (fdinfo: vepoll-id)"
else
	fail "select.epoll() under the shim is not a vepoll instance"
fi
stats=$(grep -m1 '^REAL-PY-STATS' "$log" || true)
if [[ -n $stats ]]; then
	read -r _ _ procs _ creates _ ctls _ waits _ events _ ncreates _ nctls _ nwaits <<<"$stats"
	echo "  shim counters: $procs Python processes, $creates vepoll instances, $ctls ctl, $waits waits, $events events; native epoll: $ncreates creates, $nctls ctl, $nwaits waits"
	((creates > 0 && waits > 0)) || fail "vepoll served no epoll call"
	((ncreates + nctls + nwaits == 0)) || fail "some epoll calls went to native epoll"
else
	fail "no shim counters from the Python run"
fi

# Failed test cases under the shim, each explained or not.
mapfile -t failed < <(sed -n '1,/REAL-PY-EXIT shim/p' "$log" |
	sed -nE 's/^(FAIL|ERROR): [^ ]+ \(([^)]+)\).*/\2/p' | sort -u)
if ((${#failed[@]})); then
	echo "  failed under the shim:"
	for t in "${failed[@]}"; do
		if [[ -n ${KNOWN[$t]:-} ]]; then
			echo "    $t: known: ${KNOWN[$t]}"
		else
			echo "    $t: NOT EXPLAINED"
			status=1
		fi
	done
fi
pyrc=$(sed -nE 's/^REAL-PY-EXIT shim ([0-9]+).*/\1/p' "$log" | head -n1)
[[ -n $pyrc ]] || fail "the Python run did not finish (see $log)"
if [[ -n $pyrc && $pyrc != 0 && ${#failed[@]} == 0 ]]; then
	fail "python -m test exited $pyrc without a failed test case (see $log)"
fi

echo
echo "==== pty masters: asyncio's pty tests on the shim"
read -r _ arc actls anative <<<"$(grep -m1 '^REAL-PTY-ASYNCIO' "$log" || true)"
if [[ ${arc:-} == 0 && ${actls:-0} -gt 0 && ${anative:-1} == 0 ]]; then
	echo "  asyncio EPollEventLoopTests: the 3 pty tests pass, $actls ctl on vepoll, none on epoll"
else
	fail "asyncio's pty tests on the shim: exit ${arc:-none}, ${actls:-no} vepoll ctl, ${anative:-no} native ctl"
fi
if ((!quick)); then
	echo
	echo "==== redis-server + redis-benchmark -c 50 -n 30000 -t set,get (loopback, $rounds rounds per side)"
	if grep -q '^REAL-REDIS-FDINFO [0-9]* /proc/' "$log"; then
		echo "  the shimmed server's event loop is a vepoll instance ($(grep -m1 '^REAL-REDIS-FDINFO' "$log" | cut -d' ' -f3))"
	else
		fail "no vepoll instance in the shimmed redis-server's fdinfo"
	fi
	grep -q '^REAL-REDIS-SETGET [0-9]* r[0-9]' "$log" ||
		fail "SET/GET through redis-cli failed on the shimmed server"
	grep -m1 '^REAL-REDIS-STATS' "$log" | sed 's/^REAL-REDIS-STATS /  shim counters: /' || true
	# Median requests/s per side and test; the ratio of the medians.
	grep '^REAL-REDIS ' "$log" | awk '
		{ v[$2 " " $4] = v[$2 " " $4] " " $5 }
		function median(s,   a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
		}
		END {
			for (t = 1; t <= 2; t++) {
				name = t == 1 ? "SET" : "GET"
				nat = median(v["native " name]); shim = median(v["shim " name])
				if (!nat || !shim) { printf "  %s: no result\n", name; bad = 1; continue }
				r = shim / nat
				printf "  %s: native %.0f req/s, shim %.0f req/s, shim/native %.3f%s\n",
					name, nat, shim, r, (r < 0.9 ? "  (more than 10% slower)" : "")
				printf "    rounds: native%s | shim%s\n", v["native " name], v["shim " name]
			}
			exit bad
		}' || fail "redis-benchmark gave no result"

	echo
	echo "==== nginx, 4 workers, accept_mutex off + ab -k -c 32 -t 8 (loopback, $rounds rounds per side)"
	read -r _ _ nexcl nwork <<<"$(grep -m1 '^REAL-NGINX-EXCL' "$log" || true)"
	if [[ -n ${nwork:-} && ${nwork:-0} -gt 1 && $nexcl == "$nwork" ]]; then
		echo "  every shimmed worker ($nwork) holds a VEPOLLEXCLUSIVE watch (fdinfo)"
	else
		fail "shimmed nginx workers with a VEPOLLEXCLUSIVE watch: ${nexcl:-none} of ${nwork:-none}"
	fi
	grep '^REAL-NGINX-ERROR' "$log" | sed 's/^/  /' && fail "nginx or ab failed"
	awk '$1 == "REAL-NGINX" && ($5 != "0" || $6 != "0") { bad = 1 }
		$1 == "REAL-NGINX-ERRLOG" && $4 != "0" { bad = 1 }
		END { exit bad }' "$log" ||
		fail "failed or non-2xx requests, or errors in nginx's log (see $log)"
	grep '^REAL-NGINX ' "$log" | awk '
		{ v[$2] = v[$2] " " $4 }
		function median(s,   a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
		}
		END {
			nat = median(v["native"]); shim = median(v["shim"])
			if (!nat || !shim) { print "  no result"; exit 1 }
			printf "  native %.0f req/s, shim %.0f req/s, shim/native %.3f\n", nat, shim, shim / nat
			printf "    rounds: native%s | shim%s\n", v["native"], v["shim"]
		}' || fail "ab gave no result"
fi

echo
if ((vmrc != 0)); then
	fail "scripts/vm.sh exited $vmrc (see $log)"
	tail -n 20 "$log"
fi
echo "realprograms: $( ((status)) && echo FAILED || echo OK) in $((SECONDS - start)) s (log: $log)"
exit $status
