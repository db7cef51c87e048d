#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/dkms-src.sh DEST: copy what DKMS builds vepoll from (Kbuild,
# VERSION, the module's C sources and headers, dkms.conf with its
# PACKAGE_VERSION filled in from VERSION) into DEST, which it creates.
# The one list of the DKMS source set: scripts/dkms.sh (/usr/src/vepoll-VER)
# and debian/rules (the vepoll-dkms package) both use it.
#   scripts/dkms-src.sh [--no-conf] DEST   (--no-conf: leave out dkms.conf,
#                                          dh_dkms installs it itself)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
conf=1
if [[ ${1:-} == --no-conf ]]; then
	conf=0
	shift
fi
dest=${1:?usage: scripts/dkms-src.sh [--no-conf] DEST}
version=$(cat "$top/VERSION")
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] ||
	{ echo "dkms-src.sh: bad version '$version' in VERSION" >&2; exit 1; }

cd "$top"
# vepoll*.[ch] minus kbuild's generated vepoll.mod.c: what Kbuild builds and
# every header it includes (vepoll.h, vepoll_uapi.h, any vepoll_*.h).
mapfile -t srcs < <(ls vepoll*.[ch] | grep -v '\.mod\.c$')
install -d "$dest"
install -m 644 Kbuild VERSION "${srcs[@]}" "$dest/"
if ((conf)); then
	sed "s/#MODULE_VERSION#/$version/" dkms.conf >"$dest/dkms.conf"
	chmod 644 "$dest/dkms.conf"
fi
