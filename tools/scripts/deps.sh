#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package and cargo tool ksf needs. Idempotent: when
# everything is present it only checks and returns.
set -eu

PKGS="linux-source-6.12 xz-utils make flex bison bc libelf-dev libssl-dev cpio kmod
rustc-web rust-web-src rust-web-clippy rustfmt-web
clang-19 lld-19 llvm-19 libclang-19-dev
busybox-static qemu-system-x86 rpcbind socat python3 rsync
shellcheck perl linux-perf"
BINDGEN_VERSION=0.73.2

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run 'make deps' as root (or install them) and retry" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! "$CARGO_BIN/bindgen" --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
	command -v cargo >/dev/null || { echo "deps: cargo not found" >&2; exit 1; }
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install -q bindgen-cli \
		--version "$BINDGEN_VERSION" --locked
fi
# make lint and make check run cargo clippy on the tools: the cargo on PATH
# (rustup's, normally) needs its clippy component.
if ! cargo clippy --version >/dev/null 2>&1; then
	command -v rustup >/dev/null || {
		echo "deps: cargo clippy is missing and there is no rustup to add it" >&2; exit 1; }
	echo "deps: installing clippy for cargo (rustup component add clippy)"
	rustup component add clippy
fi
echo "deps: ok"
