#!/usr/bin/env bash
# scripts/vm.sh — run a command in a throw-away QEMU/TCG VM with vepoll.ko loaded.
#
# usage: scripts/vm.sh [OPTIONS] [-- COMMAND [ARGS...]]
#
#   --param NAME=VALUE   module parameter for insmod (repeatable)
#   --no-module          build the module but do not insmod it
#   --timeout SEC        kill the VM after SEC seconds (default 900; none for
#                        the interactive shell unless given)
#   --log FILE           console log (default <repo>/build/vm/console.log)
#   --smp N              guest CPUs (default 2)
#   --mem MB             guest memory (default 1024)
#   --kernel-image PATH  kernel to boot (bzImage); default: the newest VER with
#                        both /boot/vmlinuz-VER and /lib/modules/VER/build
#   --kdir PATH          kbuild tree to build the module against (default:
#                        /lib/modules/VER/build, VER read from the image)
#   --append ARGS        extra kernel command-line arguments (e.g. oops=panic)
#   --env NAME=VALUE     extra environment variable for COMMAND (repeatable)
#   -h, --help           this text
#
# The host's / is shared read-only over 9p and the guest chroots into it, so
# COMMAND sees the same files at the same paths, and runs in the directory
# vm.sh was started from, as root, with stdin from /dev/null, HOME=/tmp, a
# tmpfs on /tmp, /run and /dev/shm, and in its environment
#   VEPOLL_KO=<absolute path of the .ko>  VEPOLL_PARAMS="NAME=VALUE ..."
# so a test can rmmod and re-insmod the module itself.
# COMMAND: one word is a shell command line run by `/bin/sh -c` (so
# `vm.sh -- 'make -C selftests run && dmesg'` works); several words are an
# argv, quoted so that each word reaches the program unchanged.
# Without COMMAND: an interactive bash on the serial console; exiting it
# powers the VM off (Ctrl-A x kills QEMU).
# After COMMAND the module is rmmod'ed if still loaded (exercises the exit
# path; a failure is reported, not fatal).
#
# Console output streams to stdout and is saved to the log. Exit status:
#   N    COMMAND's exit status (0-255), when none of the below happened
#   120  a kernel splat (WARNING/BUG/Oops/KASAN/UBSAN/lockdep/kmemleak/
#        panic/hung task...) appeared on the console; the lines are printed
#   121  the guest never reported COMMAND's status (crash, panic, no 9p...)
#   123  insmod failed in the guest
#   124  --timeout expired (QEMU killed)
#   125  vm.sh itself failed (usage, module build, missing kernel/tools,
#        QEMU error)
#
# Environment:
#   VM_PVH=0    boot the bzImage itself, not the vmlinux extracted from it
#   VEPOLL_SRC  directory built with `make -C DIR KDIR=<kdir>` before boot
#               (default: the repo top, or for a kernel other than an
#               installed /lib/modules/VER/build, a copy of its sources in
#               <repo>/build/vm/mod-VER; set empty to skip the build)
#   VEPOLL_KO   module to insmod (default: $VEPOLL_SRC/vepoll.ko, or
#               <repo>/vepoll.ko). Setting VEPOLL_KO alone skips the build.
#
# The initramfs (static busybox + init + the 9p/virtio modules) is cached in
# <repo>/build/vm/initramfs-VER.cpio and rebuilt when its inputs change; a
# kernel with CONFIG_PVH boots from its vmlinux, extracted once into
# <repo>/build/vm/vmlinux-VER (saves decompressing the bzImage under TCG).
set -euo pipefail

readonly EX_SPLAT=120 EX_NOMARKER=121 EX_INSMOD=123 EX_TIMEOUT=124 EX_SETUP=125

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
VMDIR=$REPO/build/vm

