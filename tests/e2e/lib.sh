# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# Sourced by the end-to-end tests. They run on the host while the guest is
# up (started by `make check`), and reach it through:
#   vm CMD...      run CMD in the guest, with its output and exit status
#   the forwarded ports on 127.0.0.1 (TCP 60007, UDP 60007, TCP 62049)
set -eu
: "${KSF_TOP:?run the e2e tests through make check}"

vm() {
	python3 "$KSF_TOP/tools/vm/ksfvm.py" --dir "$KSF_VM_DIR" exec \
		--timeout "${VM_TIMEOUT:-300}" -- "$*"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# insmod_dmesg "KO ARGS": load a module in the guest, with insmod's exit
# status; its error output is left in /tmp/insmod.err, and every kernel
# line printed since it started in /tmp/insmod.dmesg (all of them, not only
# the last: a slow guest may log something of its own in between, a timer
# or clocksource warning).
insmod_dmesg() {
	vm "n=\$(dmesg | wc -l); insmod $1 2>/tmp/insmod.err; rc=\$?
	    dmesg | tail -n +\$((n + 1)) >/tmp/insmod.dmesg; exit \$rc"
}

# insmod_says "KO ARGS" PATTERN: insmod_dmesg, and PATTERN (grep) among the
# kernel lines since; prints insmod's error or those lines when not.
insmod_says() {
	insmod_dmesg "$1" || { vm 'cat /tmp/insmod.err'; return 2; }
	vm "grep -q '$2' /tmp/insmod.dmesg ||
	    { echo 'kernel lines since insmod:'; cat /tmp/insmod.dmesg; exit 1; }"
}

# rmmod_under_load MODULE LOAD CHECK: start LOAD (a guest command) in the
# background, unload MODULE while it runs, reload it, and run CHECK
# (a guest command that must succeed against the fresh module).
rmmod_under_load() {
	vm "$2 >/tmp/load.log 2>&1 &
	    sleep 3; echo \"tcp sockets: \$(grep -c . /proc/net/tcp)\""
	vm "time rmmod $1" || fail "rmmod $1 under load"
	vm "sleep 1; ! lsmod | grep -q '^$1 '" || fail "$1 still loaded"
	vm "dmesg | grep '$1: stopped' | tail -1"
	vm "insmod /lib/modules/ksf/$1.ko" || fail "insmod $1 after rmmod"
	vm "$3" || fail "$1 does not serve after reload"
}
