#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the kbuild tree to build vepoll against: the running kernel's when
# installed, else the newest installed linux-headers tree (this host's own
# kernel cannot load modules; the module runs in the VM, on that kernel).
set -euo pipefail

running=/lib/modules/$(uname -r)/build
if [ -d "$running" ]; then
	echo "$running"
	exit 0
fi
newest=$(ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)
echo "${newest:-$running}"