die() {
	echo "vm.sh: $*" >&2
	exit "$EX_SETUP"
}
note() { echo "vm.sh: $*" >&2; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

# --- options -----------------------------------------------------------------
params=() envs=() cmd=()
load_module=1 timeout='' log='' smp=2 mem=1024 kimage='' kdir='' append=''
while (($#)); do
	case $1 in
	--param | --env | --timeout | --log | --smp | --mem | --kernel-image | --kdir | --append)
		(($# >= 2)) || die "$1 needs an argument (try --help)"
		case $1 in
		--param) params+=("$2") ;;
		--env) envs+=("$2") ;;
		--timeout) timeout=$2 ;;
		--log) log=$2 ;;
		--smp) smp=$2 ;;
		--mem) mem=$2 ;;
		--kernel-image) kimage=$2 ;;
		--kdir) kdir=$2 ;;
		--append) append=$2 ;;
		esac
		shift 2
		;;
	--no-module) load_module=0 && shift ;;
	-h | --help) usage && exit 0 ;;
	--) shift && cmd=("$@") && break ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done

for p in "${params[@]}"; do
	# VEPOLL_PARAMS is space-separated, so values must not contain blanks.
	[[ $p =~ ^[A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*$ ]] ||
		die "bad --param '$p' (want NAME=VALUE, no blanks)"
done
for e in "${envs[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "bad --env '$e' (want NAME=VALUE)"
done
interactive=0
((${#cmd[@]})) || interactive=1
if [[ -z $timeout ]]; then
	((interactive)) && timeout=0 || timeout=900
fi
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp wants a positive number"
[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--mem wants megabytes"

for tool in qemu-system-x86_64 cpio modinfo timeout sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh as root"
done
BUSYBOX=/bin/busybox
# ldd fails on a static binary: that is the one the initramfs needs.
if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is missing or not static: run scripts/deps.sh (busybox-static)"
fi

# --- kernel selection ----------------------------------------------------------
# The release string of a bzImage, from its setup header: the u16 at 0x20e
# points (relative to 0x200) at a NUL-terminated "VER (builder) #1 ...".
image_release() {
	local off
	cmp -s -i $((0x202)):0 -n4 "$1" <(printf HdrS) || return 1
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 0x200)) count=256 2>/dev/null |
		tr '\0' '\n' | head -n1 | cut -d' ' -f1
}

if [[ -z $kimage && -z $kdir ]]; then
	ver=
	while read -r v; do
		if [[ -e /lib/modules/$v/build/Makefile ]]; then ver=$v; fi
	done < <(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
		sed 's/^vmlinuz-//' | sort -V)
	[[ -n $ver ]] || die "no kernel with both /boot/vmlinuz-VER and" \
		"/lib/modules/VER/build: run scripts/deps.sh"
	kimage=/boot/vmlinuz-$ver
	kdir=/lib/modules/$ver/build
elif [[ -z $kimage ]]; then
	kimage=$kdir/arch/x86/boot/bzImage
fi
[[ -r $kimage ]] || die "kernel image $kimage not readable"
kimage=$(realpath "$kimage")
ver=$(image_release "$kimage") || die "$kimage is not an x86 bzImage"
[[ -n $kdir ]] || kdir=/lib/modules/$ver/build
[[ -e $kdir/Makefile ]] || die "kbuild tree $kdir not found (kernel $ver)"
kdir=$(realpath "$kdir")

# Boot an uncompressed vmlinux through QEMU's PVH entry point when the kernel
# has one (CONFIG_PVH): decompressing a bzImage takes seconds under TCG.
# Cached in $VMDIR/vmlinux-VER (~65 MB for Debian's); prints its path.
pvh_vmlinux() {
	local img=$1 out=$VMDIR/vmlinux-$ver key pat off dec tmp
	key=$(stat -Lc '%n %s %Y' "$img")
	if [[ -s $out && $(cat "$out.key" 2>/dev/null) == "$key" ]]; then
		echo "$out"
		return 0
	fi
	# Remember a kernel without PVH, so as not to decompress it every run.
	[[ $(cat "$out.nopvh" 2>/dev/null) != "$key" ]] || return 1
	rm -f "$out" "$out.key" "$out.nopvh"
	command -v readelf >/dev/null || return 1
	mkdir -p "$VMDIR"
	tmp=$out.tmp.$$ # concurrent vm.sh runs each write their own
	for pat in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip'; do
		dec=${pat##*:}
		command -v "$dec" >/dev/null || continue
		# The payload's offset is not in the header: try each magic found.
		for off in $(LC_ALL=C grep -obUaP "${pat%:*}" "$img" | head -n5 | cut -d: -f1); do
			tail -c +$((off + 1)) "$img" | "$dec" -dc 2>/dev/null >"$tmp" || true
			# ELF, with the Xen PHYS32_ENTRY note (type 0x12) QEMU boots by.
			if cmp -s -n4 "$tmp" <(printf '\177ELF') &&
				readelf -n "$tmp" 2>/dev/null | grep -E '^ *Xen ' |
				grep -qE '\(0x00000012\)|PHYS32'; then
				mv -f "$tmp" "$out"
				echo "$key" >"$out.key"
				echo "$out"
				return 0
			fi
		done
	done
	rm -f "$tmp"
	echo "$key" >"$out.nopvh"
	return 1
}
boot_image=$kimage
if [[ ${VM_PVH:-1} == 1 ]] && pvh=$(pvh_vmlinux "$kimage"); then
	boot_image=$pvh
fi

# --- module build ------------------------------------------------------------------
if [[ -v VEPOLL_KO && ! -v VEPOLL_SRC ]]; then
	src=
else
	src=${VEPOLL_SRC-$REPO}
fi
# The repo tree holds one build, for the installed kernel (the Makefile's
# default KDIR): build for any other kbuild tree (a debug kernel) in a copy
# of the sources, so that runs for two kernels, or a developer's own make,
# never mix objects in one tree.
if [[ $src == "$REPO" && $kdir != "$(realpath -q "/lib/modules/$ver/build" || true)" ]]; then
	src=$VMDIR/mod-$ver
	mkdir -p "$src"
	for f in "$src"/*.[ch]; do
		[[ ! -e $f || -e $REPO/${f##*/} ]] || rm -f "$f"
	done
	for f in "$REPO"/*.[ch] "$REPO/Kbuild" "$REPO/Makefile"; do
		[[ -e $f ]] || continue
		cmp -s "$f" "$src/${f##*/}" || cp -p "$f" "$src/"
	done
