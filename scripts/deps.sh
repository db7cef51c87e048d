#!/usr/bin/env bash
# scripts/deps.sh — install the Debian packages the vepoll dev tooling needs.
#
# usage: scripts/deps.sh [--kernel-build] [--check] [PACKAGE...]
#   --kernel-build  also install what building a (debug) kernel from
#                   linux-source needs (bc, bison, flex, libelf-dev, ...).
#   --check         only report what is missing; exit 1 if anything is.
#   PACKAGE...      also these packages (what one script alone needs).
#
# Idempotent and silent when everything is already installed. Runs
# `apt-get update` once, and only when something is missing. Must be root to
# install; without root it lists what is missing and exits 1.
set -euo pipefail

# Module build + VM boot (scripts/vm.sh) + static analysis + selftests.
pkgs=(
	qemu-system-x86      # the VM (TCG)
	linux-image-amd64    # a kernel to boot in the VM
	linux-headers-amd64  # the kbuild tree to build vepoll.ko against
	busybox-static       # the VM's initramfs userland
	sparse               # make C=1
	linux-source         # ioctl-number.rst, reference sources, debug kernel
	gcc-multilib         # 32-bit selftests (compat ioctl)
	make gcc
	cpio                 # initramfs archive
	kmod                 # insmod/rmmod/modinfo (host checks and guest)
	xz-utils zstd        # compressed kernel modules (.ko.xz / .ko.zst)
	coreutils sed util-linux  # timeout, sed -u, dmesg, setsid
	python3              # selftest helpers run in the guest via 9p
)
# Building a kernel from linux-source (debug kernel with KASAN/lockdep).
kbuild_pkgs=(bc bison flex libelf-dev libssl-dev dwarves rsync)

check_only=0
for arg in "$@"; do
	case $arg in
	--kernel-build) pkgs+=("${kbuild_pkgs[@]}") ;;
	--check) check_only=1 ;;
	-h | --help)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
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
