#!/bin/bash
# Runs inside the machio test VM, chrooted into the host's root (see init.sh),
# with the host's own bash and tools. Usage: guest-run.sh JOB_ENV_FILE
#
# Loads the module under test and null_blk, runs the command, unloads the
# module, checks kmemleak (debug kernel), and exits with the command's status
# (125 if the command could not be started). Problems of the harness itself
# are printed as "MACHIO-VM-ERROR: ..." lines, which make tools/vm/run.sh fail.
set -uo pipefail

# The job file (written by run.sh) defines:
#   JOB_KERNEL  6.1 | 6.12 | debug        JOB_CWD   directory to run in
#   JOB_KO      module path in the guest, empty for --no-machio
#   JOB_NULL_BLK  null_blk parameters, empty: don't load it
#   JOB_SHELL   1: interactive shell instead of a command
#   JOB_OUT     the read-write output directory
#   JOB_PATH JOB_TERM  environment for the command
#   JOB_ENV     array of NAME=VALUE forwarded from the host (MACHIO_*)
#   JOB_CMD     array: the command and its arguments
# shellcheck source=/dev/null
. "$1"

say() { echo "machio-vm: $*"; }
error() { echo "MACHIO-VM-ERROR: $*"; }

export PATH=$JOB_PATH
module_name=
if [ -n "$JOB_KO" ]; then
	module_name=$(modinfo -F name "$JOB_KO" 2>/dev/null)
	if [ -z "$module_name" ]; then
		# Fall back to the file name: foo-bar.ko -> foo_bar
		module_name=$(basename "$JOB_KO")
		module_name=${module_name%%.ko*}
		module_name=${module_name//-/_}
	fi
	if ! insmod "$JOB_KO"; then
		error "insmod $JOB_KO failed"
		exit 125
	fi
	say "loaded $module_name"
fi
if [ -n "$JOB_NULL_BLK" ]; then
	read -ra nb_params <<<"$JOB_NULL_BLK"
	if ! modprobe null_blk "${nb_params[@]}"; then
		error "modprobe null_blk $JOB_NULL_BLK failed"
		exit 125
	fi
fi

if ! cd "$JOB_CWD"; then
	error "cannot cd to $JOB_CWD in the VM (paths under /tmp, /run and /var/tmp are the VM's own tmpfs)"
	exit 125
fi

env=(
	PATH="$JOB_PATH" HOME=/tmp TERM="$JOB_TERM" USER=root LOGNAME=root
	SHELL=/bin/bash MACHIO_VM=1 MACHIO_VM_KERNEL="$JOB_KERNEL"
	MACHIO_VM_OUT="$JOB_OUT" MACHIO_KO="$JOB_KO"
	"${JOB_ENV[@]}"
)

read -r uptime _ </proc/uptime
echo "MACHIO-VM-CMD-START uptime=${uptime}s"
if [ "$JOB_SHELL" = 1 ]; then
	# ttyS0 as the controlling terminal gives the shell job control and ^C.
	say "interactive shell; exit it to power off"
	setsid --ctty --wait env -i "${env[@]}" bash -i <>/dev/ttyS0 >&0 2>&0
	status=$?
else
	env -i "${env[@]}" "${JOB_CMD[@]}" </dev/null
	status=$?
fi
echo "MACHIO-VM-CMD-END status=$status"

# Unload the module under test (unless the command already did): a module
# that cannot be unloaded is a bug.
if [ -n "$module_name" ] && [ -d "/sys/module/$module_name" ]; then
	if rmmod "$module_name"; then
		say "unloaded $module_name"
	else
		error "rmmod $module_name failed"
	fi
fi
if [ -n "$JOB_NULL_BLK" ] && [ -d /sys/module/null_blk ]; then
	rmmod null_blk || say "warning: rmmod null_blk failed"
fi

# kmemleak (debug kernel only). It only reports objects older than 5 s, so
# the second scan starts at least 5 s after the module was unloaded (a scan
# takes ~8 s under TCG, so usually without sleeping); it also catches leaks
# that a stale pointer hid from the first scan.
uptime_cs() { # uptime in centiseconds
	local up
	read -r up _ </proc/uptime
	echo $((10#${up/./}))
}
kmemleak=/sys/kernel/debug/kmemleak
if [ -w "$kmemleak" ]; then
	unloaded=$(uptime_cs)
	say "kmemleak scan"
	echo scan >"$kmemleak"
	wait_cs=$((unloaded + 500 - $(uptime_cs)))
	if [ "$wait_cs" -gt 0 ]; then
		sleep "$((wait_cs / 100)).$(printf '%02d' $((wait_cs % 100)))"
	fi
	echo scan >"$kmemleak"
	sed 's/^/MACHIO-VM-KMEMLEAK: /' "$kmemleak"
fi

exit "$status"
