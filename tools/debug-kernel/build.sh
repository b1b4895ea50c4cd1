#!/usr/bin/env bash
# Build (once) the machio debug kernel: Debian's linux-source-6.1, configured
# as `make tinyconfig` + tools/debug-kernel/config.fragment (KASAN, kmemleak,
# lockdep, UBSAN, fault injection, virtio-9p built in).
#
# Usage: tools/debug-kernel/build.sh
#
# The result lives outside the repository, in
#   ${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}/debug-kernel/<key>/
# where <key> hashes config.fragment and the linux-source-6.1 package version.
# That directory holds:
#   bzImage   the kernel image (a copy)
#   release   `uname -r` of the kernel, e.g. 6.1.192-machio-debug
#   kdir      the prepared tree, for `make -C "$(cat kdir)" M=<dir> modules`
#   root/     modules_install output: root/lib/modules/<release>/
#   config    the final .config
#   build.log, build-seconds
#   done      present once everything above is complete
# If <key>/done exists the script does nothing. The build runs in a temporary
# directory next to <key> and is renamed into place only when complete, so an
# interrupted build leaves no half-built <key> and is simply retried.
#
# Progress goes to stderr; the only stdout line is the result directory, so
# `dir=$(tools/debug-kernel/build.sh)` works.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/kernels.env
. "$here/../kernels.env"
fragment=$here/config.fragment
src_pkg=$KDEBUG_SOURCE_PACKAGE
src_tar=/usr/src/$src_pkg.tar.xz
# Bump when the build steps below change in a way that changes the output.
recipe=1

log() { echo "debug-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -r "$src_tar" ] || die "$src_tar missing (run tools/install-deps.sh)"
pkg_version=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null) ||
	die "package $src_pkg is not installed (run tools/install-deps.sh)"

key=$({
	cat "$fragment"
	echo "$src_pkg=$pkg_version recipe=$recipe"
} | sha256sum | cut -c1-16)
cache=$(realpath -m "${MACHIO_CACHE:-${HOME:-/root}/.cache/machio}")/debug-kernel
dest=$cache/$key

# Fast path: already built.
if [ -e "$dest/done" ]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$cache"
# One builder per key; a concurrent caller waits and then reuses the result.
exec 9>"$cache/.$key.lock"
if ! flock -n 9; then
	log "another build of $key is running, waiting for it"
	flock 9
fi
if [ -e "$dest/done" ]; then
	echo "$dest"
	exit 0
fi

# Leftovers of interrupted builds (we hold the lock, so nobody uses them).
rm -rf "$dest" "$cache/.tmp-$key".*
tmp=$(mktemp -d "$cache/.tmp-$key.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
buildlog=$tmp/build.log
log "building $src_pkg $pkg_version into $dest (log: $buildlog)"

# The tree is built in $tmp/src and used as KDIR from $dest/src after the
# rename. An in-tree build only records relative paths, so it survives that.
log "extracting $src_tar"
mkdir "$tmp/src"
tar -xJf "$src_tar" -C "$tmp/src" --strip-components=1

kmake() { make -C "$tmp/src" ARCH=x86_64 "$@"; }

# Run a build step with its output in the log; show the log tail on failure.
step() {
	log "$1"
	shift
	if ! "$@" >>"$buildlog" 2>&1; then
		tail -n 40 "$buildlog" >&2
		die "step failed: $*"
	fi
}

step "configuring: tinyconfig + config.fragment" kmake tinyconfig
step "merging config.fragment" \
	env -C "$tmp/src" ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$fragment"
step "resolving dependencies (olddefconfig)" kmake olddefconfig

# tinyconfig is full of dependency traps (KASAN needs SLUB, 9P needs INET,
# ...): a symbol whose dependencies are unmet is silently dropped. Check that
# every line of the fragment made it into the final .config.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		if ! grep -qxF -- "$line" "$tmp/src/.config"; then
			log "config: wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$tmp/src/.config" || echo unset)"
			bad=1
		fi
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" "$tmp/src/.config"; then
			log "config: wanted $sym off, got: $(grep "^$sym=" "$tmp/src/.config")"
			bad=1
		fi
		;;
	esac
done <"$fragment"
[ "$bad" -eq 0 ] || die "config.fragment did not apply cleanly (see above)"
cp "$tmp/src/.config" "$tmp/config"

jobs=$(nproc)
step "compiling bzImage and modules with -j$jobs (takes several minutes)" \
	kmake -j"$jobs" bzImage modules
step "installing modules" kmake INSTALL_MOD_PATH="$tmp/root" modules_install

release=$(kmake -s kernelrelease)
echo "$release" >"$tmp/release"
echo "$dest/src" >"$tmp/kdir"
cp "$tmp/src/arch/x86/boot/bzImage" "$tmp/bzImage"
# modules_install may point build/source at the temporary tree; repoint them.
for link in build source; do
	if [ -L "$tmp/root/lib/modules/$release/$link" ]; then
		ln -sfn "$dest/src" "$tmp/root/lib/modules/$release/$link"
	fi
done
echo $(($(date +%s) - start)) >"$tmp/build-seconds"

# Commit: the rename is atomic; `done` is written last.
mv "$tmp" "$dest"
trap - EXIT
touch "$dest/done"
log "built $release in $(cat "$dest/build-seconds")s"
echo "$dest"
