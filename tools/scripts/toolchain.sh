# SPDX-License-Identifier: GPL-2.0
# Sourced by the build scripts: the one toolchain the kernel and the modules
# are built with (see ../shared notes: Debian's rustc-web with its library
# source, clang/LLVM 19, bindgen from crates.io).
# shellcheck shell=sh
KSF_RUSTC=/usr/bin/rustc
KSF_RUSTDOC=/usr/bin/rustdoc
KSF_BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
# shellcheck disable=SC2034 # for the scripts that source this file
KSF_KMAKE_ARGS="LLVM=-19 RUSTC=$KSF_RUSTC RUSTDOC=$KSF_RUSTDOC BINDGEN=$KSF_BINDGEN RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver"
KSF_CACHE="${KSF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksf}"
