#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The Linux NFS client (the guest kernel's, CONFIG_NFS_FS) as a real peer
# of krpc2: busybox mount hands the options to the kernel as text, with
# addr= and mountport=, so the kernel's own MOUNT client asks krpc2 for the
# root handle (MNT, on the NFS port), then probes the export (NULL,
# FSINFO, PATHCONF, GETATTR). Then stat of the root and the files (LOOKUP,
# GETATTR), a file written through the mount with dd (ACCESS, WRITE),
# read back after a fresh mount (READ) and compared, df (FSSTAT), umount.
# The mount is soft with a short timeout, so a server that stops answering
# fails a call instead of hanging the test; rmmod krpc2 while mounted must
# leave the mount failing calls, not the kernel. Then the same mount, dd
# and compare against knfsd (tools/vm/ksf-knfsd, port 62050), whose root
# handle comes from `usrv --proto mount` (knfsd runs no rpc.mountd here),
# and the READ rate of a 16 MiB file from each, printed for information,
# never compared. Leaves krpc2 loaded with its defaults.
. "$(dirname "$0")/lib.sh"

ko=/lib/modules/ksf/krpc2.ko
mnt=/mnt/krpc2
size=16777216
fh=0100010001000000

# vm_mount [PORT MOUNTPORT PATH]: mount krpc2's export (or PATH of the
# server on PORT, its MOUNT server on MOUNTPORT) at $mnt.
vm_mount() {
	o="vers=3,proto=tcp,port=${1:-62049},mountport=${2:-62049},mountproto=tcp,mountvers=3"
	o="$o,nolock,soft,timeo=20,retrans=2,addr=127.0.0.1"
	vm "mkdir -p $mnt && timeout 60 mount -t nfs -o $o 127.0.0.1:${3:-/} $mnt" ||
		{ vm "dmesg | tail -20"; fail "mount of 127.0.0.1:${3:-/} (port ${1:-62049})"; }
}

# rate WHO: READ all of file1 from a fresh mount at $mnt with dd, and
# print the rate (information only; /proc/uptime counts centiseconds).
rate() {
	vm "cs() { tr -d . </proc/uptime | cut -d' ' -f1; }
	    t0=\$(cs); dd if=$mnt/file1 of=/dev/null bs=1M 2>/dev/null; t1=\$(cs)
	    dt=\$((t1 - t0)); [ \$dt -gt 0 ] || dt=1
	    echo \"$1: dd of $size bytes in \$((dt * 10)) ms, \$(($size / 10 / dt)) kB/s\""
}

