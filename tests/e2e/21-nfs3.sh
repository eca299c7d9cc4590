#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# krpc2's NFSv3 export end to end, from a host-side client through the
# forwarded port (tests/e2e/nfs3_client.py: every reply compared byte for
# byte with the RFC 1813 layout): LOOKUP, GETATTR, WRITE and READ back
# (4 KiB, unaligned, 256 KiB and 1 MiB, a READ pipelined before a WRITE),
# bad and stale handles, garbage arguments, the record limit; the pages
# counted and refused over a quarter of RAM; files=0 serves NULL only;
# rmmod under READ load, reload, serve; the same under WRITE load.
. "$(dirname "$0")/lib.sh"

ko=/lib/modules/ksf/krpc2.ko
client="python3 $(dirname "$0")/nfs3_client.py"

# stat NAME: krpc2's statistic NAME.
stat() {
	vm "awk '\$1 == \"$1\" {print \$2}' /sys/kernel/debug/krpc2/stats"
}

echo "== by default no export (NULL only, the 4 KiB record limit)"
vm "rmmod krpc2 2>/dev/null; insmod $ko" || fail "insmod krpc2"
expect_eq "export_pages" "$(stat export_pages)" 0
expect_eq "record_limit" "$(stat record_limit)" 4096

echo "== files=4: 4 files of 256 KiB in 256 pages"
vm "rmmod krpc2 && insmod $ko files=4" || fail "insmod krpc2 files=4"
expect_eq "export_files" "$(stat export_files)" 4
expect_eq "export_pages" "$(stat export_pages)" 256
$client check 62049 || fail "NFSv3 on 4 files of 256 KiB"
echo "== rpctest (the guest's client): GETATTR, WRITE its pattern, READ it back"
vm "rpctest -H -i 1 -c 1000 -a 8 --proc getattr 127.0.0.1" || fail "rpctest GETATTR"
vm "rpctest -H -i 1 -c 256 -a 4 -l 16k --proc write --file 3 127.0.0.1" || fail "rpctest WRITE"
vm "rpctest -H -i 1 -c 256 -a 4 -l 16k --proc read --file 3 --verify-pattern 127.0.0.1" ||
	fail "rpctest READ of the pattern"
vm "rpctest -H -i 1 -c 16 -a 2 -l 256k --proc read --file 3 --verify-pattern --batch 127.0.0.1" ||
	fail "rpctest READ 256 KiB batched"

echo "== 1 MiB files: READ and WRITE of max_io (1 MiB)"
vm "rmmod krpc2 && insmod $ko files=2 file_size=1048576" || fail "insmod krpc2 1 MiB files"
expect_eq "export_pages" "$(stat export_pages)" 512
$client check 62049 --files 2 --file-size 1048576 || fail "NFSv3 on 1 MiB files"

echo "== max_io=4096: READs and WRITEs cut to 4 KiB"
vm "rmmod krpc2 && insmod $ko files=4 max_io=4096 max_record=8192" || fail "insmod krpc2 max_io=4096"
expect_eq "record_limit" "$(stat record_limit)" 8192
$client check 62049 --max-io 4096 --max-record 8192 || fail "NFSv3 with max_io=4096"

echo "== an export over a quarter of RAM is refused (ENOMEM), files=0 has none"
vm "rmmod krpc2"
insmod_dmesg "$ko files=64 file_size=16777216" && fail "a 1 GiB export was loaded"
vm "grep -q 'Cannot allocate memory' /tmp/insmod.err &&
    grep -q 'over a quarter of RAM' /tmp/insmod.dmesg" ||
	fail "a 1 GiB export was not refused with ENOMEM and a kernel line saying why"
vm "insmod $ko files=0" || fail "insmod krpc2 files=0"
expect_eq "export_pages" "$(stat export_pages)" 0
rc=0; vm "rpctest -H -i 1 -c 10 --proc 1 127.0.0.1 >/tmp/o 2>&1" || rc=$?
expect_eq "GETATTR without an export" "$rc" 1
vm 'grep -q "PROC_UNAVAIL" /tmp/o' || fail "GETATTR without an export is not PROC_UNAVAIL"
vm 'rpctest -H -i 1 -c 500 -a 8 127.0.0.1' || fail "NULL without an export"

