#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's demo command (also `make demo`): boot the VM, load vepoll.ko
# and run examples/vepoll_demo. Needs only bash to start: it installs the
# rest first (scripts/deps.sh; as root, on Debian 12).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
make -s KDIR="$(scripts/kdir.sh)" modules
make -s -C examples
exec scripts/vm.sh --log build/vm-demo.console -- examples/vepoll_demo
