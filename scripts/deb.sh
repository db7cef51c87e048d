#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/deb.sh — build build/deb/vepoll-dkms_VERSION_all.deb (make deb),
# the DKMS source of the module as a Debian binary package, with Debian's
# own tools: dpkg-buildpackage, dh and dh-dkms (debian/). VERSION must be
# debian/changelog's version (a native package: no Debian revision).
#
# The package is built from a copy of the files it needs in build/deb/src/,
# so dpkg-buildpackage writes nothing into the tree or beside it.
# Installs debhelper and dh-dkms first (scripts/deps.sh --only --deb; root).
#   scripts/deb.sh [--check-only]   (--check-only: only the version check)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
die() {
	echo "deb.sh: $*" >&2
	exit 1
}

version=$(cat VERSION)
changelog=$(sed -n '1s/^vepoll (\([^)]*\)).*/\1/p' debian/changelog)
[[ $changelog == "$version" ]] ||
	die "debian/changelog is at '$changelog', VERSION at '$version': add a changelog entry (dch -v $version)"
[[ ${1:-} != --check-only ]] || exit 0

scripts/deps.sh --only --deb
out=$top/build/deb
src=$out/src/vepoll-$version
rm -rf "$out"
mkdir -p "$src"
cp -a debian "$src/"
install -D -m 755 scripts/dkms-src.sh "$src/scripts/dkms-src.sh"
scripts/dkms-src.sh --no-conf "$src"
install -m 644 dkms.conf "$src/"
(cd "$src" && dpkg-buildpackage -b --no-sign) >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
rm -rf "$out/src"
deb=$out/vepoll-dkms_${version}_all.deb
[[ -e $deb ]] || die "no $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\):/  &/p'
dpkg-deb --contents "$deb" | awk '{ print "  " $NF }'
echo "deb.sh: $deb"
