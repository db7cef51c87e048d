#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make lint: the module must build without a warning at W=1, pass sparse
# (C=2) without a warning, every C source must be checkpatch --strict
# clean, Documentation.rst must render with docutils without a warning
# (build/doc/Documentation.html) and debian/changelog must be at VERSION.
# Usage: scripts/lint.sh KDIR
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kdir=${1:?usage: scripts/lint.sh KDIR}
cd "$top"
"$top/scripts/deps.sh"
status=0

# Fail on any compiler or sparse diagnostic, not only on errors.
kbuild_clean() {
	local what=$1 log
	shift
	log=$(make -C "$kdir" M="$top" "$@" modules 2>&1) || {
		echo "$log"
		echo "lint: $what: build failed"
		return 1
	}
	if grep -E 'warning:|error:' <<<"$log"; then
		echo "lint: $what: not clean"
		return 1
	fi
	echo "lint: $what: clean"
}

# Force every object to be rebuilt (and checked) each time.
make -C "$kdir" M="$top" clean >/dev/null
kbuild_clean "W=1 build" W=1 || status=1
kbuild_clean "sparse (C=2)" C=2 || status=1

src=$("$top/scripts/linux-src.sh" scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch)
checkpatch() {
	local what=$1
	shift
	if "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--show-types "$@"; then
		echo "lint: checkpatch --strict: $what: clean"
	else
		echo "lint: checkpatch --strict: $what: not clean"
		return 1
	fi
}
mapfile -t kernel < <(git ls-files -co --exclude-standard -- 'vepoll*.[ch]' |
	grep -v -e '\.mod\.c$' -e '^vepoll_uapi\.h$')
mapfile -t user < <(git ls-files -co --exclude-standard -- \
	vepoll_uapi.h 'selftests/*.[ch]' 'examples/*.[ch]' 'bench/*.[ch]' \
	'lib/*.[ch]' 'lib/tests/*.[ch]')
checkpatch "module (${#kernel[@]} files)" -f "${kernel[@]}" || status=1
# User-space code cannot use the kernel-internal helpers checkpatch
# suggests: BIT(), u64 and friends, __printf() and __noreturn. The uapi
# header's _Static_assert is C11, not CamelCase. Split strings are only
# wrong in kernel messages, which people grep the source for.
checkpatch "user space (${#user[@]} files)" \
	--ignore BIT_MACRO,PREFER_KERNEL_TYPES,PREFER_DEFINED_ATTRIBUTE_MACRO,CAMELCASE,SPLIT_STRING \
	-f "${user[@]}" || status=1
rm -f "$top"/.checkpatch-camelcase.*

# Documentation.rst must render with Debian's docutils without a warning.
"$top/scripts/doc.sh" || status=1
# The package's version is the module's (VERSION).
"$top/scripts/deb.sh" --check-only && echo "lint: debian/changelog: at VERSION" ||
	status=1
exit $status
