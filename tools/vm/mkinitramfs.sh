#!/usr/bin/env bash
# Build (or reuse) the initramfs of the machio test VM for one kernel.
#
# Usage: tools/vm/mkinitramfs.sh RELEASE MODULES_DIR
#   RELEASE      the kernel's release (uname -r)
#   MODULES_DIR  its modules directory, e.g. /lib/modules/RELEASE
# Prints the path of the gzip'ed cpio archive, cached as
#   ${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/vm/initramfs-RELEASE-<hash>.cpio.gz
# where <hash> covers every input (init.sh, busybox, the modules).
#
# Contents: busybox-static, tools/vm/init.sh as /init, and whatever modules
# the kernel needs to mount the host over virtio-9p (virtio_pci, 9pnet_virtio,
# 9p and their dependencies, configfs) when they are not built in, decompressed because
# busybox's insmod cannot read .ko.xz.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
release=${1:?usage: mkinitramfs.sh RELEASE MODULES_DIR}
moddir=${2:?usage: mkinitramfs.sh RELEASE MODULES_DIR}
busybox=/bin/busybox
cache=${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/vm

die() { echo "mkinitramfs: error: $*" >&2; exit 1; }
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
[ -d "$moddir" ] || die "no modules directory $moddir"

# modprobe wants <base>/lib/modules/<release>; derive <base> from MODULES_DIR.
[[ $moddir == */lib/modules/"$release" ]] || die "$moddir does not end in lib/modules/$release"
base=${moddir%/lib/modules/"$release"}
base=${base:-/}

# Modules to load, dependencies first, without duplicates ("builtin" lines
# are skipped). Virtio PCI transport, the 9p file system over virtio, and
# configfs (for /sys/kernel/config, which null_blk uses).
mapfile -t modules < <(
	modprobe -d "$base" -S "$release" --show-depends -a virtio_pci 9pnet_virtio 9p configfs |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
)

key=$({
	sha256sum "$here/init.sh" "$busybox"
	echo "$release"
	for m in "${modules[@]}"; do sha256sum "$m"; done
} | sha256sum | cut -c1-16)
out=$cache/initramfs-$release-$key.cpio.gz
if [ -e "$out" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
stage=$(mktemp -d "$cache/.initramfs-stage.XXXXXX")
trap 'rm -rf "$stage" "$out".tmp.$$' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,host,job,lib/vm-modules}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 755 "$here/init.sh" "$stage/init"
# The kernel opens /dev/console for init before anything is mounted.
mknod -m 600 "$stage/dev/console" c 5 1

: >"$stage/modules.list"
for m in "${modules[@]}"; do
	name=$(basename "$m")
	case $name in
	*.ko.xz) xz -dc "$m" >"$stage/lib/vm-modules/${name%.xz}" ;;
	*.ko.zst) zstd -qdc "$m" >"$stage/lib/vm-modules/${name%.zst}" ;;
	*.ko.gz) gzip -dc "$m" >"$stage/lib/vm-modules/${name%.gz}" ;;
	*) cp "$m" "$stage/lib/vm-modules/$name" ;;
	esac
	echo "${name%.ko*}.ko" >>"$stage/modules.list"
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
	gzip -1 >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
echo "$out"
