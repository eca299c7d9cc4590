#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The addr parameter and kecho's UDP reflector guard, checked inside the
# guest (not through the forwarded ports): addr=127.0.0.1 serves
# 127.0.0.1 and not ::1, addr=::1 serves ::1 and not 127.0.0.1, the
# default :: serves both, addr=bogus is refused with EINVAL and a dmesg
# line; kecho does not echo a datagram from a privileged port (53) or
# from its own port, and counts it as an error. Leaves kecho and krpc2
# loaded (with their defaults) if they were.
. "$(dirname "$0")/lib.sh"

dir=/lib/modules/ksf
had=$(vm 'lsmod | cut -d" " -f1 | grep -x -e kecho -e krpc2 | tr "\n" " "')
vm 'rmmod kecho 2>/dev/null; rmmod krpc2 2>/dev/null; true'

# tcp HOST: kecho echoes over TCP at HOST (as socat writes it).
tcp() { vm "echo ping | socat -t 2 -T 2 - TCP:$1:60007 | grep -qx ping"; }
# udp HOST [OPTS]: kecho echoes a datagram sent to HOST (socat options).
udp() { vm "echo ping | socat -t 2 -T 2 - UDP:$1:60007${2-} | grep -qx ping"; }
# shellcheck disable=SC2016 # single quotes: it expands in the guest
errors() { vm 'awk "\$1 == \"errors\" {print \$2}" /sys/kernel/debug/kecho/stats'; }

echo "== addr=127.0.0.1: IPv4 loopback only"
insmod_says "$dir/kecho.ko addr=127.0.0.1" "kecho: listening on TCP and UDP 127.0.0.1:60007" ||
	fail "insmod kecho addr=127.0.0.1: no load line saying 127.0.0.1:60007"
tcp 127.0.0.1 || fail "addr=127.0.0.1: no TCP echo on 127.0.0.1"
udp 127.0.0.1 || fail "addr=127.0.0.1: no UDP echo on 127.0.0.1"
tcp '[::1]' && fail "addr=127.0.0.1: TCP served on ::1"
udp '[::1]' && fail "addr=127.0.0.1: UDP served on ::1"

echo "== UDP: no echo to a privileged port or to kecho's own port"
before=$(errors)
udp 127.0.0.1 ,sourceport=53 && fail "a datagram from port 53 was echoed"
# Port 60007 of another loopback address: kecho holds 127.0.0.1's.
udp 127.0.0.1 ,bind=127.0.0.2:60007 && fail "a datagram from port 60007 was echoed"
udp 127.0.0.1 ,sourceport=1024 || fail "a datagram from port 1024 was not echoed"
expect_eq "errors counted for the dropped datagrams" "$(errors)" "$((before + 2))"
vm 'rmmod kecho'

echo "== addr=::1: IPv6 loopback only"
vm "insmod $dir/kecho.ko addr=::1" || fail "insmod kecho addr=::1"
tcp '[::1]' || fail "addr=::1: no TCP echo on ::1"
udp '[::1]' || fail "addr=::1: no UDP echo on ::1"
tcp 127.0.0.1 && fail "addr=::1: TCP served on 127.0.0.1"
udp 127.0.0.1 && fail "addr=::1: UDP served on 127.0.0.1"
vm 'rmmod kecho'

echo "== addr=bogus is refused"
vm "dmesg -c >/dev/null; ! insmod $dir/kecho.ko addr=bogus 2>/tmp/e && grep -q 'Invalid argument' /tmp/e" ||
	fail "addr=bogus not refused with EINVAL"
vm "dmesg | grep -q \"kecho: invalid addr='bogus': must be an IPv4 or IPv6 address\"" ||
	fail "no dmesg line for addr=bogus"

echo "== the default (::) serves IPv4 and IPv6"
vm "insmod $dir/kecho.ko" || fail "insmod kecho"
{ tcp 127.0.0.1 && tcp '[::1]' && udp 127.0.0.1 && udp '[::1]'; } || fail "the default does not serve both"
vm 'rmmod kecho'

echo "== krpc2 addr=127.0.0.1"
insmod_says "$dir/krpc2.ko addr=127.0.0.1" "krpc2: serving .* on TCP and UDP 127.0.0.1:62049" ||
	fail "insmod krpc2 addr=127.0.0.1: no load line saying 127.0.0.1:62049"
vm 'rpctest -H -i 1 -c 200 127.0.0.1' || fail "rpctest against krpc2 addr=127.0.0.1"
vm 'rmmod krpc2'

for m in $had; do
	vm "insmod $dir/$m.ko" || fail "insmod $m"
done
echo "addr ok"