cleanup() {
	vm "umount $mnt 2>/dev/null || umount -l $mnt 2>/dev/null
	    [ -f /tmp/mountd.pid ] && kill \$(cat /tmp/mountd.pid) && rm -f /tmp/mountd.pid
	    ksf-knfsd stop >/dev/null 2>&1; true" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== krpc2 exporting 2 files of 16 MiB; mount it (MNT of /, then the NFS probe)"
vm "dmesg | wc -l >/tmp/nfs-client.dmesg-start"
vm "rmmod krpc2 2>/dev/null; insmod $ko files=2 file_size=$size" || fail "insmod krpc2"
vm_mount
vm "grep ' $mnt ' /proc/mounts"
vm "grep ' $mnt ' /proc/mounts | grep -q 'vers=3' &&
    grep ' $mnt ' /proc/mounts | grep -q 'proto=tcp'" || fail "not an NFSv3 mount over TCP"

echo "== stat of the root and the files (LOOKUP, GETATTR)"
expect_eq "root" "$(vm "stat -c '%F %a' $mnt")" "directory 755"
expect_eq "file0" "$(vm "stat -c '%F %s %a' $mnt/file0")" "regular file $size 644"
expect_eq "file1 size" "$(vm "stat -c %s $mnt/file1")" "$size"
vm "! stat $mnt/file2 2>/dev/null" || fail "file2 exists"
vm "ls -l $mnt/file0 $mnt/file1" || fail "ls -l of the files"
echo "== df (FSSTAT)"
vm "df $mnt" || fail "df of the mount"

echo "== dd 4 MiB of a pattern into file0 through the mount (ACCESS, WRITE)"
vm "dd if=/dev/urandom of=/tmp/pattern bs=64k count=64 2>/dev/null &&
    dd if=/tmp/pattern of=$mnt/file0 bs=64k conv=notrunc,fsync" || fail "dd into file0"

echo "== a fresh mount: read it back with dd (READ) and compare"
vm "umount $mnt" || fail "umount"
vm_mount
vm "dd if=$mnt/file0 of=/tmp/back bs=64k count=64 && cmp /tmp/pattern /tmp/back" ||
	fail "file0 read back through the mount differs from what was written"
expect_eq "file1 (zeros)" "$(vm "dd if=$mnt/file1 bs=64k 2>/dev/null | md5sum")" \
	"$(vm "head -c $size /dev/zero | md5sum")"
vm "md5sum /tmp/pattern /tmp/back"

echo "== dd of a 16 MiB file from krpc2, fresh mount (information only)"
vm "umount $mnt" && vm_mount
rate krpc2
vm "umount $mnt" || fail "umount"
vm "! grep -q ' $mnt ' /proc/mounts" || fail "still mounted"

echo "== rmmod krpc2 while mounted: calls fail, the kernel stays up"
vm_mount
vm "stat $mnt/file0 >/dev/null" || fail "stat before rmmod"
vm "time rmmod krpc2" || fail "rmmod krpc2 while mounted"
vm "! lsmod | grep -q '^krpc2 '" || fail "krpc2 still loaded"
rc=0
vm "timeout 120 dd if=$mnt/file1 of=/dev/null bs=64k" || rc=$?
[ "$rc" = 0 ] && fail "a read succeeded with krpc2 unloaded"
echo "read with krpc2 gone: exit $rc (as it should)"
vm "timeout 60 umount $mnt || timeout 60 umount -f $mnt || umount -l $mnt" ||
	fail "umount after rmmod"
vm "insmod $ko files=2 file_size=$size" || fail "insmod krpc2 after rmmod"
vm_mount
vm "dd if=$mnt/file1 of=/dev/null bs=64k" || fail "read after reload"
vm "umount $mnt" || fail "umount"

echo "== knfsd on port 62050 (2 files of 16 MiB), usrv as its MOUNT server"
vm "ksf-knfsd start 62050 4 2 16m" || fail "knfsd did not start"
vm "usrv --proto mount --root-fh $fh --export /export --threads 1 >/tmp/mountd.log 2>&1 &
    echo \$! >/tmp/mountd.pid; sleep 1; rpcinfo -a 127.0.0.1.78.80 -T tcp 100005 3" ||
	fail "usrv's MOUNT server does not answer"
vm_mount 62050 20048 /export
expect_eq "knfsd file0" "$(vm "stat -c '%F %s' $mnt/file0")" "regular file $size"
vm "dd if=/tmp/pattern of=$mnt/file0 bs=64k conv=notrunc,fsync" || fail "dd into knfsd's file0"
vm "umount $mnt" || fail "umount knfsd"
vm_mount 62050 20048 /export
vm "dd if=$mnt/file0 of=/tmp/back bs=64k count=64 && cmp /tmp/pattern /tmp/back" ||
	fail "knfsd's file0 read back differs from what was written"
vm "umount $mnt" && vm_mount 62050 20048 /export
rate knfsd
vm "umount $mnt" || fail "umount knfsd"
vm "kill \$(cat /tmp/mountd.pid) && rm /tmp/mountd.pid" || fail "usrv's MOUNT server"
vm "ksf-knfsd stop" || fail "knfsd did not stop"

echo "== the kernel's lines since the start: no error report"
vm "dmesg | tail -n +\$((\$(cat /tmp/nfs-client.dmesg-start) + 1)) >/tmp/nfs-client.dmesg
    ! grep -E 'BUG|Oops|WARNING|KASAN|UBSAN|general protection|Call Trace|lockdep|circular locking' \
        /tmp/nfs-client.dmesg" || fail "an error report in the kernel log (above)"

# The next tests find krpc2 as loaded with its defaults.
vm "rmmod krpc2 && insmod $ko" || fail "insmod krpc2 with its defaults"
echo "nfs client ok"
