#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. install packages and build with warnings as errors
#   2. unit tests (cmocka, ctest)
#   3. integration tests: a real sshd and PostgreSQL in a private network
#      namespace, stand-in agents that log in with their certificates
#   4. the same unit and integration tests built with ASan+UBSan
#   5. the worker pool, jump hosts, and whole rotations, under TSan
#   6. the inventory, agent.cfg, SFTP reply and ssh_config parsers under
#      libFuzzer
# Ends with "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
SETUP_NO_BUILD=1 scripts/setup.sh

passed=0
failed=0
failures=()
step() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "=== FAILED: $name"
	fi
}

build() {
	local dir=$1
	shift
	cmake -S . -B "$dir" -DPEMROTATE_WERROR=ON "$@" >/dev/null &&
	    cmake --build "$dir" -j "$(nproc)" 2>&1 | grep -Ev '^\[|^$' || true
	test -x "$dir/pemrotate"
}

unit() {
	(cd "$1" && ctest --output-on-failure)
}

integration() {
	PEMROTATE="$1/pemrotate" bash tests/integration/run.sh
}

step "build (-Werror)" build build
step "unit tests" unit build
step "integration tests" integration build
# the inventory (INI, YAML, JSON), agent.cfg, SFTP reply and ssh_config
# parsers under libFuzzer, a bounded time
step "fuzz parsers (libFuzzer, ${FUZZ_SECONDS:-30} s each)" \
    bash tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
if [ -z "${SKIP_SANITIZERS:-}" ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	step "build (ASan+UBSan)" build build-asan -DPEMROTATE_SANITIZE=ON \
	    -DCMAKE_C_COMPILER=clang
	step "unit tests (ASan+UBSan)" unit build-asan
	step "integration tests (ASan+UBSan)" integration build-asan
	unset ASAN_OPTIONS UBSAN_OPTIONS
	step "build (TSan)" build build-tsan -DPEMROTATE_TSAN=ON \
	    -DCMAKE_C_COMPILER=clang
	step "worker pool and jump hosts (TSan)" bash -c \
	    "cd build-tsan && ctest --output-on-failure \
	    -R 'test_pool|test_pki|transport_jump'"
	step "rotations under TSan" env PEMROTATE=build-tsan/pemrotate \
	    ONLY='t_[12]' bash tests/integration/run.sh
fi

echo
for f in "${failures[@]:-}"; do
	[ -n "$f" ] && echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
