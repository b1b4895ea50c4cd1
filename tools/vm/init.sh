#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the machio test VM (runs from the initramfs, under busybox ash).
#
# Mounts the host's root file system (virtio-9p, read-only) at /host, gives it
# fresh /proc, /sys, /dev, configfs, debugfs and tmpfs scratch directories,
# mounts the read-write output share, then runs tools/vm/guest-run.sh inside a
# chroot of /host, prints MACHIO-VM-EXIT=<status> and reboots (QEMU runs with
# -no-reboot, so that ends the VM).
#
# Inputs, from tools/vm/run.sh through a small cpio appended to the initramfs:
#   /job/init.env  shell variables: VM_RELEASE VM_MODDIR VM_OUT VM_GUEST_RUN
#   /job/job.env   the command and its environment, for guest-run.sh
#   /job/*.ko      the module to test (copied: its host path may be hidden)
# and from mkinitramfs.sh: /modules.list + /lib/vm-modules/*.ko, the kernel
# modules needed to reach the 9p share and configfs (none if built in).

/bin/busybox --install -s /bin
export PATH=/bin

H=/host
msize=262144

# Print a message and end the VM with a failing status.
die() {
	echo "MACHIO-VM-ERROR: init: $*"
	echo "MACHIO-VM-EXIT=125"
	sync
	reboot -f
	sleep 60
}

# Resolve a path as the chroot sees it (e.g. /lib -> usr/lib), so that we
# mount at the right place under $H. busybox resolves relative symlinks right;
# if the result escapes $H (an absolute symlink), ask the host's realpath.
hpath() {
	p=$(realpath "$H$1" 2>/dev/null) || p=
	case $p in
	"$H"/*) echo "$p" ;;
	*) echo "$H$(chroot "$H" /usr/bin/realpath -m "$1")" ;;
	esac
}

mount -t proc proc /proc
hostname machio-vm
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# shellcheck source=/dev/null
. /job/init.env

while read -r m; do
	insmod "/lib/vm-modules/$m" || die "insmod $m failed"
done </modules.list

mkdir -p "$H"
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=$msize,cache=loose \
	hostroot "$H" || die "cannot mount the host root over 9p"

# Modules of the running kernel: the host's /lib/modules/<release> for the
# Debian kernels; for the debug kernel a directory in the cache, which we
# bind over a tmpfs on /lib/modules so modprobe finds it (that VM sees no
# other release there). Grab it before the tmpfs mounts below can hide it
# (the cache may live under /tmp).
if [ "$(hpath "$VM_MODDIR")" != "$(hpath "/lib/modules/$VM_RELEASE")" ]; then
	mkdir -p /vm-moddir
	mount --bind "$(hpath "$VM_MODDIR")" /vm-moddir || die "no modules at $VM_MODDIR"
	libmod=$(hpath /lib/modules)
	mount -t tmpfs -o mode=755 tmpfs "$libmod"
	mkdir -p "$libmod/$VM_RELEASE"
	mount --bind /vm-moddir "$libmod/$VM_RELEASE"
fi

# Fresh kernel file systems and scratch space for the chroot.
mount -t proc proc "$H/proc"
mount -t sysfs sysfs "$H/sys"
mount -t devtmpfs devtmpfs "$H/dev"
mkdir -p "$H/dev/pts" "$H/dev/shm"
mount -t devpts -o ptmxmode=666 devpts "$H/dev/pts" 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs "$H/dev/shm"
mount -t debugfs debugfs "$H/sys/kernel/debug" || die "cannot mount debugfs"
mount -t configfs configfs "$H/sys/kernel/config" || die "cannot mount configfs"
for d in /tmp /var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "$(hpath "$d")"
done
mount -t tmpfs -o mode=755 tmpfs "$(hpath /run)"

# Read-write output share, at the same path as on the host.
out=$(hpath "$VM_OUT")
mkdir -p "$out" 2>/dev/null || true
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$msize,cache=none \
	machioout "$out" || die "cannot mount the output share at $VM_OUT"

# Job files (and the module copy) go where the chroot can see them.
mkdir -p "$H/run/machio-vm"
cp -a /job/. "$H/run/machio-vm/"

chroot "$H" /bin/bash "$VM_GUEST_RUN" /run/machio-vm/job.env </dev/console >/dev/console 2>&1
status=$?

echo "MACHIO-VM-EXIT=$status"
umount "$out" 2>/dev/null
sync
reboot -f
sleep 60
