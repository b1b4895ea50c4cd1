#!/usr/bin/env bash
# Build machio.ko for one kernel: tools/build-module.sh KDIR OUTDIR
#
# Kbuild writes its objects next to the sources, so each kernel gets its
# own copy of the module sources under OUTDIR; builds for different
# kernels then never mix objects.  The build uses W=1 and fails on any
# compiler warning.
set -euo pipefail
kdir=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)

[ -d "$kdir" ] || { echo "build-module: no kernel build tree at $kdir" >&2; exit 1; }
mkdir -p "$out"
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	--exclude '*.mod*' "$top/module" "$out/"
cp "$top/Kbuild" "$out/Kbuild"

log=$out/build.log
if ! make -C "$kdir" M="$out" W=1 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build against $kdir failed" >&2
	exit 1
fi
if grep -E 'warning:|error:' "$log" | grep -v 'Skipping BTF' >&2; then
	echo "build-module: warnings building against $kdir (W=1 must be clean)" >&2
	exit 1
fi
echo "$out/module/machio.ko"
