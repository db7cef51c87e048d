#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/dkms.sh — register, build and install vepoll with Debian's DKMS
# (`make dkms`), for every installed kernel that has its headers.
#
# usage: scripts/dkms.sh [install] [--kernel VER]...
#        scripts/dkms.sh remove
#        scripts/dkms.sh status
#
#   install   (default) copy the module's sources to /usr/src/vepoll-VERSION
#             (scripts/dkms-src.sh; VERSION is the repo's VERSION file),
#             `dkms add` them (replacing an earlier registration of the same
#             version, so the tree's current sources are what is built),
#             then `dkms build` and `dkms install` for each kernel VER with a
#             /lib/modules/VER/build tree (linux-headers-VER), or only for
#             the --kernel ones. The module lands in
#             /lib/modules/VER/updates/dkms/vepoll.ko (depmod is run), so
#             `modprobe vepoll` (or `scripts/load.sh load`) finds it.
#   remove    `dkms remove vepoll/VERSION --all` and delete /usr/src/vepoll-VERSION
#   status    `dkms status vepoll`
#
# Needs root; installs dkms first (scripts/deps.sh --only --dkms). Refuses
# to touch a /usr/src/vepoll-VERSION that the vepoll-dkms package owns.
# Never loads anything: on a host whose kernel cannot load modules it only
# builds and installs for the kernels whose headers are there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() {
	echo "dkms.sh: $*" >&2
	exit 1
}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

action=install
kernels=()
while (($#)); do
	case $1 in
	install | remove | status) action=$1 ;;
	--kernel)
		(($# >= 2)) || die "--kernel needs a kernel version"
		kernels+=("$2")
		shift
		;;
	-h | --help) usage && exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done

"$top/scripts/deps.sh" --only --dkms
((EUID == 0)) || die "needs root (try: sudo $0 $action)"
version=$(cat "$top/VERSION")
name=vepoll
src=/usr/src/$name-$version

owned_by_package() { dpkg-query -S "$src" >/dev/null 2>&1; }
registered() { [[ -e /var/lib/dkms/$name/$version ]]; }

case $action in
status)
	dkms status "$name"
	exit 0
	;;
remove)
	! owned_by_package || die "$src belongs to the vepoll-dkms package: apt-get remove vepoll-dkms"
	if registered; then
		dkms remove "$name/$version" --all
	fi
	rm -rf "$src"
	echo "dkms.sh: $name/$version removed"
	exit 0
	;;
esac

if ((${#kernels[@]} == 0)); then
	for d in /lib/modules/*/build; do
		[[ -e $d/Makefile ]] || continue
		kernels+=("$(basename "$(dirname "$d")")")
	done
	((${#kernels[@]})) ||
		die "no kernel with headers installed (apt-get install linux-headers-amd64)"
fi
for k in "${kernels[@]}"; do
	[[ -e /lib/modules/$k/build/Makefile ]] ||
		die "no headers for kernel $k (/lib/modules/$k/build): apt-get install linux-headers-$k"
done

owned_by_package && die "$src belongs to the installed vepoll-dkms package: it is already" \
	"registered with DKMS; remove the package (apt-get remove vepoll-dkms) to use this script"
# A fresh registration of the tree's current sources.
if registered; then
	dkms remove "$name/$version" --all
fi
rm -rf "$src"
"$top/scripts/dkms-src.sh" "$src"
dkms add "$name/$version"

status=0
for k in "${kernels[@]}"; do
	echo "dkms.sh: $name/$version for $k"
	if ! dkms build "$name/$version" -k "$k"; then
		cat "/var/lib/dkms/$name/$version/build/make.log" >&2 || true
		echo "dkms.sh: build for $k failed" >&2
		status=1
		continue
	fi
	if ! dkms install "$name/$version" -k "$k"; then
		echo "dkms.sh: install for $k failed" >&2
		status=1
		continue
	fi
	ko=$(find "/lib/modules/$k/updates/dkms" -name "$name.ko*" 2>/dev/null | head -n 1)
	[[ -n $ko ]] || { echo "dkms.sh: no $name.ko installed for $k" >&2; status=1; continue; }
	echo "dkms.sh: $k: $ko (version $(modinfo -F version "$ko" || true), vermagic $(modinfo -F vermagic "$ko" | cut -d' ' -f1))"
done
dkms status "$name"
exit $status
