#!/usr/bin/env bash
# scripts/load.sh — load, unload and inspect vepoll.ko on the running kernel.
#
# usage: scripts/load.sh [--installed] [--dry-run] [load [PARAM=VALUE...] |
#                        unload | reload [PARAM=VALUE...] | status]
#
#   --installed  use the module installed for the running kernel (by DKMS:
#            scripts/dkms.sh, the vepoll-dkms package; or by make install),
#            loaded with `modprobe vepoll`, instead of the tree's vepoll.ko
#            (or VEPOLL_KO).
#            Also what happens without it when the tree has no vepoll.ko
#            and cannot build one but an installed module exists.
#   load     build vepoll.ko if needed, insmod it with the parameters given
#            (max_instances, max_watches, wait_cap_ms, max_user_instances,
#            reserved_instances),
#            then show the status. Fails if it is already loaded.
#   unload   rmmod it (refused by the kernel while a /dev/vepoll or instance
#            descriptor is open); succeeds if it is not loaded.
#   reload   unload (if loaded), then load.
#   status   (default) show whether it is loaded, its refcount, parameters
#            and /dev/vepoll. Exit 0 when loaded, 3 when not.
#
# For a machine running the kernel the module is built for (a dev VM, or
# inside scripts/vm.sh: `scripts/vm.sh --no-module -- scripts/load.sh load
# max_watches=8`), never for a host whose kernel cannot load modules.
# Needs root (except status), /proc/modules, and to build, the kernel's kbuild
# tree (KDIR, default /lib/modules/$(uname -r)/build: linux-headers-VER).
# A tree that cannot be written (the VM's read-only 9p root) is not rebuilt:
# the existing .ko is used if it was built for this kernel.
#
# Environment: KDIR (kbuild tree), VEPOLL_KO (module file, default
# <repo>/vepoll.ko; no build when set).
# Dry run: `scripts/load.sh --dry-run ACTION ...` prints the commands that
# change the system (insmod, modprobe, rmmod) instead of running them.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
release=$(uname -r)
KDIR=${KDIR:-/lib/modules/$release/build}

die() {
	echo "load.sh: $*" >&2
	exit 1
}
note() { echo "load.sh: $*" >&2; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

installed=0 dry=0
while (($#)); do
	case $1 in
	--installed) installed=1 ;;
	--dry-run) dry=1 ;;
	*) break ;;
	esac
	shift
done
action=${1:-status}
(($# == 0)) || shift
case $action in
load | reload) ;;
unload | status) (($# == 0)) || die "$action takes no parameters" ;;
-h | --help) usage && exit 0 ;;
*) die "unknown action '$action' (try --help)" ;;
esac

# The module installed for the running kernel, as modprobe finds it.
installed_ko() { modinfo -n vepoll 2>/dev/null | grep -v '^(builtin)$'; }
use_installed() {
	ko=$(installed_ko) ||
		die "no vepoll module installed for $release (scripts/dkms.sh, the" \
			"vepoll-dkms package or make install put one in /lib/modules/$release)"
	installed=1 build=0
}

if ((installed)); then
	use_installed
elif [[ -v VEPOLL_KO ]]; then
	ko=$VEPOLL_KO build=0
else
	ko=$REPO/vepoll.ko build=1
