#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# krpc2 end to end (NULL calls; its NFSv3 export is 21-nfs3.sh): rpctest
# (every reply matched and checked) in sync,
# pipelined, fragmented, multi-job, AUTH_SYS and UDP modes; rpcinfo (a
# client no one here wrote) with and without a version (the latter relies
# on a correct PROG_MISMATCH); wrong versions and programs; malformed input
# closing only the bad connection; rmmod under load, reload, serve.
. "$(dirname "$0")/lib.sh"

ko=/lib/modules/ksf/krpc2.ko
vm "lsmod | grep -q '^krpc2 ' || insmod $ko"
expect_eq "port parameter" "$(vm 'cat /sys/module/krpc2/parameters/port')" 62049

echo "== rpctest: sync, -a1, -a128 (one call per send, and batched), -f, -j4 -a16, AUTH_SYS, UDP"
vm 'rpctest -H -i 2 -c 2000 127.0.0.1' || fail "rpctest sync"
vm 'rpctest -H -i 2 -c 2000 -a 1 127.0.0.1' || fail "rpctest -a1"
vm 'rpctest -H -i 2 -c 2000 -a 128 127.0.0.1' || fail "rpctest -a128"
vm 'rpctest -H -i 1 -c 20000 -a 128 --batch 127.0.0.1' || fail "rpctest -a128 --batch"
vm 'rpctest -H -i 1 -c 2000 -a 16 -f 127.0.0.1' || fail "rpctest -f"
vm 'rpctest -H -i 1 -c 1000 -j 4 -a 16 127.0.0.1' || fail "rpctest -j4"
vm 'rpctest -H -i 1 -c 2000 -a 8 -A sys 127.0.0.1' || fail "rpctest -A sys"
vm 'rpctest -H -i 1 -c 2000 -a 8 -u 127.0.0.1' || fail "rpctest UDP"

echo "== rpcinfo in the guest and from the host"
out=$(vm 'rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3')
echo "$out"
echo "$out" | grep -q "program 100003 version 3 ready and waiting" || fail "rpcinfo version 3"
out=$(vm 'rpcinfo -a 127.0.0.1.242.97 -T tcp 100003')
echo "$out"
echo "$out" | grep -q "program 100003 version 3 ready and waiting" || fail "rpcinfo without a version"
out=$(rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3)
echo "$out" | grep -q "program 100003 version 3 ready and waiting" || fail "rpcinfo from the host"

echo "== the NULL-only server (files=0, today's krpc2 without an export) for the error cases"
vm 'rmmod krpc2'
vm "insmod $ko files=0" || fail "insmod krpc2 files=0"
vm 'grep -q "^export_pages 0" /sys/kernel/debug/krpc2/stats' || fail "pages without an export"

echo "== wrong version, program, procedure: errors reported, exit 1"
for args in "--vers 4" "--prog 100005" "--proc 1"; do
	rc=0; vm "rpctest -H -i 1 -c 10 $args 127.0.0.1 >/tmp/o 2>&1" || rc=$?
	expect_eq "rpctest $args exit" "$rc" 1
done
vm 'grep -q "PROC_UNAVAIL" /tmp/o' || fail "no PROC_UNAVAIL reported"

echo "== malformed input closes only the bad connection"
python3 "$(dirname "$0")/rpc_malformed.py" 62049 || fail "malformed input"
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'awk "\$1 == \"errors\" {print; exit (\$2 >= 7 ? 0 : 1)}" /sys/kernel/debug/krpc2/stats' ||
	fail "errors not counted"

echo "== the workqueue backend (backend=wq) serves the same"
vm 'rmmod krpc2'
vm "insmod $ko backend=wq" || fail "insmod krpc2 backend=wq"
vm 'grep -q "^backend wq" /sys/kernel/debug/krpc2/stats' || fail "stats do not say backend wq"
vm 'rpctest -H -i 1 -c 1000 -j 2 -a 16 127.0.0.1 && rpctest -H -i 1 -c 500 -a 1 127.0.0.1' ||
	fail "rpctest against backend=wq"
vm 'rmmod krpc2'

echo "== home CPUs per connection (affinity=conn) serve the same"
insmod_says "$ko affinity=conn" "connections on home CPUs" ||
	fail "insmod krpc2 affinity=conn: no load line saying home CPUs"
vm 'grep -q "^affinity conn" /sys/kernel/debug/krpc2/stats' || fail "stats do not say affinity conn"
vm 'rpctest -H -i 1 -c 1000 -j 4 -a 16 127.0.0.1' || fail "rpctest against affinity=conn"
vm 'rmmod krpc2'
vm "insmod $ko"
vm 'grep -q "^affinity upcall" /sys/kernel/debug/krpc2/stats' || fail "stats do not say affinity upcall"

echo "== rmmod under load, then insmod and serve again"
rmmod_under_load krpc2 'rpctest -H -i 1 -c 100M -j 32 -a 8 -t 20000 127.0.0.1' \
	'rpctest -H -i 1 -c 1000 -j 4 -a 16 127.0.0.1'
echo "krpc2 ok"
