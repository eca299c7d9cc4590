#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make demo: build everything for the fast kernel, boot the guest with the
# services loaded, drive them, print the results, stop the guest.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
ksfvm="python3 tools/vm/ksfvm.py --dir build/vm"
step() { printf '\n== %s\n' "$*"; }
vm() { $ksfvm exec -- "$*"; }

t0=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
step "building the fast kernel, the modules and the tools"
make -s kernel FLAVOR=fast
make -s initramfs FLAVOR=fast
kdir=$(tools/scripts/kernel.sh dir fast)

if $ksfvm status >/dev/null 2>&1; then
	step "stopping the guest that is already running"
	$ksfvm stop
fi
step "booting the guest (QEMU, ${KSF_ACCEL:-tcg}, 2 vCPUs)"
$ksfvm start --kernel "$kdir/bzImage" --initrd build/vm/initramfs-fast.cpio \
	--load "kecho krpc2"
trap '$ksfvm stop >/dev/null' EXIT

# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'echo "kernel: $(uname -r), $(nproc) CPUs, $(free -m | awk "/Mem:/ {print \$2}") MiB"; \
    echo "ksf modules: $(ls /lib/modules/ksf | tr "\n" " ")"; \
    echo "loaded: $(cut -d" " -f1 /proc/modules | tr "\n" " ")"'

step "KUnit: ksf_test"
vm 'dmesg -c >/dev/null; insmod /lib/modules/ksf/ksf_test.ko; dmesg | grep -E "^\[[ 0-9.]+\] (ok|not ok) |# Totals|FAILED" | sed "s/^\[[ 0-9.]*\] //"; rmmod ksf_test'

# One row of the summary table per run: what, rate, median, p99.
table=""
row() { table="$table$(printf '%-34s %14s %10s %10s' "$1" "$2" "$3" "$4")
"; }

# measure WHAT UNIT RATE MED P99 COMMAND...: runs COMMAND in the guest and
# adds a row from fields RATE, MED and P99 of its summary (last) line.
measure() {
	what=$1 unit=$2 rate=$3 med=$4 p99=$5
	shift 5
	out=$(vm "$*") || { echo "$out"; echo "demo: $* failed" >&2; exit 1; }
	echo "$out"
	read -r got_rate got_med got_p99 <<-EOF
	$(echo "$out" | tail -n 1 | awk -v r="$rate" -v m="$med" -v p="$p99" '{ print $r, $m, $p }')
	EOF
	row "$what" "$got_rate $unit" "$got_med us" "$got_p99 us"
}

# echotest's summary row ("med"): msgs/s is field 8, MedLat 11, p99 12
# (snd/msg and rcv/msg follow cpu/msg, after them).
echo_run() { what=$1; shift; measure "$what" msg/s 8 11 12 echotest -H -i 3 "$@"; }
# rpctest's summary row ("all") with -q 50,99: MedRPC is field 4, q50 8, q99 9.
rpc_run() { what=$1; shift; measure "$what" RPC/s 4 8 9 rpctest -H -i 3 -q 50,99 "$@"; }

step "kecho: echotest over TCP (ping-pong, then 128 in flight) and UDP"
echo_run "kecho TCP 64 B, -a1" -c 20000 127.0.0.1
echo_run "kecho TCP 64 B, -a128" -c 200000 -a 128 127.0.0.1
echo_run "kecho UDP 64 B, -a8" -u -c 20000 -a 8 127.0.0.1

step "krpc2: rpctest (NFS NULL calls, one connection, then two)"
rpc_run "krpc2 -j1 -a1" -c 20000 127.0.0.1
rpc_run "krpc2 -j1 -a128" -c 200000 -a 128 127.0.0.1
rpc_run "krpc2 -j2 -a128" -c 200000 -j 2 -a 128 127.0.0.1

step "krpc2: rpcinfo, a real ONC RPC client, in the guest and from the host"
vm 'rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3'
# The host reaches the guest's port 62049 through QEMU's forward (shifted
# by KSF_VM_FWD_OFFSET when another guest holds the usual ports).
hport=$((62049 + ${KSF_VM_FWD_OFFSET:-0}))
rpcinfo -a "127.0.0.1.$((hport >> 8)).$((hport & 255))" -T tcp 100003 3

step "statistics: /sys/kernel/debug/{kecho,krpc2}/stats"
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'for m in kecho krpc2; do echo "$m:"; grep -E "^(accepted|refused|active|closed|msgs_in|msgs_out|sends|errors|conn_mem_peak|max_conns|mem_max) " /sys/kernel/debug/$m/stats | tr "\n" " "; echo; done'

step "SMC-D: kecho and krpc2 reloaded with transport=both; the same clients with --smc"
# One SMC listener per service: SMC sockets in this OS get shared memory
# (SMC-D over loopback-ism), every other client TCP on the same port.
vm 'rmmod kecho krpc2 && insmod /lib/modules/ksf/kecho.ko transport=both &&
    insmod /lib/modules/ksf/krpc2.ko transport=both'
echo_run "kecho TCP 64 KiB, -a4" -c 2000 -a 4 -l 64k 127.0.0.1
echo_run "kecho SMC-D 64 KiB, -a4" --smc -c 2000 -a 4 -l 64k 127.0.0.1
echo_run "kecho SMC-D 64 B, -a1" --smc -c 20000 127.0.0.1
rpc_run "krpc2 SMC-D -j1 -a1" --smc -c 20000 127.0.0.1
rpc_run "krpc2 SMC-D -j1 -a128" --smc -c 200000 -a 128 127.0.0.1
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'for m in kecho krpc2; do echo "$m:"; grep -E "^(transport|smcd|smc_fallback|smc_fallback_peer_nosmc) " /sys/kernel/debug/$m/stats | tr "\n" " "; echo; done'

# The summary is also a file: build/demo/summary.txt, and with PUBLISH=1
# Documentation/results/demo.txt (the figures the documents point to).
summary() {
	echo "fast kernel, QEMU ${KSF_ACCEL:-tcg} guest with 2 vCPUs, clients in the guest over"
	echo "loopback; medians of 3 iterations; -a128 keeps 128 requests in flight"
	echo "per connection, each sent on its own and at most one answer read per"
	echo "receive (the original's method; rpctest/echotest -b batches them);"
	echo "SMC-D rows: the services with transport=both, the clients with --smc;"
	echo "host: $(nproc) CPUs, load average at the start $load0"
	echo
	printf '%-34s %14s %10s %10s\n' "what" "rate" "median" "p99"
	printf '%s' "$table"
}
step "summary"
mkdir -p build/demo
summary | tee build/demo/summary.txt
if [ "${PUBLISH:-0}" = 1 ]; then
	cp build/demo/summary.txt Documentation/results/demo.txt
	echo "(copied to Documentation/results/demo.txt)"
fi

step "done in $(($(date +%s) - t0)) s; the guest console is in build/vm/console.log"
