#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kecho end to end: echotest (every byte verified) over TCP and UDP with
# several jobs and depths, a file echoed byte for byte by socat (in the
# guest, and from the host through the forwarded port), the workqueue
# backend, and rmmod under load followed by a fresh insmod that serves.
# (Bad parameters: tools/scripts/campaigns/module.py.)
. "$(dirname "$0")/lib.sh"

ko=/lib/modules/ksf/kecho.ko
vm "lsmod | grep -q '^kecho ' || insmod $ko"
expect_eq "port parameter" "$(vm 'cat /sys/module/kecho/parameters/port')" 60007
for p in addr port threads_min threads_max sndbuf rcvbuf max_conns mem_max idle_timeout request_timeout backend affinity transport; do
	vm "test -r /sys/module/kecho/parameters/$p" || fail "parameter $p is not in sysfs"
done
# modinfo on the host (busybox's needs modules.dep): every parameter is
# described.
# The first build that has one (debug, fast or custom).
for ko_host in "$KSF_BUILD"/modules/*/ko/kecho.ko; do break; done
[ "$(modinfo -F parm "$ko_host" | grep -c .)" -eq 13 ] || fail "modinfo does not list 13 parameters"

echo "== echotest TCP -a1, -a16 -j2 (one message per send, and batched), 16 KiB messages, UDP"
vm 'echotest -H -i 2 -c 2000 127.0.0.1' || fail "echotest -a1"
vm 'echotest -H -i 2 -c 2000 -j 2 -a 16 -l 1000 127.0.0.1' || fail "echotest -j2 -a16"
vm 'echotest -H -i 1 -c 5000 -j 2 -a 16 -l 1000 --batch 127.0.0.1' || fail "echotest -j2 -a16 --batch"
vm 'echotest -H -i 1 -c 500 -a 4 -l 16384 127.0.0.1' || fail "echotest 16 KiB"
vm 'echotest -H -i 2 -c 2000 -u -a 8 -l 512 127.0.0.1' || fail "echotest UDP"

echo "== statistics in debugfs"
stats=$(vm 'cat /sys/kernel/debug/kecho/stats')
echo "$stats" | head -12
get() { echo "$stats" | awk -v k="$1" '$1 == k {print $2}'; }
[ "$(get accepted)" -ge 4 ] || fail "stats: accepted $(get accepted), want >= 4"
[ "$(get bytes_in)" -gt 0 ] || fail "stats: nothing received"
expect_eq "stats: bytes echoed" "$(get bytes_out)" "$(get bytes_in)"
echo "$stats" | grep -q "^cpu0 queued [0-9]* ran [0-9]*" || fail "stats: no pool lines"

echo "== socat: a 1 MiB file byte for byte, in the guest and from the host"
vm 'head -c 1048576 /dev/urandom > /tmp/in && socat -t 30 -T 30 - TCP:127.0.0.1:60007 < /tmp/in > /tmp/out && cmp /tmp/in /tmp/out' ||
	fail "socat echo in the guest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 262144 /dev/urandom > "$tmp/in"
socat -t 30 -T 30 - TCP:127.0.0.1:60007 < "$tmp/in" > "$tmp/out" || fail "socat from the host"
cmp "$tmp/in" "$tmp/out" || fail "host echo differs"

echo "== the workqueue backend (backend=wq) serves the same"
vm 'rmmod kecho'
vm "insmod $ko backend=wq" || fail "insmod kecho backend=wq"
vm 'grep -q "^backend wq" /sys/kernel/debug/kecho/stats' || fail "stats do not say backend wq"
vm 'echotest -H -i 1 -c 2000 -j 2 -a 8 127.0.0.1 && echotest -H -i 1 -c 200 -l 16k 127.0.0.1' ||
	fail "echotest against backend=wq"
vm 'rmmod kecho'

echo "== home CPUs per connection (affinity=conn) serve the same"
insmod_says "$ko affinity=conn" "connections on home CPUs" ||
	fail "insmod kecho affinity=conn: no load line saying home CPUs"
vm 'grep -q "^affinity conn" /sys/kernel/debug/kecho/stats' || fail "stats do not say affinity conn"
vm 'echotest -H -i 1 -c 2000 -j 4 -a 8 127.0.0.1' || fail "echotest against affinity=conn"
vm 'rmmod kecho'
vm "insmod $ko"
vm 'grep -q "^affinity upcall" /sys/kernel/debug/kecho/stats' || fail "stats do not say affinity upcall"

echo "== rmmod under load, then insmod and serve again"
rmmod_under_load kecho 'echotest -H -i 1 -c 100M -j 32 -a 4 -t 20000 127.0.0.1' \
	'echotest -H -i 1 -c 2000 -j 4 -a 8 127.0.0.1'
echo "kecho ok"
