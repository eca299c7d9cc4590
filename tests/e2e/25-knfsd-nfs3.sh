#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rpctest's NFSv3 procedures against a real NFS server: knfsd in the
# guest exporting /export (tools/vm/ksf-knfsd), its root handle given
# with --root-fh. LOOKUP, GETATTR, WRITE of rpctest's pattern and READ
# checked against it (4 KiB, 64 KiB batched, 1 MiB), AUTH_NONE and
# AUTH_SYS; a handle knfsd does not know must make rpctest fail. The
# reference krpc2's NFSv3 answers are held to.
. "$(dirname "$0")/lib.sh"

port=62050
fh=0100010001000000
nfs="rpctest -H -i 1 -p $port --root-fh $fh"
vm "ksf-knfsd start $port 4 2 2m" || fail "knfsd did not start"
trap 'vm "ksf-knfsd stop" >/dev/null 2>&1 || true' EXIT

echo "== LOOKUP and GETATTR"
vm "$nfs --proc lookup -c 200 -a 4 127.0.0.1" || fail "LOOKUP against knfsd"
vm "$nfs --proc getattr -c 500 -a 8 -A sys 127.0.0.1" || fail "GETATTR against knfsd"

echo "== WRITE rpctest's pattern, READ it back"
vm "$nfs --proc write -l 4k -c 512 -a 4 127.0.0.1" || fail "WRITE 4 KiB against knfsd"
vm "$nfs --proc read -l 4k -c 512 -a 4 --verify-pattern 127.0.0.1" || fail "READ 4 KiB against knfsd"
vm "$nfs --proc write -l 64k -c 64 -a 4 --batch --file 1 127.0.0.1" || fail "WRITE 64 KiB batched"
vm "$nfs --proc read -l 64k -c 64 -a 4 --batch --file 1 --verify-pattern 127.0.0.1" ||
	fail "READ 64 KiB batched"
vm "$nfs --proc read -l 1m -c 8 -a 2 --file 1 --verify-pattern 127.0.0.1" || fail "READ 1 MiB"

echo "== a handle knfsd refuses (version 2: NFS3ERR_BADHANDLE)"
out=$(vm "rpctest -H -i 1 -p $port --root-fh 0200010001000000 --proc getattr -c 10 127.0.0.1" 2>&1) &&
	fail "rpctest accepted the answer to a bad handle: $out"
echo "$out" | tail -n 2
echo "$out" | grep -q BADHANDLE || fail "no NFS3ERR_BADHANDLE in rpctest's message: $out"
