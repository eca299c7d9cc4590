#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build every ksf module against a kernel tree:
#   modules.sh OUT_DIR            (KDIR from the environment)
# The sources are mirrored into OUT_DIR/src (Kbuild writes its objects next
# to them) so that builds for several kernels do not trample each other;
# the .ko files are collected in OUT_DIR/ko.
#
# KSF_CLIPPY=1 builds the Rust code with clippy-driver (Kbuild's CLIPPY=1,
# the kernel's lint set and .clippy.toml): the same objects, plus clippy's
# warnings. Each Rust crate is then recompiled every time, so that its
# warnings are printed on every run and not only when a source changed;
# the build's output is also kept in OUT_DIR/build.log (what
# tools/scripts/lint.py reads).
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
clippy=
if [ "${KSF_CLIPPY:-0}" = 1 ]; then
	clippy=CLIPPY=1
	# A crate's object is named after its root file (kecho_main.rs).
	find "$src" -name '*.rs' | while IFS= read -r rs; do
		rm -f "${rs%.rs}.o"
	done
fi
# The log says how it was made (lint.py trusts only a clippy build's).
echo "modules: ${clippy:-no CLIPPY} against $KDIR" >"$out/build.log"
# $kmake_args is a list of make arguments, split on purpose.
# shellcheck disable=SC2086
if make -s -C "$KDIR" M="$src" $kmake_args $clippy -j"$(($(nproc) + 1))" modules \
	>>"$out/build.log" 2>&1; then
	cat "$out/build.log"
else
	rc=$?
	cat "$out/build.log"
	exit "$rc"
fi
rm -f "$out/ko/"*.ko
find "$src" -name '*.ko' -exec cp {} "$out/ko/" \;
echo "modules: $(cd "$out/ko" && echo *.ko) in $out/ko"
