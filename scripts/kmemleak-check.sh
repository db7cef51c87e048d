#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run in the guest after the tests: ask kmemleak for a scan and fail if it
# suspects any leak. On a kernel without kmemleak, say so and pass.
km=/sys/kernel/debug/kmemleak
[ -e "$km" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ ! -w "$km" ]; then
	echo "kmemleak-check: $km not available: not checked"
	exit 0
fi
# Two scans, as Documentation/dev-tools/kmemleak.rst advises: an object
# only counts once it has been unreferenced for a whole scan.
echo scan >"$km"
sleep 6
echo scan >"$km"
leaks=$(cat "$km")
if [ -n "$leaks" ]; then
	echo "$leaks"
	echo "kmemleak-check: suspected leaks (above)"
	exit 1
fi
echo "kmemleak-check: no leak suspected"
