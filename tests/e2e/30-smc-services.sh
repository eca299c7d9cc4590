#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kecho and krpc2 over SMC-D (issue 16), clients inside the guest:
# - transport=both: one SMC listener serves SMC clients over SMC-D and TCP
#   clients (echotest, rpcinfo) by fallback, at once; the service's
#   statistics, the kernel's SMC counters and smc_diag all agree;
# - transport=smc: a TCP client is closed and counted, SMC clients served;
# - negative control: without the user EID an SMC client falls back
#   (NOUEID), and the service's statistics show it;
# - rmmod under SMC load, with a client that stopped reading, is prompt.
# shellcheck disable=SC2016 # single quotes: those expand in the guest
. "$(dirname "$0")/lib.sh"

UEID=KSF-SMC-LOOPBACK
ko=/lib/modules/ksf/kecho.ko
vm 'grep -q "^SMC " /proc/net/protocols' || fail "the kernel has no SMC"

# smc NAME: the kernel's SMC counter NAME (ksf-smc stats; 0 if not printed).
smc() {
	vm "ksf-smc stats" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}
# svc MODULE NAME: the service's statistic NAME (debugfs).
svc() {
	vm "cat /sys/kernel/debug/$1/stats" | awk -v n="$2" '$1 == n { v = $2 } END { print v }'
}

echo "== kecho transport=both: 4 SMC and 4 TCP clients at once"
vm 'rmmod kecho 2>/dev/null; true'
insmod_says "$ko transport=both" "SMC-D or TCP" || fail "insmod kecho transport=both"
expect_eq "stats transport" "$(svc kecho transport)" both
srv=$(smc smcd_srv_v2_succ) nosmc=$(smc srv_fback_0x03010000)
vm 'echotest --smc -H -i 2 -c 4000 -j 4 -a 4 127.0.0.1 >/tmp/smc.log 2>&1 & s=$!
    echotest -H -i 2 -c 4000 -j 4 -a 4 127.0.0.1; t=$?
    wait $s; s=$?; cat /tmp/smc.log; [ $s = 0 ] && [ $t = 0 ]' ||
	fail "echotest --smc and echotest at once against kecho transport=both"
expect_eq "kecho smcd" "$(svc kecho smcd)" 4
expect_eq "kecho smc_fallback" "$(svc kecho smc_fallback)" 4
expect_eq "kecho smc_fallback_peer_nosmc" "$(svc kecho smc_fallback_peer_nosmc)" 4
expect_eq "kecho bytes echoed" "$(svc kecho bytes_out)" "$(svc kecho bytes_in)"
expect_eq "kernel SMC-D server connections" "$(smc smcd_srv_v2_succ)" $((srv + 4))
expect_eq "kernel PEERNOSMC fallbacks" "$(smc srv_fback_0x03010000)" $((nosmc + 4))

echo "== smc_diag sees both ends of a live SMC-D connection, and the fallback one"
vm 'echotest --smc -H -i 1 -c 1g 127.0.0.1 >/dev/null 2>&1 & s=$!
    echotest -H -i 1 -c 1g 127.0.0.1 >/dev/null 2>&1 & t=$!
    sleep 1.5; ksf-smc socks >/tmp/socks; kill $s $t; wait; cat /tmp/socks
    [ "$(grep -c " state ACTIVE mode smcd " /tmp/socks)" -ge 2 ] &&
    grep -q " mode fallback .* fallback 0x03010000" /tmp/socks' ||
	fail "ksf-smc socks: want two SMC-D ends and one PEERNOSMC fallback"
vm 'grep "^conn .* smcd" /sys/kernel/debug/kecho/stats | head -3; true'

echo "== krpc2 transport=both: rpctest --smc and rpcinfo over TCP"
vm 'rmmod krpc2 2>/dev/null; true'
vm "insmod /lib/modules/ksf/krpc2.ko transport=both" || fail "insmod krpc2 transport=both"
vm 'rpctest --smc -H -i 1 -c 5000 -j 2 -a 8 127.0.0.1 & s=$!
    rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3; t=$?; wait $s; s=$?
    [ $s = 0 ] && [ $t = 0 ]' || fail "rpctest --smc and rpcinfo against krpc2 transport=both"
expect_eq "krpc2 smcd" "$(svc krpc2 smcd)" 2
[ "$(svc krpc2 smc_fallback_peer_nosmc)" -ge 1 ] || fail "krpc2 counted no TCP client"
vm 'rmmod krpc2 && insmod /lib/modules/ksf/krpc2.ko' || fail "reload krpc2"

echo "== kecho transport=smc: TCP clients closed and counted, SMC clients served"
vm 'rmmod kecho'
insmod_says "$ko transport=smc" "SMC-D only" || fail "insmod kecho transport=smc"
vm '! echotest -H -i 1 -c 10 -t 2 127.0.0.1' || fail "a TCP client was served by transport=smc"
vm 'echotest --smc -H -i 1 -c 2000 -j 2 127.0.0.1' || fail "echotest --smc against transport=smc"
[ "$(svc kecho smc_refused)" -ge 1 ] || fail "kecho counted no refused fallback"
expect_eq "kecho smcd (strict)" "$(svc kecho smcd)" 2

echo "== negative control: no user EID, so the SMC client falls back (NOUEID)"
vm 'rmmod kecho'
vm "insmod $ko transport=both" || fail "insmod kecho transport=both"
vm 'ksf-smc ueid flush' || fail "ueid flush"
rc=0; vm 'echotest --smc -H -i 1 -c 200 127.0.0.1' || rc=$?
vm "ksf-smc ueid add $UEID" || fail "cannot add the user EID back"
[ "$rc" = 0 ] || fail "an SMC client without a UEID was not served by fallback"
expect_eq "kecho smcd without a UEID" "$(svc kecho smcd)" 0
expect_eq "kecho fallback reason" "$(svc kecho smc_fallback_last_reason)" 0x03030008

echo "== rmmod under SMC load, with a client that stopped reading"
# socat -u writes to kecho and never reads: kecho's echo fills the
# client's buffer and waits for room with its input left unread.
vm 'echotest --smc -H -i 1 -c 100000000 -j 2 -a 16 127.0.0.1 >/dev/null 2>&1 &
    socat -u /dev/zero SOCKET-CONNECT:2:256:xea677f0000010000000000000000 >/dev/null 2>&1 &
    sleep 2; grep "^conn " /sys/kernel/debug/kecho/stats | head -4'
start=$(date +%s)
vm 'rmmod kecho' || fail "rmmod kecho under SMC load"
secs=$(($(date +%s) - start))
echo "rmmod took ${secs}s"
[ "$secs" -le 10 ] || fail "rmmod under SMC load took ${secs}s"
vm 'sleep 1; killall socat echotest 2>/dev/null; ! lsmod | grep -q "^kecho "' || fail "kecho still loaded"
vm "insmod $ko && echotest -H -i 1 -c 1000 127.0.0.1" || fail "kecho does not serve after reload"
echo "smc services ok"
