#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the VM, load vepoll.ko and run examples/vepoll_demo.
# Installs what it needs (scripts/deps.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
make -s KDIR="$(scripts/kdir.sh)" modules
make -s -C examples
exec scripts/vm.sh --log build/vm-demo.console -- examples/vepoll_demo