fi
ko=${VEPOLL_KO:-${src:-$REPO}/vepoll.ko}
if [[ -n $src ]]; then
	make -s --no-print-directory -C "$src" KDIR="$kdir" >&2 || die "module build failed (make -C $src KDIR=$kdir)"
fi
[[ $ko == /* ]] || ko=$PWD/$ko
modname=$(basename "$ko" .ko)
modname=${modname//-/_}
# The guest mounts fresh tmpfs on /tmp and /run: host files there are hidden.
hidden_re='^/(tmp|run)(/|$)'
[[ ! $PWD =~ $hidden_re ]] ||
	die "the guest cannot see $PWD (/tmp and /run are tmpfs in the guest): cd elsewhere"
if ((load_module)); then
	[[ ! $ko =~ $hidden_re ]] || die "the guest cannot see $ko (/tmp and /run are tmpfs there)"
	[[ -r $ko ]] || die "module $ko not found"
	kover=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[[ $kover == "$ver" ]] ||
		die "$ko was built for $kover, the VM boots $ver (KDIR=$kdir)"
	# The kernel only warns about an unknown parameter: catch typos here.
	known=" $(modinfo -F parmtype "$ko" | cut -d: -f1 | tr '\n' ' ') "
	for p in "${params[@]}"; do
		[[ $known == *" ${p%%=*} "* ]] ||
			die "$modname has no parameter '${p%%=*}' (it has:${known% })"
	done
fi

# --- initramfs (cached) ------------------------------------------------------------
# Modules the guest needs to mount the 9p root, in load order (dependencies
# first), resolved with modules.dep; built-in ones are skipped so a kernel
# with 9p/virtio compiled in gets none.
moddir=/lib/modules/$ver
want_mods=(virtio_pci 9pnet_virtio 9p virtio_rng)
declare -A seen=()
mod_order=()
modpath() { # module name -> path relative to $moddir (from modules.dep)
	awk -F: -v n="$1" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b);
		gsub(/-/, "_", b); if (b == n) { print $1; exit } }' "$moddir/modules.dep"
}
add_mod() {
	local name=${1//-/_} rel dep i deps=()
	[[ -z ${seen[$name]:-} ]] || return 0
	seen[$name]=1
	rel=$(modpath "$name")
	[[ -n $rel ]] || return 1
	read -r -a deps <<<"$(grep -m1 "^$rel:" "$moddir/modules.dep" | cut -d: -f2)"
	# modules.dep lists the deepest dependency last: load from the end.
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		dep=$(basename "${deps[i]}")
		dep=${dep%%.ko*}
		add_mod "$dep" || true
	done
	mod_order+=("$rel")
}
is_builtin() { # is module $1 built into the kernel?
	local n=$1 f
	for f in "$moddir/modules.builtin" "$kdir/modules.builtin"; do
		[[ -r $f ]] && grep -Eq "/${n//_/[-_]}\.ko$" "$f" && return 0
	done
	return 1
}
if [[ -r $moddir/modules.dep ]]; then
	for m in "${want_mods[@]}"; do
		is_builtin "$m" && continue
		add_mod "$m" || [[ $m == virtio_rng ]] ||
			note "warning: module $m not found for $ver; the guest may not mount 9p"
	done
elif [[ -r $kdir/.config ]]; then
	# No installed modules (a kernel built from source): it must have the
	# 9p root's drivers built in.
	for c in VIRTIO_PCI NET_9P_VIRTIO 9P_FS DEVTMPFS TMPFS; do
		grep -q "^CONFIG_$c=y" "$kdir/.config" ||
			die "kernel $ver: CONFIG_$c is not =y in $kdir/.config and" \
				"/lib/modules/$ver has no modules.dep to load it from"
	done
fi

mkdir -p "$VMDIR"
initrd=$VMDIR/initramfs-$ver.cpio
init_script=$(
	cat <<'INIT'
#!/bin/busybox sh
# vm.sh guest init: mount the host root over 9p and run /run.sh chrooted in it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

halt_vm() {
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
	# never return: init exiting would panic the kernel
	while :; do sleep 1; done
}

# A kernel with 9p/virtio built in needs nothing here; otherwise load the
# modules vm.sh resolved for this kernel (listed in load order).
if ! grep -qw 9p /proc/filesystems || [ ! -d /sys/bus/virtio/drivers/9pnet_virtio ]; then
	while read -r m; do
		[ -e "/lib/modules/$m" ] && insmod "/lib/modules/$m"
	done </modules.list
fi
grep -qw 9p /proc/filesystems || { echo "vm-init: no 9p filesystem in this kernel"; halt_vm; }

mkdir -p /host
ok=
for _ in 1 2 3 4 5; do
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
		hostroot /host && ok=1 && break
	sleep 1
done
[ -n "$ok" ] || { echo "vm-init: cannot mount the host root over 9p"; halt_vm; }

h=/host
mount -t proc proc $h/proc
mount -t sysfs sysfs $h/sys
mount -t devtmpfs devtmpfs $h/dev
mkdir -p $h/dev/pts $h/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $h/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $h/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $h/tmp
mount -t tmpfs -o mode=755 tmpfs $h/run
mount -t debugfs debugfs $h/sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 $h/sys/fs/cgroup 2>/dev/null
ln -s /proc/self/fd $h/dev/fd
ln -s /proc/self/fd/0 $h/dev/stdin
ln -s /proc/self/fd/1 $h/dev/stdout
ln -s /proc/self/fd/2 $h/dev/stderr
ip link set lo up
hostname vepoll-vm
cp /run.sh $h/run/vm-run.sh

chroot $h /bin/sh /run/vm-run.sh
halt_vm
INIT
)
# Key: everything that goes into the archive.
key=$({
	echo "format 1"
	printf '%s\n' "$init_script"
	stat -Lc '%n %s %Y' "$BUSYBOX"
	for m in "${mod_order[@]}"; do stat -Lc '%n %s %Y' "$moddir/$m"; done
} | sha256sum | cut -d' ' -f1)
if [[ ! -s $initrd || $(cat "$initrd.key" 2>/dev/null) != "$key" ]]; then
	note "building $initrd"
	stage=$(mktemp -d "$VMDIR/.stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,host,lib/modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	printf '%s\n' "$init_script" >"$stage/init"
	chmod 755 "$stage/init"
	: >"$stage/modules.list"
	for m in "${mod_order[@]}"; do
		# Stored uncompressed: busybox insmod cannot read .ko.xz/.ko.zst.
		out=$(basename "$m")
		out=${out%%.ko*}.ko
		case $m in
		*.ko.xz) xz -dc "$moddir/$m" >"$stage/lib/modules/$out" ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$stage/lib/modules/$out" ;;
		*.ko.gz) gzip -dc "$moddir/$m" >"$stage/lib/modules/$out" ;;
		*) cp "$moddir/$m" "$stage/lib/modules/$out" ;;
		esac
		echo "$out" >>"$stage/modules.list"
	done
	# Uncompressed: unpacking is faster than decompressing under TCG.
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd.tmp.$$"
	mv -f "$initrd.tmp.$$" "$initrd"
	echo "$key" >"$initrd.key"
	rm -rf "$stage"
fi

# --- per-run script --------------------------------------------------------------
# Appended to the cached initramfs as a second cpio archive (the kernel
# unpacks both), so nothing per-run goes on the kernel command line.
q() { # quote for POSIX sh
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}
# Per-run directories of runs killed with SIGKILL: clean up after a day.
find "$VMDIR" -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
rundir=$(mktemp -d "$VMDIR/run.XXXXXX")
qpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null || true; fi
	rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Kernel lines carry a printk timestamp; only those count as splats, so a
# test printing "WARNING:" itself is not one.
splat_re='\[ *[0-9]+\.[0-9]{6}\].*(WARNING:|BUG[: ]|kernel BUG at|Oops|Call Trace|KASAN|UBSAN|possible recursive locking|circular locking|kmemleak: [0-9]+ new suspected|unreferenced object|general protection fault|Kernel panic|blocked for more than|soft lockup|hard LOCKUP)'
nonce=$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
if ((${#cmd[@]} == 1)); then
	shcmd=${cmd[0]}
else
	shcmd=
	for a in "${cmd[@]}"; do shcmd+="${shcmd:+ }$(q "$a")"; done
fi
rows='' cols=''
if ((interactive)) && [[ -t 0 ]]; then
	read -r rows cols < <(stty size 2>/dev/null) || true
fi
{
	# Values first (quoted here), then the fixed body.
	echo '#!/bin/sh'
	echo '# generated by vm.sh; runs chrooted in the host root'
	echo "export TERM=$(q "${TERM:-vt100}")"
	echo "export VEPOLL_KO=$(q "$ko") VEPOLL_PARAMS=$(q "${params[*]}")"
	for e in "${envs[@]}"; do echo "export ${e%%=*}=$(q "${e#*=}")"; done
	echo "nonce=$nonce modname=$(q "$modname") load_module=$load_module"
	echo "interactive=$interactive rows=$(q "$rows") cols=$(q "$cols")"
	echo "cwd=$(q "$PWD") shcmd=$(q "$shcmd") splat_re=$(q "$splat_re")"
	printf 'set --'
	for p in "${params[@]}"; do printf ' %s' "$(q "$p")"; done
	echo
	cat <<'RUN'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 SHELL=/bin/bash
marker() { echo "VEPOLL-VM-$1 $nonce $2"; }
if [ "$load_module" = 1 ] && ! insmod "$VEPOLL_KO" "$@"; then
	marker INSMOD-FAILED "$VEPOLL_KO"
	exit 1
fi
cd "$cwd" || exit 1
read -r up _ </proc/uptime
if [ "$interactive" = 1 ]; then
	[ -z "$rows" ] || stty rows "$rows" cols "$cols" </dev/ttyS0
	echo "vm.sh: guest up after ${up}s; interactive shell, exit to power off"
	# setsid -c makes ttyS0 the controlling tty, so ^C and job control work.
	setsid -c -w /bin/bash -i </dev/ttyS0 >/dev/ttyS0 2>&1
else
	echo "vm.sh: guest up after ${up}s; running: $shcmd"
	/bin/sh -c "$shcmd" </dev/null
fi
st=$?
# Unloading checks the module's exit path under the same splat watch.
if [ -d "/sys/module/$modname" ] && ! rmmod "$modname"; then
	echo "vm.sh: warning: rmmod $modname failed after the command"
fi
# Splat lines from the kernel log too: those below the console loglevel
# (kmemleak's report is pr_info) or hidden by a test's `dmesg -n`.
dmesg 2>/dev/null | grep -E "$splat_re" | sed 's/^/vm-dmesg: /'
marker EXIT "$st"
RUN
} >"$rundir/run.sh"
chmod 755 "$rundir/run.sh"
(cd "$rundir" && echo run.sh | cpio -o -H newc -R 0:0 --quiet) >"$rundir/run.cpio"
cat "$initrd" "$rundir/run.cpio" >"$rundir/initrd"

# --- boot ------------------------------------------------------------------------
# quiet hides boot chatter; loglevel=5 (after it) still shows KERN_WARNING
# and worse, which is what WARN/BUG/lockdep/KASAN print at.
# trace_clock=global: TCG's TSC is "unstable", which otherwise prints a
# warning on every boot.
kcmd="console=ttyS0 quiet loglevel=5 printk.time=1 panic=-1 rcupdate.rcu_cpu_stall_suppress=1 trace_clock=global 8250.nr_uarts=1 $append"
# shellcheck disable=SC2054 # the commas belong to QEMU option values
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -M q35 -cpu max
	-smp "$smp" -m "$mem" -nographic -vga none -no-reboot -nic none
	-kernel "$boot_image" -initrd "$rundir/initrd" -append "$kcmd"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-device virtio-rng-pci)
# qboot (qemu-system-data) boots -kernel directly; SeaBIOS, the fallback,
# sends terminal resets and a banner down the serial line.
qboot=$(find /usr/share/qemu /usr/share/qboot -name qboot.rom -print -quit 2>/dev/null || true)
[[ -z $qboot ]] || qemu+=(-bios "$qboot")
log=${log:-$VMDIR/console.log}
mkdir -p "$(dirname "$log")"
: >"$log"

start=$(date +%s.%N)
if ((timeout > 0)); then
	# --foreground: QEMU stays in our process group, so the interactive
	# shell can use the tty (^C in batch mode reaches our INT trap, which
	# kills it); -k: SIGKILL if it ignores SIGTERM.
	qemu=(timeout --foreground -k 5 "$timeout" "${qemu[@]}")
fi
mkfifo "$rundir/out"
tee -- "$log" <"$rundir/out" &
teepid=$!
if ((interactive)); then
	"${qemu[@]}" <&0 >"$rundir/out" 2>&1 &
else
	"${qemu[@]}" </dev/null >"$rundir/out" 2>&1 &
fi
qpid=$!
qst=0
wait "$qpid" || qst=$?
qpid=
wait "$teepid" || true
elapsed=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
sed -i 's/\r$//' "$log"

# --- verdict -----------------------------------------------------------------------
status=$(grep -aoE "VEPOLL-VM-EXIT $nonce [0-9]+" "$log" | tail -n1 | cut -d' ' -f3 || true)
splats=$(grep -aE "$splat_re" "$log" | sed 's/^vm-dmesg: //' | awk '!seen[$0]++' || true)
rc=${status:-$EX_NOMARKER}
if [[ -n $splats ]]; then
	{
		echo "vm.sh: kernel splat on the console (see $log):"
		printf '%s\n' "$splats"
	} >&2
fi
if ((qst == 124 || qst == 137)) && [[ -z $status ]]; then
	note "timeout: killed QEMU after ${timeout}s (log: $log)"
	rc=$EX_TIMEOUT
elif [[ -n $splats ]]; then
	note "exit $EX_SPLAT (kernel splat; the command's status was ${status:-not reported})"
	rc=$EX_SPLAT
elif grep -aq "VEPOLL-VM-INSMOD-FAILED $nonce" "$log"; then
	note "insmod $ko ${params[*]} failed in the guest"
	rc=$EX_INSMOD
elif [[ -z $status ]] && ((qst != 0)); then
	# QEMU exits 0 on guest power-off and on panic (-no-reboot).
	note "QEMU failed (exit $qst; log: $log)"
	rc=$EX_SETUP
elif [[ -z $status ]]; then
	note "the guest never reported the command's status (crash or early power-off; log: $log)"
	rc=$EX_NOMARKER
fi
note "done in ${elapsed}s, exit $rc"
exit "$rc"
