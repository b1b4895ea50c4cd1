#!/usr/bin/env bash
# Run the kernel's checkpatch.pl (taken from Debian's linux-source-6.1 and
# cached outside the repo) over every module source file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/checkpatch
src=/usr/src/linux-source-6.1.tar.xz

if [ ! -x "$cache/scripts/checkpatch.pl" ]; then
	mkdir -p "$cache"
	tar -xJf "$src" -C "$cache" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi
cd "$top"
mapfile -t files < <(git ls-files 'module/*.c' 'module/*.h')
"$cache/scripts/checkpatch.pl" --no-tree --quiet --show-types -f "${files[@]}"
echo "checkpatch: ${#files[@]} files clean"
