#!/usr/bin/env bash
# Install everything machio needs to build and test, from Debian's packages.
# Idempotent: a second run installs nothing and exits quickly.
#
# Kernel image and headers are pinned as matched pairs: an out-of-tree module
# built against one ABI release (with MODVERSIONS) will not load into another.
set -euo pipefail

# shellcheck source=tools/kernels.env
. "$(dirname "$0")/kernels.env"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

BPO=/etc/apt/sources.list.d/machio-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	$SUDO tee "$BPO" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

pkgs=(
	"linux-image-${K61_RELEASE}=${K61_PKG_VERSION}"
	"linux-headers-${K61_RELEASE}=${K61_PKG_VERSION}"
	"linux-headers-${K61_RELEASE%-amd64}-common=${K61_PKG_VERSION}"
	"linux-image-${K612_RELEASE}=${K612_PKG_VERSION}"
	"linux-headers-${K612_RELEASE}=${K612_PKG_VERSION}"
	"linux-headers-${K612_RELEASE%-amd64}-common=${K612_PKG_VERSION}"
	linux-source-6.1 qemu-system-x86 busybox-static cpio
	liburing-dev libaio-dev libfmt-dev cmake g++ make pkg-config
	flex bison bc libelf-dev libssl-dev dwarves rsync kmod xz-utils
	clang-format libgtest-dev strace
)

# Fast path: everything already installed at the wanted version.
missing=()
for p in "${pkgs[@]}"; do
	name=${p%%=*}
	want=${p#*=}
	have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
	if [[ $have != ii* ]] || { [[ $p == *=* ]] && [[ ${have#ii } != "$want" ]]; }; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confold "${missing[@]}"
echo "install-deps: done"
