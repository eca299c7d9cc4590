#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Copy the workspace's release binaries from cargo's target dir into BIN_DIR.
#   install-bins.sh TARGET_RELEASE_DIR BIN_DIR
set -eu
from=$1 to=$2
mkdir -p "$to"
find "$from" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.d' \
	-exec cp {} "$to/" \;
