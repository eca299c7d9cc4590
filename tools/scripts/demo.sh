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

vm 'echo "kernel: $(uname -r), $(nproc) CPUs, $(free -m | awk "/Mem:/ {print \$2}") MiB"; \
    echo "ksf modules: $(ls /lib/modules/ksf | tr "\n" " ")"; \
    echo "loaded: $(cut -d" " -f1 /proc/modules | tr "\n" " ")"'

step "KUnit: ksf_test"
vm 'dmesg -c >/dev/null; insmod /lib/modules/ksf/ksf_test.ko; dmesg | grep -E "^\[[ 0-9.]+\] (ok|not ok) |# Totals|FAILED" | sed "s/^\[[ 0-9.]*\] //"; rmmod ksf_test'

for sample in tools/scripts/demo.d/*.sh; do
	[ -e "$sample" ] && . "$sample"
done

step "done in $(($(date +%s) - t0)) s; the guest console is in build/vm/console.log"
