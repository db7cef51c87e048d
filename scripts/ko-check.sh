#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# scripts/ko-check.sh [COMMAND [ARGS...]] — in the VM: fail unless the
# vepoll module loaded is the file $VEPOLL_KO (vm.sh sets it), compared by
# GNU build id (the ELF note the kernel shows in /sys/module/vepoll/notes),
# which tells apart two builds of the same sources; then run COMMAND.
# scripts/test.sh uses it to prove the DKMS-built module is the one tested:
#   VEPOLL_KO=/lib/modules/VER/updates/dkms/vepoll.ko scripts/vm.sh -- \
#       scripts/ko-check.sh sh selftests/run_tests.sh selftests/build/vepoll_abi
set -eu

ko=${VEPOLL_KO:?VEPOLL_KO is not set}
loaded=/sys/module/vepoll/notes/.note.gnu.build-id
[ -r "$loaded" ] || { echo "ko-check: vepoll is not loaded ($loaded)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $ko in
*.xz) xz -dc "$ko" >"$tmp/m.ko" ;;
*.zst) zstd -qdc "$ko" >"$tmp/m.ko" ;;
*.gz) gzip -dc "$ko" >"$tmp/m.ko" ;;
*) cp "$ko" "$tmp/m.ko" ;;
esac
objcopy -O binary --only-section=.note.gnu.build-id "$tmp/m.ko" "$tmp/note"
want=$(od -An -tx1 "$tmp/note" | tr -d ' \n')
have=$(od -An -tx1 "$loaded" | tr -d ' \n')
if [ -z "$want" ] || [ "$want" != "$have" ]; then
	echo "ko-check: the loaded vepoll (build id note $have) is not $ko ($want)" >&2
	exit 1
fi
echo "ko-check: the loaded vepoll is $ko (build id ${want#????????????????????????????????})"
rm -rf "$tmp"
trap - EXIT
[ $# -eq 0 ] || exec "$@"
