#!/usr/bin/env bash
# Boot a kernel under QEMU (TCG, no KVM needed) and run one command in it.
#
# Usage: tools/vm/run.sh --kernel {6.1|6.12|debug} [options] -- CMD [ARGS...]
#        tools/vm/run.sh --kernel {6.1|6.12|debug} [options] --shell
# Options:
#   --module PATH      module to load (default: build/kmod/<release>/module/machio.ko)
#   --no-machio        load no module
#   --null-blk PARAMS  modprobe null_blk PARAMS (e.g. "nr_devices=1 queue_mode=2")
#   --timeout SECONDS  kill the VM after this long, exit 124 (default 600;
#                      3600 with --shell)
#   --log FILE         console log (default build/vm-logs/<time>-<kernel>-<pid>.log)
#   --out DIR          read-write directory shared with the VM, at the same
#                      path, exported as $MACHIO_VM_OUT (default
#                      build/vm-out/<time>-<kernel>-<pid>, removed if left empty)
#   --mem SIZE         guest memory (default 2G)
#   --shell            interactive shell instead of CMD (Ctrl-a x kills QEMU)
#
# The guest sees the host's root file system read-only (virtio-9p) with fresh
# /proc, /sys, /dev, tmpfs on /tmp, /run and /var/tmp, configfs and debugfs, so
# host binaries run unchanged at their host paths. CMD runs in the current
# directory (which must not be under /tmp, /run or /var/tmp) with the host's
# PATH, HOME=/tmp, TERM=dumb, MACHIO_* variables of the caller, and
#   MACHIO_KO       the loaded module's path in the VM (for rmmod/insmod cycles)
#   MACHIO_VM_OUT   the shared read-write directory
#   MACHIO_VM_KERNEL  6.1, 6.12 or debug;  MACHIO_VM=1
# After CMD: rmmod the module (failure fails the run) and, on the debug
# kernel, scan kmemleak.
#
# Exit status: CMD's status; 124 on timeout; 125 if the VM harness failed
# (module did not load, no exit marker); 1 (if CMD succeeded) when the kernel
# reported a problem on the console (BUG, WARNING, KASAN, lockdep, kmemleak,
# ...) or the module did not unload. The console is streamed to stdout and
# kept in the log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/kernels.env
. "$repo/tools/kernels.env"

say() { echo "machio-vm: $*" >&2; }
die() { say "error: $*"; exit 125; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit "${1:-125}"; }

# --- Kernel lookup: the only place that maps a name to image and modules ---
# Sets kernel_image, kernel_release, kernel_moddir.
kernel_lookup() {
	case $1 in
	6.1) kernel_release=$K61_RELEASE ;;
	6.12) kernel_release=$K612_RELEASE ;;
	debug)
		local dir
		dir=$("$repo/tools/debug-kernel/build.sh" | tail -n 1)
		kernel_image=$dir/bzImage
		kernel_release=$(cat "$dir/release")
		kernel_moddir=$dir/root/lib/modules/$kernel_release
		return
		;;
	*) die "unknown kernel '$1' (want 6.1, 6.12 or debug)" ;;
	esac
	kernel_image=/boot/vmlinuz-$kernel_release
	kernel_moddir=/lib/modules/$kernel_release
}

# --- Arguments ---------------------------------------------------------------
kernel='' module='' no_machio=0 null_blk='' timeout='' log='' out='' mem='' shell=0
cmd=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?--kernel needs a value}; shift 2 ;;
	--module) module=${2:?--module needs a path}; shift 2 ;;
	--no-machio) no_machio=1; shift ;;
	--null-blk) null_blk=${2?--null-blk needs parameters}; null_blk=${null_blk:- }; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--log) log=${2:?--log needs a file}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--mem) mem=${2:?--mem needs a size}; shift 2 ;;
	--shell) shell=1; shift ;;
	-h | --help) usage 0 ;;
	--) shift; cmd=("$@"); break ;;
	*) say "unknown argument: $1"; usage ;;
	esac
