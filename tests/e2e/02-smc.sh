#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# SMC-D over loopback-ism in the guest (issue 16): the device is there, the
# init set the user EID, and an SMC connection inside the guest (socat on
# IPPROTO_SMC sockets) is counted as SMC-D on both ends, on a loopback-ism
# link group. Negative control: without a user EID the same connection
# still echoes but falls back to TCP: the server declines with NOUEID
# (0x03030008), the client counts a fallback, and SMC-D counts nothing.
# The tools' --smc: pingpong's floor over SMC-D, and one SMC listener
# serving a TCP client (fallback) and an SMC one (SMC-D).
. "$(dirname "$0")/lib.sh"

UEID=KSF-SMC-LOOPBACK
# AF_INET (2) with IPPROTO_SMC (256), on 127.0.0.1:60070: socat's generic
# socket address is the family, then sa_data as raw bytes (port and address
# in network order, 8 bytes of zeros). AF_SMC does not do: socat puts the
# domain in sa_family, and SMC binds only AF_INET and AF_INET6 addresses.
SMC_ADDR=2:256:xeaa67f0000010000000000000000
# The negative control's, on 127.0.0.1:60072: a port of its own, as the
# first round trip's SMC listener may still hold 60070 (its bind then
# fails with EADDRINUSE, once seen in make check).
SMC_ADDR2=2:256:xeaa87f0000010000000000000000

vm 'grep -q "^SMC " /proc/net/protocols' || fail "the kernel has no SMC"
expect_eq "ksf-smc devs" "$(vm 'ksf-smc devs')" "loopback-ism"
expect_eq "ksf-smc ueid list" "$(vm 'ksf-smc ueid list')" "$UEID"

# stat NAME: the counter NAME of 'ksf-smc stats' (0 if not printed).
stat() {
	vm "ksf-smc stats" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

# round_trip ADDR: one line through an SMC echo server and an SMC client (which
# retries until the server listens: a debug guest is slow to start it).
round_trip() {
	vm "socat SOCKET-LISTEN:$1,reuseaddr PIPE & s=\$!
	    out=\$(echo smc-hello |
	        socat -t 2 - SOCKET-CONNECT:$1,retry=40,interval=0.25)
	    kill \$s 2>/dev/null; wait \$s 2>/dev/null
	    [ \"\$out\" = smc-hello ] || { echo \"echoed '\$out'\"; exit 1; }"
}

clnt=$(stat smcd_clnt_v2_succ) srv=$(stat smcd_srv_v2_succ)
round_trip "$SMC_ADDR" || fail "no echo over an SMC socket"
expect_eq "SMC-D v2 client connections" "$(stat smcd_clnt_v2_succ)" $((clnt + 1))
expect_eq "SMC-D v2 server connections" "$(stat smcd_srv_v2_succ)" $((srv + 1))
lgrs=$(vm 'ksf-smc lgrs')
case $lgrs in
*" dev loopback-ism chid 0xffff "*) ;;
*) fail "no SMC-D link group on loopback-ism: '$lgrs'";;
esac

# The floor over SMC-D: pingpong --smc, both ends in one process.
clnt=$(stat smcd_clnt_v2_succ) srv=$(stat smcd_srv_v2_succ)
vm 'pingpong --smc -H -c 2000 -i 1' || fail "pingpong --smc"
expect_eq "pingpong --smc client over SMC-D" "$(stat smcd_clnt_v2_succ)" $((clnt + 1))
expect_eq "pingpong --smc server over SMC-D" "$(stat smcd_srv_v2_succ)" $((srv + 1))

# One SMC listener (pingpong --smc --server) serves a TCP client by
# fallback (the peer offered no SMC: PEERNOSMC, 0x03010000), then
# echotest --smc over SMC-D.
peer=$(stat srv_fback_0x03010000) srv=$(stat smcd_srv_v2_succ)
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'pingpong --smc --server -p 60071 >/tmp/pp.log 2>&1 & echo $! >/tmp/pp.pid
    i=0; until grep -q listening /tmp/pp.log; do
        i=$((i + 1)); [ $i -le 50 ] || { cat /tmp/pp.log; exit 1; }; sleep 0.2; done
    pingpong -H -c 500 -i 1 127.0.0.1:60071 && echotest --smc -H -c 500 -i 1 127.0.0.1:60071
    rc=$?; kill $(cat /tmp/pp.pid); exit $rc' || fail "TCP and SMC clients of one SMC listener"
expect_eq "PEERNOSMC server fallbacks" "$(stat srv_fback_0x03010000)" $((peer + 1))
expect_eq "SMC-D server connections" "$(stat smcd_srv_v2_succ)" $((srv + 1))

nouid=$(stat srv_fback_0x03030008) fb=$(stat clnt_fback) clnt=$(stat smcd_clnt_v2_succ)
vm 'ksf-smc ueid flush' || fail "ueid flush"
rc=0; round_trip "$SMC_ADDR2" || rc=$?
vm "ksf-smc ueid add $UEID" || fail "cannot add the user EID back"
[ "$rc" = 0 ] || fail "no echo over an SMC socket falling back to TCP"
expect_eq "NOUEID server fallbacks" "$(stat srv_fback_0x03030008)" $((nouid + 1))
expect_eq "client fallbacks" "$(stat clnt_fback)" $((fb + 1))
expect_eq "SMC-D v2 client connections without a UEID" "$(stat smcd_clnt_v2_succ)" "$clnt"
echo "smc ok"
