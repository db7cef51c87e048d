#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/doc.sh — render Documentation.rst to build/doc/Documentation.html
# with Debian's docutils (python3-docutils, run by /usr/bin/python3, never
# another python3 on PATH), failing on any warning or error (--halt=warning
# stops at the first one, and docutils exits non-zero then). make doc, and
# part of make lint.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=build/doc/Documentation.html
mkdir -p build/doc
# Debian's rst2html5 (python3-docutils), run by /usr/bin/python3 explicitly
# so that a pyenv or venv python3 first on PATH cannot step in.
"$top/scripts/deps.sh" --only python3-docutils python3-pygments
if ! log=$(/usr/bin/python3 /usr/bin/rst2html5 --halt=warning \
	--report=warning --no-datestamp Documentation.rst "$out.tmp" 2>&1) ||
	[[ -n $log ]]; then
	[[ -z $log ]] || echo "$log"
	rm -f "$out.tmp"
	echo "lint: Documentation.rst: docutils reports problems"
	exit 1
fi
mv "$out.tmp" "$out"
echo "lint: Documentation.rst: renders cleanly ($out)"
