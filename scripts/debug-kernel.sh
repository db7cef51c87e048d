#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# scripts/debug-kernel.sh — build, once, the debug kernel (KASAN, lockdep,
# UBSAN, kmemleak, debugobjects...) that the VM tests boot, and print where
# it is:
#
#   KERNEL_IMAGE=<bzImage>
#   KDIR=<kbuild tree: make -C KDIR M=DIR modules works against it>
#
# so that `eval "$(scripts/debug-kernel.sh)"` sets both. Everything else
# goes to stderr or to the build log in the cache.
#
# usage: scripts/debug-kernel.sh [--kcsan] [-h|--help]
#
#   --kcsan  the KCSAN variant instead (make check-kcsan): the fragment
#            without KASAN and kmemleak, plus scripts/debug-kernel-kcsan.config
#            (see its header); its own cache key and release
#            (-vepoll-kcsan). Without it, the output and key are unchanged.
#
# Source: Debian's linux-source-6.1 tarball; config: `make tinyconfig` plus
# scripts/debug-kernel.config, every option of which is checked in the final
# .config. Installs what it needs with apt-get when missing (as root).
#
# Cache: $VEPOLL_CACHE/debug-kernel/<key>, VEPOLL_CACHE defaulting to
# ${XDG_CACHE_HOME:-$HOME/.cache}/vepoll; <key> hashes the linux-source
# version, the compiler version and the fragment, so a rerun with the same
# inputs only prints the two lines. The build runs in a temporary directory
# beside it and is renamed into place when complete, under flock, so an
# interrupted or concurrent build is never taken for a finished one.
# About 1.8 GB per key; delete old keys by hand.
#
# Boot it with `qemu-system-x86_64 -M q35` (as scripts/vm.sh does): on the
# default `-M pc`, the DSDT's _PRT is an AML loop that, this slowed down
# (KASAN + kmemleak under TCG), overruns ACPICA's 30 s loop limit, so
# virtio-pci gets no interrupt and the 9p mount hangs (`pci=noacpi` or
# `kmemleak=off` on the command line works around it there).
# kmemleak never scans on its own: echo scan >/sys/kernel/debug/kmemleak.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$SCRIPT_DIR/debug-kernel.config
KCSAN_FRAGMENT=$SCRIPT_DIR/debug-kernel-kcsan.config
variant=
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/$SRC_PKG.tar.xz
# Bump when the build recipe below changes in a way that changes the result.
RECIPE=1

die() {
	echo "debug-kernel.sh: $*" >&2
	exit 1
}
note() { echo "debug-kernel.sh: $*" >&2; }

