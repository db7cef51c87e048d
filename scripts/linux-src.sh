#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Extract files from Debian's linux-source tarball into build/linux-src/
# and print that directory. Kernel code is never committed: what the
# project needs from it (checkpatch.pl, kselftest_harness.h) is taken from
# the tarball at build time.
#
#   scripts/linux-src.sh PATH...   (paths inside the kernel tree)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/linux-src
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
	"$top/scripts/deps.sh" >&2
	tarball=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n 1)
fi
prefix=$(basename "$tarball" .tar.xz)

missing=()
for path in "$@"; do
	[ -e "$out/$path" ] || missing+=("$prefix/$path")
done
if [ ${#missing[@]} -gt 0 ]; then
	mkdir -p "$out"
	tar -xJf "$tarball" -C "$out" --strip-components=1 "${missing[@]}"
fi
echo "$out"
