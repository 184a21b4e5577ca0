# lib.sh: helpers for pemrotate's integration tests (sourced).
# Each test brings up a real estate (tests/estate/estate.sh), runs the real
# pemrotate against it, and checks what an operator would check.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ESTATE=$here/tests/estate/estate.sh
PEMROTATE=${PEMROTATE:-$here/build/pemrotate}
passed=0
failed=0
failures=()
current=""

# ok NAME CMD...: one assertion.
ok() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$current: $name")
		echo "  FAIL: $current: $name" >&2
	fi
}

# not NAME CMD...: an assertion that CMD fails.
not() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		failed=$((failed + 1))
		failures+=("$current: $name")
		echo "  FAIL: $current: $name" >&2
	else
		passed=$((passed + 1))
	fi
}

eq() {	# eq NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$current: $1")
		echo "  FAIL: $current: $1: expected '$2', got '$3'" >&2
	fi
}

begin() {
	current=$1
	echo "--- $current"
}

estate_up() {	# estate_up DIR N [options]
	local dir=$1
	shift
	bash "$ESTATE" up "$dir" "$@" >"$dir.up.log" 2>&1 || {
		cat "$dir.up.log" >&2
		return 1
	}
	# shellcheck disable=SC1091
	. "$dir/env"
}

estate_down() {
	local dir=$1
	if [ "$failed" -gt 0 ]; then
		bash "$ESTATE" logs "$dir" >&2 || true
	fi
	bash "$ESTATE" down "$dir" >/dev/null 2>&1 || true
}

in_ns() {
	bash "$ESTATE" exec "$E" "$@"
}

# pemrotate against estate $E; output in $E.out, exit status in $rc.
run_pemrotate() {
	set +e
	in_ns "$PEMROTATE" rotate -i "${INV:-$ESTATE_INVENTORY}" \
	    --known-hosts "${KH:-$ESTATE_KNOWN_HOSTS}" --pem-db "$PEMDB" \
	    --key-type ec:P-256 --timeout 20 --state-dir "$E.state" "$@" \
	    >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# pemrotate resume [ARGS] against estate $E; like run_pemrotate.
run_resume() {
	set +e
	in_ns "$PEMROTATE" resume --state-dir "$E.state" --timeout 20 "$@" \
	    >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate resume exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# The run id of the newest journal of estate $E.
last_run() {
	ls "$E.state" | sed -n 's/\.journal$//p' | sort | tail -n 1
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

agent_dir() {	# agent_dir ID -> DIR/hosts/<h>
	if [ "$1" -eq 1 ]; then
		echo "$E/hosts/pemserver"
	else
		echo "$E/hosts/agent$1"
	fi
}

agent_file() {	# agent_file ID key|crt
	echo "$(agent_dir "$1")/root/.pem/agent$1.$2"
}

server_files="ca_key.key ca_certificate.crt root.crt root.crl server.key server.crt"

# Hashes of every server and agent file, to prove nothing changed.
snapshot() {
	local f id
	for f in $server_files; do
		sha "$E/pg/data/$f"
	done
	for id in $(seq 1 "$ESTATE_N"); do
		sha "$(agent_file "$id" key)"
		sha "$(agent_file "$id" crt)"
	done
}

all_agents_login() {
	local id
	for id in $(seq 1 "$ESTATE_N"); do
		bash "$ESTATE" check-agent "$E" "$id" >/dev/null 2>&1 || return 1
	done
}

count_certs() {
	grep -c 'BEGIN CERTIFICATE' "$1"
}

finish() {
	echo
	for f in "${failures[@]:-}"; do
		[ -n "$f" ] && echo "failed: $f"
	done
	echo "integration: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