case ${1:-} in
'') ;;
--kcsan) variant=kcsan ;;
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
*) die "unknown argument: $1 (try --help)" ;;
esac
[[ -r $FRAGMENT ]] || die "$FRAGMENT not found"
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT
if [[ $variant == kcsan ]]; then
	[[ -r $KCSAN_FRAGMENT ]] || die "$KCSAN_FRAGMENT not found"
	# The effective fragment: the main one minus KASAN, kmemleak and every
	# symbol the KCSAN one sets, then the KCSAN one. Hashed, merged and
	# checked below exactly as the main fragment is without --kcsan.
	merged=$(mktemp "${TMPDIR:-/tmp}/vepoll-kcsan-config.XXXXXX")
	cleanup+=("$merged")
	override=$(sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2/p' "$KCSAN_FRAGMENT")
	{
		grep -vE '^(# )?CONFIG_(KASAN|DEBUG_KMEMLEAK)[A-Za-z0-9_]*[= ]' "$FRAGMENT" |
			grep -vE "^(# )?($(paste -sd'|' <<<"$override"))[= ]"
		cat "$KCSAN_FRAGMENT"
	} >"$merged"
	FRAGMENT=$merged
fi

installed() { # are all these Debian packages installed?
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $st == "ii "* ]] || return 1
	done
}
ensure_pkgs() {
	local p missing=()
	for p in "$@"; do installed "$p" || missing+=("$p"); done
	((${#missing[@]})) || return 0
	((EUID == 0)) || die "missing packages: ${missing[*]} (run as root to install them)"
	note "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	{
		apt-get update -q &&
			apt-get install -y -q --no-install-recommends "${missing[@]}"
	} >&2 || die "apt-get install ${missing[*]} failed"
}

command -v dpkg-query >/dev/null || die "dpkg-query not found: Debian only"
# linux-source (the meta package) pulls in $SRC_PKG, whose version is keyed.
installed "$SRC_PKG" || ensure_pkgs linux-source
[[ -r $TARBALL ]] || die "$TARBALL missing after installing linux-source"
src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")

# A different gcc makes modules the tree would refuse (and new warnings).
command -v gcc >/dev/null || ensure_pkgs build-essential
cc_version=$(gcc --version | sed -n 1p)
key=$({
	echo "recipe $RECIPE"
	[[ -z $variant ]] || echo "variant $variant"
	echo "$SRC_PKG $src_version"
	echo "cc $cc_version"
	cat "$FRAGMENT"
} | sha256sum | cut -c1-16)

base=${VEPOLL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vepoll}/debug-kernel
dir=$base/$key
tree=$dir/linux

result() {
	printf 'KERNEL_IMAGE=%q\n' "$tree/arch/x86/boot/bzImage"
	printf 'KDIR=%q\n' "$tree"
	exit 0
}
# Fast path: the stamp is written last, after the tree passed every check.
[[ -e $dir/ok ]] && result

mkdir -p "$base"
exec 9>"$base/$key.lock"
if ! flock -n 9; then
	note "waiting for another build of $key to finish"
	flock 9
fi
[[ -e $dir/ok ]] && result # built by whoever held the lock

# Nobody else builds this key now: whatever is left is a dead build's.
rm -rf "$dir" "$base/.tmp-$key".*

# The environment must not steer the kernel build (e.g. when run from make).
unset ARCH CROSS_COMPILE KBUILD_OUTPUT KBUILD_EXTMOD O M KCFLAGS KCPPFLAGS \
	KAFLAGS LOCALVERSION MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS
ensure_pkgs build-essential make flex bison bc libelf-dev libssl-dev cpio \
	xz-utils kmod

start=$SECONDS
tmp=$(mktemp -d "$base/.tmp-$key.XXXXXX")
chmod 755 "$tmp" # mktemp's 0700 would stay on the final tree
log=$tmp/build.log
fail() {
	{
		echo "debug-kernel.sh: $*; last lines of $log:"
		tail -n 40 "$log" | sed 's/^/  /'
	} >&2
	exit 1
}
jobs=$(nproc)

note "building the debug kernel into $dir (log: $dir/build.log, ~5-10 min)"
# Unpacked beside the final path so the rename below stays on one filesystem.
tar -xJf "$TARBALL" -C "$tmp" >>"$log" 2>&1 || fail "unpacking $TARBALL failed"
mv "$tmp/$SRC_PKG" "$tmp/linux"
cp "$FRAGMENT" "$tmp/debug-kernel.config"
kmake() { make -C "$tmp/linux" LOCALVERSION= "$@" >>"$log" 2>&1; }

kmake tinyconfig || fail "make tinyconfig failed"
(cd "$tmp/linux" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") \
	>>"$log" 2>&1 || fail "merge_config.sh failed"
kmake olddefconfig || fail "make olddefconfig failed"

# Kconfig silently drops what a missing dependency forbids: check every
# line of the fragment against the final .config.
dropped=()
cfg=$tmp/linux/.config
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		sym=${BASH_REMATCH[1]}
		grep -qxF -- "$line" "$cfg" ||
			dropped+=("$line (got: $(grep -E "^(# )?${sym}[= ]" "$cfg" || echo absent))")
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		sym=${BASH_REMATCH[1]}
		! grep -q "^$sym=" "$cfg" || dropped+=("$line (got: $(grep "^$sym=" "$cfg"))")
	fi
done <"$FRAGMENT"
if ((${#dropped[@]})); then
	{
		echo "debug-kernel.sh: the final .config lost options of $FRAGMENT:"
		printf '  %s\n' "${dropped[@]}"
		echo "debug-kernel.sh: fix their dependencies in the fragment ($cfg)"
	} >&2
	exit 1
fi

# `all` = bzImage + modules + Module.symvers, and the modules_prepare
# outputs an out-of-tree module build needs.
kmake -j"$jobs" all || fail "kernel build failed"
for f in arch/x86/boot/bzImage Module.symvers scripts/mod/modpost \
	include/config/kernel.release; do
	[[ -s $tmp/linux/$f ]] || fail "the build made no $f"
done

mv "$tmp" "$dir"
log=$dir/build.log
release=$(cat "$tree/include/config/kernel.release")

# Prove the tree works as KDIR at its final path: build a hello-world
# module in a scratch directory and check its vermagic.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vepoll-hello.XXXXXX")
cleanup+=("$scratch")
cat >"$scratch/hello.c" <<'EOF'
#include <linux/module.h>
#include <linux/init.h>
static int __init hello_init(void) { pr_info("hello: loaded\n"); return 0; }
static void __exit hello_exit(void) { pr_info("hello: unloaded\n"); }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := hello.o' >"$scratch/Kbuild"
make -C "$tree" M="$scratch" modules >>"$log" 2>&1 ||
	fail "building a test module against $tree failed"
magic=$(modinfo -F vermagic "$scratch/hello.ko" | cut -d' ' -f1)
[[ $magic == "$release" ]] || fail "test module vermagic $magic, kernel $release"

touch "$dir/ok"
note "built $release in $((SECONDS - start))s"
result