echo "== rmmod under READ load (1 MiB READs on 4 connections), then serve again"
vm "rmmod krpc2 && insmod $ko files=2 file_size=1048576" || fail "insmod krpc2 for the load"
$client load 62049 --files 2 --file-size 1048576 --seconds 150 --jobs 4 >/tmp/ksf-nfs3-load.$$ 2>&1 &
load=$!
sleep 5
vm "grep -E '^(msgs_out|bytes_out) ' /sys/kernel/debug/krpc2/stats"
vm 'time rmmod krpc2' || fail "rmmod krpc2 under READ load"
rc=0; wait $load || rc=$?
out=$(cat /tmp/ksf-nfs3-load.$$); rm -f /tmp/ksf-nfs3-load.$$
echo "$out"
expect_eq "load exit" "$rc" 0
echo "$out" | grep -q "ended by time" && fail "a READ connection was not closed within 150 s of the load start"
vm "! lsmod | grep -q '^krpc2 '" || fail "krpc2 still loaded"
vm "insmod $ko files=4" || fail "insmod krpc2 after rmmod"
$client check 62049 || fail "NFSv3 after the reload"

echo "== rmmod under WRITE load (1 MiB WRITEs on 4 connections, 64 KiB on 4 more), then serve again"
# The guest's rpctest: its connections are reset or closed by the unload
# (a connection with WRITE data unread is reset); every other error is a
# finding, and so is a load that does not end.
vm "rmmod krpc2 && insmod $ko files=4 file_size=1048576" || fail "insmod krpc2 for the WRITE load"
# shellcheck disable=SC2016 # single quotes: it expands in the guest
vm 'rpctest -H -i 1000 -c 100000 -j 4 -a 2 -l 1m --proc write --file 1 -t 20000 127.0.0.1 \
	>/tmp/write-load-1m.log 2>&1 &
    big=$!
    rpctest -H -i 1000 -c 100000 -j 4 -a 8 -l 64k --proc write --file 2 -t 20000 127.0.0.1 \
	>/tmp/write-load-64k.log 2>&1 &
    small=$!
    sleep 8
    grep -E "^(active|msgs_in|bytes_in) " /sys/kernel/debug/krpc2/stats
    in=$(awk "\$1 == \"msgs_in\" {print \$2}" /sys/kernel/debug/krpc2/stats)
    [ "$in" -gt 0 ] || { echo "no WRITE served before the rmmod"; exit 1; }
    time rmmod krpc2 || { echo "rmmod krpc2 under WRITE load failed"; exit 1; }
    wait $big; wait $small
    cat /tmp/write-load-1m.log /tmp/write-load-64k.log
    if grep "^rpctest" /tmp/write-load-1m.log /tmp/write-load-64k.log |
        grep -vE "(reset|closed) by the server|server closed the connection"; then
        echo "a WRITE load failed otherwise than by the unload"; exit 1
    fi' || fail "rmmod under WRITE load"
vm "! lsmod | grep -q '^krpc2 '" || fail "krpc2 still loaded"
vm "dmesg | grep 'krpc2: stopped' | tail -1"
vm "insmod $ko files=4" || fail "insmod krpc2 after rmmod under WRITE load"
vm "rpctest -H -i 1 -c 64 -a 4 -l 64k --proc write --file 1 127.0.0.1 &&
    rpctest -H -i 1 -c 64 -a 4 -l 64k --proc read --file 1 --verify-pattern 127.0.0.1" ||
	fail "WRITE and READ back after the reload"
$client check 62049 || fail "NFSv3 after the reload (WRITE load)"
# The next tests find krpc2 as loaded with its defaults.
vm "rmmod krpc2 && insmod $ko" || fail "insmod krpc2 with its defaults"
echo "nfs3 ok"
