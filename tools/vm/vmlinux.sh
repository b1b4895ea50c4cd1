#!/usr/bin/env bash
# Turn a compressed x86 kernel (bzImage / vmlinuz) into the ELF image QEMU can
# boot directly through the PVH entry point, and print its path.
#
# Usage: tools/vm/vmlinux.sh BZIMAGE
#
# Why: under TCG the kernel's self-decompression is slow (xz: ~3.5 s for the
# Debian 6.1 kernel); QEMU loads an ELF vmlinux with a PVH note
# (CONFIG_PVH=y) without decompressing. The result is cached as
#   ${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/vm/vmlinux-<sha256 of BZIMAGE>
# If the image cannot be unpacked or has no PVH entry, BZIMAGE itself is
# printed (booting it works, only slower), and that is cached too.
set -euo pipefail

image=${1:?usage: vmlinux.sh BZIMAGE}
cache=${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/vm

key=$(sha256sum "$image" | cut -c1-16)
out=$cache/vmlinux-$key
if [ -e "$out" ]; then
	echo "$out"
	exit 0
fi
# Remembered failure (e.g. the debug kernel, built without CONFIG_PVH).
if [ -e "$out.none" ]; then
	echo "$image"
	exit 0
fi

fallback() {
	echo "vmlinux: $1; booting $image as is" >&2
	mkdir -p "$cache" && echo "$1" >"$out.none"
	echo "$image"
	exit 0
}

# Byte $2.. of file $1 as an unsigned little-endian integer of $3 bytes.
le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

# x86 boot protocol: the compressed payload starts payload_offset (0x248)
# bytes into the protected-mode code, which follows (setup_sects + 1) * 512
# bytes of real-mode setup. For every format but gzip the build appends the
# uncompressed size (4 bytes), which is not part of the compressed stream.
[ "$(od -An -c -j 0x202 -N 4 "$image" | tr -d ' ')" = HdrS ] || fallback "not a bzImage"
setup_sects=$(le "$image" $((0x1f1)) 1)
[ "$setup_sects" -ne 0 ] || setup_sects=4
start=$(((setup_sects + 1) * 512 + $(le "$image" $((0x248)) 4)))
length=$(le "$image" $((0x24c)) 4)

payload() { dd if="$image" iflag=skip_bytes,count_bytes skip="$start" count="$length" status=none; }
magic=$(od -An -tx1 -j "$start" -N 6 "$image" | tr -d ' ')
[ "${magic:0:4}" = 1f8b ] || length=$((length - 4))
case $magic in
1f8b*) decompress=(gzip -dc) ;;
fd377a585a00) decompress=(xz -dc) ;;
28b52ffd*) decompress=(zstd -qdc) ;;
425a68*) decompress=(bzip2 -dc) ;;
5d0000*) decompress=(xz -dc --format=lzma) ;;
*) fallback "unknown compression (magic $magic)" ;;
esac
command -v "${decompress[0]}" >/dev/null || fallback "${decompress[0]} not installed"

mkdir -p "$cache"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
payload | "${decompress[@]}" >"$tmp" 2>/dev/null || fallback "cannot decompress the payload"
[ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = 177ELF ] || fallback "payload is not an ELF file"
# XEN_ELFNOTE_PHYS32_ENTRY (type 18): the PVH entry point.
readelf -n "$tmp" 2>/dev/null | grep -q 'Xen.*(0x00000012)' || fallback "no PVH entry point (CONFIG_PVH)"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
