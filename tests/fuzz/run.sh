#!/bin/bash
# Build the libFuzzer targets in build-fuzz/ and run each for SECONDS.
#
#   tests/fuzz/run.sh [SECONDS] [libFuzzer flags...]
#
# SECONDS defaults to 30 per target; FUZZ_TARGETS="inventory_yaml
# inventory_json" runs only those (default: all of them).  Extra flags
# go to every target, e.g. "run.sh 0 -runs=0" only loads the seed
# corpus.  The committed corpus is copied to a scratch directory first
# and never written; the scratch directory (grown corpus, logs, crash-*
# files) is kept when a target fails and removed otherwise (FUZZ_KEEP=1
# keeps it always).
# Exits 1 if any target crashed, leaked, timed out or ran out of memory.
set -u

secs=${1:-30}
shift $(($# > 0 ? 1 : 0))
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
targets=${FUZZ_TARGETS:-"inventory inventory_yaml inventory_json agentcfg sftp
    sshconfig"}

mkdir -p "$build" || exit 2
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang \
    -DPEMROTATE_FUZZ=ON -DPEMROTATE_TESTS=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; echo "fuzz: configure failed"; exit 2; }
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' $targets) ||
    { echo "fuzz: build failed"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/pemrotate-fuzz.XXXXXX") || exit 2
pass=0
fail=0

# run_target NAME: fuzz one target; 0 if it found nothing.
run_target() {
	local t=$1 corpus=$work/corpus/$1 art=$work/artifacts/$1/ dict
	local log=$work/$1.log rc first

	shift
	mkdir -p "$corpus" "$art"
	cp -R "$here/corpus/$t/." "$corpus/"
	dict=()
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	echo "== fuzz_$t: ${secs}s, corpus $corpus"
	"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=5 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" \
	    "${dict[@]}" "$@" "$corpus" >"$log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+.*(INITED|DONE)|stat::)' "$log"
	first=$(ls "$art" 2>/dev/null | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$first" ]; then
		return 0
	fi
	echo "-- fuzz_$t failed (exit $rc), log $log:"
	grep -v -E '^(#[0-9]+|INFO:|MERGE)' "$log" | tail -n 60
	if [ -n "$first" ]; then
		echo "-- artifacts in $art; $first:"
		od -A x -t x1z -v "$art$first" | head -n 32
		echo "-- reproduce: $build/tests/fuzz/fuzz_$t $art$first"
	fi
	return 1
}

for t in $targets; do
	if run_target "$t" "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done

if [ "$fail" -eq 0 ] && [ "${FUZZ_KEEP:-0}" != 1 ]; then
	rm -rf "$work"
else
	echo "scratch directory kept: $work"
fi
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
