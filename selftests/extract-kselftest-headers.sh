#!/bin/sh
# Take kselftest.h and kselftest_harness.h out of Debian's linux-source-6.1
# at build time: they are GPL-2.0 kernel files, so the repo does not carry
# copies of them.
set -eu
out=$1
src=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
[ -r "$src" ] || { echo "$0: $src missing (run make deps)" >&2; exit 1; }
mkdir -p "$out"
tar -xJf "$src" -C "$out" --strip-components=4 --wildcards \
	'linux-source-6.1/tools/testing/selftests/kselftest.h' \
	'linux-source-6.1/tools/testing/selftests/kselftest_harness.h'
