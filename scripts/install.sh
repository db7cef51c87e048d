#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/install.sh install|uninstall — `make install` / `make uninstall`.
#
# install    the module for one kernel (kbuild's modules_install into
#            /lib/modules/KVER/$INSTALL_MOD_DIR, then depmod KVER), the
#            udev rule /etc/udev/rules.d/60-vepoll.rules (/dev/vepoll mode
#            0666, the misc device's own default: edit it to restrict),
#            and libvepoll, libvepoll-preload.so, the headers and vepoll.pc
#            (lib/Makefile's install, under PREFIX). Every file and every
#            directory it had to create is listed in the manifest
#            PREFIX/share/vepoll/install-manifest.
# uninstall  removes exactly what the manifest lists (files, then the
#            directories it created if they are empty), then depmod.
#
# Environment (the Makefile passes them): KDIR (kbuild tree, required),
# DESTDIR (staging root: nothing outside it is touched and depmod and udev
# are not run), PREFIX (default /usr/local), INSTALL_MOD_DIR (default extra).
# The module must be built first (make); lib/Makefile's install builds the
# libraries (not their tests).
set -euo pipefail

stage=
top=$(cd "$(dirname "$0")/.." && pwd)
die() {
	echo "install.sh: $*" >&2
	exit 1
}
action=${1:?usage: scripts/install.sh install|uninstall}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
INSTALL_MOD_DIR=${INSTALL_MOD_DIR:-extra}
manifest=$PREFIX/share/vepoll/install-manifest
rule=/etc/udev/rules.d/60-vepoll.rules

# The release the kernel reports (uname -r): Debian's headers have their
# upstream version in kernel.release, the real one in utsrelease.h.
kver() {
	local h=$KDIR/include/generated/utsrelease.h
	[[ -r $h ]] || die "no $h: is KDIR=$KDIR a configured kbuild tree?"
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$h"
}

depmod_for() {
	if [[ -z $DESTDIR ]] && command -v depmod >/dev/null; then
		depmod -a "$1"
	fi
}
udev_reload() {
	if [[ -z $DESTDIR ]] && command -v udevadm >/dev/null; then
		udevadm control --reload 2>/dev/null || true
	fi
}

install_all() {
	local kv e
	: "${KDIR:?KDIR is not set}"
	kv=$(kver)
	[[ -e $top/vepoll.ko ]] || die "vepoll.ko is not built (make KDIR=$KDIR)"
	[[ $(modinfo -F vermagic "$top/vepoll.ko" | cut -d' ' -f1) == "$kv" ]] ||
		die "vepoll.ko was not built for $kv (make KDIR=$KDIR)"
	[[ ! -e $DESTDIR$manifest ]] ||
		die "already installed ($DESTDIR$manifest): make uninstall first"

	# Everything goes to a staging root first, so that the manifest is
	# exactly what is copied from it.
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	# DEPMOD=true: depmod runs once, on the real tree, below (kbuild's own
	# run needs a System.map, which headers lack: it only warns).
	# CONFIG_MODULE_SIG_ALL=: the distribution's signing key is not in its
	# headers package, so kbuild's sign-file could only fail.
	make -s -C "$KDIR" M="$top" INSTALL_MOD_PATH="$stage" \
		INSTALL_MOD_DIR="$INSTALL_MOD_DIR" DEPMOD=true \
		CONFIG_MODULE_SIG_ALL= modules_install 2>&1 |
		{ grep -v "missing 'System.map' file" || true; } >&2
	find "$stage/lib/modules" -type f ! -name '*.ko*' -delete
	[[ -d $stage/lib/modules/$kv ]] || die "modules_install did not install for $kv"
	install -D -m 644 "$top/scripts/60-vepoll.rules" "$stage$rule"
	make -s -C "$top/lib" DESTDIR="$stage" PREFIX="$PREFIX" install
	install -d "$stage${manifest%/*}"
	: >"$stage$manifest"

	local list=()
	mapfile -t list < <(cd "$stage" && find . -mindepth 1 | sed 's/^\.//' | sort)
	{
		for e in "${list[@]}"; do
			if [[ -d $stage$e && ! -L $stage$e ]]; then
				[[ -d $DESTDIR$e ]] || echo "d $e"
			else
				echo "f $e"
			fi
		done
		echo "k $kv"
	} >"$stage$manifest.new"
	mv "$stage$manifest.new" "$stage$manifest"
	for e in "${list[@]}"; do
		if [[ -d $stage$e && ! -L $stage$e ]]; then
			install -d -m 755 "$DESTDIR$e"
		else
			cp -P --preserve=mode,timestamps "$stage$e" "$DESTDIR$e"
			echo "  $DESTDIR$e"
		fi
	done
	depmod_for "$kv"
	udev_reload
	echo "install.sh: installed for $kv; manifest $DESTDIR$manifest"
}

uninstall_all() {
	local m=$DESTDIR$manifest kind path kv= dirs=()
	[[ -e $m ]] || die "nothing installed: no $m"
	while read -r kind path; do
		case $kind in
		f) rm -f "$DESTDIR$path" && echo "  removed $DESTDIR$path" ;;
		d) dirs+=("$path") ;;
		k) kv=$path ;;
		esac
	done <"$m"
	# Children before parents; a directory something else put files in stays.
	for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
		rmdir "$DESTDIR${dirs[i]}" 2>/dev/null || true
	done
	[[ -z $kv ]] || depmod_for "$kv"
	udev_reload
	echo "install.sh: uninstalled${kv:+ (module for $kv)}"
}

case $action in
install) install_all ;;
uninstall) uninstall_all ;;
*) die "unknown action '$action' (install or uninstall)" ;;
esac
