#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build (or find in the cache) the ksf guest kernel.
#
#   kernel.sh dir FLAVOR     print the build directory (KDIR) for FLAVOR
#   kernel.sh build FLAVOR   build it unless a finished build is cached
#
# FLAVOR is "fast" or "debug". The build lives outside the repository under
# $KSF_CACHE/kernel/FLAVOR-KEY, where KEY hashes everything that affects it:
# the Debian source package version, the config fragments, this script and
# the toolchain versions (comments aside). Change any of them and a new
# build is made.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/toolchain.sh"

usage() { echo "usage: $0 dir|build fast|debug" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 flavor=$2
case $flavor in fast|debug) ;; *) echo "kernel: unknown flavor '$flavor' (fast or debug)" >&2; exit 2;; esac

# The config fragments, in the order they apply, are the positional
# parameters from here on.
set -- "$top/tools/kernel/common.config" "$top/tools/kernel/$flavor.config"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || {
	echo "kernel: linux-source-6.12 is not installed; run 'make deps'" >&2; exit 1; }

key=$( {
	echo "$srcver"
	# Comments do not affect the build: "# CONFIG_X is not set" does.
	sed '/^#/{/^# CONFIG_/!d}' "$@"
	sed '/^[[:space:]]*#/d' "$here/kernel.sh" "$here/toolchain.sh"
	"$KSF_RUSTC" -vV; clang-19 --version | head -1; "$KSF_BINDGEN" --version
} | sha256sum | cut -c1-16)
out="$KSF_CACHE/kernel/$flavor-$key"

case $cmd in
dir) echo "$out"; exit 0;;
build) ;;
*) usage;;
esac

[ -f "$out/.ksf-done" ] && { echo "kernel: $flavor cached at $out"; exit 0; }

mkdir -p "$KSF_CACHE/kernel" "$KSF_CACHE/src"
exec 9>"$KSF_CACHE/kernel/.lock-$flavor"
flock 9
[ -f "$out/.ksf-done" ] && { echo "kernel: $flavor cached at $out"; exit 0; }

src="$KSF_CACHE/src/linux-$srcver"
if [ ! -f "$src/.ksf-extracted" ]; then
	echo "kernel: extracting linux-source $srcver"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf /usr/src/linux-source-6.12.tar.xz
	touch "$src.tmp/.ksf-extracted"
	mv "$src.tmp" "$src"
fi

start=$(date +%s)
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
jobs=$(($(nproc) + 1))
# shellcheck disable=SC2086
kmake() { make -s -C "$src" O="$tmp" $KSF_KMAKE_ARGS "$@"; }

echo "kernel: configuring $flavor ($tmp)"
kmake tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" "$@" >/dev/null
kmake olddefconfig >/dev/null

# Every fragment line must have stuck: a silently dropped option (a missing
# dependency) would give a kernel that is not the one we asked for.
bad=""
for f in "$@"; do
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$tmp/.config" || bad="$bad
  want $line, have: $(grep "^${line%%=*}=" "$tmp/.config" || echo unset)";;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			grep -q "^$sym=" "$tmp/.config" && bad="$bad
  want $sym unset, have: $(grep "^$sym=" "$tmp/.config")";;
		esac
	done < "$f"
done
if [ -n "$bad" ]; then
	echo "kernel: config fragment did not apply:$bad" >&2
	exit 1
fi

echo "kernel: building $flavor with $jobs jobs (this takes several minutes)"
kmake -j"$jobs" all
cp "$tmp/arch/x86/boot/bzImage" "$tmp/bzImage"
touch "$tmp/.ksf-done"
# Keep this build and the two most recent others of this flavor (branches
# with different keys would otherwise rebuild each other's in turn).
# shellcheck disable=SC2010,SC2012 # cache directory names have no odd characters
ls -dt "$KSF_CACHE/kernel/$flavor-"* 2>/dev/null | grep -v -e '\.tmp$' | tail -n +3 |
	while IFS= read -r old; do rm -rf "$old"; done
mv "$tmp" "$out"
echo "kernel: $flavor built in $(($(date +%s) - start)) s at $out"
