#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build every ksf module against a kernel tree:
#   modules.sh OUT_DIR            (KDIR from the environment)
# The sources are mirrored into OUT_DIR/src (Kbuild writes its objects next
# to them) so that builds for several kernels do not trample each other;
# the .ko files are collected in OUT_DIR/ko.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/toolchain.sh"
mkdir -p "$1"
out=$(cd "$1" && pwd)
: "${KDIR:?KDIR is not set}"
if [ ! -f "$KDIR/Module.symvers" ] || ! grep -qx 'CONFIG_RUST=y' "$KDIR/.config" 2>/dev/null; then
	echo "modules: $KDIR is not a built kernel tree with CONFIG_RUST=y" >&2
	exit 1
fi
# KMAKE_ARGS overrides the toolchain for a kernel built with another one.
kmake_args=${KMAKE_ARGS:-$KSF_KMAKE_ARGS}

src="$out/src"
mkdir -p "$src" "$out/ko"
# cp -a keeps modification times, so Kbuild rebuilds only what changed.
for part in Kbuild rust samples tests/kunit; do
	[ -e "$top/$part" ] && (cd "$top" && cp -a --parents "$part" "$src/")
done
# shellcheck disable=SC2086
make -s -C "$KDIR" M="$src" $kmake_args -j"$(($(nproc) + 1))" modules
rm -f "$out/ko/"*.ko
find "$src" -name '*.ko' -exec cp {} "$out/ko/" \;
echo "modules: $(cd "$out/ko" && echo *.ko) in $out/ko"
