#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The service ports reach the guest from host 127.0.0.1. socat echo servers
# in the guest on TCP 60007 and TCP 62049 answer socat on the host; a UDP
# datagram sent to host 127.0.0.1:60007 arrives in the guest.
#
# UDP is one way: with restrict=on, libslirp's udp_input() drops every
# datagram the guest sends, replies to a forwarded port included, so UDP
# round trips are tested inside the guest.
. "$(dirname "$0")/lib.sh"

busy=$(vm 'netstat -ln 2>/dev/null | grep -E ":(60007|62049) " || true')
if [ -n "$busy" ]; then
	echo "ports in use in the guest (a service is loaded); skipping"
	exit 0
fi

# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'rm -f /tmp/udp.in
    socat -t 5 TCP-LISTEN:60007,reuseaddr,fork PIPE >/dev/null 2>&1 </dev/null &
    socat -t 5 TCP-LISTEN:62049,reuseaddr,fork PIPE >/dev/null 2>&1 </dev/null &
    socat -u UDP-RECV:60007 OPEN:/tmp/udp.in,creat,append >/dev/null 2>&1 </dev/null &
    for i in $(seq 100); do
        [ "$(netstat -ln | grep -cE ":(60007|62049) ")" -ge 3 ] && exit 0
        sleep 0.1
    done
    echo "socat did not start listening" >&2; exit 1'
trap "vm 'killall socat' >/dev/null 2>&1 || true" EXIT

payload="ksf forwarding test $(date +%s%N)"
for port in 60007 62049; do
	got=$(printf '%s' "$payload" | socat -t 5 - TCP:127.0.0.1:$port)
	expect_eq "TCP $port echo" "$got" "$payload"
done

printf '%s' "$payload" | socat -u - UDP-SENDTO:127.0.0.1:60007
# shellcheck disable=SC2016 # single quotes: it expands in the guest
got=$(vm 'for i in $(seq 50); do [ -s /tmp/udp.in ] && break; sleep 0.1; done; cat /tmp/udp.in')
expect_eq "UDP 60007 datagram" "$got" "$payload"
echo "port forwarding ok"
