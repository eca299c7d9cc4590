# SPDX-License-Identifier: GPL-2.0
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