fi
modname=$(basename "$ko")
modname=${modname%%.ko*}
modname=${modname//-/_}
dev=/dev/$modname

# Commands that change the system; --dry-run only prints them.
act() {
	if ((dry)); then
		echo "load.sh: would run: $*"
	else
		"$@"
	fi
}

# The most basic check first: it is the one a container or a host like the
# project's build machine fails.
[[ -e /proc/modules ]] ||
	die "kernel $release has no loadable-module support (/proc/modules is" \
		"missing): load $modname in a VM instead (scripts/vm.sh)"

loaded() { [[ -d /sys/module/$modname/parameters || -e /sys/module/$modname/initstate ]]; }

status() {
	local f
	if ! loaded; then
		echo "$modname: not loaded (module file: $ko)"
		return 3
	fi
	echo "$modname: loaded, refcnt $(cat "/sys/module/$modname/refcnt" 2>/dev/null || echo '?')," \
		"state $(cat "/sys/module/$modname/initstate" 2>/dev/null || echo '?')"
	if [[ -d /sys/module/$modname/parameters ]]; then
		echo "parameters (/sys/module/$modname/parameters):"
		for f in "/sys/module/$modname/parameters"/*; do
			[[ -e $f ]] || continue
			printf '  %s=%s\n' "$(basename "$f")" "$(cat "$f" 2>/dev/null || echo '?')"
		done
	fi
	if [[ -e $dev ]]; then
		echo "device: $(ls -l "$dev")"
	else
		echo "device: $dev missing"
	fi
}

need_root() {
	((EUID == 0)) || die "$action needs root (try: sudo $0 $action${*:+ $*})"
}

vermagic() { modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1; }

# Build with kbuild when possible (it knows what is stale); otherwise settle
# for an existing .ko built for this kernel.
build() {
	local why=
	((build)) || return 0
	if [[ ! -e $KDIR/Makefile ]]; then
		why="no kbuild tree at $KDIR: install linux-headers-$release (apt-get install linux-headers-$release) or set KDIR"
	elif [[ ! -w $REPO ]] || ! touch "$REPO/.load-sh-probe" 2>/dev/null; then
		why="$REPO is read-only"
	else
		rm -f "$REPO/.load-sh-probe"
		make -s --no-print-directory -C "$REPO" KDIR="$KDIR" ||
			die "building $ko failed (make -C $REPO KDIR=$KDIR)"
		return 0
	fi
	if [[ ! -e $ko ]] && [[ ! -v VEPOLL_KO ]] && installed_ko >/dev/null; then
		use_installed
		note "no $REPO/vepoll.ko and cannot build one ($why); using the installed $ko"
		return 0
	fi
	[[ -e $ko ]] || die "$ko is missing and cannot be built: $why"
	[[ $(vermagic) == "$release" ]] ||
		die "$ko was built for $(vermagic), not $release, and cannot be rebuilt: $why"
	note "not rebuilding ($why); using the existing $ko"
}

# A usable .ko for this kernel, with every parameter named known to it
# (the kernel only warns about an unknown one, so refuse typos here).
prepare() {
	local p known
	build
	[[ -e $ko ]] || die "$ko not found"
	[[ $(vermagic) == "$release" ]] ||
		die "$ko was built for $(vermagic), the running kernel is $release"
	known=" $(modinfo -F parmtype "$ko" | cut -d: -f1 | tr '\n' ' ')"
	for p in "$@"; do
		[[ $p =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "bad parameter '$p' (want NAME=VALUE)"
		[[ $known == *" ${p%%=*} "* ]] ||
			die "$modname has no parameter '${p%%=*}' (it has:${known% })"
	done
}

load() {
	need_root "$@"
	! loaded || die "$modname is already loaded (use: $0 reload [PARAM=VALUE...])"
	if ((installed)); then
		act modprobe "$modname" "$@" || die "modprobe $modname $* failed (see dmesg)"
	else
		act insmod "$ko" "$@" || die "insmod $ko $* failed (see dmesg)"
	fi
	((!dry)) || return 0
	# udev (on a real system) creates the node asynchronously.
	for _ in {1..50}; do
		[[ -e $dev ]] && break
		sleep 0.1
	done
	status
}

unload() {
	need_root
	if ! loaded; then
		echo "$modname: not loaded"
		return 0
	fi
	if ! act rmmod "$modname"; then
		die "rmmod $modname failed (refcnt $(cat "/sys/module/$modname/refcnt" 2>/dev/null || echo '?')):" \
			"close every $dev and instance descriptor first"
	fi
	((dry)) || echo "$modname: unloaded"
}

case $action in
load)
	need_root "$@"
	prepare "$@"
	load "$@"
	;;
unload) unload ;;
reload)
	# Check the new module and parameters before taking the old one away.
	need_root "$@"
	prepare "$@"
	unload
	load "$@"
	;;
status) status ;;
esac
