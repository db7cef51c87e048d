#!/usr/bin/env bash
# scripts/deps.sh — install the Debian packages the vepoll dev tooling needs.
#
# usage: scripts/deps.sh [--kernel-build] [--python-suites] [--redis]
#                        [--nginx] [--dkms] [--deb] [--only] [--check]
#                        [PACKAGE...]
#   (none)           what building the module, make lint, the selftests
#                    (64 and 32-bit), the demo, libvepoll and its tests and
#                    the VM need: all of scripts/demo.sh (scripts/test.sh
#                    adds --python-suites and --kernel-build)
#   --kernel-build   also what building the debug kernel from linux-source
#                    needs (scripts/debug-kernel.sh: bc, bison, flex, ...)
#   --python-suites  also Debian's Python test suites (libpython3.11-
#                    testsuite), for scripts/realprograms.sh [--quick]
#   --redis          also redis-server and redis-benchmark, for
#                    scripts/realprograms.sh without --quick
#   --nginx          also nginx and ab (apache2-utils), for
#                    scripts/realprograms.sh without --quick
#   --dkms           also Debian's dkms, for scripts/dkms.sh (make dkms)
#   --deb            also what building vepoll-dkms_VERSION_all.deb needs
#                    (scripts/deb.sh, make deb: debhelper, dh-dkms)
#   --only           only the groups and packages named, not the base set
#                    (what scripts/deb.sh alone needs: --only --deb)
#   --check          only report what is missing; exit 1 if anything is
#   PACKAGE...       also these packages (what one script alone needs)
#
# Needs nothing but bash, coreutils and apt (dpkg-query, apt-get): it is
# what every entry script runs first, on a machine that has no make and no
# compiler yet. Idempotent and silent when everything is already installed.
# Runs `apt-get update` once, and only when something is missing. Must be
# root to install; without root it lists what is missing and exits 1.
set -euo pipefail

# Module build + VM boot (scripts/vm.sh) + static analysis + selftests +
# libvepoll. The guest runs the host's own root (read-only, over 9p), so
# what a test runs in the VM is installed here too.
pkgs=(
	make gcc libc6-dev   # kbuild, the selftests, the demo, libvepoll
	g++                  # the uapi and libvepoll headers as C++11/C++17
	gcc-multilib         # 32-bit selftests (compat ioctl)
	binutils             # ld, ar (libvepoll.a), readelf (vm.sh's PVH boot)
	pkg-config           # lib tests: programs built against vepoll.pc
	perl                 # checkpatch.pl (make lint), kbuild's scripts
	git                  # make lint lists the sources with git ls-files
	qemu-system-x86      # the VM (TCG)
	linux-image-amd64    # a kernel to boot in the VM
	linux-headers-amd64  # the kbuild tree to build vepoll.ko against
	busybox-static       # the VM's initramfs userland
	sparse               # make C=2
	linux-source         # checkpatch.pl, kselftest_harness.h, debug kernel
	cpio                 # initramfs archive
	kmod                 # insmod/rmmod/modinfo (host checks and guest)
	xz-utils zstd        # the linux-source tarball; compressed .ko files
	coreutils sed util-linux  # timeout, sed -u, dmesg, setsid, flock
	python3              # Debian's /usr/bin/python3: bench.sh, realprograms.sh
	python3-docutils     # make lint renders Documentation.rst (rst2html)
	python3-pygments     # ... and its code-block directives
)
# Building a kernel from linux-source (scripts/debug-kernel.sh).
kbuild_pkgs=(build-essential bc bison flex libelf-dev libssl-dev dwarves rsync)
# Python's own test suites (test_epoll, test_selectors, test_asyncio).
python_pkgs=(python3.11 libpython3.11-testsuite)
redis_pkgs=(redis-server redis-tools)
nginx_pkgs=(nginx apache2-utils)
# DKMS (scripts/dkms.sh), and the Debian package of it (scripts/deb.sh).
dkms_pkgs=(dkms)
deb_pkgs=(dpkg-dev build-essential debhelper dh-dkms)

check_only=0
for arg in "$@"; do
	[[ $arg != --only ]] || pkgs=()
done
for arg in "$@"; do
	case $arg in
	--kernel-build) pkgs+=("${kbuild_pkgs[@]}") ;;
	--python-suites) pkgs+=("${python_pkgs[@]}") ;;
	--redis) pkgs+=("${redis_pkgs[@]}") ;;
	--nginx) pkgs+=("${nginx_pkgs[@]}") ;;
	--dkms) pkgs+=("${dkms_pkgs[@]}") ;;
	--deb) pkgs+=("${deb_pkgs[@]}") ;;
	--check) check_only=1 ;;
	--only) ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*)
		echo "deps.sh: unknown argument: $arg (try --help)" >&2
		exit 2
		;;
	*) pkgs+=("$arg") ;;
	esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this script supports Debian/Ubuntu only" >&2
	exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
	# "ii " = wanted and installed; anything else (absent, rc, half) is missing.
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == "ii "* ]] || missing+=("$p")
done

((${#missing[@]} == 0)) && exit 0

if ((check_only)); then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	exit 1
fi
if ((EUID != 0)); then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root (e.g. sudo $0) to install them" >&2
	exit 1
fi

echo "deps.sh: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
