#!/bin/sh
# Install libmachio into a temporary prefix and build consumers of the
# installed files only: pkg-config (C and C++, shared and static) and
# find_package (the consumer/ project).  Runs each consumer once.
#
# usage: install_test.sh CMAKE BUILD_DIR CONSUMER_SRC CC CXX
set -eu

cmake=$1
build=$2
consumer_src=$3
cc=$4
cxx=$5

tmp=$(mktemp -d "${TMPDIR:-/tmp}/machio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" --component libmachio >"$tmp/install.log"

pc=$(find "$prefix" -name machio.pc)
test -n "$pc" || { echo "machio.pc not installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
for f in include/machio/mach.h include/machio/machio.hpp include/uapi/linux/machio.h; do
	test -f "$prefix/$f" || { echo "missing $f" >&2; exit 1; }
done
test -f "$libdir/libmachio.a" || { echo "missing libmachio.a" >&2; exit 1; }
test -f "$libdir/cmake/machio/machioConfig.cmake" || { echo "missing machioConfig.cmake" >&2; exit 1; }
test -f "$libdir/cmake/machio/machioConfigVersion.cmake" || { echo "missing version file" >&2; exit 1; }

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags machio)
libs=$(pkg-config --libs machio)
# The private dependencies of the archive, without -lmachio itself.
static_deps=$(pkg-config --static --libs machio | sed 's/-lmachio\b//')

# pkg-config, shared.
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic $cflags "$consumer_src/consumer.c" \
	-o "$tmp/c_shared" $libs
"$cxx" -std=c++20 -Wall -Wextra -Werror $cflags "$consumer_src/consumer.cpp" \
	-o "$tmp/cxx_shared" $libs
# pkg-config, static: the C program links the archive with the C driver
# and no C++ runtime; the C++ one takes the private dependencies too.
"$cc" -std=c99 -Wall -Wextra -Werror $cflags "$consumer_src/consumer.c" \
	-o "$tmp/c_static" "$libdir/libmachio.a"
"$cxx" -std=c++20 -Wall -Wextra -Werror $cflags "$consumer_src/consumer.cpp" \
	-o "$tmp/cxx_static" "$libdir/libmachio.a" $static_deps

LD_LIBRARY_PATH="$libdir" "$tmp/c_shared"
LD_LIBRARY_PATH="$libdir" "$tmp/cxx_shared"
"$tmp/c_static"
"$tmp/cxx_static"
if ldd "$tmp/c_static" | grep -q libmachio; then
	echo "c_static links libmachio.so" >&2
	exit 1
fi

# find_package.
"$cmake" -S "$consumer_src" -B "$tmp/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" \
	>"$tmp/consumer-configure.log"
"$cmake" --build "$tmp/consumer-build" >"$tmp/consumer-build.log"
for exe in consumer_c_shared consumer_cxx_shared consumer_c_static consumer_cxx_static; do
	"$tmp/consumer-build/$exe"
done
echo "install test ok"
