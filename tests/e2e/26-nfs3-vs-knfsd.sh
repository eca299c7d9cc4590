#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# krpc2's NFSv3 replies against knfsd's to the same calls
# (tests/e2e/nfs3_compare.py): LOOKUP, GETATTR, READ, WRITE, ACCESS,
# FSINFO, PATHCONF and FSSTAT, good and bad, sent from the host through the
# forwarded port 62049 to krpc2 (2 files of 1 MiB), then to knfsd on the
# same port exporting the same files from a tmpfs. Only krpc2's documented
# choices may differ.
# Leaves krpc2 loaded with its defaults.
. "$(dirname "$0")/lib.sh"

ko=/lib/modules/ksf/krpc2.ko
compare="python3 $(dirname "$0")/nfs3_compare.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== the calls to krpc2"
vm "rmmod krpc2 2>/dev/null; insmod $ko files=2 file_size=1048576" || fail "insmod krpc2"
$compare record 62049 -o "$tmp/krpc2.json" || fail "recording krpc2's replies"
vm "rmmod krpc2"

echo "== the same calls to knfsd"
vm "ksf-knfsd start 62049 4 2 1m" || fail "knfsd did not start"
rc=0
$compare record 62049 --root-fh 0100010001000000 -o "$tmp/knfsd.json" || rc=$?
vm "ksf-knfsd stop" || fail "knfsd did not stop"
[ "$rc" = 0 ] || fail "recording knfsd's replies"
vm "insmod $ko" || fail "insmod krpc2 after knfsd"

echo "== side by side"
$compare compare "$tmp/krpc2.json" "$tmp/knfsd.json" || fail "krpc2 and knfsd differ"
echo "nfs3 vs knfsd ok"
