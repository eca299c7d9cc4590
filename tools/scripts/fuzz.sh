#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzzes the shared codecs (rust/proto) on the host with cargo-fuzz
# (libFuzzer): every target in fuzz/fuzz_targets for SECONDS (default 20)
# each, from the seed corpus in fuzz/corpus/<target> plus what earlier runs
# found (build/fuzz/corpus/<target>, where new finds go; the repo stays
# clean).
#
#   tools/scripts/fuzz.sh [SECONDS] [TARGET...]   short run (make check) or campaign
#   tools/scripts/fuzz.sh --gen [--check]         regenerate (or check) the seed corpus
#
# FUZZ_SECONDS=N is the same as the SECONDS argument (for long campaigns:
# FUZZ_SECONDS=3600 make ...). FUZZ_SANITIZER=address builds with ASan
# (needs RUSTC_BOOTSTRAP=1 on a stable toolchain, set here; about 2.5 times
# slower); the default "none" needs nothing unstable. The targets are pure
# safe Rust over core-only code: their assertions, overflow checks and
# libFuzzer's own crash, timeout and RSS detection do the work.
#
# Prints "PASS fuzz: <what> (...)" or "FAIL fuzz: <what> ..." per step,
# with the crash artifact and the command that reproduces it, and exits
# nonzero on any failure. Logs are in build/fuzz/.
set -u

CARGO_FUZZ_VERSION=0.13.2

TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
OUT=$TOP/build/fuzz
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

SANITIZER=${FUZZ_SANITIZER:-none}
case $SANITIZER in
none)
	TARGET_DIR=build/target-fuzz
	REPRO_ENV=
	;;
address)
	# -Zsanitizer=address is unstable: let the stable rustc accept it.
	TARGET_DIR=build/target-fuzz-asan
	export RUSTC_BOOTSTRAP=1
	REPRO_ENV="RUSTC_BOOTSTRAP=1 "
	;;
*)
	echo "fuzz.sh: FUZZ_SANITIZER must be none or address" >&2
	exit 2
	;;
esac
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN=$TOP/$TARGET_DIR/$TRIPLE/release

GEN=(cargo run -q --manifest-path fuzz/Cargo.toml --no-default-features --features gen
	--target-dir build/target-fuzz --bin gen_corpus --)

if [ "${1:-}" = --gen ]; then
	shift
	exec "${GEN[@]}" "$@"
fi

SECONDS_EACH=${FUZZ_SECONDS:-20}
if [ $# -gt 0 ] && [ -n "${1##*[!0-9]*}" ]; then
	SECONDS_EACH=$1
	shift
fi
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	TARGETS=()
	for f in fuzz/fuzz_targets/*.rs; do
		t=${f##*/}
		TARGETS+=("${t%.rs}")
	done
fi

mkdir -p "$OUT"
failed=0

# cargo-fuzz, pinned. Nothing to fetch when it is already there.
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
	echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
	if ! cargo install --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz \
		>"$OUT/install.log" 2>&1; then
		echo "FAIL fuzz: install cargo-fuzz $CARGO_FUZZ_VERSION (see $OUT/install.log)"
		tail -20 "$OUT/install.log" | sed 's/^/     | /'
		exit 1
	fi
fi

# The committed seeds must be what the generator makes.
if "${GEN[@]}" --check >"$OUT/gen-corpus.log" 2>&1; then
	echo "PASS fuzz: seed corpus up to date ($(find fuzz/corpus -name 'seed-*' | wc -l) seeds)"
else
	echo "FAIL fuzz: seed corpus out of date (regenerate: tools/scripts/fuzz.sh --gen)"
	tail -20 "$OUT/gen-corpus.log" | sed 's/^/     | /'
	failed=1
fi

# Build every target once (release, debug assertions and overflow checks on).
t0=$(date +%s)
if ! cargo fuzz build -s "$SANITIZER" --target-dir "$TARGET_DIR" >"$OUT/build.log" 2>&1; then
	echo "FAIL fuzz: build (see $OUT/build.log)"
	tail -30 "$OUT/build.log" | sed 's/^/     | /'
	exit 1
fi
echo "PASS fuzz: build (-s $SANITIZER, $(($(date +%s) - t0)) s)"

for t in "${TARGETS[@]}"; do
	if [ ! -x "$BIN/$t" ]; then
		echo "FAIL fuzz: $t (no such target)"
		failed=1
		continue
	fi
	corpus=$OUT/corpus/$t
	artifacts=$OUT/artifacts/$t
	log=$OUT/$t.log
	mkdir -p "$corpus" "$artifacts"
	t0=$(date +%s)
	# New finds go to the first corpus directory; the seeds are only read.
	timeout -k 10 $((SECONDS_EACH + 300)) "$BIN/$t" \
		-max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$corpus" "fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 | awk '{print "cov " $2 ", ft " $4}')
	if [ $rc -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
		echo "PASS fuzz: $t (${runs:-?} runs, $secs s, ${cov:-no coverage})"
		continue
	fi
	failed=1
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	echo "FAIL fuzz: $t (exit $rc after $secs s; log $log)"
	if [ -n "$artifact" ]; then
		echo "     | artifact: $artifact"
		echo "     | reproduce: (cd $TOP && ${REPRO_ENV}cargo fuzz run -s $SANITIZER" \
			"--target-dir $TARGET_DIR $t $artifact)"
	fi
	grep -m1 -A4 "panicked at\|ERROR: libFuzzer\|==ERROR" "$log" | sed 's/^/     | /'
done
exit $failed