done
[ -n "$kernel" ] || { say "--kernel is required"; usage; }
if [ "$shell" = 1 ]; then
	[ ${#cmd[@]} -eq 0 ] || die "--shell takes no command"
else
	[ ${#cmd[@]} -gt 0 ] || { say "no command given (-- CMD ...)"; usage; }
fi
timeout=${timeout:-$([ "$shell" = 1 ] && echo 3600 || echo 600)}
if ! [[ $timeout =~ ^[0-9]+$ ]] || [ "$timeout" -eq 0 ]; then
	die "bad --timeout '$timeout'"
fi
if [ -n "$module" ] && [ "$no_machio" = 1 ]; then
	die "--module and --no-machio exclude each other"
fi

cwd=$(pwd -P)
case $cwd/ in
/tmp/* | /run/* | /var/tmp/*) die "cannot run from $cwd: the VM mounts its own tmpfs over /tmp, /run and /var/tmp" ;;
esac

kernel_lookup "$kernel"
[ -r "$kernel_image" ] || die "kernel image $kernel_image missing (run tools/install-deps.sh)"
[ -d "$kernel_moddir" ] || die "modules $kernel_moddir missing"

if [ "$no_machio" = 0 ]; then
	module=${module:-$repo/build/kmod/$kernel_release/module/machio.ko}
	[ -f "$module" ] || die "module $module not found (build it, or pass --module/--no-machio)"
	module=$(realpath "$module")
fi

initrd=$("$here/mkinitramfs.sh" "$kernel_release" "$kernel_moddir")
# Uncompressed ELF with a PVH entry when possible: skips the slow in-guest
# decompression under TCG.
boot_image=$("$here/vmlinux.sh" "$kernel_image")

# Log and output directory.
run_id=$(date +%Y%m%d-%H%M%S)-$kernel-$$
log=${log:-$repo/build/vm-logs/$run_id.log}
mkdir -p "$(dirname "$log")"
log=$(realpath "$log")
out_default=0
if [ -z "$out" ]; then
	out=$repo/build/vm-out/$run_id
	out_default=1
fi
mkdir -p "$out"
out=$(realpath "$out")

# --- Per-run files: the job, appended to the cached initramfs as a 2nd cpio --
ctl=$(mktemp -d "${TMPDIR:-/tmp}/machio-vm.XXXXXX")
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
	local pid
	pid=$(cat "$ctl/qemu.pid" 2>/dev/null) || pid=
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
	fi
	rm -rf "$ctl"
	if [ "$out_default" = 1 ]; then rmdir "$out" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$ctl/job"
guest_ko=
if [ -n "$module" ]; then
	# Copied: the host path may be hidden in the VM (e.g. under /tmp).
	cp "$module" "$ctl/job/"
	guest_ko=/run/machio-vm/$(basename "$module")
fi

# For busybox ash in init.sh: single-quoted values.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo "VM_RELEASE=$(shq "$kernel_release")"
	echo "VM_MODDIR=$(shq "$kernel_moddir")"
	echo "VM_OUT=$(shq "$out")"
	echo "VM_GUEST_RUN=$(shq "$here/guest-run.sh")"
} >"$ctl/job/init.env"

# For guest-run.sh (bash). Forward the caller's MACHIO_* variables.
JOB_KERNEL=$kernel JOB_CWD=$cwd JOB_KO=$guest_ko JOB_NULL_BLK=$null_blk
JOB_SHELL=$shell JOB_OUT=$out JOB_PATH=$PATH JOB_TERM=dumb JOB_CMD=("${cmd[@]}")
[ "$shell" = 1 ] && JOB_TERM=${TERM:-vt100}
JOB_ENV=()
while IFS= read -r name; do
	case $name in
	MACHIO_KO | MACHIO_VM | MACHIO_VM_OUT | MACHIO_VM_KERNEL) ;;
	MACHIO_*) JOB_ENV+=("$name=${!name}") ;;
	esac
done < <(compgen -e)
declare -p JOB_KERNEL JOB_CWD JOB_KO JOB_NULL_BLK JOB_SHELL JOB_OUT JOB_PATH \
	JOB_TERM JOB_ENV JOB_CMD >"$ctl/job/job.env"

(cd "$ctl" && find job | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$ctl/job.cpio.gz"
cat "$initrd" "$ctl/job.cpio.gz" >"$ctl/initrd.img"

# --- QEMU ----------------------------------------------------------------------
# loglevel=5: KERN_WARNING (4) and worse reach the console (`quiet` would set
# the console loglevel to 4 and hide WARN()); printk.time=1 timestamps kernel
# lines so they can be told apart from program output. panic=-1 reboots at
# once on panic, and -no-reboot turns any reboot into QEMU exiting.
# Stall detectors get more slack: TCG guests run slowly and can be starved.
append="console=ttyS0 printk.time=1 loglevel=5 panic=-1 rdinit=/init"
append+=" mitigations=off rcupdate.rcu_cpu_stall_timeout=60 watchdog_thresh=30"
if [ "$kernel" = debug ]; then
	append+=" kasan_multi_shot" # report every KASAN error, not just the first
fi
# 2G for the debug kernel too: KASAN's shadow takes 1/8 of it, and each
# kmemleak scan walks every page (~9 s at 2G, ~20 s at 4G under TCG).
mem=${mem:-2G}

qemu=(
	qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$mem"
	-nodefaults -no-reboot -display none -pidfile "$ctl/qemu.pid"
	-kernel "$boot_image" -initrd "$ctl/initrd.img" -append "$append"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=${out//,/,,},mount_tag=machioout,security_model=none,multidevs=remap"
)

say "kernel $kernel ($kernel_release), log $log"
start=$EPOCHREALTIME

if [ "$shell" = 1 ]; then
	# Interactive: serial console and QEMU monitor multiplexed on the
	# terminal, copied to the log by QEMU itself.
	set +e
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" \
		-chardev "stdio,id=con,mux=on,signal=off,logfile=$log" \
		-serial chardev:con -mon chardev=con,mode=readline
	qemu_rc=$?
	set -e
	sed -i 's/\r$//' "$log"
else
	# Copy the console to the log and to stdout; note when CMD starts.
	stream() {
		local line
		exec 3>"$log"
		while IFS= read -r line || [ -n "$line" ]; do
			line=${line%$'\r'}
			printf '%s\n' "$line" >&3
			printf '%s\n' "$line"
			if [[ $line == MACHIO-VM-CMD-START* ]]; then
				say "$kernel: command started $(bc <<<"scale=1; ($EPOCHREALTIME - $start) / 1")s after launch"
			fi
		done
	}
	{
		rc=0
		timeout -k 10 "$timeout" "${qemu[@]}" -serial stdio -monitor none || rc=$?
		echo "$rc" >"$ctl/qemu.rc"
	} </dev/null 2>&1 | stream &
	wait $! || true
	qemu_rc=$(cat "$ctl/qemu.rc" 2>/dev/null || echo 125)
fi
elapsed=$(bc <<<"scale=1; ($EPOCHREALTIME - $start) / 1")

# --- Verdict -------------------------------------------------------------------
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	say "TIMEOUT: killed the VM after ${timeout}s; last console lines:"
	tail -n 30 "$log" >&2
	say "full log: $log"
	exit 124
fi

# Kernel messages carry a "[    1.234567] " timestamp, program output does
# not; only timestamped lines are checked so that a test printing "WARNING"
# does not fail the run. kmemleak and harness errors come from guest-run.sh
# with their own prefixes.
ts='\[ *[0-9]+\.[0-9]+\] '
kernel_problems='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection fault|Kernel panic'
kernel_problems+='|possible circular locking|inconsistent lock state|possible recursive locking'
kernel_problems+='|lockdep[ :]|blocked for more than|sleeping function called from invalid context'
kernel_problems+='|RCU detected stall|detected stalls? on CPUs|soft lockup|hard LOCKUP|kernel BUG at'
problems=$(grep -nE -e "$ts.*($kernel_problems)" -e '^MACHIO-VM-KMEMLEAK: unreferenced object' \
	-e '^MACHIO-VM-ERROR:' "$log" | head -n 20 || true)
status=$(sed -n 's/^MACHIO-VM-EXIT=\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)

rc=${status:-125}
if [ -z "$status" ]; then
	say "FAIL: no MACHIO-VM-EXIT marker: the VM died or did not boot (qemu exit $qemu_rc)"
fi
if [ -n "$problems" ]; then
	say "FAIL: problems on the console ($log, first 20, line:text):"
	printf '%s\n' "$problems" | sed 's/^/    /' >&2
	[ "$rc" != 0 ] || rc=1
fi
say "$kernel: exit $rc after ${elapsed}s (log $log)"
exit "$rc"
