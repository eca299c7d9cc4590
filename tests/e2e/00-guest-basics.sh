#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest runner itself: exact output and exit status through vm-exec,
# the modules and tools in place, the network configured.
. "$(dirname "$0")/lib.sh"

expect_eq "output" "$(vm 'printf "a b\n\nc"')" "a b

c"
rc=0; vm 'exit 3' || rc=$?
expect_eq "exit status" "$rc" 3
expect_eq "stderr is captured" "$(vm 'echo oops >&2')" "oops"

vm 'ls /lib/modules/ksf/ksf_test.ko' >/dev/null || fail "ksf_test.ko is not in /lib/modules/ksf"
vm 'command -v rpcinfo && command -v socat' >/dev/null || fail "rpcinfo/socat are not on PATH"
vm 'rpcinfo -h 2>&1 | grep -q Usage:' || fail "rpcinfo does not run in the guest"
vm 'ip -4 addr show dev eth0 | grep -q "inet 10.0.2.15/24"' || fail "eth0 is not configured"
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm '[ "$(grep -c ^processor /proc/cpuinfo)" -ge 2 ]' ||
	fail "the guest does not have 2 CPUs"
echo "guest basics ok"
